// Tables of the embedded engine. Every version of every resource is one row of resource_version
// (content NULL for a deletion); resource points at the current one and gives each resource a
// numeric rid that the search index tables refer to. `seq` orders all writes and is never
// reused (AUTOINCREMENT), which keeps history cursors stable while data changes.
//
// Search index tables hold the current version's values only (compare HAPI's HFJ_SPIDX_*):
// one table per search parameter type, `param` a small integer from search_param. Each table is
// clustered on (rid, param, n) WITHOUT ROWID — n numbers a resource's rows in the table — which
// serves sorting and replacing a resource's rows, and has an index that leads with
// (param, value…) for searches (references: with the target). Every B-tree costs an insert per
// row on each write, so there are no others (scripts/bench/indexing.ts) — except
// sp_quantity_canonical, a partial index over the UCUM canonical columns canon_code,
// canon_value, canon_low, canon_high of sp_quantity and sp_composite (canonical-columns.ts).
// Tables written before the clustering (a rowid table and an index on (rid, param)) are
// rebuilt at start-up (clustered-index-tables.ts).
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS resource_version (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_type TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  version_id    INTEGER NOT NULL,
  last_updated  TEXT    NOT NULL,
  superseded_at TEXT,
  method        TEXT    NOT NULL,
  content       TEXT,
  UNIQUE (resource_type, id, version_id)
);
CREATE INDEX IF NOT EXISTS resource_version_type_seq ON resource_version (resource_type, seq);
CREATE INDEX IF NOT EXISTS resource_version_updated ON resource_version (last_updated);

CREATE TABLE IF NOT EXISTS resource (
  rid           INTEGER PRIMARY KEY,
  resource_type TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  seq           INTEGER NOT NULL,
  last_updated  TEXT    NOT NULL,
  deleted       INTEGER NOT NULL,
  UNIQUE (resource_type, id)
);
CREATE INDEX IF NOT EXISTS resource_type_updated ON resource (resource_type, last_updated);
-- a type's resources in rid order: the page order of a search without _sort, so paging a whole
-- type (Bulk export, GET [type]) reads one page of rows, not every row of the type and a sort
CREATE INDEX IF NOT EXISTS resource_type_rid ON resource (resource_type, rid);

CREATE TABLE IF NOT EXISTS search_param (
  id  INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS sp_string (rid INTEGER NOT NULL, param INTEGER NOT NULL, n INTEGER NOT NULL, norm TEXT NOT NULL, exact TEXT NOT NULL, PRIMARY KEY (rid, param, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sp_string_value ON sp_string (param, norm, rid);

CREATE TABLE IF NOT EXISTS sp_token (rid INTEGER NOT NULL, param INTEGER NOT NULL, n INTEGER NOT NULL, system TEXT, code TEXT, text TEXT, type_system TEXT, type_code TEXT, PRIMARY KEY (rid, param, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sp_token_value ON sp_token (param, code, system, rid);

CREATE TABLE IF NOT EXISTS sp_date (rid INTEGER NOT NULL, param INTEGER NOT NULL, n INTEGER NOT NULL, low INTEGER NOT NULL, high INTEGER NOT NULL, PRIMARY KEY (rid, param, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sp_date_low ON sp_date (param, low, high, rid);
CREATE INDEX IF NOT EXISTS sp_date_high ON sp_date (param, high, low, rid);

CREATE TABLE IF NOT EXISTS sp_number (rid INTEGER NOT NULL, param INTEGER NOT NULL, n INTEGER NOT NULL, value REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL, PRIMARY KEY (rid, param, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sp_number_value ON sp_number (param, value, rid);

CREATE TABLE IF NOT EXISTS sp_quantity (rid INTEGER NOT NULL, param INTEGER NOT NULL, n INTEGER NOT NULL, value REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL, system TEXT, code TEXT, PRIMARY KEY (rid, param, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sp_quantity_value ON sp_quantity (param, value, rid);

CREATE TABLE IF NOT EXISTS sp_reference (rid INTEGER NOT NULL, param INTEGER NOT NULL, n INTEGER NOT NULL, target_type TEXT, target_id TEXT, url TEXT, version TEXT, identifier_system TEXT, identifier_value TEXT, PRIMARY KEY (rid, param, n)) WITHOUT ROWID;
-- target first: serves searches by parameter and target, chains and _has (target = a resource),
-- and _revinclude=* (any parameter); urls and identifiers are rare, so their indexes are partial
DROP INDEX IF EXISTS sp_reference_target;
DROP INDEX IF EXISTS sp_reference_target_any;
DROP INDEX IF EXISTS sp_reference_url;
CREATE INDEX IF NOT EXISTS sp_reference_target_param ON sp_reference (target_id, target_type, param, rid);
CREATE INDEX IF NOT EXISTS sp_reference_url_given ON sp_reference (param, url) WHERE url IS NOT NULL;
CREATE INDEX IF NOT EXISTS sp_reference_identifier ON sp_reference (param, identifier_value) WHERE identifier_value IS NOT NULL;

CREATE TABLE IF NOT EXISTS sp_uri (rid INTEGER NOT NULL, param INTEGER NOT NULL, n INTEGER NOT NULL, uri TEXT NOT NULL, PRIMARY KEY (rid, param, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sp_uri_value ON sp_uri (param, uri, rid);

-- composite parameters: one row per component value of each occurrence (grp) of the root
CREATE TABLE IF NOT EXISTS sp_composite (rid INTEGER NOT NULL, param INTEGER NOT NULL, n INTEGER NOT NULL, grp INTEGER NOT NULL, comp INTEGER NOT NULL,
  system TEXT, code TEXT, low REAL, high REAL, value REAL, text TEXT, target_type TEXT, target_id TEXT, PRIMARY KEY (rid, param, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sp_composite_value ON sp_composite (param, comp, code, rid);

-- the parameters whose rows of a resource come from its sensitive elements (migration status,
-- journey, vulnerability: src/search/sensitive-rows.ts); rows only for labelled resources.
-- param first: "does this parameter have sensitive rows" is one seek (src/auth/sensitive-search.ts)
CREATE TABLE IF NOT EXISTS sp_sensitive (param INTEGER NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (param, rid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sp_sensitive_rid ON sp_sensitive (rid);
`;

export const INDEX_TABLES = ['sp_string', 'sp_token', 'sp_date', 'sp_number', 'sp_quantity', 'sp_reference', 'sp_uri', 'sp_composite'] as const;
