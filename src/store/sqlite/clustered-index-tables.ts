// The search index tables' layout before they were clustered (schema.ts): a rowid table, an
// index on (rid, param) and the value indexes — one B-tree more per row than the clustered
// (rid, param, n) WITHOUT ROWID table, which serves the same look-ups by rid. A database
// written in that layout is rebuilt at start-up, a table per transaction: its rows are copied in
// (rid, param) order, numbered by their rowid within a resource and parameter (the order they
// were written in), and the old table dropped with its indexes; the schema then builds the
// value indexes on the new table. A table already clustered is left alone, so the step is
// idempotent and a start-up stopped half way finishes the other tables the next time.
import type Database from 'better-sqlite3';
import { INDEX_TABLES } from './schema.ts';

interface Column {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
}

/** Rebuilds the index tables written before the clustering; returns the rows copied (0 when
 * none was). Run before the schema (it builds the value indexes on the rebuilt tables). */
export function clusterIndexTables(db: Database.Database): number {
  let copied = 0;
  for (const table of INDEX_TABLES) {
    const columns = db.prepare<[], Column>(`PRAGMA table_info(${table})`).all();
    // absent: a new database (the schema creates it clustered); with n: clustered already
    if (!columns.length || columns.some((c) => c.name === 'n')) continue;
    const names = columns.map((c) => c.name);
    const declared = columns.map((c) => `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.dflt_value !== null ? ` DEFAULT ${c.dflt_value}` : ''}`);
    // n after (rid, param), where the schema puts it
    declared.splice(2, 0, 'n INTEGER NOT NULL');
    const next = `${table}_clustered`;
    db.transaction(() => {
      db.exec(`DROP TABLE IF EXISTS ${next}`);
      db.exec(`CREATE TABLE ${next} (${declared.join(', ')}, PRIMARY KEY (rid, param, n)) WITHOUT ROWID`);
      copied += db
        .prepare(
          `INSERT INTO ${next} (n, ${names.join(', ')})
           SELECT row_number() OVER (PARTITION BY rid, param ORDER BY rowid), ${names.join(', ')} FROM ${table} ORDER BY rid, param, rowid`,
        )
        .run().changes;
      db.exec(`DROP TABLE ${table}`);
      db.exec(`ALTER TABLE ${next} RENAME TO ${table}`);
    })();
  }
  return copied;
}
