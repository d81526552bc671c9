// The signed checkpoints of the embedded trail (src/audit/checkpoint.ts), kept beside the ledger
// (src/store/sqlite/audit-ledger.ts), which writes them in the transactions of its appends.
// version_seq: the ledger row of the checkpoint's head (its seq, equal to `events`).
import type Database from 'better-sqlite3';
import type { Checkpoint, CheckpointLog } from '../../audit/checkpoint.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_checkpoint (
  n INTEGER PRIMARY KEY,
  events INTEGER NOT NULL, head TEXT NOT NULL, at TEXT NOT NULL,
  key_id TEXT NOT NULL, signature TEXT NOT NULL,
  version_seq INTEGER NOT NULL
);
`;

/** Creates the checkpoint table on the writer connection at start-up. */
export function ensureAuditCheckpoints(db: Database.Database): void {
  db.exec(SCHEMA);
}

/** The checkpoints of an SQLite trail, oldest first. */
export class SqliteCheckpointLog implements CheckpointLog {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = db.prepare<[], Checkpoint>('SELECT events, head, at, key_id AS keyId, signature FROM audit_checkpoint ORDER BY n');
  }

  all(): Checkpoint[] {
    return this.stmt.all();
  }
}
