// The search index tables of a database written before they were clustered on (rid, param, n)
// (src/store/sqlite/clustered-index-tables.ts): at start-up each is rebuilt WITHOUT ROWID with
// every row, the (rid, param) indexes are gone, the searches answer as before, writes go on, and
// a second start changes nothing.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { clusterIndexTables } from '../../../src/store/sqlite/clustered-index-tables.ts';
import { SqliteStore } from '../../../src/store/sqlite/index.ts';
import { INDEX_TABLES } from '../../../src/store/sqlite/schema.ts';
import { fhir } from '../../helpers/app.ts';

async function open(path: string): Promise<FastifyInstance> {
  const store = new SqliteStore({ path });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  app.addHook('onClose', async () => store.close());
  return app;
}

/** The ids a search finds, in the order it answers. */
async function ids(app: FastifyInstance, path: string): Promise<string[]> {
  const r = await fhir(app, 'GET', `/fhir/${path}`);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.raw.slice(0, 300)}`);
  return (r.body.entry ?? []).map((e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`);
}

const SEARCHES = [
  'Patient?family=garcia',
  'Patient?identifier=urn:reg|r-2',
  'Patient?identifier=urn:reg|r-2b',
  'Patient?birthdate=lt1990&_sort=birthdate',
  'Patient?_sort=-family,given',
  'Patient?gender=female&_sort=birthdate',
  'Observation?subject=Patient/p2&_sort=code',
  'Observation?code=http://loinc.org|29463-7',
  'Observation?value-quantity=gt70|http://unitsofmeasure.org|kg',
  'Observation?value-quantity=72500|http://unitsofmeasure.org|g',
  'Observation?component-code-value-quantity=http://loinc.org|8480-6$gt100|http://unitsofmeasure.org|mm[Hg]',
  'Observation?subject:Patient.family=okafor',
  'Patient?_has:Observation:subject:code=29463-7',
  'Observation?date=ge2024-01-01',
  'ValueSet?url=http://example.org/fhir/ValueSet/v1',
];

/** What a database written before the clustering holds: a rowid table per parameter type, the
 * value indexes and an index on (rid, param) (the rows and columns as they were). */
function unclustered(db: Database.Database): void {
  for (const table of INDEX_TABLES) {
    const columns = db.prepare<[], { name: string; type: string; notnull: number; dflt_value: string | null }>(`PRAGMA table_info(${table})`).all().filter((c) => c.name !== 'n');
    const indexes = db.prepare<[string], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(table);
    const names = columns.map((c) => c.name).join(', ');
    db.exec(`CREATE TABLE ${table}_old (${columns.map((c) => `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.dflt_value !== null ? ` DEFAULT ${c.dflt_value}` : ''}`).join(', ')})`);
    db.exec(`INSERT INTO ${table}_old (${names}) SELECT ${names} FROM ${table} ORDER BY rid, param, n`);
    db.exec(`DROP TABLE ${table}`);
    db.exec(`ALTER TABLE ${table}_old RENAME TO ${table}`);
    for (const i of indexes) db.exec(i.sql);
    db.exec(`CREATE INDEX ${table}_rid ON ${table} (rid, param)`);
  }
}

const layout = (db: Database.Database) =>
  db.prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE name LIKE 'sp\\_%' ESCAPE '\\' ORDER BY name").all();

const counts = (db: Database.Database) => Object.fromEntries(INDEX_TABLES.map((table) => [table, db.prepare(`SELECT count(*) AS n FROM ${table}`).get()]));

t.test('index tables written before the clustering are rebuilt at start-up and answer the same', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-cluster-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'fhir.db');
  const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
  const kg = (value: number) => ({ value, system: 'http://unitsofmeasure.org', code: 'kg' });

  let app = await open(path);
  const resources = [
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Garcia', given: ['Ana'] }], gender: 'female', birthDate: '1985-02-01', identifier: [{ system: 'urn:reg', value: 'r-1' }] },
    // two identifiers, two names: several rows of one parameter
    { resourceType: 'Patient', id: 'p2', name: [{ family: 'Okafor', given: ['Chidi'] }, { family: 'Garcia', given: ['C'] }], gender: 'male', birthDate: '1979-11-30', identifier: [{ system: 'urn:reg', value: 'r-2' }, { system: 'urn:reg', value: 'r-2b' }] },
    { resourceType: 'Patient', id: 'p3', name: [{ family: 'Haddad', given: ['Lina'] }], gender: 'female', birthDate: '1992-06-15' },
    { resourceType: 'Observation', id: 'o1', status: 'final', code: loinc('29463-7'), subject: { reference: 'Patient/p2' }, effectiveDateTime: '2024-03-01', valueQuantity: kg(72.5) },
    { resourceType: 'Observation', id: 'o2', status: 'final', code: loinc('8310-5'), subject: { reference: 'Patient/p2' }, effectiveDateTime: '2023-03-01', valueQuantity: { value: 39, system: 'http://unitsofmeasure.org', code: 'Cel' } },
    { resourceType: 'Observation', id: 'o3', status: 'final', code: loinc('29463-7'), subject: { reference: 'Patient/p1' }, effectiveDateTime: '2024-05-01', valueQuantity: kg(61) },
    {
      resourceType: 'Observation', id: 'bp', status: 'final', code: loinc('85354-9'), subject: { reference: 'Patient/p3' }, effectiveDateTime: '2024-06-01',
      component: [
        { code: loinc('8480-6'), valueQuantity: { value: 128, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        { code: loinc('8462-4'), valueQuantity: { value: 84, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      ],
    },
    { resourceType: 'ValueSet', id: 'v1', url: 'http://example.org/fhir/ValueSet/v1', status: 'active' },
  ];
  for (const body of resources) {
    const r = await fhir(app, 'PUT', `/fhir/${body.resourceType}/${body.id}`, body);
    t.equal(r.status, 201, `PUT ${body.resourceType}/${body.id}`);
  }
  const before = await Promise.all(SEARCHES.map((q) => ids(app, q)));
  t.ok(before.every((found) => found.length > 0), 'every search finds something');
  await app.close();

  let db = new Database(path);
  const rows = counts(db);
  unclustered(db);
  t.notOk(layout(db).some((o) => (INDEX_TABLES as readonly string[]).includes(o.name) && /WITHOUT ROWID/.test(o.sql)), 'the old layout: rowid tables');
  t.ok(layout(db).some((o) => o.name === 'sp_token_rid'), 'the old layout has the (rid, param) indexes');
  t.same(counts(db), rows, 'with every row');
  db.close();

  app = await open(path);
  t.same(await Promise.all(SEARCHES.map((q) => ids(app, q))), before, 'the searches answer as before the rebuild');
  // writes go on: an update replaces the rebuilt rows of its resource
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p2', { ...resources[1], name: [{ family: 'Okafor', given: ['Chidi'] }] })).status, 200);
  t.same(await ids(app, 'Patient?family=garcia'), ['Patient/p1'], 'an updated resource left its old rows');
  t.same(await ids(app, 'Patient?identifier=urn:reg|r-2b'), ['Patient/p2'], 'and has its new ones');
  await app.close();

  db = new Database(path);
  t.teardown(() => db.close());
  for (const table of INDEX_TABLES) {
    const sql = layout(db).find((o) => o.name === table)!.sql;
    t.match(sql, /PRIMARY KEY \(rid, param, n\)\) WITHOUT ROWID$/, `${table} is clustered`);
    t.notOk(layout(db).some((o) => o.name === `${table}_rid`), `${table}'s (rid, param) index is gone`);
    t.ok(layout(db).some((o) => o.name !== table && new RegExp(`ON ${table} \\(`).test(o.sql ?? '')), `${table} has its value index`);
  }
  const numbered = db.prepare<[], { rid: number; param: number; n: string }>(
    "SELECT rid, param, group_concat(n) AS n FROM sp_token WHERE param = (SELECT id FROM search_param WHERE key = 'Patient.identifier') GROUP BY rid, param",
  ).all();
  t.ok(numbered.some((r) => r.n.split(',').length === 2), "a resource's rows of one parameter are numbered apart");
  t.equal(clusterIndexTables(db), 0, 'a second run copies nothing');
});
