// A new version's index rows replace the last one's table by table (SqliteIndexWriter.replace):
// a table whose rows are unchanged is not touched, one with any difference is rewritten whole,
// and either way the table then holds exactly the rows a first write of that version would
// have (compared with the same resource written fresh under another id), so searches answer as
// before. Deletions are counted by triggers on the index tables.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { SqliteStore } from '../../../src/store/sqlite/index.ts';
import { INDEX_TABLES } from '../../../src/store/sqlite/schema.ts';
import { fhir } from '../../helpers/app.ts';

async function open(path: string): Promise<FastifyInstance> {
  const store = new SqliteStore({ path });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  app.addHook('onClose', async () => store.close());
  return app;
}

const patient = (id: string, changes: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  id,
  identifier: [{ system: 'urn:reg', value: 'r-1' }, { system: 'urn:mrn', value: 'm-1' }],
  name: [{ family: 'Haidari', given: ['Ali'] }, { family: 'حیدری', given: ['علی'] }],
  gender: 'male',
  birthDate: '1990-03-15',
  address: [{ city: 'Athens', country: 'GRC' }],
  ...changes,
});

t.test('an update rewrites only the index tables whose rows changed, and leaves the rows of a fresh write', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-replace-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'fhir.db');
  const app = await open(path);
  t.teardown(() => app.close());
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient('p1'))).status, 201);

  const db = new Database(path);
  t.teardown(() => db.close());
  db.exec('CREATE TABLE deleted_rows (tbl TEXT NOT NULL)');
  for (const table of INDEX_TABLES) db.exec(`CREATE TRIGGER ${table}_deleted AFTER DELETE ON ${table} BEGIN INSERT INTO deleted_rows VALUES ('${table}'); END`);
  const rid = (id: string) => (db.prepare('SELECT rid FROM resource WHERE resource_type = ? AND id = ?').get('Patient', id) as { rid: number }).rid;
  /** a resource's rows per table, without rid */
  const rows = (id: string) => Object.fromEntries(INDEX_TABLES.map((table) => [table, db.prepare(`SELECT * FROM ${table} WHERE rid = ? ORDER BY param, n`).all(rid(id)).map((r) => ({ ...(r as object), rid: undefined }))]));
  const deleted = () => {
    const out = Object.fromEntries((db.prepare('SELECT tbl, count(*) AS n FROM deleted_rows GROUP BY tbl').all() as { tbl: string; n: number }[]).map((r) => [r.tbl, r.n]));
    db.exec('DELETE FROM deleted_rows');
    return out;
  };
  const found = async (query: string) => ((await fhir(app, 'GET', `/fhir/Patient?${query}`)).body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id);
  /** p1's rows are those of the same content written fresh as a new resource */
  const sameAsFresh = async (changes: Record<string, unknown>, fresh: string) => {
    t.equal((await fhir(app, 'PUT', `/fhir/Patient/${fresh}`, patient(fresh, changes))).status, 201);
    t.same(rows('p1'), rows(fresh), `rows after the update are those of a fresh write (${fresh})`);
    t.equal((await fhir(app, 'DELETE', `/fhir/Patient/${fresh}`)).status, 200);
    deleted();
  };

  /** PUTs p1 with `changes`; exactly the tables whose rows of p1 changed had rows deleted */
  const step = async (changes: Record<string, unknown>, expected: number) => {
    const before = rows('p1');
    t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient('p1', changes))).status, expected);
    const after = rows('p1');
    const touched = deleted();
    for (const table of INDEX_TABLES) {
      const changed = JSON.stringify(before[table]) !== JSON.stringify(after[table]);
      t.equal(!!touched[table], changed, `${table}: ${changed ? 'rewritten' : 'left alone'}`);
    }
    return touched;
  };

  // the same content again: a no-op update (no version), nothing deleted
  t.same(await step({}, 200), {}, 'an unchanged resource touches no index table');

  // a new birth date: its date row and the match keys derived from it change, not the names
  const afterDate = await step({ birthDate: '1991-04-16' }, 200);
  t.ok(afterDate.sp_date > 0 && !afterDate.sp_string && !afterDate.sp_reference, `only what changed was rewritten (${JSON.stringify(afterDate)})`);
  t.same(await found('birthdate=1991-04-16'), ['p1']);
  t.same(await found('birthdate=1990-03-15'), []);
  await sameAsFresh({ birthDate: '1991-04-16' }, 'fresh1');

  // an identifier changed and one removed
  const afterIdentifier = await step({ birthDate: '1991-04-16', identifier: [{ system: 'urn:reg', value: 'r-2' }] }, 200);
  t.ok(afterIdentifier.sp_token > 0 && !afterIdentifier.sp_date, 'the token rows were rewritten, not the dates');
  t.same(await found('identifier=urn:reg|r-2'), ['p1']);
  t.same(await found('identifier=urn:reg|r-1'), []);
  t.same(await found('identifier=urn:mrn|m-1'), []);
  await sameAsFresh({ birthDate: '1991-04-16', identifier: [{ system: 'urn:reg', value: 'r-2' }] }, 'fresh2');

  // a name dropped
  const oneName = { birthDate: '1991-04-16', identifier: [{ system: 'urn:reg', value: 'r-2' }], name: [{ family: 'حیدری', given: ['علی'] }] };
  t.ok((await step(oneName, 200)).sp_string > 0, 'the string rows were rewritten');
  t.same(await found('family=haidari'), []);
  t.same(await found('family=حیدری'), ['p1']);
  await sameAsFresh(oneName, 'fresh3');

  // the same values in another order: rewritten (n follows the order), found the same
  await step({ ...oneName, identifier: [{ system: 'urn:mrn', value: 'm-1' }, { system: 'urn:reg', value: 'r-2' }] }, 200);
  await step({ ...oneName, identifier: [{ system: 'urn:reg', value: 'r-2' }, { system: 'urn:mrn', value: 'm-1' }] }, 200);
  t.same(await found('identifier=urn:mrn|m-1'), ['p1']);
  await sameAsFresh({ ...oneName, identifier: [{ system: 'urn:reg', value: 'r-2' }, { system: 'urn:mrn', value: 'm-1' }] }, 'fresh4');

  // a deletion removes every row; a write after it inserts them again
  t.equal((await fhir(app, 'DELETE', '/fhir/Patient/p1')).status, 200);
  t.same(INDEX_TABLES.map((table) => db.prepare(`SELECT count(*) AS n FROM ${table} WHERE rid = ?`).get(rid('p1'))), INDEX_TABLES.map(() => ({ n: 0 })));
  deleted();
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient('p1'))).status, 201);
  t.same(await found('identifier=urn:mrn|m-1'), ['p1']);
  await sameAsFresh({}, 'fresh5');
});
