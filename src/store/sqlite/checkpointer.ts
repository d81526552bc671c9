// WAL checkpoints off the event loop. SQLite's auto-checkpoint runs inside the COMMIT that
// crosses its threshold, on the connection that commits: on the server's writer it stalled the
// event loop for tens of milliseconds every few thousand creates (create p99 47–62 ms against
// 5–6 ms without, scripts/bench/indexing.ts). A worker thread checkpoints instead, every 200 ms;
// the writer keeps an auto-checkpoint threshold 5× higher than before (400 MB) as a backstop should the thread
// fall behind or fail.
import { Worker } from 'node:worker_threads';

/** pages of WAL after which the writer checkpoints itself (the worker normally keeps it far lower) */
export const WRITER_AUTOCHECKPOINT = 100_000;
const INTERVAL_MS = 200;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(path: string) {
    this.worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), { workerData: { path, interval: INTERVAL_MS } });
    // never what keeps a process alive: an unclosed store still lets the process exit
    this.worker.unref();
    // a failed checkpointer leaves the writer's backstop in charge; the store keeps working
    this.worker.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  async close(): Promise<void> {
    this.worker.ref(); // awaited now: keep the process alive until the thread has closed
    this.worker.postMessage({ close: true });
    await this.exited;
  }
}
