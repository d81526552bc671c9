// The compact encoding of the hash (#19, docs/audit.md *The hash*): events appended now are hashed
// over the canonical JSON array of their fields, not over their rendered JSON; a trail written
// by the version before (every row hashed over its rendering) keeps verifying, with new events
// chained after it, and changing a field, the form marker or a row's rendering is detected in
// either form.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from 'fhir/r4.js';
import { GENESIS, hashOf, verifyChain, type QueuedAudit } from '../../src/audit/audit.ts';
import { loadOrCreateSigner, publicKeyFromPem } from '../../src/audit/checkpoint.ts';
import { ENCODING, encodedHash, fieldsOf, fieldsOfEvent, renderUnlinked, storedEvent } from '../../src/audit/render.ts';
import { auditKeyFile } from '../../src/audit/sinks.ts';
import { ensureAuditLedger, ENCODED_FLAG, LEDGER_COLUMNS, renderRow, rowOf, type LedgerRow } from '../../src/store/sqlite/audit-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';

const AT = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
let n = 0;
const event = (i: number): QueuedAudit => ({
  interaction: i % 3 === 0 ? 'search-type' : 'read', action: 'R', status: i % 5 === 4 ? 403 : 200, clientId: `c${i % 2}`, address: '127.0.0.1',
  ...(i % 3 === 0 ? { query: `name=Ἀθηνᾶ&n=${i}`, sensitive: i % 2 === 0 } : { what: `Observation/o${i}` }), patient: `Patient/p${i}`,
  ...(i % 4 === 1 ? { purposeOfUse: ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT'] } : {}),
  id: `ae-${String(++n).padStart(5, '0')}`, at: AT + i,
});

/** A data folder whose ledger was written by the version before the compact encoding: rows
 * hashed over their rendered JSON (storedEvent), no encoding flag. */
function olderTrail(t: Test, count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-encoding-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'migfhir.sqlite');
  const db = new Database(path);
  ensureAuditLedger(db);
  const insert = db.prepare(`INSERT INTO audit_ledger (${LEDGER_COLUMNS.join(', ')}) VALUES (${LEDGER_COLUMNS.map(() => '?').join(', ')})`);
  let head = GENESIS;
  for (let i = 0; i < count; i++) {
    const e = event(i);
    const updated = AT + 1000 + i;
    const { hash } = storedEvent(head, e, new Date(updated).toISOString());
    insert.run(rowOf(i + 1, fieldsOf(e), updated, head, hash));
    head = hash;
  }
  db.close();
  return { dir, path };
}

async function opened(t: Test, path: string) {
  const signer = loadOrCreateSigner(auditKeyFile(path));
  const store = new SqliteStore({ path });
  await store.signAudit(signer);
  const db = new Database(path);
  t.teardown(async () => {
    db.close();
    await store.close();
  });
  const verify = () => verifyChain(store, { checkpoints: store.auditCheckpoints(), publicKey: publicKeyFromPem(signer.pem) });
  const rows = () => db.prepare('SELECT * FROM audit_ledger ORDER BY seq').all() as LedgerRow[];
  return { store, db, verify, rows };
}

t.test('the compact encoding: one canonical JSON array of the fields, covering each field and meta.lastUpdated', async (t) => {
  const e = event(1);
  const fields = fieldsOf(e);
  t.equal(
    JSON.parse(JSON.stringify([ENCODING, e.id, 5, 0, 'read', 'R', null, null, e.at, '0', null, ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT'], 'c1', '127.0.0.1', 'Observation/o1', 'Patient/p1', null]))[0],
    'migfhir-audit-event:2',
  );
  const base = encodedHash(GENESIS, fields, 5);
  const seen = new Set([base]);
  const changed: Partial<typeof fields>[] = [
    { id: 'x' }, { login: true }, { sensitive: true }, { sub: 'vread' }, { action: 'C' }, { period: { start: 1, end: 2 } }, { at: e.at + 1 }, { outcome: '4' },
    { outcomeDesc: '' }, { purposes: ['s|c'] }, { client: 'c2' }, { address: '::1' }, { what: 'Observation/o2' }, { patient: 'Patient/q' }, { query: 'a=b' },
  ];
  for (const change of changed) {
    const h = encodedHash(GENESIS, { ...fields, ...change }, 5);
    t.notOk(seen.has(h), `changes the hash: ${Object.keys(change)[0]}`);
    seen.add(h);
  }
  t.not(encodedHash(GENESIS, fields, 6), base, 'meta.lastUpdated');
  t.not(encodedHash('1'.repeat(64), fields, 5), base, 'the previous hash');
  // the fields read back from the rendered event are those it was rendered from
  for (let i = 0; i < 12; i++) {
    const f = fieldsOf(event(i));
    const lastUpdated = new Date(AT + 7).toISOString();
    t.same(fieldsOfEvent(JSON.parse(renderUnlinked(f, lastUpdated)) as AuditEvent), f, `event ${i} reads back`);
  }
});

t.test('a trail written before the compact encoding still verifies, and events appended after it are hashed in the encoding', async (t) => {
  const { path } = olderTrail(t, 6);
  const { store, verify, rows } = await opened(t, path);
  t.same(await verify(), { events: 6, ok: true, checkpoints: 1 }, 'the older rows verify as they are (hash over the rendered JSON)');
  await store.transaction(async () => store.appendAudit([event(6), event(7), event(8)]));
  await store.checkpointAudit();
  const all = rows();
  t.same(all.map((r) => (r.flags & ENCODED_FLAG) !== 0), [false, false, false, false, false, false, true, true, true], 'the marker per row');
  t.equal(all[6].prev.toString('hex'), all[5].hash.toString('hex'), 'the first new event chains after the last older one');
  const newer = JSON.parse(renderRow(all[7])) as AuditEvent;
  t.equal(hashOf(newer).encoding, ENCODING, 'a new event names its encoding in its chain link');
  t.equal(hashOf(JSON.parse(renderRow(all[2])) as AuditEvent).encoding, undefined, 'an older one names none');
  t.same(await verify(), { events: 9, ok: true, checkpoints: 2 }, 'both forms in one chain verify');
});

t.test('changing an event of either form, its marker, or what a row renders is detected', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['an older row\'s client', "UPDATE audit_ledger SET client = 'other' WHERE seq = 3", /event was changed/],
    ['a newer row\'s client', "UPDATE audit_ledger SET client = 'other' WHERE seq = 8", /event was changed/],
    ['a newer row\'s time', 'UPDATE audit_ledger SET updated = updated + 1 WHERE seq = 8', /event was changed/],
    ['an older row given the marker', `UPDATE audit_ledger SET flags = flags | ${ENCODED_FLAG} WHERE seq = 3`, /event was changed/],
    ['a newer row stripped of it', `UPDATE audit_ledger SET flags = flags & ~${ENCODED_FLAG} WHERE seq = 8`, /event was changed/],
  ];
  for (const [what, sql, reason] of cases) {
    await t.test(what, async (t) => {
      const { path } = olderTrail(t, 6);
      const { store, db, verify } = await opened(t, path);
      await store.transaction(async () => store.appendAudit([event(6), event(7), event(8)]));
      await store.checkpointAudit();
      db.exec(sql);
      const report = await verify();
      t.equal(report.ok, false, what);
      t.match(report.broken?.reason, reason);
    });
  }
  await t.test('a newer row served as JSON that adds to what the encoding covers', async (t) => {
    const { path } = olderTrail(t, 2);
    const { store, db, verify, rows } = await opened(t, path);
    await store.transaction(async () => store.appendAudit([event(2)]));
    await store.checkpointAudit();
    const row = rows()[2];
    const json = renderRow(row).replace('"display":"migfhir"', '"display":"someone else"');
    db.prepare('UPDATE audit_ledger SET raw = ? WHERE seq = 3').run(json);
    const report = await verify();
    t.equal(report.ok, false);
    t.match(report.broken?.reason, /event was changed/);
  });
});
