// Times the start-up migration of AuditEvents stored the generic way (a resource_version row, a
// resource row and an audit_index row each, as versions before the audit ledger wrote them) into
// audit_ledger (src/store/sqlite/audit-migrate.ts), and checks the chain still verifies.
//   node scripts/bench/audit-migration.ts [--events 100000]
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS, verifyChain, type QueuedAudit } from '../../src/audit/audit.ts';
import { storedEvent } from '../../src/audit/render.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { numberOption } from '../lib/args.ts';

const EVENTS = numberOption('events', 100_000);
const dir = mkdtempSync(join(tmpdir(), 'migfhir-audit-migration-'));
const path = join(dir, 'migfhir.sqlite');
try {
  // the schema of the resource tables, then the events as the generic trail wrote them
  await new SqliteStore({ path, auditLedger: false }).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE audit_index (rid INTEGER PRIMARY KEY, client TEXT NOT NULL); CREATE INDEX audit_index_client ON audit_index (client)');
  const version = db.prepare("INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, content) VALUES ('AuditEvent', ?, 1, ?, 'POST', ?)");
  const resource = db.prepare("INSERT INTO resource (resource_type, id, seq, last_updated, deleted) VALUES ('AuditEvent', ?, ?, ?, 0)");
  const index = db.prepare('INSERT INTO audit_index (rid, client) VALUES (?, ?)');
  let previous = GENESIS;
  const start = Date.UTC(2026, 0, 1);
  db.transaction(() => {
    for (let i = 0; i < EVENTS; i++) {
      const e: QueuedAudit = {
        interaction: i % 5 ? 'read' : 'search-type', action: 'R', status: i % 50 ? 200 : 404, clientId: `client-${i % 7}`, address: '10.1.2.3',
        ...(i % 5 ? { what: `Patient/p${i % 1000}`, patient: `Patient/p${i % 1000}` } : { query: `patient=p${i % 1000}&_count=20`, patient: `Patient/p${i % 1000}` }),
        id: `ae-${i}`, at: start + i * 10,
      };
      const lastUpdated = new Date(start + i * 10 + 1).toISOString();
      const { json, hash } = storedEvent(previous, e, lastUpdated);
      const seq = version.run(e.id, lastUpdated, json).lastInsertRowid;
      index.run(resource.run(e.id, seq, lastUpdated).lastInsertRowid, e.clientId!);
      previous = hash;
    }
  })();
  db.close();
  const began = performance.now();
  const cpu = process.cpuUsage();
  const store = new SqliteStore({ path });
  const wall = performance.now() - began;
  const used = process.cpuUsage(cpu);
  const verifyStart = performance.now();
  const verifyCpu = process.cpuUsage();
  const report = await verifyChain(store);
  const verifyWall = performance.now() - verifyStart;
  const verifyUsed = process.cpuUsage(verifyCpu);
  await store.close();
  const ms = (used.user + used.system) / 1000;
  console.log(`migrated ${store.auditMigration?.events ?? 0} events in ${(wall / 1000).toFixed(2)} s wall, ${(ms / 1000).toFixed(2)} s CPU (${((ms * 1000) / EVENTS).toFixed(1)} µs an event; 1M events ≈ ${((wall * 1_000_000) / EVENTS / 1000).toFixed(0)} s wall at this rate); load average ${loadavg()[0].toFixed(2)}`);
  const verifyMs = (verifyUsed.user + verifyUsed.system) / 1000;
  console.log(`audit verify: ${report.ok ? `intact, ${report.events} events` : `BROKEN: ${report.broken?.reason}`} in ${(verifyWall / 1000).toFixed(2)} s wall, ${(verifyMs / 1000).toFixed(2)} s CPU (${((verifyMs * 1000) / EVENTS).toFixed(1)} µs an event)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
