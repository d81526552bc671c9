// Writes a resource's search index rows, inside the caller's transaction. Parameter keys
// (Patient.name) are stored once in search_param and referenced by integer id.
import type Database from 'better-sqlite3';
import type { IndexRows } from '../../search/index-rows.ts';
import { INDEX_TABLES } from './schema.ts';

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
      // sens: the view a row belongs to (sens-columns.ts), 0 for nearly every row
      string: db.prepare('INSERT INTO sp_string (rid, param, n, norm, exact, sens) VALUES (?, ?, ?, ?, ?, ?)'),
      token: db.prepare('INSERT INTO sp_token (rid, param, n, system, code, text, type_system, type_code, sens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      date: db.prepare('INSERT INTO sp_date (rid, param, n, low, high, sens) VALUES (?, ?, ?, ?, ?, ?)'),
      number: db.prepare('INSERT INTO sp_number (rid, param, n, value, low, high, sens) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      // canon_*: the UCUM canonical form (canonical-columns.ts), NULL when the quantity has none
      quantity: db.prepare(
        'INSERT INTO sp_quantity (rid, param, n, value, low, high, system, code, canon_code, canon_value, canon_low, canon_high, sens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      reference: db.prepare(
        'INSERT INTO sp_reference (rid, param, n, target_type, target_id, url, version, identifier_system, identifier_value, sens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      uri: db.prepare('INSERT INTO sp_uri (rid, param, n, uri, sens) VALUES (?, ?, ?, ?, ?)'),
      mark: db.prepare('INSERT OR IGNORE INTO sp_marked (param) VALUES (?)'),
      sensitive: db.prepare('INSERT INTO sp_sensitive (param, rid) VALUES (?, ?)'),
      removeSensitive: db.prepare('DELETE FROM sp_sensitive WHERE rid = ?'),
      composite: db.prepare(
        'INSERT INTO sp_composite (rid, param, n, grp, comp, system, code, low, high, value, text, target_type, target_id, canon_code, canon_value, canon_low, canon_high, sens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
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
  private rowParam(r: { param: string; sens?: number }): number {
    const id = this.paramId(r.param);
    if (r.sens && !this.marked.has(id)) {
      this.stmt.mark.run(id);
      this.marked.add(id);
      this.pendingMarks.push(id);
    }
    return id;
  }

  /** Inserts a resource's rows (its rows were removed first, or it has none). n numbers its
   * rows in each table (the clustered key, schema.ts), in the order extracted. */
  insert(rid: number, rows: IndexRows): void {
    const s = this.stmt;
    let n = 0;
    for (const r of rows.string) s.string.run(rid, this.rowParam(r), n++, r.norm, r.exact, r.sens ?? 0);
    n = 0;
    for (const r of rows.token) s.token.run(rid, this.rowParam(r), n++, r.system, r.code, r.text, r.typeSystem ?? null, r.typeCode ?? null, r.sens ?? 0);
    n = 0;
    for (const r of rows.date) s.date.run(rid, this.rowParam(r), n++, r.low, r.high, r.sens ?? 0);
    n = 0;
    for (const r of rows.number) s.number.run(rid, this.rowParam(r), n++, r.value, r.low, r.high, r.sens ?? 0);
    n = 0;
    for (const r of rows.quantity) {
      s.quantity.run(rid, this.rowParam(r), n++, r.value, r.low, r.high, r.system, r.code, r.canonCode ?? null, r.canonValue ?? null, r.canonLow ?? null, r.canonHigh ?? null, r.sens ?? 0);
    }
    n = 0;
    for (const r of rows.reference) {
      s.reference.run(rid, this.rowParam(r), n++, r.targetType, r.targetId, r.url, r.version, r.identifierSystem, r.identifierValue, r.sens ?? 0);
    }
    n = 0;
    for (const r of rows.uri) s.uri.run(rid, this.rowParam(r), n++, r.uri, r.sens ?? 0);
    if (rows.sensitive?.length) {
      this.anySensitive = true;
      for (const key of rows.sensitive) s.sensitive.run(this.paramId(key), rid);
    }
    n = 0;
    for (const r of rows.composite ?? []) {
      s.composite.run(
        rid, this.rowParam(r), n++, r.grp, r.comp, r.system, r.code, r.low, r.high, r.value, r.text, r.targetType, r.targetId,
        r.canonCode ?? null, r.canonValue ?? null, r.canonLow ?? null, r.canonHigh ?? null, r.sens ?? 0,
      );
    }
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
