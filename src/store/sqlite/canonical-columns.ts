// UCUM canonical quantity columns of sp_quantity and sp_composite (src/terminology/ucum.ts): a
// quantity in http://unitsofmeasure.org is also stored in base units, so that a search in another
// unit of the same dimension finds it (compare HAPI's HFJ_SPIDX_QUANTITY_NRML, here columns of
// the same row rather than a second table). The columns are added at start-up when missing:
// databases created before them get them by ALTER TABLE, and their existing rows get canonical
// values from the row's own system, code, value and precision range — the same arithmetic as at
// write time, so no $reindex is needed ($reindex recomputes them too).
import type Database from 'better-sqlite3';
import { canonicalUnit, roundCanonical, UCUM_SYSTEM } from '../../terminology/ucum.ts';

const COLUMNS = [
  ['canon_code', 'TEXT'],
  ['canon_value', 'REAL'],
  ['canon_low', 'REAL'],
  ['canon_high', 'REAL'],
] as const;

const TABLES = ['sp_quantity', 'sp_composite'] as const;

/** Seeks (param, canonical unit, value range). Partial: only UCUM rows with a canonical form
 * are in it, so it costs nothing for the other quantities. */
const INDEX = `CREATE INDEX IF NOT EXISTS sp_quantity_canonical ON sp_quantity (param, canon_code, canon_value, rid) WHERE canon_code IS NOT NULL`;

function backfill(db: Database.Database, table: (typeof TABLES)[number]): void {
  // functions of this connection: the same JS as the index writer's, so the same rounding
  db.function('migfhir_ucum_code', { deterministic: true }, (code: unknown) => (typeof code === 'string' ? canonicalUnit(code)?.code ?? null : null));
  db.function('migfhir_ucum_value', { deterministic: true }, (x: unknown, code: unknown) => {
    const c = typeof code === 'string' && typeof x === 'number' ? canonicalUnit(code) : null;
    return c ? roundCanonical((x as number) * c.factor) : null;
  });
  db.prepare(
    `UPDATE ${table} SET canon_code = migfhir_ucum_code(code), canon_value = migfhir_ucum_value(value, code),
       canon_low = migfhir_ucum_value(low, code), canon_high = migfhir_ucum_value(high, code)
     WHERE system = ? AND value IS NOT NULL AND low IS NOT NULL AND high IS NOT NULL`,
  ).run(UCUM_SYSTEM);
}

/** Adds the canonical columns (and their index) where they are missing. Idempotent; run after
 * the schema, before any statement that names the columns is prepared. */
export function ensureCanonicalColumns(db: Database.Database): void {
  for (const table of TABLES) {
    const have = new Set(db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all().map((c) => c.name));
    const missing = COLUMNS.filter(([name]) => !have.has(name));
    if (missing.length === 0) continue;
    db.transaction(() => {
      for (const [name, type] of missing) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
      backfill(db, table);
    })();
  }
  db.exec(INDEX);
}
