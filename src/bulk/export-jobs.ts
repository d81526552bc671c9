// The server's Bulk Data export jobs. Each job is a Task in the store (code bulk-export of the
// server-job system, as $reindex's jobs are): the checked request in its input, the files in
// its output, so a job is known after a restart. Its files are in DATA_DIR/bulk/<task id>/.
// A job still in progress when the server stopped starts again from the beginning at the next
// start (same id, same transactionTime: its files only ever hold more recent data, which the
// IG allows); finished ones stay downloadable until they expire (--export-expiry-minutes),
// when their files are deleted and the Task is marked so.
import type { Task, TaskOutput } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { Context } from '../rest/types.ts';
import { JOB_SYSTEM } from '../operations/reindex.ts';
import type { ExportRequest } from './export-request.ts';
import { ExportStopped, writeExport, type ExportProgress } from './export-writer.ts';
import type { OutputFile } from './ndjson-files.ts';
import type { BulkCounters } from './counters.ts';
import { jobTask } from './job-task.ts';
import { JobRunner, type JobControl } from './jobs.ts';

export const EXPORT_CODE = 'bulk-export';
const PROGRESS_EVERY_MS = 2000;
const SWEEP_EVERY_MS = 60_000;

export interface ExportJob {
  id: string;
  status: Task['status'];
  /** 'expired' once its files were deleted */
  businessStatus?: string;
  request: ExportRequest;
  transactionTime: string;
  finished?: string;
  progress?: string;
  output: OutputFile[];
  error: OutputFile[];
  reason?: string;
}

function outputs(task: Task, name: string): OutputFile[] {
  return (task.output ?? []).filter((o) => o.type.text === name).map((o) => JSON.parse(o.valueString!) as OutputFile);
}

export function jobOf(task: Task): ExportJob | undefined {
  if (!task.code?.coding?.some((c) => c.system === JOB_SYSTEM && c.code === EXPORT_CODE)) return undefined;
  const request = task.input?.find((i) => i.type.text === 'request')?.valueString;
  if (!request) return undefined;
  return {
    id: task.id!,
    status: task.status,
    businessStatus: task.businessStatus?.text,
    request: JSON.parse(request) as ExportRequest,
    transactionTime: task.authoredOn!,
    finished: task.executionPeriod?.end,
    progress: task.output?.find((o) => o.type.text === 'progress')?.valueString,
    output: outputs(task, 'file'),
    error: outputs(task, 'error-file'),
    reason: task.statusReason?.text,
  };
}

function taskOf(job: ExportJob): Task {
  const out: TaskOutput[] = [
    ...(job.progress ? [{ type: { text: 'progress' }, valueString: job.progress }] : []),
    ...job.output.map((f) => ({ type: { text: 'file' }, valueString: JSON.stringify(f) })),
    ...job.error.map((f) => ({ type: { text: 'error-file' }, valueString: JSON.stringify(f) })),
  ];
  return jobTask(job, { code: EXPORT_CODE, display: 'Bulk Data export' }, out);
}

export class ExportJobs {
  private readonly ctx: Context;
  readonly counters: BulkCounters;
  private readonly runner: JobRunner;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(ctx: Context, counters: BulkCounters) {
    this.ctx = ctx;
    this.counters = counters;
    this.runner = new JobRunner(ctx, counters, 'export', EXPORT_CODE);
  }

  /** the path of a job's file (names come from the job's own output list) */
  filePath(id: string, name: string): string {
    return this.runner.filePath(id, name);
  }

  expiresAt(job: ExportJob): number | undefined {
    return job.finished ? Date.parse(job.finished) + this.ctx.config.exportExpiryMinutes * 60_000 : undefined;
  }

  async start(request: ExportRequest): Promise<ExportJob> {
    const job: ExportJob = { id: randomUUID(), status: 'in-progress', request, transactionTime: new Date().toISOString(), output: [], error: [], progress: '0 resources written' };
    await this.save(job);
    this.run(job);
    return job;
  }

  /** A bulk-export job by id; undefined when the Task is not one. */
  async get(id: string): Promise<ExportJob | undefined> {
    const task = await this.runner.task(id);
    const job = task && jobOf(task);
    if (job && job.status === 'completed' && (this.expiresAt(job) ?? Infinity) <= Date.now()) return this.expire(job);
    return job;
  }

  /** Stops a job (after its current page) and deletes its files; the Task stays, cancelled. */
  async cancel(job: ExportJob): Promise<void> {
    await this.runner.halt(job.id);
    await rm(this.runner.dir(job.id), { recursive: true, force: true });
    const latest = (await this.get(job.id)) ?? job;
    await this.save({ ...latest, status: 'cancelled', finished: latest.finished ?? new Date().toISOString(), output: [], error: [] });
    this.counters.reached('export', 'cancelled');
  }

  private async expire(job: ExportJob): Promise<ExportJob> {
    await rm(this.runner.dir(job.id), { recursive: true, force: true });
    const expired: ExportJob = { ...job, status: 'cancelled', businessStatus: 'expired', output: [], error: [] };
    await this.save(expired);
    this.counters.reached('export', 'expired');
    return expired;
  }

  private async save(job: ExportJob): Promise<void> {
    await this.ctx.repo.update(taskOf(job));
  }

  private run(job: ExportJob): void {
    this.runner.run(job.id, (control) => this.loop(job, control));
  }

  private async loop(initial: ExportJob, control: JobControl): Promise<void> {
    const dir = this.runner.dir(initial.id);
    let job = initial;
    let saved = Date.now();
    let last: ExportProgress | undefined;
    try {
      // a job started again after a restart begins anew
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const result = await writeExport(this.ctx, job.request, {
        dir,
        maxLines: this.ctx.config.exportFileLines,
        baseUrl: this.ctx.config.baseUrl ?? job.request.request.replace(/\/(Patient\/|Group\/[^/]+\/)?\$export.*$/, ''),
        stopped: control.stopped,
        onProgress: (p) => {
          last = p;
          if (Date.now() - saved < PROGRESS_EVERY_MS) return;
          saved = Date.now();
          job = { ...job, progress: progressText(p) };
          void this.save(job).catch(() => undefined);
        },
      });
      const files = result.output.length + result.error.length;
      this.counters.wrote('export', files, result.written);
      job = { ...job, status: 'completed', finished: new Date().toISOString(), progress: `${result.written} resources written`, output: result.output, error: result.error };
      await this.save(job);
      this.counters.reached('export', 'completed');
    } catch (err) {
      // stopped: cancelled (cancel() records it) or the server stops (resumed at the next start)
      if (err instanceof ExportStopped) return;
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      const reason = `The export failed after ${last?.written ?? 0} resources: ${(err as Error).message}`.slice(0, 300);
      await this.save({ ...job, status: 'failed', finished: new Date().toISOString(), output: [], error: [], reason }).catch(() => undefined);
      this.counters.reached('export', 'failed');
    }
  }

  /** Starts again the jobs a previous run left in progress; schedules the expiry sweep. */
  async resume(): Promise<number> {
    let n = 0;
    for (const job of await this.all()) {
      if (job.status === 'in-progress') {
        this.run(job);
        n++;
      }
    }
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_EVERY_MS);
    this.sweeper.unref();
    return n;
  }

  /** Deletes the files of expired jobs. */
  async sweep(): Promise<void> {
    for (const job of await this.all()) {
      if (job.status === 'completed' && (this.expiresAt(job) ?? Infinity) <= Date.now()) await this.expire(job);
    }
  }

  private async all(): Promise<ExportJob[]> {
    const jobs: ExportJob[] = [];
    for await (const task of this.runner.tasks()) {
      const job = jobOf(task);
      if (job) jobs.push(job);
    }
    return jobs;
  }

  /** Stops every job after its current page (server shutdown): they resume at the next start. */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.runner.stop();
  }

  /** Resolves when no job is running (tests, the CLI). */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  get runningCount(): number {
    return this.runner.runningCount;
  }
}

export function progressText(p: ExportProgress): string {
  return `${p.written} resources written; type ${p.typeIndex + 1} of ${p.types}`;
}
