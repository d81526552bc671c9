// The UCUM canonical columns on a database created before them (src/store/sqlite/canonical-columns.ts):
// at start-up they are added and the existing quantity rows get their canonical values, so a
// search in another unit finds old data without a $reindex; a second start changes nothing.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { SqliteStore } from '../../../src/store/sqlite/index.ts';
import { fhir } from '../../helpers/app.ts';

const UCUM = 'http://unitsofmeasure.org';
const CANON = ['canon_code', 'canon_value', 'canon_low', 'canon_high'];

async function open(path: string): Promise<FastifyInstance> {
  const store = new SqliteStore({ path });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  app.addHook('onClose', async () => store.close());
  return app;
}

async function ids(app: FastifyInstance, query: string): Promise<string[]> {
  const r = await fhir(app, 'GET', `/fhir/Observation?${query}`);
  if (r.status !== 200) throw new Error(`${query}: ${r.status} ${r.raw.slice(0, 300)}`);
  return (r.body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();
}

function columns(db: Database.Database, table: string): string[] {
  return db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all().map((c) => c.name);
}

t.test('a database without the columns gets them, with canonical values for its rows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-ucum-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'fhir.db');
  const code = (c: string) => ({ coding: [{ system: 'http://loinc.org', code: c }] });

  let app = await open(path);
  for (const body of [
    { resourceType: 'Observation', id: 'w', status: 'final', code: code('29463-7'), valueQuantity: { value: 72.5, system: UCUM, code: 'kg' } },
    { resourceType: 'Observation', id: 't', status: 'final', code: code('8310-5'), valueQuantity: { value: 39, system: UCUM, code: 'Cel' } },
    {
      resourceType: 'Observation', id: 'bp', status: 'final', code: code('85354-9'),
      component: [{ code: code('8480-6'), valueQuantity: { value: 16, system: UCUM, code: 'kPa' } }],
    },
  ]) {
    const r = await fhir(app, 'PUT', `/fhir/Observation/${body.id}`, body);
    t.equal(r.status, 201, `PUT ${body.id}`);
  }
  await app.close();

  // what a database written before the columns existed looks like
  const db = new Database(path);
  db.exec('DROP INDEX sp_quantity_canonical');
  for (const table of ['sp_quantity', 'sp_composite']) for (const c of CANON) db.exec(`ALTER TABLE ${table} DROP COLUMN ${c}`);
  t.notOk(columns(db, 'sp_quantity').includes('canon_code'), 'the old layout');
  db.close();

  app = await open(path);
  t.same(await ids(app, `value-quantity=72500|${UCUM}|g`), ['w'], 'an old row is found in another unit');
  t.same(await ids(app, `value-quantity=72.5|${UCUM}|kg`), ['w'], 'and in its own');
  t.same(await ids(app, `value-quantity=39|${UCUM}|Cel`), ['t'], 'a unit without a canonical form as written');
  t.same(await ids(app, `component-code-value-quantity=http://loinc.org|8480-6$lt125|${UCUM}|mm[Hg]`), ['bp'], 'an old composite row');
  await app.close();

  const after = new Database(path, { readonly: true });
  t.teardown(() => after.close());
  for (const table of ['sp_quantity', 'sp_composite']) t.ok(CANON.every((c) => columns(after, table).includes(c)), `${table} has the columns`);
  // (value-quantity and combo-value-quantity index the same values)
  const rows = after.prepare(
    `SELECT DISTINCT code, canon_code, canon_value, canon_low, canon_high FROM sp_quantity WHERE system = ? AND code IN ('kg', 'Cel') ORDER BY code`,
  ).all(UCUM);
  t.same(rows, [
    { code: 'Cel', canon_code: null, canon_value: null, canon_low: null, canon_high: null },
    { code: 'kg', canon_code: 'g', canon_value: 72500, canon_low: 72450, canon_high: 72550 },
  ], 'backfilled with the write-time values');
  t.ok(after.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'sp_quantity_canonical'").get(), 'the partial index');

  // a further start finds everything in place
  app = await open(path);
  t.same(await ids(app, `value-quantity=ge70000|${UCUM}|g`), ['w']);
  await app.close();
});
