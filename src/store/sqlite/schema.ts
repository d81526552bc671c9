// Tables of the embedded engine. Every version of every resource is one row of resource_version
// (content NULL for a deletion); resource points at the current one. `seq` orders all writes and
// is never reused (AUTOINCREMENT), which keeps history cursors stable while data changes.
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
  resource_type TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  seq           INTEGER NOT NULL,
  PRIMARY KEY (resource_type, id)
) WITHOUT ROWID;
`;
