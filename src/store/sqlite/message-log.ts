// The inbound message log of the embedded engine (src/store/message-log.ts): a table in a
// database file of its own next to migfhir.sqlite (inbound-messages.sqlite), on a connection of
// its own. Its writes never join, nor wait for, a FHIR transaction: a refused message's entry
// must outlive the rollback of the transaction that refused it, and a write on the resource
// database's writer connection while a transaction is open would become part of it. Deleting
// that one file also wipes every stored message text at once. For a database file the
// connection lives on a thread of its own (message-log-thread.ts): an MLLP feed's log writes
// then cost the main thread one hand-over a batch.
//
// `n` numbers entries in the order they were logged; entries are only ever deleted from the
// oldest end (by age or by count), so the numbers kept are contiguous and pruning by count is
// one range delete on the primary key.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InboundMessage, InboundSummary, MessageLogQuery, MessageLogStore, PruneBounds } from '../message-log.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS inbound_message (
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  received TEXT NOT NULL,
  door TEXT NOT NULL,
  kind TEXT NOT NULL,
  sender TEXT,
  control_id TEXT,
  event TEXT,
  ack TEXT NOT NULL,
  issues TEXT NOT NULL,
  written TEXT NOT NULL,
  size INTEGER NOT NULL,
  content BLOB,
  charset TEXT
);
CREATE INDEX IF NOT EXISTS inbound_message_received ON inbound_message (received);
CREATE INDEX IF NOT EXISTS inbound_message_ack ON inbound_message (ack, n);
`;

const SUMMARY = 'id, received, door, kind, sender, control_id AS controlId, event, ack, issues, written, size, content IS NOT NULL AS kept';

interface SummaryRow {
  id: string;
  received: string;
  door: InboundSummary['door'];
  kind: InboundSummary['kind'];
  sender: string | null;
  controlId: string | null;
  event: string | null;
  ack: InboundSummary['ack'];
  issues: string;
  written: string;
  size: number;
  kept: number;
}

function summaryOf(row: SummaryRow): InboundSummary {
  return {
    id: row.id,
    received: row.received,
    door: row.door,
    kind: row.kind,
    ...(row.sender !== null ? { sender: row.sender } : {}),
    ...(row.controlId !== null ? { controlId: row.controlId } : {}),
    ...(row.event !== null ? { event: row.event } : {}),
    ack: row.ack,
    issues: JSON.parse(row.issues),
    written: JSON.parse(row.written),
    size: row.size,
    contentKept: row.kept === 1,
  };
}

/** The log's file for a resource database file (in-memory databases get an in-memory log). */
export function messageLogPath(databasePath: string): string {
  return databasePath === ':memory:' ? ':memory:' : join(dirname(databasePath), 'inbound-messages.sqlite');
}

export class SqliteMessageLog implements MessageLogStore {
  /** every call runs to its end before it returns */
  readonly ordered = true;
  private readonly db: Database.Database;
  private readonly insert;
  private readonly byId;
  private readonly pruneByAge;
  private readonly pruneByCount;

  constructor(path: string, synchronous: 'normal' | 'full' = 'normal') {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // OR IGNORE: an append run again (on the main thread, after the log's thread failed:
    // message-log-thread.ts) skips the entries stored already, by id
    this.insert = this.db.prepare(
      `INSERT OR IGNORE INTO inbound_message (id, received, door, kind, sender, control_id, event, ack, issues, written, size, content, charset)
       VALUES (@id, @received, @door, @kind, @sender, @controlId, @event, @ack, @issues, @written, @size, @content, @charset)`,
    );
    this.byId = this.db.prepare<[string], SummaryRow & { content: Buffer | null; charset: string | null }>(`SELECT ${SUMMARY}, content, charset FROM inbound_message WHERE id = ?`);
    this.pruneByAge = this.db.prepare<[string]>('DELETE FROM inbound_message WHERE received < ?');
    this.pruneByCount = this.db.prepare<[number]>('DELETE FROM inbound_message WHERE n <= (SELECT MAX(n) FROM inbound_message) - ?');
  }

  async append(entries: InboundMessage[], bounds?: PruneBounds): Promise<void> {
    const write = this.db.transaction((all: InboundMessage[]) => {
      for (const e of all) {
        this.insert.run({
          id: e.id, received: e.received, door: e.door, kind: e.kind, sender: e.sender ?? null, controlId: e.controlId ?? null, event: e.event ?? null,
          ack: e.ack, issues: JSON.stringify(e.issues), written: JSON.stringify(e.written), size: e.size, content: e.content ?? null, charset: e.charset ?? null,
        });
      }
      if (bounds) this.pruned(bounds.before, bounds.keep);
    });
    write(entries);
  }

  async list(q: MessageLogQuery): Promise<InboundSummary[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.ack?.length) {
      where.push(`ack IN (${q.ack.map(() => '?').join(', ')})`);
      args.push(...q.ack);
    }
    if (q.kind) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    const sql = `SELECT ${SUMMARY} FROM inbound_message ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n DESC LIMIT ?`;
    return this.db.prepare<(string | number)[], SummaryRow>(sql).all(...args, q.count).map(summaryOf);
  }

  async read(id: string): Promise<InboundMessage | undefined> {
    const row = this.byId.get(id);
    if (!row) return undefined;
    return { ...summaryOf(row), ...(row.content !== null ? { content: row.content } : {}), ...(row.charset !== null ? { charset: row.charset } : {}) };
  }

  async prune(before: string, keep: number): Promise<number> {
    return this.pruned(before, keep);
  }

  private pruned(before: string, keep: number): number {
    return this.pruneByAge.run(before).changes + this.pruneByCount.run(keep).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
