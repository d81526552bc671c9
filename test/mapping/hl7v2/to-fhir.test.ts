// The mapping of every fixture, checked against what it must produce (pure: no store).
import t from 'tap';
import type { Encounter, Patient, Provenance } from 'fhir/r4.js';
import { mapMessage } from '../../../src/mapping/hl7v2/to-fhir.ts';
import { Hl7Error } from '../../../src/mapping/hl7v2/errors.ts';
import { bytesOf, FIXTURES } from './fixtures.ts';

t.ok(FIXTURES.length >= 30, `${FIXTURES.length} fixtures`);

for (const f of FIXTURES) {
  t.test(f.name, async (t) => {
    const input = { bytes: bytesOf(f), received: '2024-03-12T09:00:00Z' };
    if (f.expect.ack) {
      const err = (() => {
        try {
          mapMessage(input);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      t.ok(err instanceof Hl7Error, 'rejected with an Hl7Error');
      t.equal((err as Hl7Error).ack, f.expect.ack);
      t.equal((err as Hl7Error).location, f.expect.errorAt);
      return;
    }
    const m = mapMessage(input);
    const entries = m.bundle.entry!;
    t.equal(m.bundle.type, 'transaction');
    const patients = entries.filter((e) => e.resource?.resourceType === 'Patient').map((e) => e.resource as Patient);
    const patient = patients[0];
    t.equal(entries[0].request?.method, 'PUT');
    t.match(entries[0].request?.url, /^Patient\?identifier=/, 'the patient is a conditional update on its identifiers');
    const x = f.expect;
    if (x.families) t.same(patient.name?.map((n) => n.family), x.families);
    if (x.given) t.equal(patient.name?.[0].given?.[0], x.given);
    if (x.representation) t.same(patient.name?.map((n) => n.extension?.[0]?.valueCode), x.representation);
    if (x.identifiers) t.same(patient.identifier?.map((i) => `${i.system}|${i.value}`), x.identifiers);
    if (x.birthDate) t.equal(patient.birthDate, x.birthDate);
    if (x.gender) t.equal(patient.gender, x.gender);
    if (x.language) {
      t.equal(patient.communication?.[0].language.coding?.[0].code, x.language);
      t.equal(patient.communication?.[0].language.coding?.[0].system, 'urn:ietf:bcp:47');
    }
    const ext = (url: string) => patient.extension?.find((e) => e.url === url);
    if (x.citizenship) t.equal(ext('http://hl7.org/fhir/StructureDefinition/patient-citizenship')?.extension?.[0].valueCodeableConcept?.coding?.[0].code, x.citizenship);
    if (x.nationality) t.equal(ext('http://hl7.org/fhir/StructureDefinition/patient-nationality')?.extension?.[0].valueCodeableConcept?.coding?.[0].code, x.nationality);
    if (x.birthPlace) t.equal(ext('http://hl7.org/fhir/StructureDefinition/patient-birthPlace')?.valueAddress?.text, x.birthPlace);
    for (const element of x.absent ?? []) t.notOk(element in patient, `${element} was dropped`);
    if (x.contacts !== undefined) t.equal(patient.contact?.length, x.contacts);
    const encounter = entries.find((e) => e.resource?.resourceType === 'Encounter');
    if (x.encounter) {
      const e = encounter?.resource as Encounter;
      t.ok(e, 'an Encounter');
      t.equal(e.status, x.encounter.status);
      t.equal(e.class.code, x.encounter.class);
      t.equal(e.subject?.reference, entries[0].fullUrl, 'the encounter points at the patient entry');
      t.match(encounter!.request?.url, /^Encounter\?identifier=/);
      if (x.encounter.visit) t.equal(e.identifier?.[0].value, x.encounter.visit);
      if (x.period) t.same(e.period ?? {}, x.period);
    }
    if (x.merge) {
      t.equal(patients.length, 2);
      t.same(patients[0].link, [{ other: { reference: entries[1].fullUrl }, type: 'replaces' }]);
      t.same(patients[1].link, [{ other: { reference: entries[0].fullUrl }, type: 'replaced-by' }]);
      t.equal(patients[1].active, false);
    }
    if (x.warnings) t.same(m.warnings.map((w) => w.location).sort(), [...x.warnings].sort());
    else t.same(m.warnings, [], 'nothing was left unmapped');
    const prov = entries.at(-1)!;
    const p = prov.resource as Provenance;
    t.equal(p.resourceType, 'Provenance');
    t.equal(prov.request?.ifNoneExist, `_source=${encodeURIComponent(m.source)}`, 'one Provenance per message');
    t.equal(p.entity?.[0].what.identifier?.value, m.header.controlId);
    t.ok(p.agent.some((a) => a.who.identifier?.value === 'hl7v2-adt'), 'the adapter is an agent');
    t.same(p.target.map((r) => r.reference), entries.slice(0, -1).map((e) => e.fullUrl));
    t.same(mapMessage(input).bundle, m.bundle, 'deterministic: the same message maps to the same Bundle');
  });
}

t.test('a time without offset takes MSH-7\'s', async (t) => {
  const f = FIXTURES.find((x) => x.name.startsWith('A03 discharge time'))!;
  const e = mapMessage({ bytes: bytesOf(f) }).bundle.entry![1].resource as Encounter;
  t.same(e.period, { start: '2024-03-10T08:00:00+01:00', end: '2024-03-12T10:00:00+01:00' });
});

t.test('HL7 explicit null ("") removes the element; an empty field keeps it', async (t) => {
  const m = mapMessage({ text: 'MSH|^~\\&|HIS|ATTIKON|||20240101||ADT^A31|N1|P|2.5\rPID|1||X1^^^ATTIKON||Doe^Jane||""||||||""' });
  const entry = m.bundle.entry![0];
  t.same(entry.extension?.filter((e) => e.url.endsWith('remove-element')).map((e) => e.valueString), ['birthDate', 'telecom']);
});

t.test('identifier type NNxxx (table 0203: national person identifier of country xxx) is HL7\'s, not a local code', async (t) => {
  const ids = (cx: string) => {
    const m = mapMessage({ text: `MSH|^~\\&|AMMS|SZPITAL|||20250114083000||ADT^A31|N1|P|2.5\rPID|1||${cx}||Szewczyk^Łucja` });
    return { identifier: (m.bundle.entry![0].resource as Patient).identifier![0], warnings: m.warnings };
  };
  // IHE PAM national extensions: PESEL as NNPOL, the codice fiscale as NNITA, with the authority's OID
  const pesel = ids('90010112345^^^&2.16.840.1.113883.3.4424.1.1.616&ISO^NNPOL');
  t.same(pesel.identifier, { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NI' }] }, system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: '90010112345' }, 'the national authority\'s own type');
  t.same(pesel.warnings, [], 'no warning: NNPOL is an HL7 value');
  const cf = ids('RSSMRA80A01H501U^^^&2.16.840.1.113883.2.9.4.3.2&ISO^NNITA');
  t.equal(cf.identifier.system, 'http://hl7.it/sid/codiceFiscale');
  t.same(cf.warnings, []);
  // an authority this server does not know: kept as the sender's code (R4's v2-0203 lists only the pattern NNxxx)
  const other = ids('1850731123456^^^&1.2.250.1.213.1.4.8&ISO^NNFRA');
  t.same(other.identifier.type, { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/hl7v2-local/SZPITAL/0203', code: 'NNFRA' }] });
  t.same(other.warnings, []);
  // not the pattern: a local code, with its warning as before
  t.equal(ids('123^^^SZPITAL^XYZ').warnings.length, 1);
  // the German KVNR by its OID (gematik 1.2.276.0.76.4.8) reaches the system of basisprofil-de
  const kvnr = ids('A123456780^^^&1.2.276.0.76.4.8&ISO^KVZ10');
  t.same(kvnr.identifier, { type: { coding: [{ system: 'http://fhir.de/CodeSystem/identifier-type-de-basis', code: 'KVZ10' }] }, system: 'http://fhir.de/sid/gkv/kvid-10', value: 'A123456780' });
  t.same(kvnr.warnings, []);
});
