// Appends AuditEvents to the embedded store directly: the version row, the resource row and the
// event's one audit_index row (src/store/sqlite/audit-index.ts), with no FHIRPath and no
// read-modify-write. Used on the
// server's writer connection (write interactions: the event commits with the write) and by the
// audit worker on its own connection (src/audit/worker.ts). Both run inside a BEGIN IMMEDIATE
// transaction, and the chain's head is read inside it, so however the two connections
// interleave the events form one chain in write order — the order `migfhir audit verify` walks.
// The signed checkpoints (src/audit/checkpoint.ts) are written in the same transactions, so a
// checkpoint names a head that is committed with it.
import type Database from 'better-sqlite3';
import type { AuditEvent } from 'fhir/r4.js';
import { GENESIS, hashOf, type QueuedAudit } from '../../audit/audit.ts';
import { storedEvent } from '../../audit/render.ts';
import { CHECKPOINT_EVENTS, CHECKPOINT_MS, type Checkpoint, type CheckpointLog, type CheckpointSigner } from '../../audit/checkpoint.ts';
import { AuditIndexWriter } from './audit-index.ts';
import { retentionBase } from './audit-retention.ts';

// audit_checkpoint.version_seq: the resource_version row of the head, from which the next
// checkpoint counts. audit_head: the chain's end as the last append left it — how many events
// the chain holds, the hash of the newest and its resource_version row — so that an append
// reads one short row instead of parsing the newest event's JSON for its hash and counting the
// events since the last checkpoint (both connections that append keep it, in their
// transactions). It is a cache of what the events say: when its version_seq is not the newest
// event's (events written by a version without it, or rows removed by hand), the append
// computes the end from the events again, as before.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_checkpoint (
  n INTEGER PRIMARY KEY,
  events INTEGER NOT NULL, head TEXT NOT NULL, at TEXT NOT NULL,
  key_id TEXT NOT NULL, signature TEXT NOT NULL,
  version_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  events INTEGER NOT NULL, head TEXT NOT NULL, version_seq INTEGER NOT NULL
);
`;

/** The end of the chain: events in it (from the genesis, cut ones included), the newest hash,
 * and the newest event's resource_version row (0: none). */
interface ChainEnd {
  events: number;
  head: string;
  versionSeq: number;
}

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

export class SqliteAuditTrail {
  private readonly db: Database.Database;
  private readonly index: AuditIndexWriter;
  private readonly signer: CheckpointSigner | undefined;
  private readonly stmt;

  /** without a signer no checkpoint is written (tests of the chain alone) */
  constructor(db: Database.Database, signer?: CheckpointSigner) {
    this.db = db;
    this.index = new AuditIndexWriter(db);
    this.signer = signer;
    const newest = `FROM resource_version WHERE resource_type = 'AuditEvent' ORDER BY seq DESC LIMIT 1`;
    this.stmt = {
      newestSeq: db.prepare<[], number>(`SELECT seq ${newest}`).pluck(),
      newestContent: db.prepare<[], string>(`SELECT content ${newest}`).pluck(),
      end: db.prepare<[], ChainEnd>('SELECT events, head, version_seq AS versionSeq FROM audit_head WHERE one = 1'),
      saveEnd: db.prepare<[number, string, number]>('INSERT INTO audit_head (one, events, head, version_seq) VALUES (1, ?, ?, ?) ON CONFLICT (one) DO UPDATE SET events = excluded.events, head = excluded.head, version_seq = excluded.version_seq'),
      // OR IGNORE: a batch written again after a worker failure skips the events already stored
      version: db.prepare(`INSERT OR IGNORE INTO resource_version (resource_type, id, version_id, last_updated, method, content) VALUES ('AuditEvent', ?, 1, ?, 'POST', ?)`),
      // rid is the rowid: lastInsertRowid, without RETURNING's extra step
      resource: db.prepare<[string, number | bigint, string]>(`INSERT INTO resource (resource_type, id, seq, last_updated, deleted) VALUES ('AuditEvent', ?, ?, ?, 0)`),
      lastCheckpoint: db.prepare<[], { events: number; at: string; versionSeq: number }>('SELECT events, at, version_seq AS versionSeq FROM audit_checkpoint ORDER BY n DESC LIMIT 1'),
      // served by resource_version_type_seq; only when audit_head is missing or stale
      since: db.prepare<[number], number>(`SELECT COUNT(*) FROM resource_version WHERE resource_type = 'AuditEvent' AND seq > ?`).pluck(),
      checkpoint: db.prepare('INSERT INTO audit_checkpoint (events, head, at, key_id, signature, version_seq) VALUES (?, ?, ?, ?, ?, ?)'),
    };
  }

  /** The chain's end, inside the connection's open transaction: audit_head when it names the
   * newest event, else computed from the events (and kept for the next append). */
  private end(): ChainEnd {
    const newestSeq = this.stmt.newestSeq.get() ?? 0;
    const kept = this.stmt.end.get();
    if (kept && kept.versionSeq === newestSeq) return kept;
    const last = this.stmt.lastCheckpoint.get();
    const content = newestSeq ? this.stmt.newestContent.get() : undefined;
    // no event left (a retention cut at the head): the chain goes on from the cut's head
    const head = content ? (hashOf(JSON.parse(content) as AuditEvent).hash ?? GENESIS) : (retentionBase(this.db)?.head ?? GENESIS);
    const end = { events: (last?.events ?? 0) + this.stmt.since.get(last?.versionSeq ?? 0)!, head, versionSeq: newestSeq };
    this.stmt.saveEnd.run(end.events, end.head, end.versionSeq);
    return end;
  }

  /** Chains and stores `events`, inside the connection's open transaction. `now` is the store
   * clock for meta.lastUpdated; `recorded` is when the interaction happened. */
  append(events: QueuedAudit[], now: () => string): void {
    const end = this.end();
    let { head, events: count, versionSeq } = end;
    for (const input of events) {
      const lastUpdated = now();
      const { json, hash } = storedEvent(head, input, lastUpdated);
      const info = this.stmt.version.run(input.id, lastUpdated, json);
      if (info.changes === 0) continue;
      versionSeq = Number(info.lastInsertRowid);
      const rid = Number(this.stmt.resource.run(input.id, versionSeq, lastUpdated).lastInsertRowid);
      this.index.insert(rid, input);
      head = hash;
      count++;
    }
    if (count !== end.events) this.stmt.saveEnd.run(count, head, versionSeq);
    this.checkpoint(false);
  }

  /** Signs the current head, inside the connection's open transaction, when it is due (or,
   * `always`, when any event came since the last checkpoint — the trail closing). The trail's
   * first checkpoint is written whatever it holds: it anchors events stored before. */
  checkpoint(always: boolean): void {
    if (!this.signer) return;
    const last = this.stmt.lastCheckpoint.get();
    const end = this.end();
    const since = end.events - (last?.events ?? 0);
    if (last) {
      if (since === 0) return;
      if (!always && since < CHECKPOINT_EVENTS && Date.now() - Date.parse(last.at) < CHECKPOINT_MS) return;
    }
    const c = this.signer.sign({ events: end.events, head: end.head, at: new Date().toISOString() });
    this.stmt.checkpoint.run(c.events, c.head, c.at, c.keyId, c.signature, end.versionSeq);
  }
}
