// Group commit in the embedded engine (src/store/sqlite/index.ts, drain): transactions queued
// together share one SQLite transaction, each under its own savepoint. Each must still behave
// as if it ran alone: it sees the writes before it, fails alone, and is answered only once
// its writes are committed (another connection sees them).
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { emptyRows } from '../../src/search/index-rows.ts';
import type { StoreTransaction } from '../../src/store/types.ts';

function setUp(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-group-commit-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  const other = new Database(path, { readonly: true });
  t.teardown(async () => {
    other.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, other };
}

async function create(tx: StoreTransaction, id: string, param?: string) {
  const lastUpdated = tx.now();
  const index = emptyRows();
  if (param) index.token.push({ param, system: null, code: id, text: null });
  const json = JSON.stringify({ resourceType: 'Basic', id, meta: { versionId: '1', lastUpdated } });
  await tx.write({ resourceType: 'Basic', id, versionId: 1, lastUpdated, method: 'POST', json, index });
}

const stored = (db: Database.Database, id: string) => db.prepare("SELECT COUNT(*) AS n FROM resource WHERE resource_type = 'Basic' AND id = ?").get(id) as { n: number };

t.test('concurrent transactions: answered after commit, in order, each seeing those before it', async (t) => {
  const { store, other } = setUp(t);
  const seen: (string | undefined)[] = [];
  const all = Array.from({ length: 20 }, (_, i) =>
    store.transaction(async (tx) => {
      if (i > 0) seen.push((await tx.current('Basic', `b${i - 1}`))?.id);
      await create(tx, `b${i}`);
      return i;
    }).then((i) => {
      // answered: another connection already sees the write
      t.equal(stored(other, `b${i}`).n, 1, `b${i} committed when its transaction resolved`);
      return i;
    }),
  );
  t.same(await Promise.all(all), Array.from({ length: 20 }, (_, i) => i));
  t.same(seen, Array.from({ length: 19 }, (_, i) => `b${i}`), 'each saw the write queued before it');
});

t.test('a failing transaction in a group fails alone and leaves nothing behind', async (t) => {
  const { store, other } = setUp(t);
  const results = await Promise.allSettled([
    store.transaction((tx) => create(tx, 'ok-1')),
    store.transaction(async (tx) => {
      await create(tx, 'bad', 'Basic.group-commit-test');
      throw new Error('refused');
    }),
    store.transaction((tx) => create(tx, 'ok-2')),
  ]);
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  t.equal((results[1] as PromiseRejectedResult).reason.message, 'refused');
  t.equal(stored(other, 'ok-1').n, 1);
  t.equal(stored(other, 'ok-2').n, 1);
  t.equal(stored(other, 'bad').n, 0, 'the failed transaction wrote nothing');
  const params = other.prepare("SELECT COUNT(*) AS n FROM search_param WHERE key = 'Basic.group-commit-test'").get() as { n: number };
  t.equal(params.n, 0, 'nor registered the search parameter key it introduced');
  // the key can be introduced again afterwards, and its rows are found under the stored id
  await Promise.all([store.transaction((tx) => create(tx, 'late', 'Basic.group-commit-test')), store.transaction((tx) => create(tx, 'ok-3'))]);
  const rows = other.prepare("SELECT t.code FROM sp_token t JOIN search_param p ON p.id = t.param WHERE p.key = 'Basic.group-commit-test'").all();
  t.same(rows, [{ code: 'late' }]);
});

t.test('a rejected transaction does not move the clock backwards for the next', async (t) => {
  const { store } = setUp(t);
  const stamps: string[] = [];
  await Promise.allSettled([
    store.transaction(async (tx) => void stamps.push(tx.now())),
    store.transaction(async (tx) => {
      tx.now();
      throw new Error('refused');
    }),
    store.transaction(async (tx) => void stamps.push(tx.now())),
  ]);
  t.ok(stamps[0] < stamps[1], `${stamps[0]} < ${stamps[1]}`);
});

t.test('close waits for every queued transaction', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-group-commit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  const writes = Array.from({ length: 50 }, (_, i) => store.transaction((tx) => create(tx, `c${i}`)));
  await store.close();
  await Promise.all(writes);
  const db = new Database(path, { readonly: true });
  t.equal((db.prepare("SELECT COUNT(*) AS n FROM resource WHERE resource_type = 'Basic'").get() as { n: number }).n, 50);
  db.close();
});

t.test('WAL checkpoints happen off the event loop: committed pages reach the database file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-checkpoint-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const before = statSync(path).size;
  const padding = 'x'.repeat(2000);
  for (let i = 0; i < 20; i++) {
    await store.transaction(async (tx) => {
      for (let j = 0; j < 100; j++) {
        const lastUpdated = tx.now();
        const json = JSON.stringify({ resourceType: 'Basic', id: `w${i}-${j}`, meta: { versionId: '1', lastUpdated }, text: { status: 'generated', div: padding } });
        await tx.write({ resourceType: 'Basic', id: `w${i}-${j}`, versionId: 1, lastUpdated, method: 'POST', json, index: emptyRows() });
      }
    });
  }
  // ~4 MB committed: far below the writer's own auto-checkpoint threshold, so only the
  // checkpointer thread can have copied it into the database file
  // a generous deadline: on a loaded machine the checkpointer thread may wait for a core
  const deadline = Date.now() + 60_000;
  while (statSync(path).size < before + 3_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(statSync(path).size >= before + 3_000_000, `database file ${before} → ${statSync(path).size} bytes`);
});
