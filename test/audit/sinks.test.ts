// The audit sink is chosen by the trail the store says it keeps (ResourceStore.auditLedger), not
// by the shape of its methods: SQLite's ledger rows, MongoDB's link collections, or none — and
// then the server refuses to audit rather than store events nowhere.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Auditor, verifyChain } from '../../src/audit/audit.ts';
import { LedgerSink } from '../../src/audit/ledger/mongo.ts';
import { auditKeyFile, auditSink } from '../../src/audit/sinks.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { Repository } from '../../src/store/repository.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { loadOrCreateSigner, publicKeyFromPem } from '../../src/audit/checkpoint.ts';

t.test('SQLite keeps ledger rows: the sink appends to them, on the worker for a file, and the trail verifies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-sinks-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path, synchronous: 'full' });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ledger = store.auditLedger();
  t.match(ledger, { kind: 'rows', file: path, synchronous: 'full' });
  const repo = new Repository(store);
  const auditor = new Auditor(await auditSink(repo, (err) => t.fail(err.message)), (err) => t.fail(err.message));
  for (let i = 0; i < 5; i++) auditor.later({ interaction: 'read', action: 'R', status: 200, clientId: 'c', what: `Patient/p${i}`, patient: `Patient/p${i}` });
  await repo.transaction(() => auditor.inTransaction({ interaction: 'update', action: 'U', status: 200, clientId: 'c', what: 'Patient/w', patient: 'Patient/w' }));
  await auditor.close();
  const publicKey = publicKeyFromPem(loadOrCreateSigner(auditKeyFile(path)).pem);
  const report = await verifyChain(store, { checkpoints: store.auditCheckpoints(), publicKey });
  t.match(report, { ok: true, events: 6 });
});

t.test('an in-memory SQLite store appends on its own connection', async (t) => {
  const store = new SqliteStore({ path: ':memory:' });
  t.teardown(() => store.close());
  t.match(store.auditLedger(), { kind: 'rows', file: ':memory:' });
  const auditor = new Auditor(await auditSink(new Repository(store), (err) => t.fail(err.message)));
  auditor.later({ interaction: 'read', action: 'R', status: 200, clientId: 'c', what: 'Patient/p' });
  await auditor.close();
  t.match(await verifyChain(store), { ok: true, events: 1 });
});

t.test('a SQLite store without the ledger keeps no trail, and auditing on it is refused', async (t) => {
  const store = new SqliteStore({ path: ':memory:', auditLedger: false });
  t.teardown(() => store.close());
  t.equal(store.auditLedger(), undefined);
  await t.rejects(auditSink(new Repository(store), (err) => t.fail(err.message)), /keeps no audit trail: start with --audit off/);
});

t.test('the MongoDB engine keeps link collections: the ledger sink appends to them', async (t) => {
  const store = new MingoSearchStore();
  t.teardown(() => store.close());
  const ledger = store.auditLedger();
  t.equal(ledger.kind, 'links');
  t.equal(ledger.links, store.links);
  t.equal(ledger.checkpoints, store.checkpoints);
  t.type(await auditSink(new Repository(store), (err) => t.fail(err.message)), LedgerSink);
  // the sink's first checkpoint went to the store's collection
  t.equal(store.checkpoints.docs.size, 1);
});

t.test('batches the audit worker had not confirmed when it stopped are written by the main thread, once each', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-sinks-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const repo = new Repository(store);
  const sink = await auditSink(repo, (err) => t.fail(err.message));
  const auditor = new Auditor(sink, (err) => t.fail(err.message));
  for (let i = 0; i < 300; i++) auditor.later({ interaction: 'read', action: 'R', status: 200, clientId: 'c', what: `Patient/p${i}`, purposeOfUse: ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT'], period: { start: 1, end: 2 } });
  const stored = auditor.flush();
  // the worker stops with the batch in its hands (posted, perhaps partly committed)
  await (sink as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread.worker.terminate();
  await stored;
  await auditor.close();
  const report = await verifyChain(store);
  t.match(report, { ok: true, events: 300 });
  const events = await store.scan(['AuditEvent'], 0, 1000);
  t.equal(new Set(events.map((e) => e.id)).size, 300, 'no event twice');
  const one = JSON.parse(events[0].json);
  t.same(one.purposeOfEvent, [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }], 'the batch came back whole from its shared buffer');
  t.same(one.period, { start: new Date(1).toISOString(), end: new Date(2).toISOString() });
});
