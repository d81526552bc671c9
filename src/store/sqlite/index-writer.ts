// Writes a resource's search index rows, inside the caller's transaction. Parameter keys
// (Patient.name) are stored once in search_param and referenced by integer id.
import type Database from 'better-sqlite3';
import type { CompositeRow, DateRow, IndexRows, NumberRow, QuantityRow, ReferenceRow, StringRow, TokenRow, UriRow } from '../../search/index-rows.ts';
import { INDEX_TABLES } from './schema.ts';

type IndexTable = (typeof INDEX_TABLES)[number];

/** The columns each index table's rows are written with after (rid, param, n), in the order of
 * tableRows below. sens: the view a row belongs to (sens-columns.ts), 0 for nearly every row,
 * always last; canon_*: the UCUM canonical form (canonical-columns.ts), NULL when none. */
const COLUMNS: Record<IndexTable, string[]> = {
  sp_string: ['norm', 'exact', 'sens'],
  sp_token: ['system', 'code', 'text', 'type_system', 'type_code', 'sens'],
  sp_date: ['low', 'high', 'sens'],
  sp_number: ['value', 'low', 'high', 'sens'],
  sp_quantity: ['value', 'low', 'high', 'system', 'code', 'canon_code', 'canon_value', 'canon_low', 'canon_high', 'sens'],
  sp_reference: ['target_type', 'target_id', 'url', 'version', 'identifier_system', 'identifier_value', 'sens'],
  sp_uri: ['uri', 'sens'],
  sp_composite: ['grp', 'comp', 'system', 'code', 'low', 'high', 'value', 'text', 'target_type', 'target_id', 'canon_code', 'canon_value', 'canon_low', 'canon_high', 'sens'],
};

type Rows = IndexRows[keyof Omit<IndexRows, 'sensitive'>];
type Row = Rows[number];

/** How a table's rows are read from IndexRows and written: `values` gives a row's values in
 * COLUMNS' order (replace compares them with the stored ones); `run` inserts a row with its
 * values bound one by one — no array a row and no spread call, which on an import of ~11 rows a
 * resource were a measurable part of the writer's time and garbage. */
interface TableSpec {
  rows: (r: IndexRows) => Rows | undefined;
  values: (r: never) => unknown[];
  run: (s: Database.Statement, rid: number, param: number, n: number, r: never) => void;
}

const SPECS: Record<IndexTable, TableSpec> = {
  sp_string: {
    rows: (r) => r.string,
    values: (r: StringRow) => [r.norm, r.exact, r.sens ?? 0],
    run: (s, rid, p, n, r: StringRow) => void s.run(rid, p, n, r.norm, r.exact, r.sens ?? 0),
  },
  sp_token: {
    rows: (r) => r.token,
    values: (r: TokenRow) => [r.system, r.code, r.text, r.typeSystem ?? null, r.typeCode ?? null, r.sens ?? 0],
    run: (s, rid, p, n, r: TokenRow) => void s.run(rid, p, n, r.system, r.code, r.text, r.typeSystem ?? null, r.typeCode ?? null, r.sens ?? 0),
  },
  sp_date: {
    rows: (r) => r.date,
    values: (r: DateRow) => [r.low, r.high, r.sens ?? 0],
    run: (s, rid, p, n, r: DateRow) => void s.run(rid, p, n, r.low, r.high, r.sens ?? 0),
  },
  sp_number: {
    rows: (r) => r.number,
    values: (r: NumberRow) => [r.value, r.low, r.high, r.sens ?? 0],
    run: (s, rid, p, n, r: NumberRow) => void s.run(rid, p, n, r.value, r.low, r.high, r.sens ?? 0),
  },
  sp_quantity: {
    rows: (r) => r.quantity,
    values: (r: QuantityRow) => [r.value, r.low, r.high, r.system, r.code, r.canonCode ?? null, r.canonValue ?? null, r.canonLow ?? null, r.canonHigh ?? null, r.sens ?? 0],
    run: (s, rid, p, n, r: QuantityRow) =>
      void s.run(rid, p, n, r.value, r.low, r.high, r.system, r.code, r.canonCode ?? null, r.canonValue ?? null, r.canonLow ?? null, r.canonHigh ?? null, r.sens ?? 0),
  },
  sp_reference: {
    rows: (r) => r.reference,
    values: (r: ReferenceRow) => [r.targetType, r.targetId, r.url, r.version, r.identifierSystem, r.identifierValue, r.sens ?? 0],
    run: (s, rid, p, n, r: ReferenceRow) => void s.run(rid, p, n, r.targetType, r.targetId, r.url, r.version, r.identifierSystem, r.identifierValue, r.sens ?? 0),
  },
  sp_uri: {
    rows: (r) => r.uri,
    values: (r: UriRow) => [r.uri, r.sens ?? 0],
    run: (s, rid, p, n, r: UriRow) => void s.run(rid, p, n, r.uri, r.sens ?? 0),
  },
  sp_composite: {
    rows: (r) => r.composite,
    values: (r: CompositeRow) => [r.grp, r.comp, r.system, r.code, r.low, r.high, r.value, r.text, r.targetType, r.targetId, r.canonCode ?? null, r.canonValue ?? null, r.canonLow ?? null, r.canonHigh ?? null, r.sens ?? 0],
    run: (s, rid, p, n, r: CompositeRow) =>
      void s.run(rid, p, n, r.grp, r.comp, r.system, r.code, r.low, r.high, r.value, r.text, r.targetType, r.targetId, r.canonCode ?? null, r.canonValue ?? null, r.canonLow ?? null, r.canonHigh ?? null, r.sens ?? 0),
  },
};

/** The tables' specs in INDEX_TABLES' order. */
const TABLES = INDEX_TABLES.map((t) => SPECS[t]);

export class SqliteIndexWriter {
  private readonly db: Database.Database;
  private readonly ids = new Map<string, number>();
  /** ids assigned inside the open transaction: forgotten again if it rolls back */
  private pending: string[] = [];
  private readonly stmt;
  /** whether sp_sensitive may hold rows: until a labelled resource is indexed, replacing a
   * resource's rows skips that table (this connection is the database's only writer) */
  private anySensitive: boolean;
  /** parameters with rows marked for one view (sp_marked), known to be recorded */
  private readonly marked = new Set<number>();
  /** marks recorded inside the open transaction: forgotten again if it (or a savepoint) rolls back */
  private pendingMarks: number[] = [];

  constructor(db: Database.Database) {
    this.db = db;
    for (const r of db.prepare<[], { id: number; key: string }>('SELECT id, key FROM search_param').all()) this.ids.set(r.key, r.id);
    this.anySensitive = db.prepare('SELECT 1 FROM sp_sensitive LIMIT 1').get() !== undefined;
    for (const p of db.prepare<[], number>('SELECT param FROM sp_marked').pluck().all()) this.marked.add(p);
    this.stmt = {
      addParam: db.prepare<[string], { id: number }>(
        'INSERT INTO search_param (key) VALUES (?) ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id',
      ),
      remove: INDEX_TABLES.map((t) => db.prepare(`DELETE FROM ${t} WHERE rid = ?`)),
      // a resource's rows in a table with the columns its INSERT below writes, in that order
      rowsOf: INDEX_TABLES.map((t) => db.prepare(`SELECT param, n, ${COLUMNS[t].join(', ')} FROM ${t} WHERE rid = ?`)),
      insertInto: Object.fromEntries(
        INDEX_TABLES.map((t) => [t, db.prepare(`INSERT INTO ${t} (rid, param, n, ${COLUMNS[t].join(', ')}) VALUES (${['?', '?', '?', ...COLUMNS[t].map(() => '?')].join(', ')})`)]),
      ) as Record<IndexTable, Database.Statement>,
      mark: db.prepare('INSERT OR IGNORE INTO sp_marked (param) VALUES (?)'),
      sensitive: db.prepare('INSERT INTO sp_sensitive (param, rid) VALUES (?, ?)'),
      removeSensitive: db.prepare('DELETE FROM sp_sensitive WHERE rid = ?'),
    };
  }

  /** The integer id of a parameter key, or undefined when nothing was ever indexed under it. */
  lookup(key: string): number | undefined {
    return this.ids.get(key);
  }

  private paramId(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.stmt.addParam.get(key)!.id;
      this.ids.set(key, id);
      this.pending.push(key);
    }
    return id;
  }

  remove(rid: number): void {
    for (const s of this.stmt.remove) s.run(rid);
    if (this.anySensitive) this.stmt.removeSensitive.run(rid);
  }

  /** The parameter id of a row, its parameter recorded in sp_marked when the row is marked. */
  private rowParam(param: string, sens: number): number {
    const id = this.paramId(param);
    if (sens && !this.marked.has(id)) {
      this.stmt.mark.run(id);
      this.marked.add(id);
      this.pendingMarks.push(id);
    }
    return id;
  }

  /** Inserts a resource's rows of one table, n numbering them from 0 (the clustered key, schema.ts). */
  private insertTable(rid: number, i: number, rows: Rows): void {
    const insert = this.stmt.insertInto[INDEX_TABLES[i]];
    const run = TABLES[i].run;
    for (let n = 0; n < rows.length; n++) {
      const r = rows[n] as Row & { sens?: number };
      run(insert, rid, this.rowParam(r.param, r.sens ?? 0), n, r as never);
    }
  }

  private insertSensitive(rid: number, rows: IndexRows): void {
    if (!rows.sensitive?.length) return;
    this.anySensitive = true;
    for (const key of rows.sensitive) this.stmt.sensitive.run(this.paramId(key), rid);
  }

  /** Inserts a resource's rows (its rows were removed first, or it has none). n numbers its
   * rows in each table (the clustered key, schema.ts), in the order extracted. */
  insert(rid: number, rows: IndexRows): void {
    for (let i = 0; i < TABLES.length; i++) {
      const table = TABLES[i].rows(rows);
      if (table?.length) this.insertTable(rid, i, table);
    }
    this.insertSensitive(rid, rows);
  }

  /** Replaces a resource's rows with `rows` (a new version), leaving alone each table whose rows
   * are already these: a new version mostly changes a few values (an Encounter's period, not its
   * identifiers, subject or class), and reading a table's rows by rid costs far less than
   * deleting them from every index of the table and inserting them again. Any difference — a
   * value, the order, a parameter never indexed before — rewrites that table's rows whole, as
   * remove and insert do. */
  replace(rid: number, rows: IndexRows): void {
    for (let i = 0; i < TABLES.length; i++) {
      const wanted = TABLES[i].rows(rows) ?? [];
      if (this.holds(this.stmt.rowsOf[i].raw().all(rid) as unknown[][], wanted, TABLES[i].values)) continue;
      this.stmt.remove[i].run(rid);
      this.insertTable(rid, i, wanted);
    }
    if (this.anySensitive) this.stmt.removeSensitive.run(rid);
    this.insertSensitive(rid, rows);
  }

  /** Whether a table's stored rows of a resource ([param, n, values…]) are `wanted`, row n for
   * row n, each value as stored (SQLite gives back what it was given for these column types). */
  private holds(stored: unknown[][], wanted: Rows, valuesOf: (r: never) => unknown[]): boolean {
    if (stored.length !== wanted.length) return false;
    for (const row of stored) {
      const n = row[1] as number;
      const want = wanted[n];
      if (!want || row[0] !== this.ids.get(want.param)) return false;
      const values = valuesOf(want as never);
      for (let k = 0; k < values.length; k++) if (row[k + 2] !== values[k]) return false;
    }
    return true;
  }

  committed(): void {
    this.pending = [];
    this.pendingMarks = [];
  }

  /** Where the ids assigned in the open transaction stand, for rolledBackTo (a savepoint). */
  mark(): number {
    return this.pending.length;
  }

  rolledBackTo(mark: number): void {
    // written again on the next marked row (INSERT OR IGNORE): a mark too many costs nothing
    for (const id of this.pendingMarks.splice(0)) this.marked.delete(id);
    for (const k of this.pending.splice(mark)) this.ids.delete(k);
  }

  rolledBack(): void {
    this.rolledBackTo(0);
  }
}
