// Messages as hospitals send them: local codes of user-defined tables are kept under the
// sender's own system with an ERR warning (never a refusal), a sender's explicit assigning
// authority (URI, OID) is the identifier system, and NK1 guardians keep the organisation
// responsible for an unaccompanied minor.
import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';
import { evn, msh, nk1, pid, pv1 } from '../mapping/hl7v2/fixtures.ts';
import type { FastifyInstance } from 'fastify';

const ER7 = 'x-application/hl7-v2+er7';

async function post(app: FastifyInstance, text: string, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': ER7, ...headers }, payload: Buffer.from(text) });
  return { status: res.statusCode, raw: res.body };
}
const one = async (app: FastifyInstance, type: string) => (await fhir(app, 'GET', `/fhir/${type}`)).body.entry[0].resource;

t.test('local codes of user-defined tables are stored under the sender\'s system, with an ERR warning', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const local = (table: string) => `https://migfhir.org/fhir/CodeSystem/hl7v2-local/ATTIKON/${table}`;
  const text = [
    msh('A01', 'L1'), evn('A01'),
    pid({ ids: 'MRN1^^^ATTIKON^MR', names: 'Rahimi^Sara', dob: '20090401', sex: 'F', marital: 'XX^Unknown local' }),
    nk1(1, 'Nasser^Omid', 'FOS^Foster brother', '', 'ZR^Social worker'),
    pv1({ cls: 'I', service: 'PED^Paediatrics', visit: 'V1^^^ATTIKON' }),
  ].join('\r');
  const res = await post(app, text, { accept: ER7 });
  t.match(res.raw, /MSA\|AA\|L1/, 'accepted');
  for (const at of ['PV1\\^1\\^10', 'PID\\^1\\^16', 'NK1\\^1\\^3', 'NK1\\^1\\^7']) t.match(res.raw, new RegExp(`ERR\\|\\|${at}\\|103\\^\\^HL70357\\|W`), `warning at ${at}`);
  const enc = await one(app, 'Encounter');
  t.same(enc.serviceType.coding, [{ system: local('0069'), code: 'PED', display: 'Paediatrics' }]);
  const p = await one(app, 'Patient');
  t.same(p.maritalStatus.coding, [{ system: local('0002'), code: 'XX', display: 'Unknown local' }]);
  t.same(p.contact[0].relationship.map((r: any) => r.coding[0]), [
    { system: local('0131'), code: 'ZR', display: 'Social worker' }, { system: local('0063'), code: 'FOS', display: 'Foster brother' },
  ]);
  // HL7's own values keep HL7's system and raise nothing
  const hl7 = await post(app, [msh('A01', 'L2'), evn('A01'), pid({ ids: 'MRN2^^^ATTIKON^MR', names: 'Karimi^Ali' }), pv1({ cls: 'I', service: 'MED', visit: 'V2^^^ATTIKON' })].join('\r'), { accept: ER7 });
  t.notMatch(hl7.raw, /103\^\^HL70357/);
  const med = (await fhir(app, 'GET', '/fhir/Encounter?identifier=V2')).body.entry[0].resource;
  t.same(med.serviceType.coding, [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0069', code: 'MED' }]);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_summary=count')).body.total, 2, 'both patients stored');
});

t.test('a sender\'s explicit assigning authority (URI or OID) is the identifier system', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await post(app, [msh('A04', 'S1'), evn('A04'), pid({ ids: 'X-77^^^AMKA&https://hospital.example.org/sid/mrn&URI^MR~445^^^LOCAL&1.2.3.4.5&ISO^PI', names: 'Haidari^Ali' })].join('\r'));
  t.equal(res.status, 200);
  const p = await one(app, 'Patient');
  t.same(p.identifier.map((i: any) => i.system), ['https://hospital.example.org/sid/mrn', 'urn:oid:1.2.3.4.5'], 'the namespace name (AMKA) does not replace the sender\'s URI');
  t.equal((await fhir(app, 'GET', `/fhir/Patient?identifier=${encodeURIComponent('https://hospital.example.org/sid/mrn|X-77')}`)).body.total, 1, 'found by the sender\'s own system');
  // a namespace alone still resolves through the table
  await post(app, [msh('A04', 'S2'), evn('A04'), pid({ ids: '12038801234^^^AMKA', names: 'Other^Person' })].join('\r'));
  t.equal((await fhir(app, 'GET', `/fhir/Patient?identifier=${encodeURIComponent('https://migfhir.org/fhir/sid/gr-amka|12038801234')}`)).body.total, 1);
});

t.test('NK1 of an unaccompanied minor keeps the responsible organisation and its contact person', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const guardian = 'NK1|1||GRD^Guardian^HL70063||||O^Other^HL70131||||||Ελληνικό Συμβούλιο για τους Πρόσφυγες|||||||||||||||||Nikolaou^Maria|+302103800990^WPN^PH|Solomou 25^^Athens^^10682^GRC';
  const res = await post(app, [msh('A04', 'G1'), evn('A04'), pid({ ids: 'MRN9^^^ATTIKON^MR', names: 'Ahmadi^Reza', dob: '20100101', sex: 'M' }), guardian].join('\r'), { accept: ER7 });
  t.match(res.raw, /MSA\|AA\|G1/);
  t.notMatch(res.raw, /NK1\^1\^13/, 'NK1-13 is mapped, not dropped');
  const c = (await one(app, 'Patient')).contact[0];
  t.same(c.organization, { display: 'Ελληνικό Συμβούλιο για τους Πρόσφυγες' });
  t.same(c.name, { family: 'Nikolaou', given: ['Maria'] });
  t.same(c.telecom, [{ system: 'phone', value: '+302103800990', use: 'work' }]);
  t.same(c.address, { line: ['Solomou 25'], city: 'Athens', postalCode: '10682', country: 'GRC' });
  t.ok(c.relationship.some((r: any) => r.coding.some((x: any) => x.code === 'GUARD')), 'guardian in v3 RoleCode too');
  // and it goes back out in NK1-13
  const exported = await app.inject({ method: 'GET', url: `/fhir/Patient/${(await one(app, 'Patient')).id}/$hl7v2-export` });
  t.match(exported.body, /NK1\|1\|Nikolaou\^Maria\|GRD\^Guardian\^HL70063\|[^\r]*\|Ελληνικό Συμβούλιο για τους Πρόσφυγες/);
});

t.test('NK1 naming a person gives a RelatedPerson: language, birth date, identifiers; sent again it is updated, not repeated', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const nk1Fields = (fields: Record<number, string>) => `NK1|${Array.from({ length: 33 }, (_, i) => fields[i + 1] ?? '').join('|')}`.replace(/\|+$/, '');
  // the guardian at the refugee council (person at the organisation, NK1-30), speaking Greek;
  // the brother with his own UNHCR-style identifier, birth date and Dari
  const guardian = nk1Fields({ 1: '1', 3: 'GRD^Guardian^HL70063', 13: 'Ελληνικό Συμβούλιο για τους Πρόσφυγες', 20: 'ell^Greek^ISO639', 30: 'Nikolaou^Maria', 31: '+302103800990^WPN^PH' });
  const brother = nk1Fields({ 1: '2', 2: 'Haidari^Hassan', 3: 'BRO^Brother^HL70063', 16: '20010315', 20: 'prs^Dari^ISO639', 33: 'B-4411^^^ATTIKON^PI' });
  const organisationOnly = nk1Fields({ 1: '3', 3: 'O^Other^HL70063', 13: 'Municipality of Samos' });
  const message = (id: string, event: string, extra: string[] = []) =>
    [msh(event, id), evn(event), pid({ ids: 'MRN-RP1^^^ATTIKON^MR', names: 'Haidari^Ali', dob: '2009', sex: 'M' }), guardian, brother, organisationOnly, ...extra].join('\r');
  const res = await post(app, message('RP1', 'A04'), { accept: ER7 });
  t.match(res.raw, /MSA\|AA\|RP1/);
  t.notMatch(res.raw, /NK1\^\d\^(16|20|33)/, 'NK1-16, -20 and -33 are mapped, not reported as dropped');
  const patient = await one(app, 'Patient');
  t.equal(patient.contact.length, 3, 'every NK1 stays a contact of the patient');
  const persons = async () => (await fhir(app, 'GET', `/fhir/RelatedPerson?patient=Patient/${patient.id}&_sort=identifier`)).body;
  let found = await persons();
  t.equal(found.total, 2, 'one RelatedPerson per NK1 naming a person; an organisation alone is only a contact');
  const byName = (family: string) => found.entry.map((e: any) => e.resource).find((r: any) => r.name[0].family === family);
  const maria = byName('Nikolaou');
  t.same(maria.communication, [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'el', display: 'Greek' }] }, preferred: true }], 'NK1-20 as BCP 47');
  t.ok(maria.relationship.some((r: any) => r.coding.some((c: any) => c.code === 'GUARD')), 'guardian in v3 RoleCode');
  t.same(maria.telecom, [{ system: 'phone', value: '+302103800990', use: 'work' }]);
  t.same(maria.identifier, [{ system: 'https://migfhir.org/fhir/sid/hl7v2-nk1', value: 'ATTIKON#1' }], 'keyed by the set id within the patient');
  const hassan = byName('Haidari');
  t.equal(hassan.birthDate, '2001-03-15');
  t.equal(hassan.communication[0].language.coding[0].code, 'prs', 'a code ISO 639-1 lacks stays as sent');
  t.equal(hassan.identifier[0].value, 'B-4411', 'NK1-33 identifies the person');
  t.equal(hassan.patient.reference, `Patient/${patient.id}`);
  // an update from the same sender: same persons updated (Maria's phone changed), none added
  const changedGuardian = guardian.replace('+302103800990', '+302103800991');
  const again = await post(app, [msh('A08', 'RP2'), evn('A08'), pid({ ids: 'MRN-RP1^^^ATTIKON^MR', names: 'Haidari^Ali', dob: '2009', sex: 'M' }), changedGuardian, brother].join('\r'), { accept: ER7 });
  t.match(again.raw, /MSA\|AA\|RP2/);
  found = await persons();
  t.equal(found.total, 2, 'no second RelatedPerson for a message sent again');
  t.same(byName('Nikolaou').telecom.map((x: any) => x.value), ['+302103800991'], 'the guardian was updated');
  // another patient's NK1 set id 1 is another person
  await post(app, [msh('A04', 'RP3'), evn('A04'), pid({ ids: 'MRN-RP2^^^ATTIKON^MR', names: 'Rezaei^Zahra' }), guardian].join('\r'));
  t.equal((await fhir(app, 'GET', '/fhir/RelatedPerson?_summary=count')).body.total, 3);
  // the person is part of the patient's record
  const everything = (await fhir(app, 'GET', `/fhir/Patient/${patient.id}/$everything`)).body;
  t.equal(everything.entry.filter((e: any) => e.resource.resourceType === 'RelatedPerson').length, 2, '$everything includes them');
});

t.test('Z-segments by the per-sender mapping file: migration status labelled, interpreter, language, migrant card', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await post(app, [msh('A04', 'Z1'), evn('A04'), pid({ ids: 'MRN-Z1^^^ATTIKON^MR', names: 'Yusufi^Omar', dob: '19950505', sex: 'M' }), 'ZMI|1|ASY|Y|prs'].join('\r'), { accept: ER7 });
  t.match(res.raw, /MSA\|AA\|Z1/);
  t.notMatch(res.raw, /ERR\|\|ZMI/, 'ZMI is mapped for this sender');
  const p = await one(app, 'Patient');
  const status = p.extension.find((e: any) => e.url === 'https://migfhir.org/fhir/StructureDefinition/migration-status');
  t.same(status.extension.map((e: any) => e.valueCodeableConcept.coding[0].code), ['asylum-applicant', 'GR']);
  t.ok(p.meta.security.some((l: any) => l.code === 'migration'), 'labelled as migration data on write');
  t.same(p.extension.find((e: any) => e.url === 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired'), { url: 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired', valueBoolean: true });
  t.same(p.communication.map((c: any) => c.language.coding[0].code), ['prs']);
  // an unmapped status code is reported without echoing it, and not stored
  const unknown = await post(app, [msh('A08', 'Z2'), evn('A08'), pid({ ids: 'MRN-Z1^^^ATTIKON^MR', names: 'Yusufi^Omar' }), 'ZMI|1|QQQ'].join('\r'), { accept: ER7 });
  t.match(unknown.raw, /MSA\|AA\|Z2/);
  t.match(unknown.raw, /ERR\|\|ZMI\^1\^2\|103\^\^HL70357\|W/);
  t.notMatch(unknown.raw, /QQQ/);
  // a Swedish LMA card segment: the card number as identifier and the status it implies
  await post(app, [msh('A04', 'Z3', { facility: 'KAROLINSKA' }), evn('A04'), pid({ ids: 'K-1^^^KAROLINSKA^MR', names: 'Hassan^Amina' }), 'ZLM|12345678'].join('\r'));
  const se = (await fhir(app, 'GET', `/fhir/Patient?identifier=${encodeURIComponent('https://migfhir.org/fhir/sid/se-lma|12345678')}`)).body.entry[0].resource;
  const seStatus = se.extension.find((e: any) => e.url === 'https://migfhir.org/fhir/StructureDefinition/migration-status');
  t.same(seStatus.extension.find((e: any) => e.url === 'sourceDocument').valueIdentifier, { system: 'https://migfhir.org/fhir/sid/se-lma', value: '12345678' });
  // another sender's ZMI is not read with ATTIKON's mapping
  const other = await post(app, [msh('A04', 'Z4', { facility: 'ELSEWHERE' }), evn('A04'), pid({ ids: 'E-1^^^ELSEWHERE^MR', names: 'X^Y' }), 'ZMI|1|ASY'].join('\r'), { accept: ER7 });
  t.match(other.raw, /ERR\|\|ZMI\^1\|0\^\^HL70357\|W/);
});

t.test('the Z-segment mapping file is checked when loaded', async (t) => {
  const { loadZMappings } = await import('../../src/mapping/hl7v2/z-segments.ts');
  t.throws(() => loadZMappings({ senders: [{ facility: 'X', segments: { ZMI: [{ field: 2, target: 'migration-status', codes: { A: 'tourist' } }] } }] }), /'tourist' is not a migration-status code/);
  t.throws(() => loadZMappings({ senders: [{ facility: 'X', segments: { PID: [{ field: 2, target: 'language' }] } }] }), /only Z-segments/);
  t.throws(() => loadZMappings({ senders: [{ facility: 'X', segments: { ZMI: [{ field: 2, target: 'religion' }] } }] }), /unknown target 'religion'/);
  t.throws(() => loadZMappings({ senders: [{ facility: 'X', segments: { ZMI: [{ field: 0, target: 'language' }] } }] }), /field number/);
  t.throws(() => loadZMappings({ senders: [{ segments: {} }] }), /needs a facility/);
  t.equal(loadZMappings({ senders: [{ facility: 'X', segments: { ZMI: [{ field: 3, target: 'interpreter-required' }] } }] }).length, 1);
});
