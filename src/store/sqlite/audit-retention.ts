// Retention of the embedded trail (`migfhir audit prune`, docs/audit.md): the events up to a
// signed checkpoint stored before a date are deleted, and the checkpoint becomes the trail's
// base — `verify` starts from its head instead of from the genesis hash. The cut is itself
// audited: an event appended after it names the base (`events=…&head=…` in its query), and
// verify wants that event, so a base set behind the command's back (the prefix deleted by hand)
// does not verify. Only whole checkpoints can be cut, so the base is always one the key signed.
import type Database from 'better-sqlite3';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_retention (
  n INTEGER PRIMARY KEY,
  events INTEGER NOT NULL, head TEXT NOT NULL, before TEXT NOT NULL, at TEXT NOT NULL
);
`;

export function ensureAuditRetention(db: Database.Database): void {
  db.exec(SCHEMA);
}

export interface RetentionBase {
  /** events deleted from the start of the chain */
  events: number;
  /** the hash the remaining chain starts from */
  head: string;
}

/** The trail's base: where verification starts (none: at the genesis hash). */
export function retentionBase(db: Database.Database): RetentionBase | undefined {
  return db.prepare<[], RetentionBase>('SELECT events, head FROM audit_retention ORDER BY n DESC LIMIT 1').get();
}

/** The query of the event that records a cut, which verify looks for. */
export const retentionQuery = (before: string, base: RetentionBase) => `before=${before}&events=${base.events}&head=${base.head}`;

/** Deletes, inside the connection's open transaction, the events up to the newest checkpoint
 * whose head was stored before `before` (and past the current base); returns the new base, or
 * undefined when no checkpoint qualifies. A checkpoint's head is the ledger row numbered like
 * its count of events. */
export function cutBefore(db: Database.Database, before: string): RetentionBase | undefined {
  const current = retentionBase(db);
  const cut = db
    .prepare<[number, number], RetentionBase>(
      `SELECT c.events, c.head FROM audit_checkpoint c JOIN audit_ledger l ON l.seq = c.events
       WHERE l.updated < ? AND c.events > ? ORDER BY c.n DESC LIMIT 1`,
    )
    .get(Date.parse(before), current?.events ?? 0);
  if (!cut) return undefined;
  db.prepare('DELETE FROM audit_ledger WHERE seq <= ?').run(cut.events);
  db.prepare('INSERT INTO audit_retention (events, head, before, at) VALUES (?, ?, ?, ?)').run(cut.events, cut.head, before, new Date().toISOString());
  return { events: cut.events, head: cut.head };
}
