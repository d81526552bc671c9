// `migfhir validate` on large inputs: NDJSON lines are validated by worker threads as well as by
// the main thread, in batches, and handed back in input order, so the output (issues, their
// order, line numbers, counts) is the same as one thread's. Each worker builds its own validator
// (the R4 definitions, the IG, the --ig packages) and compiles each type on first use, as the
// main thread did: ~0.3 s CPU to start and ~1.4 s over its first pass through the R4 examples'
// types. That is the work of ~3,000 resources, so smaller inputs are validated by one thread. Lines are sent as text and parsed by the thread
// that validates them; whole JSON and XML files are validated by the main thread.
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Item, LocatedIssue } from './validate.ts';

/** What a worker needs to build the same validator as the main thread. */
export interface ValidatorSetup {
  igs: string[];
  profiles: string[];
}

/** Lines per message: large enough that messaging costs little, small enough to balance. */
const BATCH = 32;
/** ~3,000 resources of the R4 examples' mix (8.7 kB a line): below it, a second thread's
 * start-up costs more than it saves. */
const PARALLEL_FROM_CHARS = 25_000_000;

/** The threads to validate with: one for small inputs, else one per core not busy with other
 * work (at most four). A thread on a core that other processes keep busy only adds its start-up:
 * at load 4 on 2 cores, 10,000 lines took 8.3 s on two threads against 6.2 s on one. */
export function threadsFor(totalChars: number, cores = availableParallelism(), load = loadavg()[0]): number {
  return totalChars < PARALLEL_FROM_CHARS ? 1 : Math.max(1, Math.min(4, Math.round(cores - load)));
}

interface Pending<T> {
  entries: T[];
  result: LocatedIssue[][] | Promise<LocatedIssue[][]>;
  ready: boolean;
}

/** Batches a worker holds at once: the next one waits in its queue while it validates one, so it
 * never idles until the main thread, busy with a batch of its own, hands it more. */
const DEPTH = 3;

/** A worker thread and the batches it was given, answered in the order sent. */
class ValidationWorker {
  readonly worker: Worker;
  private readonly waiting: { resolve: (r: LocatedIssue[][]) => void; reject: (e: Error) => void }[] = [];
  readonly started: Promise<void>;
  ready = false;

  constructor(setup: ValidatorSetup) {
    this.worker = new Worker(new URL('./validate-worker.ts', import.meta.url), { workerData: setup });
    this.started = new Promise((resolve, reject) => {
      this.worker.once('message', () => resolve());
      this.worker.once('error', reject);
    });
    this.started
      .then(() => {
        this.ready = true;
        this.worker.on('message', (issues: LocatedIssue[][]) => this.waiting.shift()?.resolve(issues));
      })
      .catch(() => undefined);
    this.worker.on('error', (err) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    });
  }

  /** whether it can take another batch now */
  get free(): boolean {
    return this.ready && this.waiting.length < DEPTH;
  }

  run(lines: string[]): Promise<LocatedIssue[][]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(lines);
    });
  }
}

function* batchesOf<T>(entries: Iterable<T>): Generator<T[]> {
  let batch: T[] = [];
  for (const e of entries) {
    batch.push(e);
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Each entry with its issues, in input order: validated here (`here`), or with `threads` > 1
 * by threads - 1 workers too, which take batches of NDJSON lines whenever one is free. */
export async function* validatedInOrder<T extends { item: Item }>(
  entries: Iterable<T>,
  threads: number,
  here: (item: Item) => LocatedIssue[],
  setup: ValidatorSetup,
  /** for tests: count the batches the workers validated; `workersOnly` leaves every batch of
   * lines to the workers, waiting for them as needed (the main thread takes batches while they start) */
  test?: { workerBatches: number; workersOnly?: boolean },
): AsyncGenerator<T & { issues: LocatedIssue[] }> {
  if (threads <= 1) {
    for (const e of entries) yield { ...e, issues: here(e.item) };
    return;
  }
  const workers = Array.from({ length: threads - 1 }, () => new ValidationWorker(setup));
  // a worker takes batches once its validator is built; until then the main thread validates
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  const freeWorker = () => workers.find((w) => w.free);
  for (const w of workers) {
    w.started.then(
      () => wake?.(),
      (err: Error) => {
        failed = err;
        wake?.();
      },
    );
  }
  const pending: Pending<T>[] = [];
  try {
    for (const batch of batchesOf(entries)) {
      const lines = batch.every((e) => e.item.line !== undefined);
      let worker = lines ? freeWorker() : undefined;
      while (lines && !worker && test?.workersOnly) {
        if (failed) throw failed;
        await new Promise<void>((resolve) => (wake = resolve));
        worker = freeWorker();
      }
      if (worker) {
        const p: Pending<T> = { entries: batch, result: [], ready: false };
        p.result = worker.run(batch.map((e) => e.item.line!)).then((r) => {
          p.ready = true;
          if (test) test.workerBatches++;
          wake?.();
          return r;
        });
        pending.push(p);
      } else {
        pending.push({ entries: batch, result: batch.map((e) => here(e.item)), ready: true });
        // let the workers' answers in (they arrive as events) before the next batch is placed
        await turn();
      }
      // what is done at the head goes out; past many batches in flight, wait for it (the main
      // thread keeps validating while a worker's batch at the head is still out)
      while (pending.length && (pending[0].ready || pending.length > threads * 32)) {
        const p = pending.shift()!;
        const results = await p.result;
        for (let i = 0; i < p.entries.length; i++) yield { ...p.entries[i], issues: results[i] };
      }
    }
    for (const p of pending.splice(0)) {
      const results = await p.result;
      for (let i = 0; i < p.entries.length; i++) yield { ...p.entries[i], issues: results[i] };
    }
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
