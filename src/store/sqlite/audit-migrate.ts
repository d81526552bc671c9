// Start-up migration of the AuditEvents written by older versions (a resource_version row and a
// resource row each, indexed in audit_index or the generic sp_* tables) into audit_ledger. In
// chain order (the order `verify` walked them: resource rid), a batch at a time, each batch in one
// transaction that inserts the ledger rows and deletes the old rows: a crash leaves every event
// either moved or not, and the next start goes on from the first one left. Each event keeps its
// stored hash and link; one whose stored JSON the ledger columns do not render exactly keeps that
// JSON (`raw`), so what readers get, and what `verify` hashes, is unchanged.
import type Database from 'better-sqlite3';
import type { AuditEvent } from 'fhir/r4.js';
import { LEDGER_COLUMNS, linkOf, renderRow, rowOf, type LedgerRow } from './audit-ledger.ts';
import { fieldsOfEvent } from '../../audit/render.ts';
import { retentionBase } from './audit-retention.ts';
import { INDEX_TABLES } from './schema.ts';

const BATCH = 2000;

/** Moves the generic AuditEvents into the ledger; returns how many. */
export function migrateAuditEvents(db: Database.Database): number {
  const hasTable = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  const any = db.prepare("SELECT 1 FROM resource_version WHERE resource_type = 'AuditEvent' LIMIT 1");
  // the tables of the generic trail, once every event is moved (a crash before this: next start)
  const dropOld = () => db.exec('DROP TABLE IF EXISTS audit_index; DROP TABLE IF EXISTS audit_head');
  if (!any.get()) {
    dropOld();
    return 0;
  }
  const page = db.prepare<[], { rid: number; content: string | null; deleted: number }>(
    `SELECT r.rid, v.content, r.deleted FROM resource r JOIN resource_version v ON v.seq = r.seq
     WHERE r.resource_type = 'AuditEvent' ORDER BY r.rid LIMIT ${BATCH}`,
  );
  const head = db.prepare<[], number>('SELECT seq FROM audit_ledger ORDER BY seq DESC LIMIT 1').pluck();
  const insert = db.prepare(`INSERT INTO audit_ledger (${LEDGER_COLUMNS.join(', ')}) VALUES (${LEDGER_COLUMNS.map(() => '?').join(', ')})`);
  const removals = [...INDEX_TABLES, 'sp_sensitive', ...(hasTable('audit_index') ? ['audit_index'] : [])].map((t) => db.prepare(`DELETE FROM ${t} WHERE rid = ?`));
  const removeResource = db.prepare('DELETE FROM resource WHERE rid = ?');
  const removeVersions = db.prepare("DELETE FROM resource_version WHERE resource_type = 'AuditEvent' AND id = (SELECT id FROM resource WHERE rid = ?)");
  const orphans = db.prepare("DELETE FROM resource_version WHERE resource_type = 'AuditEvent'");
  let moved = 0;
  const batch = db.transaction(() => {
    const rows = page.all();
    let seq = head.get() ?? retentionBase(db)?.events ?? 0;
    for (const r of rows) {
      // a deleted AuditEvent (possible only with auditing off, before #19) is not in the chain
      if (r.content !== null && !r.deleted) {
        const event = JSON.parse(r.content) as AuditEvent;
        const { previous, hash } = linkOf(event);
        const fields = fieldsOfEvent(event);
        const values = rowOf(++seq, fields, Date.parse(event.meta?.lastUpdated ?? '') || 0, previous || '', hash || '');
        const row = Object.fromEntries(LEDGER_COLUMNS.map((c, i) => [c, values[i]])) as unknown as LedgerRow;
        const exact = /^[0-9a-f]{64}$/.test(previous) && /^[0-9a-f]{64}$/.test(hash) && renderRow(row) === r.content;
        if (!exact) values[values.length - 1] = r.content;
        insert.run(values);
        moved++;
      }
      removeVersions.run(r.rid);
      for (const s of removals) s.run(r.rid);
      removeResource.run(r.rid);
    }
    // versions whose resource row is gone already (none in a store this server wrote)
    if (!rows.length) orphans.run();
    return rows.length;
  });
  while (batch() > 0);
  dropOld();
  return moved;
}
