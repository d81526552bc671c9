// The `sens` column of the search index tables (src/search/sensitive-rows.ts): 0 for a row both
// views of a resource share, 1 for a row only the stored resource yields (a status-revealing
// identifier's value), 2 for a row only the view of clients without the migration-data scope
// yields. sp_marked lists the parameters that have ever had a marked row: searches test `sens`
// only on those, so the lookups of every other parameter stay on their covering indexes.
// Databases created before the column get it by ALTER TABLE (constant default: no table
// rewrite); their resources that hold status-revealing identifiers are relabelled and
// reindexed at start-up (app.ts, repository.ts migrateStatusIdentifiers).
import type Database from 'better-sqlite3';
import { INDEX_TABLES } from './schema.ts';

export const MARKED_TABLE = 'CREATE TABLE IF NOT EXISTS sp_marked (param INTEGER PRIMARY KEY)';

/** Adds `sens` where it is missing; true when it was missing somewhere (a database written by
 * an earlier version, whose rows carry no marks). Idempotent; run after the schema, before any
 * statement that names the column is prepared. */
export function ensureSensColumns(db: Database.Database): boolean {
  let added = false;
  db.transaction(() => {
    for (const table of INDEX_TABLES) {
      const have = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all().some((c) => c.name === 'sens');
      if (have) continue;
      db.exec(`ALTER TABLE ${table} ADD COLUMN sens INTEGER NOT NULL DEFAULT 0`);
      added = true;
    }
    db.exec(MARKED_TABLE);
  })();
  return added;
}
