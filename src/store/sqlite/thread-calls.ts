// Calls to a worker thread that keeps a connection of its own to a database file (the audit
// worker, src/audit/worker.ts; the inbound message log's thread, message-log-worker.ts). Each
// call is posted with a number and the thread answers { n, value } or { n, error }, in the order
// posted. The thread is referenced only while calls are in flight or while it closes: a process
// that awaits calls stays alive, one that is done and never closed its store still exits, and
// one that closes waits for the thread to exit. Should the thread exit before answering, each
// unanswered call — and every later one — is run on this thread instead (`here`).
import type { TransferListItem, Worker } from 'node:worker_threads';

/** What the thread answers a call. */
export type ThreadAnswer = { n: number; value?: unknown; error?: undefined } | { n: number; error: string };

interface Pending<C> {
  call: C;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export interface ThreadCallOptions<C> {
  /** runs a call on this thread: the thread is gone */
  here: (call: C) => Promise<unknown>;
  /** what a call the thread answered with an error settles to (by default it rejects) */
  failed?: (call: C, error: string) => Promise<unknown>;
  /** the thread failed (it then exits, and its calls run here) */
  crashed?: (err: Error) => void;
}

export class ThreadCalls<C> {
  private worker: Worker | undefined;
  private readonly options: ThreadCallOptions<C>;
  private readonly pending = new Map<number, Pending<C>>();
  private sent = 0;
  private closing = false;
  private readonly exited: Promise<void>;

  constructor(worker: Worker, options: ThreadCallOptions<C>) {
    this.options = options;
    worker.unref();
    worker.on('message', (a: ThreadAnswer) => {
      const p = this.pending.get(a.n);
      if (!p) return;
      this.pending.delete(a.n);
      // while closing the thread stays referenced until it exits: a call answered after `close`
      // was posted must not let the process end before the thread finished (the audit worker
      // signs the trail's last checkpoint then)
      if (!this.pending.size && !this.closing) worker.unref();
      if (a.error === undefined) p.resolve(a.value);
      else if (this.options.failed) this.options.failed(p.call, a.error).then(p.resolve, p.reject);
      else p.reject(new Error(a.error));
    });
    worker.on('error', (err) => this.options.crashed?.(err));
    this.exited = new Promise((resolve) =>
      worker.once('exit', () => {
        this.worker = undefined;
        // the calls it did not answer run here, in the order made, before close() returns
        const orphans = [...this.pending.values()];
        this.pending.clear();
        const runs = orphans.map((p) => this.options.here(p.call).then(p.resolve, p.reject));
        void Promise.allSettled(runs).then(() => resolve());
      }),
    );
    this.worker = worker;
  }

  /** Posts `message` (the call `call`, numbered `n`) to the thread, or runs the call here once
   * the thread is gone. `transfer`: what the message moves to the thread. */
  call<T>(call: C, message: (n: number) => unknown, transfer: readonly TransferListItem[] = []): Promise<T> {
    const worker = this.worker;
    if (!worker) return this.options.here(call) as Promise<T>;
    const n = ++this.sent;
    return new Promise<T>((resolve, reject) => {
      if (!this.pending.size) worker.ref();
      this.pending.set(n, { call, resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage(message(n), transfer);
    });
  }

  /** Posts `message` (the thread's order to close) after every call made before it, and waits
   * for the thread to exit; calls it left unanswered have run here by then. */
  async close(message: unknown): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    worker.ref();
    worker.postMessage(message);
    await this.exited;
  }
}
