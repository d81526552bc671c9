// migfhir sync against a second migfhir instance on a loopback port: pull creates the patient
// and its record locally with a Provenance naming the endpoint, pulling again is idempotent,
// the compartment-search fallback finds the same record, push sends a record that reads back
// on the other side, and dry runs write nothing.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import type { Bundle, Resource } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';
import { localRecord, localWriter, remoteWriter, type RecordWriter } from '../../src/sync/local.ts';
import { pull } from '../../src/sync/pull.ts';
import { push } from '../../src/sync/push.ts';
import { RemoteFhir } from '../../src/sync/remote.ts';
import type { FhirRequest } from '../../src/rest/types.ts';
import { AMKA, QUIET, endpoint, http, listeningServer } from './helpers.ts';

const LOCAL = 'http://test.local/fhir';
let remoteApp: FastifyInstance;
let base: string;

const req = (): FhirRequest => ({ method: 'POST', baseUrl: LOCAL, query: Object.create(null), headers: {} });
const writerFor = (app: FastifyInstance): RecordWriter => localWriter(app.fhir, req(), 'sync:test');

async function seedRemote(): Promise<Bundle> {
  const u = (n: number) => `urn:uuid:0c9b3e2a-0000-4000-8000-00000000000${n}`;
  const entry = [
    { fullUrl: u(1), resource: { resourceType: 'Patient', identifier: [{ system: AMKA, value: '12038801234' }, { system: 'https://attikon.example/mrn', value: 'MRN-77' }], name: [{ family: 'Παπαδοπούλου', given: ['Ελένη'] }], birthDate: '1988-03-12', managingOrganization: { reference: u(3) } }, request: { method: 'POST', url: 'Patient' } },
    { fullUrl: u(2), resource: { resourceType: 'Practitioner', identifier: [{ system: 'https://attikon.example/staff', value: 'DR-1' }], name: [{ family: 'Georgiou' }] }, request: { method: 'POST', url: 'Practitioner' } },
    { fullUrl: u(3), resource: { resourceType: 'Organization', name: 'Attikon University Hospital' }, request: { method: 'POST', url: 'Organization' } },
    { fullUrl: u(4), resource: { resourceType: 'Encounter', identifier: [{ system: 'https://attikon.example/visit', value: 'V-1' }], status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' }, subject: { reference: u(1) }, participant: [{ individual: { reference: u(2) } }], serviceProvider: { reference: u(3) } }, request: { method: 'POST', url: 'Encounter' } },
    { resource: { resourceType: 'Condition', identifier: [{ system: 'https://attikon.example/problem', value: 'C-1' }], subject: { reference: u(1) }, encounter: { reference: u(4) }, code: { text: 'Type 2 diabetes' } }, request: { method: 'POST', url: 'Condition' } },
    ...[70, 72, 75, 78].map((v) => ({ resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: u(1) }, encounter: { reference: u(4) }, valueQuantity: { value: v, unit: '/min' } }, request: { method: 'POST', url: 'Observation' } })),
    // another person: never part of the pull
    { fullUrl: u(5), resource: { resourceType: 'Patient', identifier: [{ system: AMKA, value: '01019000000' }] }, request: { method: 'POST', url: 'Patient' } },
    { resource: { resourceType: 'Observation', status: 'final', code: { text: 'other' }, subject: { reference: u(5) } }, request: { method: 'POST', url: 'Observation' } },
  ];
  const res = await http('POST', base, { resourceType: 'Bundle', type: 'transaction', entry });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body;
}

/** type/id/version of everything in a store, for "nothing changed" checks */
async function snapshot(app: FastifyInstance, types = ['Patient', 'Practitioner', 'Organization', 'Encounter', 'Condition', 'Observation', 'Provenance']): Promise<string[]> {
  const out: string[] = [];
  for (const type of types) {
    const r = await fhir(app, 'GET', `/fhir/${type}?_count=1000`);
    for (const e of r.body.entry ?? []) out.push(`${type}/${e.resource.id}/${e.resource.meta.versionId}`);
  }
  return out.sort();
}

async function search(app: FastifyInstance, query: string): Promise<Resource[]> {
  return ((await fhir(app, 'GET', `/fhir/${query}`)).body.entry ?? []).map((e: { resource: Resource }) => e.resource);
}

t.before(async () => {
  ({ app: remoteApp, base } = await listeningServer());
  await seedRemote();
});
t.teardown(() => remoteApp.close());

t.test('pull: the patient, its record and what it refers to are stored locally, with a Provenance', async (t) => {
  const local = await testApp();
  t.teardown(() => local.close());
  const remote = new RemoteFhir(endpoint('attikon', base));
  const r = await pull(remote, `${AMKA}|12038801234`, writerFor(local), QUIET);
  t.equal(r.via, '$everything');
  t.equal(r.fetched, 9, 'patient, encounter, condition, 4 observations, practitioner, organization');
  t.equal(r.duplicate, false);
  t.equal(r.created, 10, '9 resources and the Provenance');

  const [patient] = await search(local, `Patient?identifier=${encodeURIComponent(`${AMKA}|12038801234`)}`);
  t.ok(patient, 'found by its identifier');
  t.equal(r.patient, `Patient/${patient.id}`);
  t.same((patient as any).identifier.map((i: any) => i.value).sort(), ['12038801234', 'MRN-77']);
  t.equal((await search(local, 'Patient')).length, 1, 'the other person was not copied');

  const observations = await search(local, `Observation?subject=Patient/${patient.id}`);
  t.equal(observations.length, 4);
  const [encounter] = await search(local, 'Encounter');
  const [practitioner] = await search(local, 'Practitioner');
  const [organization] = await search(local, 'Organization');
  for (const o of observations as any[]) {
    t.equal(o.encounter.reference, `Encounter/${encounter.id}`, 'references point at the local copies');
    t.match(o.meta.source, new RegExp(`^${base}/Observation/[0-9a-f-]+$`), 'meta.source names the origin');
  }
  t.equal((encounter as any).participant[0].individual.reference, `Practitioner/${practitioner.id}`);
  t.equal((encounter as any).serviceProvider.reference, `Organization/${organization.id}`);
  t.equal((patient as any).managingOrganization.reference, `Organization/${organization.id}`);

  const provenances = await search(local, 'Provenance') as any[];
  t.equal(provenances.length, 1);
  const p = provenances[0];
  t.equal(p.agent[0].who.identifier.value, 'attikon', 'the endpoint is the author');
  t.equal(p.agent[1].who.identifier.value, 'fhir-r4', 'the adapter assembled it');
  t.match(p.entity[0].what.reference, new RegExp(`^${base}/Patient/`), 'the source: the patient record at the endpoint');
  t.equal(p.target.length, 9);
  t.ok(p.target.some((x: any) => x.reference === `Patient/${patient.id}`));
});

t.test('pull twice writes nothing the second time; a change on the remote is merged, never duplicated', async (t) => {
  const local = await testApp();
  t.teardown(() => local.close());
  const remote = new RemoteFhir(endpoint('attikon', base));
  await pull(remote, `${AMKA}|12038801234`, writerFor(local), QUIET);
  const before = await snapshot(local);
  const again = await pull(remote, `${AMKA}|12038801234`, writerFor(local), QUIET);
  t.equal(again.duplicate, true, 'recognised as already applied');
  t.same(await snapshot(local), before, 'no resource and no version added');

  // one observation changes on the remote
  const [obs] = (await http('GET', `${base}/Observation?value-quantity=75`)).body.entry.map((e: any) => e.resource);
  t.equal((await http('PUT', `${base}/Observation/${obs.id}`, { ...obs, valueQuantity: { value: 76, unit: '/min' } })).status, 200);
  const third = await pull(remote, `${AMKA}|12038801234`, writerFor(local), QUIET);
  t.equal(third.duplicate, false);
  const after = await snapshot(local);
  const count = (list: string[], type: string) => list.filter((x) => x.startsWith(`${type}/`)).length;
  for (const type of ['Patient', 'Practitioner', 'Organization', 'Encounter', 'Condition', 'Observation']) t.equal(count(after, type), count(before, type), `no duplicate ${type}`);
  t.equal(count(after, 'Provenance'), 2, 'a second Provenance for the changed pull');
  const changed = after.filter((x) => !before.includes(x) && !x.startsWith('Provenance/'));
  t.equal(changed.length, 1, 'only the changed observation has a new version');
  t.match(changed[0], /^Observation\/.*\/2$/);
  t.same((await search(local, 'Observation?value-quantity=76')).length, 1);
  // put the remote back for the other tests
  await http('PUT', `${base}/Observation/${obs.id}`, obs);
});

t.test('without $everything in the CapabilityStatement, compartment searches find the same record', async (t) => {
  const viaEverything = await pull(new RemoteFhir(endpoint('attikon', base)), `${AMKA}|12038801234`, undefined, QUIET);
  class NoEverything extends RemoteFhir {
    override async supportsEverything() {
      return false;
    }
  }
  const remote = new NoEverything(endpoint('attikon', base));
  const viaSearch = await pull(remote, `${AMKA}|12038801234`, undefined, QUIET);
  t.equal(viaSearch.via, 'compartment search');
  const sources = (b: Bundle) => b.entry!.map((e) => e.resource!.meta!.source).sort();
  t.same(sources(viaSearch.bundle), sources(viaEverything.bundle));
  t.ok(remote.requests > viaEverything.requests, `paged searches (${remote.requests} requests)`);
});

t.test('dry run: the Bundle is made, nothing is written', async (t) => {
  const local = await testApp();
  t.teardown(() => local.close());
  const before = await snapshot(local);
  const r = await pull(new RemoteFhir(endpoint('attikon', base)), `${AMKA}|12038801234`, undefined, QUIET);
  t.equal(r.bundle.type, 'transaction');
  t.equal(r.bundle.entry!.length, 10);
  t.ok(r.bundle.entry!.every((e) => e.request?.method === 'PUT' || e.resource?.resourceType === 'Provenance'));
  t.equal(r.created, undefined);
  t.same(await snapshot(local), before);

  const remoteBefore = await http('GET', `${base}/Patient?_summary=count`);
  const p = await fhir(local, 'PUT', '/fhir/Patient/dry', { resourceType: 'Patient', id: 'dry', identifier: [{ system: AMKA, value: '55555555555' }] });
  t.equal(p.status, 201);
  const record = await localRecord(local.fhir, req(), 'dry');
  const pushed = await push(new RemoteFhir(endpoint('attikon', base)), 'dry', record, LOCAL, true, QUIET);
  t.equal(pushed.bundle.entry!.length, 2, 'the patient and the Provenance');
  t.equal((await http('GET', `${base}/Patient?_summary=count`)).body.total, remoteBefore.body.total, 'nothing sent');
});

t.test('push: the record is sent as a transaction, reads back on the other instance, and again changes nothing', async (t) => {
  const local = await testApp();
  t.teardown(() => local.close());
  const tx = await fhir(local, 'POST', '/fhir', {
    resourceType: 'Bundle', type: 'transaction', entry: [
      { fullUrl: 'urn:uuid:7d1f0000-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: AMKA, value: '24079912345' }], name: [{ family: 'Haddad', given: ['Rana'] }] }, request: { method: 'POST', url: 'Patient' } },
      { fullUrl: 'urn:uuid:7d1f0000-0000-4000-8000-000000000002', resource: { resourceType: 'Practitioner', name: [{ family: 'Weber' }] }, request: { method: 'POST', url: 'Practitioner' } },
      { resource: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'urn:uuid:7d1f0000-0000-4000-8000-000000000001' }, performer: [{ reference: 'urn:uuid:7d1f0000-0000-4000-8000-000000000002' }], valueQuantity: { value: 61 } }, request: { method: 'POST', url: 'Observation' } },
    ],
  });
  t.equal(tx.status, 200);
  const localId = /Patient\/([^/]+)/.exec(tx.body.entry[0].response.location)![1];
  const remote = new RemoteFhir(endpoint('attikon', base));
  const record = await localRecord(local.fhir, req(), localId);
  t.same(record.map((r) => r.resourceType).sort(), ['Observation', 'Patient', 'Practitioner'], 'the compartment and the practitioner it refers to');
  const r = await push(remote, localId, record, LOCAL, false, QUIET);
  t.equal(r.created, 4, 'patient, observation, practitioner, Provenance');

  const [patient] = (await http('GET', `${base}/Patient?identifier=${encodeURIComponent(`${AMKA}|24079912345`)}`)).body.entry.map((e: any) => e.resource);
  t.equal(r.patient, `Patient/${patient.id}`);
  t.equal(patient.name[0].family, 'Haddad');
  const [obs] = (await http('GET', `${base}/Observation?subject=Patient/${patient.id}`)).body.entry.map((e: any) => e.resource);
  t.equal(obs.valueQuantity.value, 61);
  t.match(obs.meta.source, /^http:\/\/test\.local\/fhir\/Observation\//, 'meta.source names this installation');
  t.match(obs.performer[0].reference, /^Practitioner\/[0-9a-f-]+$/);
  const prov = (await http('GET', `${base}/Provenance?target=Patient/${patient.id}`)).body.entry.map((e: any) => e.resource);
  t.equal(prov.length, 1);
  t.equal(prov[0].entity[0].what.reference, `${LOCAL}/Patient/${localId}`);

  const again = await push(remote, localId, await localRecord(local.fhir, req(), localId), LOCAL, false, QUIET);
  t.equal(again.duplicate, true, 'the same content again: nothing sent');

  // a local change is sent as an update of the same remote resources
  const localObs = (await search(local, 'Observation'))[0] as any;
  await fhir(local, 'PUT', `/fhir/Observation/${localObs.id}`, { ...localObs, valueQuantity: { value: 62 } });
  const third = await push(remote, localId, await localRecord(local.fhir, req(), localId), LOCAL, false, QUIET);
  t.equal(third.created, 1, 'only the new Provenance is created');
  const after = (await http('GET', `${base}/Observation?subject=Patient/${patient.id}`)).body.entry.map((e: any) => e.resource);
  t.equal(after.length, 1);
  t.equal(after[0].valueQuantity.value, 62);
  t.equal(after[0].meta.versionId, '2');
});

t.test('a pulled record pushed back to where it came from updates the originals', async (t) => {
  const local = await testApp();
  t.teardown(() => local.close());
  const remote = new RemoteFhir(endpoint('attikon', base));
  const pulled = await pull(remote, `${AMKA}|12038801234`, writerFor(local), QUIET);
  const remoteBefore = (await http('GET', `${base}/Observation?_summary=count`)).body.total;
  const id = pulled.patient!.split('/')[1];
  const record = await localRecord(local.fhir, req(), id);
  const pushed = await push(remote, id, record, LOCAL, false, QUIET);
  t.equal((await http('GET', `${base}/Observation?_summary=count`)).body.total, remoteBefore, 'no copies of the observations');
  t.equal((await http('GET', `${base}/Patient?identifier=${encodeURIComponent(`${AMKA}|12038801234`)}`)).body.entry.length, 1);
  t.equal(pushed.created, 2, 'created: only the local pull Provenance and the push Provenance');
});

t.test('an unknown identifier is one clear error', async (t) => {
  await t.rejects(pull(new RemoteFhir(endpoint('attikon', base)), `${AMKA}|00000000000`, undefined, QUIET), { message: `attikon: no Patient has the identifier ${AMKA}|00000000000` });
});

t.test('push leaves sensitive migration elements out unless the endpoint is trusted with them', async (t) => {
  const local = await testApp();
  t.teardown(() => local.close());
  const status = { url: 'https://migfhir.org/fhir/StructureDefinition/migration-status', extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] };
  await fhir(local, 'PUT', '/fhir/Patient/m1', { resourceType: 'Patient', id: 'm1', identifier: [{ system: AMKA, value: '40404040404' }], extension: [status], name: [{ family: 'Ahmadi' }] });
  const record = await localRecord(local.fhir, req(), 'm1');
  t.ok((record[0] as any).extension, 'stored locally with the extension');
  const plain = await push(new RemoteFhir(endpoint('attikon', base)), 'm1', record, LOCAL, true, QUIET);
  const sent = plain.bundle.entry![0].resource as any;
  t.notOk(sent.extension, 'removed');
  t.notOk(sent.meta?.security?.some((s: any) => s.code === 'REDACTED' || s.code === 'migration'), 'nor a label telling that it held any');
  t.equal(sent.name[0].family, 'Ahmadi', 'the rest is sent');
  const trusted = await push(new RemoteFhir(endpoint('attikon', base, { migrationData: true })), 'm1', record, LOCAL, true, QUIET);
  t.same((trusted.bundle.entry![0].resource as any).extension, [status]);
});

t.test('pull --to a running server: a plain transaction, once per content', async (t) => {
  const { app: third, base: thirdBase } = await listeningServer();
  t.teardown(() => third.close());
  const to = remoteWriter(new RemoteFhir(endpoint('local-server', thirdBase)));
  const r = await pull(new RemoteFhir(endpoint('attikon', base)), `${AMKA}|12038801234`, to, QUIET);
  t.equal(r.created, r.fetched + 1, 'every resource and the Provenance');
  const [patient] = (await http('GET', `${thirdBase}/Patient?identifier=${encodeURIComponent(`${AMKA}|12038801234`)}`)).body.entry.map((e: any) => e.resource);
  t.equal(r.patient, `Patient/${patient.id}`);
  const obs = (await http('GET', `${thirdBase}/Observation?subject=Patient/${patient.id}&_include=Observation:encounter`)).body.entry;
  t.equal(obs.filter((e: any) => e.search.mode === 'match').length, 4);
  t.equal(obs.filter((e: any) => e.search.mode === 'include').length, 1, 'references resolved to the copies there');
  const again = await pull(new RemoteFhir(endpoint('attikon', base)), `${AMKA}|12038801234`, to, QUIET);
  t.equal(again.duplicate, true);
  t.equal((await http('GET', `${thirdBase}/Observation?_summary=count`)).body.total, 4);
});
