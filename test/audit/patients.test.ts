// Issue #14, leak 8: reads by ?_id=, Bundle entries and failed requests were audited without
// their patient, so `AuditEvent?patient=` — a patient's accounting of who saw their data —
// missed them. Every event now names the patient(s) whose data it touched.
import t from 'tap';
import type { AuditEvent } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';

async function setup(t: { teardown: (fn: () => Promise<void>) => void }) {
  const app = await testApp({ audit: 'on' });
  t.teardown(() => app.close());
  for (const id of ['p1', 'p2', 'p3']) await fhir(app, 'PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id });
  await fhir(app, 'PUT', '/fhir/Observation/o1', { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } });
  await fhir(app, 'PUT', '/fhir/Observation/o2', { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p2' } });
  /** the events naming `patient` (not the AuditEvent searches themselves), as subtype:outcome */
  const trail = async (patient: string, subtype?: string): Promise<AuditEvent[]> => {
    await app.fhir.audit!.flush();
    const res = await fhir(app, 'GET', `/fhir/AuditEvent?patient=${patient}&_count=1000${subtype ? `&subtype=${subtype}` : ''}`);
    return (res.body.entry ?? []).map((e: any) => e.resource);
  };
  return { app, trail };
}

const query = (e: AuditEvent) => Buffer.from(e.entity?.find((x) => x.query)?.query ?? '', 'base64').toString();

t.test('searches by _id name the patients of what they return', async (t) => {
  const { app, trail } = await setup(t);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_id=p1')).status, 200);
  t.equal((await fhir(app, 'GET', '/fhir/Observation?_id=o2')).status, 200);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_id=p1,p3')).status, 200);
  t.same((await trail('p1', 'search-type')).map(query).sort(), ['_id=p1', '_id=p1,p3']);
  t.same((await trail('p2', 'search-type')).map(query), ['_id=o2'], "an Observation's subject");
  const p3 = await trail('p3', 'search-type');
  t.same(p3.map(query), ['_id=p1,p3'], 'a search returning two patients leaves one event per patient');
});

t.test('batch and transaction entries name their patients', async (t) => {
  const { app, trail } = await setup(t);
  const batch = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/p1' } }, { request: { method: 'GET', url: 'Observation/o2' } }] });
  t.equal(batch.status, 200);
  t.equal((await trail('p1', 'batch')).length, 1);
  t.equal((await trail('p2', 'batch')).length, 1);
  const tx = await fhir(app, 'POST', '/fhir', {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:0b8a8f2e-6f7a-4a3c-9a43-0e0c1c7a0001', resource: { resourceType: 'Patient', name: [{ family: 'New' }] }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Observation', status: 'final', code: { text: 'y' }, subject: { reference: 'urn:uuid:0b8a8f2e-6f7a-4a3c-9a43-0e0c1c7a0001' } }, request: { method: 'POST', url: 'Observation' } },
      { resource: { resourceType: 'Observation', status: 'final', code: { text: 'z' }, subject: { reference: 'Patient/p3' } }, request: { method: 'POST', url: 'Observation' } },
    ],
  }, { prefer: 'return=minimal' });
  t.equal(tx.status, 200);
  const created = /Patient\/([^/]+)\//.exec(tx.body.entry[0].response.location)![1];
  t.equal((await trail(created, 'transaction')).length, 1, 'the patient the transaction created');
  t.equal((await trail('p3', 'transaction')).length, 1, 'the patient an entry refers to');
});

t.test('writes without a returned body and failed requests name their patient', async (t) => {
  const { app, trail } = await setup(t);
  const created = await fhir(app, 'POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'w' }, subject: { reference: 'Patient/p3' } }, { prefer: 'return=minimal' });
  t.equal(created.status, 201);
  t.equal((await trail('p3', 'create')).length, 1);
  const invalid = await fhir(app, 'POST', '/fhir/Observation', { resourceType: 'Observation', status: 'no-such-status', code: { text: 'w' }, subject: { reference: 'Patient/p2' } });
  t.ok(invalid.status >= 400);
  t.same((await trail('p2', 'create')).map((e) => e.outcome), ['4'], 'a refused write to a patient record');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/gone')).status, 404);
  t.same((await trail('gone', 'read')).map((e) => e.outcome), ['4'], 'a failed read of a patient');
});

t.test('reads and searches cut by _elements or _summary name the patients of the resources they disclose', async (t) => {
  const { app, trail } = await setup(t);
  const cut = await fhir(app, 'GET', '/fhir/Observation?_id=o2&_elements=code');
  t.equal(cut.status, 200);
  t.notOk(cut.body.entry[0].resource.subject, 'the answer shows no subject');
  t.same((await trail('p2', 'search-type')).map(query), ['_id=o2&_elements=code'], 'the search is on p2\'s trail all the same');
  t.equal((await fhir(app, 'GET', '/fhir/Observation/o1?_elements=status')).body.subject, undefined);
  t.equal((await trail('p1', 'read')).length, 1, 'a read of p1\'s Observation without its subject');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_id=p3&_elements=gender')).status, 200);
  t.same((await trail('p3', 'search-type')).map(query), ['_id=p3&_elements=gender'], 'a Patient by its own id');
  t.equal((await fhir(app, 'GET', '/fhir/Observation?_summary=count')).status, 200);
  t.notOk((await trail('p1', 'search-type')).map(query).includes('_summary=count'), 'a count discloses no record');
});

t.test('reads name the patients of the version they return, read after read and after an update', async (t) => {
  const { app, trail } = await setup(t);
  for (let i = 0; i < 3; i++) t.equal((await fhir(app, 'GET', '/fhir/Observation/o1')).status, 200);
  t.equal((await trail('p1', 'read')).filter((e) => e.entity?.some((x) => x.what?.reference === 'Observation/o1')).length, 3, 'each read of the same version names its patient');
  await fhir(app, 'PUT', '/fhir/Observation/o1', { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p3' } });
  t.equal((await fhir(app, 'GET', '/fhir/Observation/o1')).status, 200);
  t.equal((await fhir(app, 'GET', '/fhir/Observation/o1?_elements=status')).status, 200);
  const reads = (await trail('p3', 'read')).filter((e) => e.entity?.some((x) => x.what?.reference === 'Observation/o1'));
  t.equal(reads.length, 2, 'the new version names its new patient, whole or cut by _elements');
  t.equal((await trail('p1', 'read')).filter((e) => e.entity?.some((x) => x.what?.reference === 'Observation/o1')).length, 3, 'not the old one');
  t.equal((await fhir(app, 'GET', '/fhir/Observation/o1/_history/1')).status, 200);
  t.equal((await trail('p1', 'vread')).length, 1, 'a vread of the old version names the old patient');
});
