// No door changes or deletes a stored AuditEvent (issue #19): each interaction, operation, Bundle
// entry and adapter that could write one is refused with an OperationOutcome, and the trail is
// the same afterwards, every link verified. test/audit/audit.test.ts covers PUT, PATCH, DELETE,
// conditional DELETE, POST, $meta-add/$meta-delete (of a version too, and as a batch entry) and
// $reindex; these are the other doors.
import t, { type Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { verifyChain } from '../../src/audit/audit.ts';
import { fhir } from '../helpers/app.ts';
import { kickOff, pathOf, poll } from '../helpers/bulk-client.ts';

async function setup(t: Test, importTrustedUrls: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-immutable-'));
  const store = new SqliteStore({ path: join(dir, 'migfhir.sqlite') });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on', dataDir: dir, importTrustedUrls }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' });
  await fhir(app, 'PUT', '/fhir/Patient/p2', { resourceType: 'Patient', id: 'p2' });
  await fhir(app, 'GET', '/fhir/Patient/p1');
  await app.fhir.audit!.flush();
  const trail = async () => {
    await app.fhir.audit!.flush();
    return (await store.scan(['AuditEvent'], 0, 10_000)).map((r) => r.json);
  };
  const [first] = (await fhir(app, 'GET', '/fhir/AuditEvent?patient=p1&subtype=read')).body.entry.map((e: any) => e.resource);
  // the trail before the door is tried: every door below must leave these events as they are
  const before = await trail();
  const unchanged = async (t: Test) => {
    const after = await trail();
    t.same(after.slice(0, before.length), before, 'every event as it was');
    const changesTrail = (json: string) => /"code":"(create|update|patch|delete)"/.test(json) && json.includes('"outcome":"0"') && json.includes('"reference":"AuditEvent/');
    t.notOk(after.slice(before.length).some(changesTrail), 'no event records a successful change to the trail');
    t.same(await verifyChain(store), { events: after.length, ok: true }, 'the chain verifies');
  };
  return { app, store, first, unchanged };
}

const refused = (t: Test, res: { status: number; body: any }, what: string) => {
  t.equal(res.status, 405, what);
  t.equal(res.body?.resourceType, 'OperationOutcome', `${what}: an OperationOutcome`);
};

t.test('conditional update, create and patch of an AuditEvent are refused', async (t) => {
  const { app, first, unchanged } = await setup(t);
  refused(t, await fhir(app, 'PUT', '/fhir/AuditEvent?altid=anonymous&subtype=read', { ...first, outcome: '8' }), 'conditional update');
  refused(t, await fhir(app, 'PUT', `/fhir/AuditEvent?_id=${first.id}`, { ...first, id: undefined, outcome: '8' }), 'conditional update by _id');
  refused(t, await fhir(app, 'POST', '/fhir/AuditEvent', { ...first, id: undefined }, { 'if-none-exist': 'altid=nobody' }), 'conditional create');
  refused(t, await fhir(app, 'PATCH', `/fhir/AuditEvent?_id=${first.id}`, [{ op: 'replace', path: '/outcome', value: '8' }], { 'content-type': 'application/json-patch+json' }), 'conditional patch');
  await unchanged(t);
});

t.test('Bundle entries that write an AuditEvent are refused, in a transaction and in a batch', async (t) => {
  const { app, first, unchanged } = await setup(t);
  const patch = { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify([{ op: 'replace', path: '/outcome', value: '8' }])).toString('base64') };
  const entries = [
    { request: { method: 'PUT', url: `AuditEvent/${first.id}` }, resource: { ...first, outcome: '8' } },
    { request: { method: 'PUT', url: `AuditEvent?_id=${first.id}` }, resource: { ...first, outcome: '8' } },
    { request: { method: 'POST', url: 'AuditEvent' }, resource: { ...first, id: undefined } },
    { request: { method: 'POST', url: 'AuditEvent', ifNoneExist: 'altid=nobody' }, resource: { ...first, id: undefined } },
    { request: { method: 'PATCH', url: `AuditEvent/${first.id}` }, resource: patch },
    { request: { method: 'DELETE', url: `AuditEvent?_id=${first.id}` } },
    { request: { method: 'POST', url: `AuditEvent/${first.id}/$meta-add` }, resource: { resourceType: 'Parameters', parameter: [{ name: 'meta', valueMeta: { tag: [{ code: 'x' }] } }] } },
  ];
  for (const entry of entries) {
    const what = `${entry.request.method} ${entry.request.url}`;
    // a transaction: the whole Bundle fails, with the other entry's write undone
    const tx = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: 'Patient/p2' }, resource: { resourceType: 'Patient', id: 'p2', active: true } }, entry] });
    refused(t, tx, `transaction ${what}`);
    const batch = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [entry] });
    t.equal(batch.status, 200, `batch ${what}`);
    t.equal(batch.body.entry[0].response.status, '405 Method Not Allowed', `batch ${what}: the entry refused`);
    t.equal(batch.body.entry[0].response.outcome?.resourceType, 'OperationOutcome');
  }
  t.notOk((await fhir(app, 'GET', '/fhir/Patient/p2')).body.active, 'no transaction wrote its other entry');
  await unchanged(t);
});

t.test('$import refuses AuditEvent lines; the other lines are imported', async (t) => {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/fhir+ndjson' }).end(body);
  });
  let body = '';
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { app, first, unchanged } = await setup(t, [`${base}/`]);
  body = [{ ...first, outcome: '8' }, { ...first, id: 'made-up' }, { resourceType: 'Patient', id: 'p3' }].map((r) => JSON.stringify(r)).join('\n') + '\n';
  const kick = await kickOff(app, 'POST', '/fhir/$import', {}, {
    resourceType: 'Parameters',
    parameter: [{ name: 'inputFormat', valueCode: 'application/fhir+ndjson' }, { name: 'inputSource', valueUri: 'http://example.org/source' }, { name: 'input', part: [{ name: 'url', valueUri: `${base}/lines.ndjson` }] }],
  });
  t.equal(kick.statusCode, 202);
  const { res } = await poll(app, kick.headers['content-location'] as string);
  const done = JSON.parse(res.body);
  t.same(done.output.map((o: any) => [o.type, o.count]), [['Resource', 1]], 'only the Patient imported (an input without a type counts as Resource)');
  const errors = (await app.inject({ method: 'GET', url: pathOf(done.error[0].url) })).body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.equal(errors.length, 2, 'both AuditEvent lines refused');
  t.ok(errors.every((e: any) => e.issue[0].code === 'not-supported' && /audit trail cannot be changed/.test(e.issue[0].diagnostics)));
  t.equal((await fhir(app, 'GET', '/fhir/AuditEvent/made-up')).status, 404);
  await unchanged(t);
});

t.test('$merge, and every operation that changes data, leaves the trail alone', async (t) => {
  const { app, first, unchanged } = await setup(t);
  const merged = await fhir(app, 'POST', '/fhir/Patient/$merge', { resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: 'Patient/p1' } }, { name: 'target-patient', valueReference: { reference: 'Patient/p2' } }] });
  t.equal(merged.status, 200, '$merge of the patients');
  t.equal((await fhir(app, 'POST', `/fhir/AuditEvent/${first.id}/$merge`, { resourceType: 'Parameters' })).status, 404, 'no $merge of an AuditEvent');
  t.same((await fhir(app, 'GET', `/fhir/AuditEvent/${first.id}`)).body, first, 'the event of the merged patient names it as before');
  await unchanged(t);
});
