// The server's Bulk Data jobs (Context.bulk): exports and imports, and their counts for /metrics;
// and the lifecycle both kinds share (JobRunner): where a job's files are, which jobs run, how
// they stop at shutdown or on cancel, and how the jobs of a kind are found in the store.
// ExportJobs and ImportJobs hold a JobRunner (composition: this module and theirs import each
// other, which is safe only while neither uses the other's classes at module evaluation).
import type { Task } from 'fhir/r4.js';
import { join } from 'node:path';
import type { Context } from '../rest/types.ts';
import { JOB_SYSTEM } from '../operations/reindex.ts';
import { BulkCounters, type BulkOperation } from './counters.ts';
import { ExportJobs } from './export-jobs.ts';
import { ImportJobs } from './import-jobs.ts';

export class BulkJobs {
  readonly counters = new BulkCounters();
  readonly exports: ExportJobs;
  readonly imports: ImportJobs;

  constructor(ctx: Context) {
    this.exports = new ExportJobs(ctx, this.counters);
    this.imports = new ImportJobs(ctx, this.counters);
  }

  /** continues the jobs a previous run of the server left in progress */
  async resume(): Promise<void> {
    await this.exports.resume();
    await this.imports.resumeAll();
  }

  async stop(): Promise<void> {
    await Promise.all([this.exports.stop(), this.imports.stop()]);
  }

  /** resolves when no job is running (tests, the CLI) */
  async idle(): Promise<void> {
    await Promise.all([this.exports.idle(), this.imports.idle()]);
  }
}

/** What a running job's loop asks: whether to stop (its cancel, or the server's shutdown). */
export interface JobControl {
  stopped(): boolean;
}

/** The lifecycle of one kind of job (bulk-export or bulk-import): each runs one loop at a time,
 * in the background, its files in DATA_DIR/bulk/<job id>/. */
export class JobRunner {
  readonly ctx: Context;
  private readonly counters: BulkCounters;
  private readonly op: BulkOperation;
  /** the Task.code of this kind of job */
  private readonly code: string;
  private stopping = false;
  private readonly running = new Map<string, { stop: boolean; done: Promise<void> }>();

  constructor(ctx: Context, counters: BulkCounters, op: BulkOperation, code: string) {
    this.ctx = ctx;
    this.counters = counters;
    this.op = op;
    this.code = code;
  }

  dir(id: string): string {
    return join(this.ctx.config.dataDir, 'bulk', id);
  }

  /** the path of a job's file (names come from the job's own output list) */
  filePath(id: string, name: string): string {
    return join(this.dir(id), name);
  }

  /** Runs a job's loop in the background; counted as started. */
  run(id: string, loop: (control: JobControl) => Promise<void>): void {
    const state = { stop: false, done: Promise.resolve() };
    state.done = loop({ stopped: () => state.stop || this.stopping }).finally(() => this.running.delete(id));
    this.running.set(id, state);
    this.counters.reached(this.op, 'started');
  }

  /** Asks a running job to stop after its current step, and waits until it has. */
  async halt(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    r.stop = true;
    await r.done;
  }

  /** The stored Task of a job by id, when it is live. */
  async task(id: string): Promise<Task | undefined> {
    const v = await this.ctx.repo.store.current('Task', id);
    return v && !v.deleted ? (JSON.parse(v.json!) as Task) : undefined;
  }

  /** Every stored Task of this kind of job, a page of the store at a time. */
  async *tasks(): AsyncIterable<Task> {
    let cursor: { after: (string | number | null)[] } | undefined;
    const code = this.ctx.search.get('Task', 'code');
    for (;;) {
      const page = await this.ctx.repo.store.search(
        { types: ['Task'], conditions: code ? [{ kind: 'token', params: [code.key], not: false, values: [{ system: JOB_SYSTEM, code: this.code }] }] : [], sort: [], count: 500, total: 'none', include: [], revinclude: [] },
        cursor,
      );
      for (const m of page.matches) yield JSON.parse(m.json) as Task;
      if (!page.hasMore || !page.matches.length) return;
      cursor = { after: page.matches[page.matches.length - 1].position };
    }
  }

  /** Stops every job after its current step (server shutdown): they resume at the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** Resolves when no job is running (tests, the CLI). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  get runningCount(): number {
    return this.running.size;
  }
}
