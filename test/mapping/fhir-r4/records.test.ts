// The keyed record transaction: references between copied resources become their urn:uuid
// fullUrls, references to anything else become absolute URLs at the sender, and each entry is
// a conditional update keyed on identifiers, on meta.source, or on the id at the receiver.
import t from 'tap';
import type { Encounter, Observation, Patient } from 'fhir/r4.js';
import { keyOf, recordTransaction, urnFor } from '../../../src/mapping/fhir-r4/records.ts';
import { fhirR4 } from '../../../src/mapping/fhir-r4/adapter.ts';
import { WRITE_MODE } from '../../../src/mapping/conventions.ts';

const B = 'https://fhir.attikon.example/fhir';
const patient: Patient = { resourceType: 'Patient', id: 'p1', meta: { versionId: '7', lastUpdated: '2026-01-01T00:00:00Z' }, identifier: [{ system: 'https://www.amka.gr', value: '12,3|4' }] };
const encounter: Encounter = { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: `${B}/Patient/p1/_history/7` }, participant: [{ individual: { reference: 'Practitioner/dr9' } }] };
const observation: Observation = {
  resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' },
  subject: { reference: 'Patient/p1' }, encounter: { reference: 'Encounter/e1' },
  contained: [{ resourceType: 'Device', id: 'd', patient: { reference: 'Patient/p1' } } as never],
  device: { reference: '#d' }, derivedFrom: [{ reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' }, { reference: 'https://elsewhere.example/fhir/Media/m1' }],
};
const records = [observation, encounter, patient].map((resource) => ({ url: `${B}/${resource.resourceType}/${resource.id}`, resource }));

t.test('references: within the record → urn:uuid; outside → absolute at the sender; others untouched', async (t) => {
  const b = fhirR4.toFhir({ records });
  const [p, e, o] = b.entry!;
  t.equal(p.resource!.resourceType, 'Patient', 'the patient first');
  t.equal(p.fullUrl, urnFor(`${B}/Patient/p1`));
  const enc = e.resource as Encounter;
  t.equal(enc.subject!.reference, p.fullUrl, 'absolute with _history');
  t.equal(enc.participant![0].individual!.reference, `${B}/Practitioner/dr9`, 'not copied: absolute at the sender');
  const obs = o.resource as Observation;
  t.equal(obs.subject!.reference, p.fullUrl);
  t.equal(obs.encounter!.reference, e.fullUrl);
  t.equal((obs.contained![0] as unknown as { patient: { reference: string } }).patient.reference, p.fullUrl, 'inside contained resources too');
  t.equal(obs.device!.reference, '#d');
  t.same(obs.derivedFrom!.map((r) => r.reference), ['urn:uuid:11111111-1111-4111-8111-111111111111', 'https://elsewhere.example/fhir/Media/m1']);
  t.notOk('id' in obs);
  t.same(p.resource!.meta, { source: `${B}/Patient/p1` }, 'server meta dropped, origin recorded');
  t.same(p.extension, [{ url: WRITE_MODE, valueCode: 'merge' }], 'inbound entries merge');
  t.same(fhirR4.toFhir({ records: [...records].reverse() }), b, 'same record, same Bundle, whatever the order');
  t.same(observation.subject, { reference: 'Patient/p1' }, 'the input is not changed');
});

t.test('keys: identifiers (escaped), else meta.source, else the id at the receiving server', async (t) => {
  t.equal(keyOf(patient, `${B}/Patient/p1`), `Patient?identifier=${encodeURIComponent('https://www.amka.gr|12\\,3\\|4')}`);
  t.equal(keyOf(observation, `${B}/Observation/o1`), `Observation?_source=${encodeURIComponent(`${B}/Observation/o1`)}`);
  t.equal(keyOf(observation, `${B}/Observation/o1`, B), 'Observation?_id=o1', 'it came from the receiver');
  const b = fhirR4.fromFhir([{ ...observation, meta: { source: 'https://first.example/fhir/Observation/77' } }], { base: 'https://here.example/fhir', receivingBase: B });
  t.equal(b.entry![0].request!.url, `Observation?_source=${encodeURIComponent('https://first.example/fhir/Observation/77')}`, 'an origin already recorded is kept across hops');
  t.notOk(b.entry![0].extension, 'outbound entries are plain conditional updates');
  const hapiStyle = fhirR4.fromFhir([{ ...observation, meta: { source: '#a1b2c3' } }], { base: 'https://here.example/fhir' });
  t.equal(hapiStyle.entry![0].resource!.meta!.source, 'https://here.example/fhir/Observation/o1', 'a meta.source that is no resource URL is not a key');
});
