// The current-version row (resource) of a write: a first version adds it without looking for one
// (SqliteStore.firstResource), a later one moves it; a first version written for a resource whose
// row is there all the same (its versions removed by hand) moves that row instead of failing.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../src/store/sqlite/index.ts';
import { emptyRows } from '../../../src/search/index-rows.ts';

const json = (id: string, v: number) => JSON.stringify({ resourceType: 'Patient', id, meta: { versionId: String(v) }, gender: v === 1 ? 'female' : 'male' });
const gender = (code: string) => ({ ...emptyRows(), token: [{ param: 'Patient.gender', system: null, code, text: null }] });

t.test('first, later and re-first versions keep one current row pointing at the newest version', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-current-row-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'fhir.db');
  let store = new SqliteStore({ path, auditLedger: false });
  const write = (s: SqliteStore, versionId: number, code: string) =>
    s.transaction((tx) => tx.write({ resourceType: 'Patient', id: 'p1', versionId, lastUpdated: tx.now(), method: versionId === 1 ? 'POST' : 'PUT', json: json('p1', versionId), index: gender(code) }));
  await write(store, 1, 'female');
  await write(store, 2, 'male');
  t.equal((await store.current('Patient', 'p1'))?.versionId, 2);
  await store.close();

  const db = new Database(path);
  const rid = db.prepare("SELECT rid FROM resource WHERE id = 'p1'").pluck().get();
  db.prepare("DELETE FROM resource_version WHERE id = 'p1'").run();
  db.close();

  store = new SqliteStore({ path, auditLedger: false });
  t.teardown(() => store.close());
  await write(store, 1, 'other');
  const check = new Database(path, { readonly: true });
  t.teardown(() => check.close());
  const rows = check.prepare<[], { rid: number; seq: number }>("SELECT rid, seq FROM resource WHERE id = 'p1'").all();
  t.equal(rows.length, 1, 'one current row');
  t.equal(rows[0].rid, rid, 'the same rid');
  t.equal(rows[0].seq, check.prepare("SELECT seq FROM resource_version WHERE id = 'p1' AND version_id = 1").pluck().get(), 'pointing at the new version');
  t.same(check.prepare('SELECT code FROM sp_token WHERE rid = ?').pluck().all(rid), ['other'], 'its index rows are the new version\'s');
  t.equal((await store.current('Patient', 'p1'))?.versionId, 1);
});

t.test('the cache of current versions: a write updates a cached resource, and a write nobody read is read from the database', async (t) => {
  const store = new SqliteStore({ path: ':memory:', auditLedger: false });
  t.teardown(() => store.close());
  const put = (id: string, versionId: number) =>
    store.transaction((tx) => tx.write({ resourceType: 'Patient', id, versionId, lastUpdated: tx.now(), method: versionId === 1 ? 'POST' : 'PUT', json: json(id, versionId), index: gender(versionId === 1 ? 'female' : 'male') }));
  await put('read', 1);
  t.equal((await store.current('Patient', 'read'))?.versionId, 1, 'read once: cached');
  await put('read', 2);
  t.equal((await store.current('Patient', 'read'))?.versionId, 2, 'the cached entry follows the write');
  t.equal(JSON.parse((await store.current('Patient', 'read'))!.json!).gender, 'male');
  await put('unread', 1);
  await put('unread', 2);
  t.equal((await store.current('Patient', 'unread'))?.versionId, 2, 'never read: read from the database');
  // a rolled-back write leaves the cached entry as it was
  await t.rejects(store.transaction(async (tx) => {
    await tx.write({ resourceType: 'Patient', id: 'read', versionId: 3, lastUpdated: tx.now(), method: 'PUT', json: json('read', 3), index: gender('male') });
    throw new Error('rolled back');
  }));
  t.equal((await store.current('Patient', 'read'))?.versionId, 2, 'a rolled-back write does not reach the cache');
});
