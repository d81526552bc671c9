// The WAL checkpointer thread (started by src/store/sqlite/checkpointer.ts): its own connection
// to the store's database, on which it copies committed WAL frames back into the database file
// every INTERVAL ms. PASSIVE checkpoints never wait for the writer or block it; the WAL starts
// over from its beginning at the first write after a checkpoint that copied everything.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { path, interval } = workerData as { path: string; interval: number };
const db = new Database(path);
db.pragma('busy_timeout = 0');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY (another checkpoint is running) or a transient error: the next tick retries,
    // and the writer's own auto-checkpoint (a much larger threshold) stays as a backstop
  }
}, interval);

parentPort!.on('message', (m: { close: true }) => {
  if (!m.close) return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
