// The audit worker thread (started by src/audit/sinks.ts): its own better-sqlite3 connection to
// the server's WAL database, on which it chains and stores the batches of read events the main
// thread shares with it. Each batch is written in transactions of at most CHUNK events, so the server's
// own writes never wait long for the write lock (SQLite has one writer at a time; a few ms).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { QueuedAudit } from './audit.ts';
import { SqliteLedgerTrail } from '../store/sqlite/audit-ledger.ts';
import { signerFromPem } from './checkpoint.ts';
import { decodeEvents } from './event-buffer.ts';

const CHUNK = 256;

const { path, synchronous, key } = workerData as { path: string; synchronous: 'normal' | 'full'; key: string };
const db = new Database(path);
db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 20000');
db.pragma('cache_size = -65536');
// the server's store created audit_ledger and audit_checkpoint before starting this thread
const trail = new SqliteLedgerTrail(db, signerFromPem(key));
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const rollback = db.prepare('ROLLBACK');

let last = 0;
/** meta.lastUpdated of the events this thread writes (epoch ms): strictly increasing */
const now = () => (last = Math.max(Date.now(), last + 1));

function inTransaction(work: () => void): void {
  begin.run();
  try {
    work();
    commit.run();
  } catch (err) {
    if (db.inTransaction) rollback.run();
    throw err;
  }
}

function write(batch: QueuedAudit[]): void {
  for (let i = 0; i < batch.length; i += CHUNK) inTransaction(() => trail.append(batch.slice(i, i + CHUNK), now));
}

parentPort!.on('message', (m: { n: number; buffer: SharedArrayBuffer; size: number; node: number } | { close: true }) => {
  if ('close' in m) {
    // the events since the last checkpoint are signed before the server stops
    try {
      inTransaction(() => trail.checkpoint(true));
    } catch {
      // the main thread's trail signs them instead (WorkerSink.close)
    }
    db.close();
    parentPort!.close();
    return;
  }
  try {
    // a batch comes as the shared buffer the main thread wrote its events into (WorkerSink.writeShared)
    write(decodeEvents(m.buffer, m.size, m.node));
    parentPort!.postMessage({ n: m.n });
  } catch (err) {
    // the main thread writes the batch itself; chunks committed here are skipped there by id
    parentPort!.postMessage({ n: m.n, error: (err as Error).message.slice(0, 200) });
  }
});
