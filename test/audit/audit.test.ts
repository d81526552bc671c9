import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { Auditor, verifyChain, type AuditInput, type AuditSink, type QueuedAudit } from '../../src/audit/audit.ts';
import { auditSink } from '../../src/audit/sinks.ts';
import { testApp } from '../helpers/app.ts';
import { fhir } from '../helpers/app.ts';

async function setup(t: { teardown: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-audit-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on', dataDir: dir }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const events = async (query = '') => {
    await app.fhir.audit!.flush();
    const res = await fhir(app, 'GET', `/fhir/AuditEvent?_count=1000${query}`);
    return (res.body.entry ?? []).map((e: any) => e.resource);
  };
  return { app, store, path, events };
}

t.test('every interaction leaves one AuditEvent with who, what, patient and outcome', async (t) => {
  const { app, events } = await setup(t);
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' });
  await fhir(app, 'POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } });
  await fhir(app, 'GET', '/fhir/Patient/p1');
  await fhir(app, 'GET', '/fhir/Observation?patient=p1');
  await fhir(app, 'GET', '/fhir/Patient/missing');
  await fhir(app, 'DELETE', '/fhir/Patient/p1');
  const all = await events();
  const kinds = all.map((e: any) => `${e.subtype[0].code}:${e.action}:${e.outcome}`).sort();
  t.same(kinds, ['create:C:0', 'delete:D:0', 'read:R:0', 'read:R:4', 'search-type:R:0', 'update:U:0'].sort());
  const read = all.find((e: any) => e.subtype[0].code === 'read' && e.outcome === '0');
  t.equal(read.agent[0].who.identifier.value, 'anonymous');
  t.same(read.entity.map((x: any) => x.what?.reference).filter(Boolean), ['Patient/p1']);
  const create = all.find((e: any) => e.subtype[0].code === 'create');
  t.ok(create.entity.some((x: any) => x.what?.reference === 'Patient/p1' && x.role?.code === '1'), 'the patient of an Observation is named');
  const search = all.find((e: any) => e.subtype[0].code === 'search-type');
  t.equal(Buffer.from(search.entity.find((x: any) => x.query).query, 'base64').toString(), 'patient=p1');
  t.equal((await events('&patient=Patient/p1')).length >= 4, true, 'searchable by patient');
  t.equal((await events('&altid=anonymous')).length, all.length + 2, 'searchable by client (the two AuditEvent searches themselves are audited too)');
});

t.test('a refused write stores neither the resource nor a success event; failures are audited', async (t) => {
  const { app, events } = await setup(t);
  const bad = await fhir(app, 'PUT', '/fhir/Patient/p2', { resourceType: 'Patient', id: 'p2', active: 'yes' });
  t.equal(bad.status, 400);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p2')).status, 404);
  const all = await events();
  const update = all.filter((e: any) => e.subtype[0].code === 'update');
  t.equal(update.length, 1);
  t.equal(update[0].outcome, '4');
  const refused = await fhir(app, 'GET', '/fhir/Patient', undefined, { 'x-purpose-of-use': 'https://migfhir.org/fhir/CodeSystem/purpose-of-use|immigration-enforcement' });
  t.equal(refused.status, 403);
  t.ok((await events()).some((e: any) => e.outcome === '4' && /immigration-enforcement/.test(e.outcomeDesc ?? '')), 'the refused purpose is audited');
});

t.test('the audit trail cannot be changed through the API', async (t) => {
  const { app, events } = await setup(t);
  await fhir(app, 'GET', '/fhir/Patient');
  const [e] = await events();
  t.equal((await fhir(app, 'PUT', `/fhir/AuditEvent/${e.id}`, { ...e, outcome: '0' })).status, 405);
  t.equal((await fhir(app, 'DELETE', `/fhir/AuditEvent/${e.id}`)).status, 405);
  t.equal((await fhir(app, 'POST', '/fhir/AuditEvent', { ...e, id: undefined })).status, 405);
  const tx = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `AuditEvent/${e.id}` } }] });
  t.equal(tx.status, 405);
  // every other door (#19): patch, conditional delete, meta changes (meta is in the hash), reindex
  const meta = { resourceType: 'Parameters', parameter: [{ name: 'meta', valueMeta: { tag: [{ system: 'http://example.org', code: 'x' }] } }] };
  t.equal((await fhir(app, 'PATCH', `/fhir/AuditEvent/${e.id}`, [{ op: 'replace', path: '/outcome', value: '0' }], { 'content-type': 'application/json-patch+json' })).status, 405);
  t.equal((await fhir(app, 'DELETE', '/fhir/AuditEvent?altid=anonymous')).status, 405);
  for (const op of ['$meta-add', '$meta-delete']) {
    const res = await fhir(app, 'POST', `/fhir/AuditEvent/${e.id}/${op}`, meta);
    t.equal(res.status, 405, op);
    t.equal(res.body.resourceType, 'OperationOutcome');
  }
  t.equal((await fhir(app, 'POST', `/fhir/AuditEvent/${e.id}/_history/1/$meta-add`, meta)).status, 405, 'of a version');
  t.equal((await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'POST', url: `AuditEvent/${e.id}/$meta-delete` }, resource: meta }] })).body.entry[0].response.status, '405 Method Not Allowed');
  t.equal((await fhir(app, 'POST', '/fhir/AuditEvent/$reindex')).status, 405);
  t.equal((await fhir(app, 'POST', '/fhir/$reindex?_type=Patient,AuditEvent')).status, 405);
  const [after] = (await events()).filter((x: any) => x.id === e.id);
  t.same(after, e, 'the event as it was');
  // and the CapabilityStatement says so: AuditEvent offers reads and searches only
  const cs = (await fhir(app, 'GET', '/fhir/metadata')).body;
  const auditEvent = cs.rest[0].resource.find((r: any) => r.type === 'AuditEvent');
  t.same(auditEvent.interaction.map((i: any) => i.code).sort(), ['history-instance', 'history-type', 'read', 'search-type', 'vread']);
  t.equal(auditEvent.updateCreate, false);
  t.notOk(auditEvent.conditionalDelete);
  const opNames = auditEvent.operation.map((o: any) => o.name);
  t.ok(opNames.includes('validate') && !opNames.includes('meta-add') && !opNames.includes('meta-delete') && !opNames.includes('reindex'), 'no operation that changes data');
  const patient = cs.rest[0].resource.find((r: any) => r.type === 'Patient');
  t.ok(patient.interaction.some((i: any) => i.code === 'create'), 'other types keep their writes');
});

t.test('the hash chain detects changed and removed events', async (t) => {
  const { app, store, path, events } = await setup(t);
  for (let i = 0; i < 5; i++) await fhir(app, 'GET', `/fhir/Patient/x${i}`);
  await fhir(app, 'PUT', '/fhir/Patient/p', { resourceType: 'Patient', id: 'p' });
  const all = await events();
  t.ok(all.length >= 6);
  await app.fhir.audit!.flush();
  t.same(await verifyChain(store), { events: all.length + 1, ok: true }, 'intact (including the audited search above)');
  const db = new Database(path);
  const victim = db.prepare('SELECT seq, outcome FROM audit_ledger ORDER BY seq LIMIT 1 OFFSET 2').get() as { seq: number; outcome: string };
  db.prepare('UPDATE audit_ledger SET outcome = ? WHERE seq = ?').run(victim.outcome === '0' ? '4' : '0', victim.seq);
  let report = await verifyChain(store);
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /changed/);
  db.prepare('UPDATE audit_ledger SET outcome = ? WHERE seq = ?').run(victim.outcome, victim.seq);
  t.equal((await verifyChain(store)).ok, true, 'restored');
  db.prepare('DELETE FROM audit_ledger WHERE seq = (SELECT seq FROM audit_ledger ORDER BY seq LIMIT 1 OFFSET 1)').run();
  report = await verifyChain(store);
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /removed/);
  db.close();
});

t.test('read events written by the audit worker are searchable by patient and agent, and chain with writes', async (t) => {
  const { app, store, events } = await setup(t);
  await fhir(app, 'PUT', '/fhir/Patient/p7', { resourceType: 'Patient', id: 'p7' });
  for (let i = 0; i < 3; i++) {
    await fhir(app, 'PUT', `/fhir/Observation/o${i}`, { resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p7' } });
  }
  // reads (worker connection) and writes (server connection) interleaved
  const paths = Array.from({ length: 60 }, (_, i) => (i % 10 === 0 ? `/fhir/Patient/q${i}` : i % 2 ? '/fhir/Patient/p7' : `/fhir/Observation/o${i % 3}`));
  const answers = await Promise.all(paths.map((p) => (p.includes('/q') ? fhir(app, 'PUT', p, { resourceType: 'Patient', id: p.split('/').pop() }) : fhir(app, 'GET', p))));
  t.ok(answers.every((a) => a.status < 300));
  const reads = paths.filter((p) => !p.includes('/q'));
  t.equal((await events('&patient=Patient/p7&subtype=read')).length, reads.length, 'every read of Patient/p7 and of the Observations about p7');
  t.equal((await events('&agent:identifier=https://migfhir.org/fhir/sid/client|anonymous&subtype=read')).length, reads.length, 'searchable by agent');
  t.equal((await events('&entity=Observation/o1&subtype=read')).length, reads.filter((p) => p.endsWith('/o1')).length, 'searchable by entity');
  t.equal((await events('&subtype=update')).length, 1 + 3 + 6, 'the writes');
  await app.fhir.audit!.flush();
  const report = await verifyChain(store);
  t.ok(report.ok, 'one chain across both connections');
  t.equal(report.events, (await events()).length, 'every stored event is in the chain');
});

t.test('closing the server stores every queued read event', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'migfhir.sqlite');
  let store = new SqliteStore({ path });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on', dataDir: dir }), { store });
  for (let i = 0; i < 700; i++) await fhir(app, 'GET', `/fhir/Patient/x${i}`);
  await app.close(); // no flush: close must store what is queued
  await store.close();
  store = new SqliteStore({ path });
  t.same(await verifyChain(store), { events: 700, ok: true });
  await store.close();
});

t.test('past the backlog bound a request waits until the trail has stored events; none is dropped', async (t) => {
  const app = await testApp({ audit: 'off' });
  t.teardown(() => app.close());
  const store = await auditSink(app.fhir.repo, (err) => t.fail(err.message));
  // the real sink, held until released: a trail slower than the requests
  const held: (() => void)[] = [];
  const slow: AuditSink = {
    inTransaction: (e) => store.inTransaction(e),
    write: (batch: QueuedAudit[]) => new Promise<void>((resolve) => held.push(() => void store.write(batch).then(resolve))),
    close: () => store.close(),
  };
  const auditor = new Auditor(slow, (err) => t.fail(err.message), 10);
  const read = (i: number): AuditInput => ({ interaction: 'read', action: 'R', status: 200, clientId: 'c', what: `Patient/p${i}`, patient: `Patient/p${i}` });
  for (let i = 0; i < 10; i++) t.equal(auditor.later(read(i)), undefined, 'within the bound: the request does not wait');
  const waits = [10, 11, 12].map((i) => auditor.later(read(i)));
  t.ok(waits.every((w) => w instanceof Promise), 'past the bound: the request waits');
  t.equal(auditor.pending, 13);
  let resumed = 0;
  for (const w of waits) void w!.then(() => resumed++);
  void auditor.flush();
  await new Promise((r) => setTimeout(r, 30));
  t.equal(resumed, 0, 'nothing stored yet: still waiting');
  held.shift()!();
  await auditor.flush();
  t.equal(resumed, 3, 'the trail caught up: the requests go on');
  t.equal(auditor.pending, 0);
  const stored = await app.fhir.repo.store.scan(['AuditEvent'], 0, 100);
  t.equal(stored.length, 13, 'every event stored');
  t.same(await verifyChain(app.fhir.repo.store), { events: 13, ok: true });
});
