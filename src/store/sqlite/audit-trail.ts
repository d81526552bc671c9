// Appends AuditEvents to the embedded store directly: the version row, the resource row and the
// event's one audit_index row (src/store/sqlite/audit-index.ts), with no FHIRPath and no
// read-modify-write. Used on the
// server's writer connection (write interactions: the event commits with the write) and by the
// audit worker on its own connection (src/audit/worker.ts). Both run inside a BEGIN IMMEDIATE
// transaction, and the chain's head is read inside it, so however the two connections
// interleave the events form one chain in write order — the order `migfhir audit verify` walks.
import type Database from 'better-sqlite3';
import type { AuditEvent } from 'fhir/r4.js';
import { auditEvent, GENESIS, hashOf, storedJson, type QueuedAudit } from '../../audit/audit.ts';
import { AuditIndexWriter } from './audit-index.ts';

export class SqliteAuditTrail {
  private readonly index: AuditIndexWriter;
  private readonly stmt;

  constructor(db: Database.Database) {
    this.index = new AuditIndexWriter(db);
    this.stmt = {
      head: db.prepare<[], string>(`SELECT content FROM resource_version WHERE resource_type = 'AuditEvent' ORDER BY seq DESC LIMIT 1`).pluck(),
      // OR IGNORE: a batch written again after a worker failure skips the events already stored
      version: db.prepare(`INSERT OR IGNORE INTO resource_version (resource_type, id, version_id, last_updated, method, content) VALUES ('AuditEvent', ?, 1, ?, 'POST', ?)`),
      // rid is the rowid: lastInsertRowid, without RETURNING's extra step
      resource: db.prepare<[string, number | bigint, string]>(`INSERT INTO resource (resource_type, id, seq, last_updated, deleted) VALUES ('AuditEvent', ?, ?, ?, 0)`),
    };
  }

  /** Chains and stores `events`, inside the connection's open transaction. `now` is the store
   * clock for meta.lastUpdated; `recorded` is when the interaction happened. */
  append(events: QueuedAudit[], now: () => string): void {
    const newest = this.stmt.head.get();
    let head = newest ? (hashOf(JSON.parse(newest) as AuditEvent).hash ?? GENESIS) : GENESIS;
    for (const input of events) {
      const event = auditEvent(input, new Date(input.at).toISOString(), input.id);
      const lastUpdated = now();
      const { json, hash } = storedJson(head, event, lastUpdated);
      const info = this.stmt.version.run(input.id, lastUpdated, json);
      if (info.changes === 0) continue;
      const rid = Number(this.stmt.resource.run(input.id, info.lastInsertRowid, lastUpdated).lastInsertRowid);
      this.index.insert(rid, event);
      head = hash;
    }
  }
}
