// The Swedish export validated by the server's validator against HL7 Sweden's published
// SEBasePatient (basprofiler-r4, CC0-1.0), compiled from its FSH by SUSHI with snapshots
// (published/README.md says how), with the profiles and value sets it uses: SEBaseHumanName and
// its extensions, the address-person extension, the marital-status and security-label sets.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import type { Patient, Resource } from 'fhir/r4.js';
import { sweden } from '../../../src/mapping/se/adapter.ts';
import { PROFILE, SE } from './fixtures.ts';
import { everyExportValid, exportedPatients, publishedValidator } from './published-validator.ts';

const dir = new URL('./published/se/', import.meta.url);
const published = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Resource);
const v = publishedValidator(published);

t.test('the validator holds SEBasePatient and finds what it forbids', async (t) => {
  t.ok(v.service.profiles.get(PROFILE.se), 'SEBasePatient compiled');
  const twoNames: Patient = { resourceType: 'Patient', meta: { profile: [PROFILE.se] }, identifier: [{ system: SE.personnummer, value: '198112189876' }], name: [{ family: 'Akhmedov' }, { family: 'Ахмедов' }] };
  t.match(v.errors(twoNames).join('\n'), /name/, 'SEBasePatient allows one name');
  const twoNumbers: Patient = { resourceType: 'Patient', meta: { profile: [PROFILE.se] }, identifier: [{ system: SE.personnummer, value: '198112189876' }, { system: SE.personnummer, value: '197001012380' }] };
  t.match(v.errors(twoNumbers).join('\n'), /personnummer/, 'one personnummer at most');
});

t.test('every Swedish export validates against SEBasePatient with zero errors', async (t) => {
  const records: Patient[] = [
    // as migfhir holds people on the move: names in two scripts, an LMA card, no birth date
    { resourceType: 'Patient', id: 'm1', identifier: [{ system: 'https://migfhir.org/fhir/sid/se-lma', value: '12-345678' }], name: [{ use: 'official', family: 'Ахмедов', given: ['Руслан'] }, { family: 'Akhmedov', given: ['Ruslan'] }], gender: 'male' },
    { resourceType: 'Patient', id: 'm2', identifier: [{ system: 'urn:oid:1.2.752.129.2.1.3.1', value: '198112189876' }], name: [{ family: 'Haddad', given: ['Fatima'] }], birthDate: '1981', maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] }, address: [{ line: ['Storgatan 1'], city: 'Malmö', country: 'SE' }] },
  ];
  everyExportValid(t, 'se', sweden, v, records);
  t.ok(exportedPatients(sweden, records).every((p) => p.meta?.profile?.includes(PROFILE.se)), 'each export claims SEBasePatient');
});
