// The prepare pool: worker threads that run the write pipeline's store-free steps (preparer.ts)
// ahead of the single writer, so that a bulk write uses a second core: while the writer commits
// one batch, a thread prepares the next. Made for the write pipeline, whichever door feeds it;
// only the Bulk Data import uses it so far (src/bulk/ndjson-import.ts).
// Threads start on first use, or ahead of it (start(): a server whose $import is open, the
// import command), and stop with the server. Each is built from the same definitions
// and settings as the server, and from the stored conformance resources (custom
// SearchParameters, profiles, terminology) at the pool's stamp: the server moves the stamp when
// it applies a committed one to its own caches (src/app.ts), a thread rebuilds at its next task,
// and the writer prepares again what was prepared at an older stamp (PrepareResult.stamp).
// A thread that fails (crashes, runs out of memory) fails its task with an Error and is replaced
// at the next task.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LineRules } from '../../bulk/ndjson-line.ts';
import type { ResourceStore } from '../types.ts';
import { CONFORMANCE_TYPES, type Conformance, type PreparedLine, type PrepareSettings } from './preparer.ts';
import type { PrepareTask } from './worker.ts';

export interface PrepareResult {
  /** the stamp the lines were prepared at */
  stamp: number;
  lines: PreparedLine[];
}

interface Queued {
  texts: string[];
  rules: LineRules;
  resolve: (r: PrepareResult) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  /** the stamp it was last built at; -1 before its first task */
  stamp: number;
  task?: Queued & { stamp: number };
}

/** What a Preparer is built from at a stamp (Preparer.build). */
export interface PrepareSnapshot {
  stamp: number;
  settings: PrepareSettings;
  conformance: Conformance[];
}

/** --prepare-threads: -1 = the cores less one, at least 1 */
export function prepareThreads(configured: number): number {
  return configured >= 0 ? configured : Math.max(1, availableParallelism() - 1);
}

export class PreparePool {
  /** threads; 0: none, the writer prepares (callers check) */
  readonly size: number;
  private readonly store: ResourceStore;
  private readonly settings: PrepareSettings;
  private stampNow = 0;
  private conformance?: { stamp: number; resources: Promise<Conformance[]> };
  private readonly threads: Thread[] = [];
  private readonly queue: Queued[] = [];
  private closed = false;

  constructor(store: ResourceStore, settings: PrepareSettings, size: number) {
    this.store = store;
    this.settings = settings;
    this.size = size;
  }

  /** The stamp of the stored conformance resources the writer's caches hold. */
  get stamp(): number {
    return this.stampNow;
  }

  /** Called when the server applied committed conformance resources to its caches. */
  conformanceChanged(): void {
    this.stampNow++;
  }

  /** The OS-visible threads (tests replace a failed one; benchmarks read their CPU). */
  get workers(): readonly Worker[] {
    return this.threads.map((t) => t.worker);
  }

  /** The settings and stored conformance resources at the current stamp, for a thread outside
   * the pool that prepares as its threads do (the MLLP listener's mapping thread:
   * src/transport/hl7v2-mapper.ts). */
  async snapshot(): Promise<PrepareSnapshot> {
    const stamp = this.stampNow;
    return { stamp, settings: this.settings, conformance: await this.conformanceAt(stamp) };
  }

  /** Starts every thread and has it build its definitions now (an empty task), so that the
   * first import does not wait for them: each thread compiles the definitions (seconds of CPU)
   * before its first line. A thread that fails to start is replaced at the next task. */
  start(): void {
    for (let i = this.threads.length; i < this.size; i++) this.prepare([], { audit: false }).catch(() => undefined);
  }

  /** Prepares texts in order, on the next free thread. */
  prepare(texts: string[], rules: LineRules): Promise<PrepareResult> {
    if (this.closed) return Promise.reject(new Error('the prepare pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ texts, rules, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      let thread = this.threads.find((t) => !t.task);
      if (!thread && this.threads.length < this.size) thread = this.spawn();
      if (!thread) return;
      void this.send(thread, this.queue.shift()!);
    }
  }

  private async send(thread: Thread, queued: Queued): Promise<void> {
    const stamp = this.stampNow;
    thread.task = { ...queued, stamp };
    // held while it works: an idle thread keeps no process alive (the CLI exits when done)
    thread.worker.ref();
    try {
      const message: PrepareTask = { stamp, texts: queued.texts, rules: queued.rules };
      if (thread.stamp !== stamp) message.conformance = await this.conformanceAt(stamp);
      thread.stamp = stamp;
      thread.worker.postMessage(message);
    } catch (err) {
      thread.task = undefined;
      thread.worker.unref();
      queued.reject(err as Error);
      this.dispatch();
    }
  }

  /** The stored conformance resources, read once per stamp. */
  private conformanceAt(stamp: number): Promise<Conformance[]> {
    if (this.conformance?.stamp !== stamp) this.conformance = { stamp, resources: this.readConformance() };
    return this.conformance.resources;
  }

  private async readConformance(): Promise<Conformance[]> {
    const out: Conformance[] = [];
    let position = 0;
    for (;;) {
      const page = await this.store.scan(CONFORMANCE_TYPES, position, 500);
      if (!page.length) return out;
      for (const r of page) out.push({ resourceType: r.resourceType, id: r.id, json: r.json });
      position = page[page.length - 1].position;
    }
  }

  private spawn(): Thread {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { settings: this.settings }, name: 'migfhir-prepare' });
    worker.unref();
    const thread: Thread = { worker, stamp: -1 };
    this.threads.push(thread);
    worker.on('message', (lines: PreparedLine[]) => {
      const task = thread.task;
      thread.task = undefined;
      worker.unref();
      task?.resolve({ stamp: task.stamp, lines });
      this.dispatch();
    });
    const fail = (why: string) => {
      const i = this.threads.indexOf(thread);
      if (i < 0) return;
      this.threads.splice(i, 1);
      thread.task?.reject(new Error(`a prepare thread stopped (${why}); the lines it held were not written`));
      thread.task = undefined;
      void worker.terminate();
      if (!this.closed) this.dispatch();
    };
    // the error's message can hold a resource's content: it is not passed on
    worker.on('error', () => fail('it failed'));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    return thread;
  }

  /** Stops the threads; queued and running tasks fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error('the prepare pool is closed'));
    const threads = this.threads.splice(0);
    for (const t of threads) t.task?.reject(new Error('the prepare pool is closed'));
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}
