// Issue #19: the hash chain alone did not show a cut tail or an emptied trail ("intact: 0
// events"), and meta stood outside the hash. Signed checkpoints (src/audit/checkpoint.ts) and a
// hash over the stored event, meta included, make each of these detectable; `migfhir audit
// anchor` / `verify --anchor` detect a rollback to an older, still consistent state.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from 'fhir/r4.js';
import { CHAIN_URL, chainHash, GENESIS, verifyChain, type QueuedAudit } from '../../src/audit/audit.ts';
import { loadOrCreateSigner, publicKeyFromPem, validSignature, type CheckpointSigner } from '../../src/audit/checkpoint.ts';
import { auditKeyFile } from '../../src/audit/sinks.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { renderRow, type LedgerRow } from '../../src/store/sqlite/audit-ledger.ts';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { fhir } from '../helpers/app.ts';

let n = 0;
const read = (i: number, sensitive = false): QueuedAudit => ({
  interaction: sensitive ? 'search-type' : 'read', action: 'R', status: 200, clientId: `c${i % 3}`, what: `Patient/p${i}`, patient: `Patient/p${i}`,
  ...(sensitive ? { query: 'identifier=https://example.org/paaypa|x', sensitive: true } : {}), id: `ae-${String(++n).padStart(6, '0')}`, at: Date.UTC(2026, 0, 1) + i,
});

/** A data folder whose trail holds `batches` of events, each batch followed by a checkpoint. */
async function trail(t: Test, batches: QueuedAudit[][]) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-checkpoint-'));
  const path = join(dir, 'migfhir.sqlite');
  const signer = loadOrCreateSigner(auditKeyFile(path));
  const store = new SqliteStore({ path });
  await store.signAudit(signer);
  for (const batch of batches) {
    await store.transaction(async () => store.appendAudit(batch));
    await store.checkpointAudit();
  }
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const db = new Database(path);
  t.teardown(() => db.close());
  const verify = (anchor?: ReturnType<SqliteStore['auditCheckpoints']>[number]) =>
    verifyChain(store, { checkpoints: store.auditCheckpoints(), publicKey: publicKeyFromPem(signer.pem), ...(anchor ? { anchor } : {}) });
  return { dir, path, store, db, signer, verify };
}

/** The events of the ledger as readers get them, with their row numbers. */
const stored = (db: Database.Database, sql = 'ORDER BY seq') => (db.prepare(`SELECT * FROM audit_ledger ${sql}`).all() as LedgerRow[]).map((r) => ({ seq: r.seq, content: renderRow(r), row: r }));
const isoAt = (db: Database.Database, offset: number) => new Date(db.prepare(`SELECT updated FROM audit_ledger ORDER BY seq LIMIT 1 OFFSET ${offset}`).pluck().get() as number).toISOString();

const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => read(from + i, (from + i) % 4 === 0));

t.test('an intact trail verifies: chain, every checkpoint, the last one reached', async (t) => {
  const { verify, store } = await trail(t, [events(0, 5), events(5, 4)]);
  const checkpoints = store.auditCheckpoints();
  t.same(checkpoints.map((c) => c.events), [0, 5, 9], 'the first checkpoint anchors the empty trail; one per batch here');
  t.equal(checkpoints[0].head, GENESIS);
  t.same(await verify(), { events: 9, ok: true, checkpoints: 3 });
  t.same(await verifyChain(store), { events: 9, ok: true }, 'without a key: the links alone');
});

t.test('cutting the tail is detected', async (t) => {
  const { verify, db } = await trail(t, [events(0, 6)]);
  db.prepare('DELETE FROM audit_ledger WHERE seq = (SELECT MAX(seq) FROM audit_ledger)').run();
  const report = await verify();
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /ends at event 5, before its signed checkpoint of 6 events/);
});

t.test('deleting every event is detected, and so is deleting the checkpoints with them', async (t) => {
  const { verify, db } = await trail(t, [events(0, 4)]);
  db.exec('DELETE FROM audit_ledger');
  let report = await verify();
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /ends at event 0/);
  db.exec('DELETE FROM audit_checkpoint');
  report = await verify();
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /no signed checkpoint/);
});

/** Rewrites the stored chain from the first event on, as an attacker without the key can:
 * `change` edits the events (in write order), every link is recomputed. */
function rewrite(db: Database.Database, change: (events: AuditEvent[]) => AuditEvent[]) {
  const rows = stored(db);
  const edited = change(rows.map((r) => JSON.parse(r.content) as AuditEvent));
  let previous = GENESIS;
  // an attacker with the database writes the events as they want them read (the raw column)
  const update = db.prepare('UPDATE audit_ledger SET raw = ? WHERE seq = ?');
  edited.forEach((e, i) => {
    const { extension: _x, ...rest } = e as AuditEvent & { extension?: unknown };
    void _x;
    const hash = createHash('sha256').update(previous).update(JSON.stringify(rest)).digest('hex');
    update.run(JSON.stringify({ ...rest, extension: [{ url: CHAIN_URL, extension: [{ url: 'previous', valueString: previous }, { url: 'hash', valueString: hash }] }] }), rows[i].seq);
    previous = hash;
  });
}

t.test('a changed event is detected, also when the chain after it is recomputed', async (t) => {
  const { verify, db } = await trail(t, [events(0, 6)]);
  const victim = stored(db, 'ORDER BY seq LIMIT 1 OFFSET 2')[0];
  t.equal(victim.row.client, 'c2');
  db.prepare("UPDATE audit_ledger SET client = 'c0' WHERE seq = ?").run(victim.seq);
  let report = await verify();
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /changed/);
  rewrite(db, (events) => events);
  report = await verify();
  t.equal(report.ok, false, 'links recomputed without the key');
  t.match(report.broken!.reason, /does not pass through the checkpoint/);
});

t.test('the hash covers meta: removing the security labels of an event is detected', async (t) => {
  const { verify, db } = await trail(t, [events(0, 6)]);
  const labelled = stored(db, 'WHERE flags & 2 ORDER BY seq LIMIT 1')[0];
  const event = JSON.parse(labelled.content) as AuditEvent;
  t.ok(event.meta?.security?.length, 'the event of a sensitive query is labelled');
  db.prepare('UPDATE audit_ledger SET flags = flags & ~2 WHERE seq = ?').run(labelled.seq);
  t.notOk((JSON.parse(stored(db, `WHERE seq = ${labelled.seq}`)[0].content) as AuditEvent).meta?.security, 'read without its labels');
  const report = await verify();
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /changed/);
});

t.test('reordering events is detected', async (t) => {
  const { verify, db } = await trail(t, [events(0, 6)]);
  const [a, b] = stored(db, 'ORDER BY seq LIMIT 2 OFFSET 2').map((r) => r.seq);
  const move = db.prepare('UPDATE audit_ledger SET seq = ? WHERE seq = ?');
  move.run(-1, a);
  move.run(a, b);
  move.run(b, -1);
  const report = await verify();
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /removed or reordered/);
});

t.test('a forged checkpoint is detected', async (t) => {
  const { verify, db, signer } = await trail(t, [events(0, 6)]);
  // a checkpoint past the real head, with the signature of another one: it does not verify
  db.prepare("UPDATE audit_checkpoint SET events = 3 WHERE n = (SELECT MAX(n) FROM audit_checkpoint)").run();
  let report = await verify();
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /not signed by the audit key/);
  // signed, but by another key (an attacker's own)
  db.prepare("UPDATE audit_checkpoint SET events = 6 WHERE n = (SELECT MAX(n) FROM audit_checkpoint)").run();
  t.equal((await verify()).ok, true, 'restored');
  const otherDir = mkdtempSync(join(tmpdir(), 'migfhir-other-key-'));
  t.teardown(() => rmSync(otherDir, { recursive: true, force: true }));
  const other: CheckpointSigner = loadOrCreateSigner(join(otherDir, 'k.pem'));
  t.not(other.pem, signer.pem);
  const forged = other.sign({ events: 2, head: GENESIS, at: new Date().toISOString() });
  db.prepare('INSERT INTO audit_checkpoint (events, head, at, key_id, signature, version_seq) VALUES (?, ?, ?, ?, ?, 0)').run(forged.events, forged.head, forged.at, forged.keyId, forged.signature);
  report = await verify();
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /not signed by the audit key/);
});

t.test('a rollback to an older consistent state passes the checkpoints left, not an anchor kept elsewhere', async (t) => {
  const { verify, db, store } = await trail(t, [events(0, 3), events(3, 3)]);
  const anchor = store.auditCheckpoints().at(-1)!;
  // back to the state after the first batch: its events and checkpoints only
  db.exec('DELETE FROM audit_checkpoint WHERE events > 3; DELETE FROM audit_ledger WHERE seq > 3');
  t.equal((await verify()).ok, true, 'consistent with what is left (the threat model says so)');
  const report = await verify(anchor);
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /ends at event 3, before its signed checkpoint of 6 events/);
});

t.test('audit anchor prints the latest checkpoint; verify --anchor checks against it; verify without a key says so', async (t) => {
  const { dir, db } = await trail(t, [events(0, 4)]);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', 'audit', ...args, '--data-dir', dir], { encoding: 'utf8' });
  const anchored = cli('anchor');
  t.equal(anchored.status, 0, anchored.stderr);
  const anchor = JSON.parse(anchored.stdout);
  t.equal(anchor.events, 4);
  t.match(anchor.publicKey, /BEGIN PUBLIC KEY/);
  t.notMatch(anchored.stdout, /PRIVATE/);
  const file = join(dir, 'anchor.json');
  writeFileSync(file, anchored.stdout);
  let run = cli('verify', '--anchor', file);
  t.equal(run.status, 0, run.stdout + run.stderr);
  t.match(run.stdout, /intact: 4 events.*2 signed checkpoints.*passes through the anchor of 4 events/);
  // a verifier with the anchor only (no private key in the folder) checks the same
  rmSync(join(dir, 'audit-signing-key.pem'));
  run = cli('verify', '--anchor', file);
  t.equal(run.status, 0, run.stdout + run.stderr);
  run = cli('verify');
  t.equal(run.status, 2);
  t.match(run.stderr, /no audit key/);
  db.prepare('DELETE FROM audit_ledger WHERE seq = (SELECT MAX(seq) FROM audit_ledger)').run();
  run = cli('verify', '--anchor', file);
  t.equal(run.status, 1);
  t.match(run.stdout, /BROKEN at event 3: the trail ends at event 3/);
  writeFileSync(file, JSON.stringify({ ...anchor, events: 3 }));
  run = cli('verify', '--anchor', file);
  t.equal(run.status, 1);
  t.match(run.stdout, /the anchor is not signed/);
  t.ok(readFileSync(file, 'utf8'));
});

t.test('the server writes the first checkpoint at start and signs its last events when it stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-checkpoint-app-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on', dataDir: dir }), { store });
  t.same(store.auditCheckpoints().map((c) => c.events), [0]);
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' });
  for (let i = 0; i < 3; i++) await fhir(app, 'GET', '/fhir/Patient/p1');
  await app.close();
  const checkpoints = store.auditCheckpoints();
  t.equal(checkpoints.at(-1)!.events, 4, 'the write, then the reads the worker stored, signed at close');
  const key = publicKeyFromPem(readFileSync(join(dir, 'audit-signing-key.pem'), 'utf8'));
  t.same(await verifyChain(store, { checkpoints, publicKey: key }), { events: 4, ok: true, checkpoints: checkpoints.length });
});

/** docs/audit.md, *The hash*, as a verifier outside migfhir implements it from an exported
 * AuditEvent alone (none of the server's code): the compact encoding its link names, or the JSON
 * without the link for events stored before it. */
function specHash(previous: string, e: AuditEvent): string {
  const link = e.extension!.find((x) => x.url === CHAIN_URL)!.extension!;
  if (link.find((x) => x.url === 'encoding')?.valueString !== 'migfhir-audit-event:2') return chainHash(previous, e);
  const ms = (s: string | undefined) => (s === undefined ? null : Date.parse(s));
  const entities = e.entity ?? [];
  const ref = (patient: boolean) => entities.find((x) => x.what?.reference && (x.role?.code === '1') === patient)?.what?.reference ?? null;
  const query = entities.find((x) => x.query !== undefined)?.query;
  const agent = e.agent[0];
  const purposes = e.purposeOfEvent?.map((p) => [p.coding![0].system, p.coding![0].code].filter((x) => x !== undefined).join('|')) ?? null;
  const encoding = JSON.stringify([
    'migfhir-audit-event:2', e.id, ms(e.meta!.lastUpdated), (e.type.code === '110114' ? 1 : 0) | (e.meta!.security ? 2 : 0), e.subtype![0].code, e.action,
    ms(e.period?.start), ms(e.period?.end), ms(e.recorded), e.outcome, e.outcomeDesc ?? null, purposes, agent.altId, agent.network?.address ?? null,
    ref(false), ref(true), query === undefined ? null : Buffer.from(query, 'base64').toString('utf8'),
  ]);
  return createHash('sha256').update(Buffer.from(previous + encoding, 'utf8')).digest('hex');
}

t.test('audit export --since writes the events from then on, the checkpoints among them and a manifest to check them with', async (t) => {
  const { dir, db } = await trail(t, [events(0, 4), events(4, 3), events(7, 2)]);
  const fifth = isoAt(db, 4);
  const out = join(dir, 'export');
  const run = spawnSync(process.execPath, ['src/cli/main.ts', 'audit', 'export', '--since', fifth, '--output', out, '--data-dir', dir], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /exported 5 AuditEvents \(events 5–9 of the chain\) and 3 signed checkpoints/);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  t.match(manifest, { after: 4, events: 5, checkpoints: 3 });
  const exported = readFileSync(join(out, 'AuditEvent.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
  t.equal(exported.length, 5);
  t.ok(exported.every((e) => e.meta!.lastUpdated! >= fifth));
  // the part exported verifies on its own: links from the manifest's previous hash, and each
  // checkpoint signed and on the chain at its position
  let head = manifest.previous as string;
  const heads = new Map<number, string>([[manifest.after, head]]);
  exported.forEach((e, i) => {
    const link = e.extension!.find((x) => x.url === CHAIN_URL)!.extension!;
    t.equal(link.find((x) => x.url === 'previous')!.valueString, head);
    head = specHash(head, e);
    t.equal(link.find((x) => x.url === 'hash')!.valueString, head);
    heads.set(manifest.after + i + 1, head);
  });
  const key = publicKeyFromPem(manifest.publicKey);
  const checkpoints = readFileSync(join(out, 'checkpoints.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.same(checkpoints.map((c) => c.events), [4, 7, 9], 'the one at the cut signs the previous hash the export starts from');
  for (const c of checkpoints) {
    t.ok(validSignature(c, key), 'signed');
    t.equal(heads.get(c.events), c.head, `checkpoint ${c.events} on the exported chain`);
  }
  const bad = spawnSync(process.execPath, ['src/cli/main.ts', 'audit', 'export', '--since', 'yesterday', '--output', out, '--data-dir', dir], { encoding: 'utf8' });
  t.equal(bad.status, 2);
});

t.test('audit prune removes the events up to a signed checkpoint, records the cut, and the rest still verifies; a cut by hand does not', async (t) => {
  const { dir, db } = await trail(t, [events(0, 4), events(4, 3), events(7, 2)]);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', 'audit', ...args, '--data-dir', dir], { encoding: 'utf8' });
  const eighth = isoAt(db, 7);
  let run = cli('prune', '--before', eighth);
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /removed 7 AuditEvents; the trail now starts after event 7/);
  t.same(stored(db).map((r) => r.seq), [8, 9, 10], 'two left, and the event of the cut');
  const cut = JSON.parse(stored(db, 'ORDER BY seq DESC LIMIT 1')[0].content) as AuditEvent;
  t.match(cut, { action: 'D', agent: [{ altId: 'migfhir-retention' }] });
  run = cli('verify');
  t.equal(run.status, 0, run.stdout + run.stderr);
  t.match(run.stdout, /intact: 10 events \(the first 7 removed by retention, as recorded in the trail\)/);
  run = cli('prune', '--before', eighth);
  t.match(run.stdout, /nothing to remove/);
  // by hand: the next events removed and a base set at a signed checkpoint, without the event
  // that records a cut
  const checkpoint = db.prepare('SELECT events, head FROM audit_checkpoint WHERE events = 9').get() as { events: number; head: string };
  db.prepare('DELETE FROM audit_ledger WHERE seq <= 9').run();
  db.prepare("INSERT INTO audit_retention (events, head, before, at) VALUES (?, ?, 'x', 'x')").run(checkpoint.events, checkpoint.head);
  run = cli('verify');
  t.equal(run.status, 1);
  t.match(run.stdout, /no event records that retention cut/);
  // a base where no checkpoint is
  db.prepare("UPDATE audit_retention SET events = 8 WHERE n = (SELECT MAX(n) FROM audit_retention)").run();
  run = cli('verify');
  t.equal(run.status, 1);
  t.match(run.stdout, /where no signed checkpoint is/);
});

t.test('a cut at the head (every event older than the date) leaves a trail that goes on from the cut and verifies', async (t) => {
  const { dir, db } = await trail(t, [events(0, 4), events(4, 3)]);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', 'audit', ...args, '--data-dir', dir], { encoding: 'utf8' });
  let run = cli('prune', '--before', new Date(Date.now() + 60_000).toISOString());
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /removed 7 AuditEvents; the trail now starts after event 7/);
  const [cut] = stored(db).map((r) => r.content);
  const base = db.prepare('SELECT head FROM audit_checkpoint WHERE events = 7').pluck().get() as string;
  t.equal((JSON.parse(cut) as AuditEvent).extension!.find((e) => e.url === CHAIN_URL)!.extension![0].valueString, base, 'the event of the cut links to the head it cut at, not to the genesis');
  run = cli('verify');
  t.equal(run.status, 0, run.stdout + run.stderr);
  t.match(run.stdout, /intact: 8 events \(the first 7 removed by retention/);
});
