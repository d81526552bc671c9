// Bulk Data $export as a Bulk Data client drives it (kick-off, poll, manifest, download each
// file, delete) at system, Patient and Group level, with _since, _type and _typeFilter, on the
// SQLite engine and on the MongoDB engine's search code over mingo.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { fhir } from '../helpers/app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { idsByType, kickOff, pathOf, poll, runExport, bulkApp } from '../helpers/bulk-client.ts';

const ENGINES: [string, () => ResourceStore][] = [
  ['sqlite', () => new SqliteStore({ path: ':memory:' })],
  ['mongodb over mingo', () => new MingoSearchStore()],
];

const obs = (id: string, patient: string, code: string) => ({
  resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: `Patient/${patient}` },
});

async function seed(t: Test, app: FastifyInstance): Promise<void> {
  for (const id of ['p1', 'p2', 'p3']) t.equal((await fhir(app, 'PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id, name: [{ family: `F${id}` }] })).status, 201);
  await fhir(app, 'PUT', '/fhir/Observation/o1', obs('o1', 'p1', '8867-4'));
  await fhir(app, 'PUT', '/fhir/Observation/o2', obs('o2', 'p2', '8310-5'));
  await fhir(app, 'PUT', '/fhir/Observation/o3', obs('o3', 'p3', '8867-4'));
  await fhir(app, 'PUT', '/fhir/Condition/c3', { resourceType: 'Condition', id: 'c3', subject: { reference: 'Patient/p3' }, code: { text: 'x' } });
  await fhir(app, 'PUT', '/fhir/Practitioner/d1', { resourceType: 'Practitioner', id: 'd1', name: [{ family: 'Doc' }] });
  // an observation about a group, not a patient: in no patient's compartment
  await fhir(app, 'PUT', '/fhir/Group/everyone', { resourceType: 'Group', id: 'everyone', type: 'person', actual: true });
  await fhir(app, 'PUT', '/fhir/Observation/og', { ...obs('og', 'x', '8867-4'), subject: { reference: 'Group/everyone' } });
  const group = { resourceType: 'Group', id: 'g1', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: 'Patient/p2' } }, { entity: { reference: 'Patient/p3' }, inactive: true }] };
  t.equal((await fhir(app, 'PUT', '/fhir/Group/g1', group)).status, 201, 'a Group cohort is managed through REST');
}

for (const [engine, makeStore] of ENGINES) {
  t.test(`${engine}: system-level export, split files, delete`, async (t) => {
    const app = await bulkApp(t, makeStore(), { exportFileLines: 2 });
    await seed(t, app);
    const run = await runExport(app, 'GET', '/fhir/$export?_type=Patient,Observation,Practitioner');
    t.match(run.status, /^http:\/\/test\.local\/fhir\/\$export-status\/[0-9a-f-]{36}$/, 'Content-Location is the status URL');
    t.equal(run.manifest.request, 'http://test.local/fhir/$export?_type=Patient%2CObservation%2CPractitioner');
    t.equal(run.manifest.requiresAccessToken, false, 'open access: no token needed');
    t.ok(Date.parse(run.manifest.transactionTime), 'transactionTime');
    t.same(idsByType(run), { Patient: ['p1', 'p2', 'p3'], Observation: ['o1', 'o2', 'o3', 'og'], Practitioner: ['d1'] });
    t.same(run.manifest.output.map((f) => [f.type, f.count]), [['Patient', 2], ['Patient', 1], ['Observation', 2], ['Observation', 2], ['Practitioner', 1]], 'split at --export-file-lines, counts per file');
    t.same(run.manifest.error, [], 'no errors');
    const file = await app.inject({ method: 'GET', url: pathOf(run.manifest.output[0].url) });
    t.equal(file.headers['content-type'], 'application/fhir+ndjson');

    const del = await app.inject({ method: 'DELETE', url: pathOf(run.status) });
    t.equal(del.statusCode, 202, 'DELETE cancels');
    t.equal((await app.inject({ method: 'GET', url: pathOf(run.status) })).statusCode, 404, 'then the status is gone');
    t.equal((await app.inject({ method: 'GET', url: pathOf(run.manifest.output[0].url) })).statusCode, 404, 'and its files');
  });

  t.test(`${engine}: Patient-level export, _since, _typeFilter`, async (t) => {
    const app = await bulkApp(t, makeStore());
    await seed(t, app);
    const all = await runExport(app, 'GET', '/fhir/Patient/$export');
    t.same(idsByType(all), { Patient: ['p1', 'p2', 'p3'], Observation: ['o1', 'o2', 'o3'], Condition: ['c3'], Group: ['g1'] }, 'the patients\' compartments (a Group is in its members\'), not the group\'s observation nor the practitioner');

    await new Promise((r) => setTimeout(r, 5));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await fhir(app, 'PUT', '/fhir/Patient/p2', { resourceType: 'Patient', id: 'p2', name: [{ family: 'Changed' }] });
    await fhir(app, 'PUT', '/fhir/Observation/o4', obs('o4', 'p1', '8310-5'));
    const recent = await runExport(app, 'GET', `/fhir/Patient/$export?_since=${encodeURIComponent(since)}`);
    t.same(idsByType(recent), { Patient: ['p2'], Observation: ['o4'] }, '_since: what changed since');

    const filtered = await runExport(app, 'GET', `/fhir/Patient/$export?_type=Observation,Patient&_typeFilter=${encodeURIComponent('Observation?code=http://loinc.org|8867-4')}&_typeFilter=${encodeURIComponent('Observation?subject=Patient/p2')}`);
    t.same(idsByType(filtered), { Patient: ['p1', 'p2', 'p3'], Observation: ['o1', 'o2', 'o3'] }, '_typeFilter: either filter, each resource once');

    const named = await runExport(app, 'POST', '/fhir/Patient/$export', {}, { resourceType: 'Parameters', parameter: [{ name: 'patient', valueReference: { reference: 'Patient/p3' } }, { name: '_type', valueString: 'Patient,Condition,Observation' }] });
    t.same(idsByType(named), { Patient: ['p3'], Observation: ['o3'], Condition: ['c3'] }, 'POST patient: that patient only');
  });

  t.test(`${engine}: Group-level export`, async (t) => {
    const app = await bulkApp(t, makeStore());
    await seed(t, app);
    const run = await runExport(app, 'GET', '/fhir/Group/g1/$export');
    t.same(idsByType(run), { Patient: ['p1', 'p2'], Observation: ['o1', 'o2'], Group: ['g1'] }, 'the active members\' compartments');
    const typed = await runExport(app, 'GET', '/fhir/Group/g1/$export?_type=Observation&_typeFilter=Observation%3Fcode%3D8310-5');
    t.same(idsByType(typed), { Observation: ['o2'] });
    t.equal((await kickOff(app, 'GET', '/fhir/Group/nope/$export')).statusCode, 404, 'unknown group');
    await fhir(app, 'PUT', '/fhir/Group/def', { resourceType: 'Group', id: 'def', type: 'person', actual: false });
    t.equal((await kickOff(app, 'GET', '/fhir/Group/def/$export')).statusCode, 400, 'a definitional group has no members');
  });
}

t.test('kick-off errors, as the IG asks', async (t) => {
  const app = await bulkApp(t, new SqliteStore({ path: ':memory:' }));
  await seed(t, app);
  const noAsync = await app.inject({ method: 'GET', url: '/fhir/$export' });
  t.equal(noAsync.statusCode, 400, 'Prefer: respond-async is required');
  t.equal((await kickOff(app, 'GET', '/fhir/$export?_outputFormat=text/csv')).statusCode, 400, 'unsupported _outputFormat');
  for (const f of ['application/fhir+ndjson', 'application/ndjson', 'ndjson']) t.equal((await kickOff(app, 'GET', `/fhir/$export?_type=Patient&_outputFormat=${encodeURIComponent(f)}`)).statusCode, 202, `_outputFormat ${f}`);
  t.equal((await kickOff(app, 'GET', '/fhir/$export?_type=Nope')).statusCode, 400, 'unknown type');
  t.equal((await kickOff(app, 'GET', '/fhir/$export?_since=yesterday')).statusCode, 400, 'bad _since');
  t.equal((await kickOff(app, 'GET', '/fhir/$export?_type=Patient&_typeFilter=Patient%3Fnot-a-param%3Dx')).statusCode, 400, 'a _typeFilter parameter the server does not know');
  t.equal((await kickOff(app, 'GET', '/fhir/$export?_type=Patient&_typeFilter=Observation%3Fcode%3Dx')).statusCode, 400, 'a _typeFilter of a type not exported');
  t.equal((await kickOff(app, 'GET', '/fhir/Patient/$export?_type=Practitioner')).statusCode, 400, 'a type outside the compartment');
  t.equal((await kickOff(app, 'GET', '/fhir/$export?includeAssociatedData=LatestProvenanceResources')).statusCode, 400, 'an unsupported parameter');
  const lenient = await kickOff(app, 'GET', '/fhir/Patient/$export?_type=Patient,Practitioner&includeAssociatedData=x', { prefer: 'respond-async, handling=lenient' });
  t.equal(lenient.statusCode, 202, 'handling=lenient: ignored');
  const { res } = await poll(app, lenient.headers['content-location'] as string);
  t.same(JSON.parse(res.body).output.map((f: any) => f.type), ['Patient'], 'the type outside the compartment left out');
  await app.fhir.bulk!.idle();
});

t.test('the CapabilityStatement declares the operations and instantiates Bulk Data', async (t) => {
  const app = await bulkApp(t, new SqliteStore({ path: ':memory:' }));
  const cs = (await fhir(app, 'GET', '/fhir/metadata')).body;
  t.ok(cs.instantiates.includes('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'));
  t.ok(cs.rest[0].operation.some((o: any) => o.name === 'export'), 'system $export');
  const res = (type: string) => cs.rest[0].resource.find((r: any) => r.type === type);
  t.ok(res('Patient').operation.some((o: any) => o.name === 'export' && o.definition.endsWith('/patient-export')), 'Patient/$export');
  t.ok(res('Group').operation.some((o: any) => o.name === 'export' && o.definition.endsWith('/group-export')), 'Group/[id]/$export');
});

t.test('/metrics counts bulk jobs by state, and the files and resources they wrote', async (t) => {
  const app = await bulkApp(t, new SqliteStore({ path: ':memory:' }), { exportFileLines: 2 });
  await seed(t, app);
  const run = await runExport(app, 'GET', '/fhir/$export?_type=Patient');
  await app.inject({ method: 'DELETE', url: pathOf(run.status) });
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(text, /migfhir_bulk_jobs_total\{operation="export",state="started"\} 1/);
  t.match(text, /migfhir_bulk_jobs_total\{operation="export",state="completed"\} 1/);
  t.match(text, /migfhir_bulk_jobs_total\{operation="export",state="cancelled"\} 1/);
  t.match(text, /migfhir_bulk_jobs_running\{operation="export"\} 0/);
  t.match(text, /migfhir_bulk_files_total\{operation="export"\} 2/, 'three patients in files of two');
  t.match(text, /migfhir_bulk_resources_total\{operation="export"\} 3/);
});
