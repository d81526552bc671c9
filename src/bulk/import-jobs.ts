// The server's Bulk Data import jobs ($import, src/operations/bulk-import.ts). Each job is a
// Task in the store (code bulk-import): the inputs and who asked in its input, each input's
// position (lines read and committed), counts and error files in its output. The position is
// the resume token's meaning: a job the server stopped in the middle resumes at its next start,
// and a failed one (an input that could not be fetched) continues from there when the client
// POSTs $import with resume=<job id>; the lines before the position are not read again.
// Inputs are fetched only from URL prefixes the operator trusts (--import-trusted-urls), with
// redirects refused (a trusted URL cannot send the server elsewhere).
import type { Task, TaskOutput } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { AuthContext } from '../auth/authorize.ts';
import { Scopes } from '../auth/scopes.ts';
import type { Context } from '../rest/types.ts';
import { JOB_SYSTEM } from '../operations/reindex.ts';
import type { BulkCounters } from './counters.ts';
import { jobTask } from './job-task.ts';
import { JobRunner, type JobControl } from './jobs.ts';
import { NdjsonFiles, type OutputFile } from './ndjson-files.ts';
import { ImportStopped, importLines } from './ndjson-import.ts';

export const IMPORT_CODE = 'bulk-import';
const PROGRESS_EVERY_MS = 2000;

export interface ImportInput {
  type?: string;
  url: string;
}

export interface ImportRequest {
  inputs: ImportInput[];
  /** who asked: its scopes are checked on every line, it is the agent of every AuditEvent */
  client?: { id: string; scope: string; purposeOfUse: string[] };
  address?: string;
  request: string;
}

export interface InputProgress {
  /** lines read and committed (the resume position) */
  line: number;
  imported: number;
  failed: number;
  done: boolean;
}

export interface ImportJob {
  id: string;
  status: Task['status'];
  request: ImportRequest;
  transactionTime: string;
  finished?: string;
  progress: InputProgress[];
  error: OutputFile[];
  reason?: string;
}

export function importJobOf(task: Task): ImportJob | undefined {
  if (!task.code?.coding?.some((c) => c.system === JOB_SYSTEM && c.code === IMPORT_CODE)) return undefined;
  const request = task.input?.find((i) => i.type.text === 'request')?.valueString;
  if (!request) return undefined;
  const parsed = JSON.parse(request) as ImportRequest;
  const progress = task.output?.find((o) => o.type.text === 'progress')?.valueString;
  return {
    id: task.id!,
    status: task.status,
    request: parsed,
    transactionTime: task.authoredOn!,
    finished: task.executionPeriod?.end,
    progress: progress ? (JSON.parse(progress) as InputProgress[]) : parsed.inputs.map(() => ({ line: 0, imported: 0, failed: 0, done: false })),
    error: (task.output ?? []).filter((o) => o.type.text === 'error-file').map((o) => JSON.parse(o.valueString!) as OutputFile),
    reason: task.statusReason?.text,
  };
}

function taskOf(job: ImportJob): Task {
  const out: TaskOutput[] = [
    { type: { text: 'progress' }, valueString: JSON.stringify(job.progress) },
    ...job.error.map((f) => ({ type: { text: 'error-file' }, valueString: JSON.stringify(f) })),
  ];
  return jobTask(job, { code: IMPORT_CODE, display: 'Bulk Data import' }, out);
}

/** The lines of a trusted URL, streamed. */
export async function* fetchLines(url: string, trusted: readonly string[]): AsyncIterable<string> {
  if (!isTrusted(url, trusted)) throw new Error(`${url} is not under a trusted import URL`);
  const res = await fetch(url, { redirect: 'error', headers: { accept: 'application/fhir+ndjson' } });
  if (!res.ok || !res.body) throw new Error(`fetching ${url} answered HTTP ${res.status}`);
  yield* createInterface({ input: Readable.fromWeb(res.body as ReadableStream), crlfDelay: Infinity });
}

export function isTrusted(url: string, trusted: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (parsed.username || parsed.password) return false;
  return trusted.some((prefix) => parsed.href.startsWith(prefix));
}

export class ImportJobs {
  private readonly ctx: Context;
  private readonly counters: BulkCounters;
  private readonly runner: JobRunner;

  constructor(ctx: Context, counters: BulkCounters) {
    this.ctx = ctx;
    this.counters = counters;
    this.runner = new JobRunner(ctx, counters, 'import', IMPORT_CODE);
  }

  filePath(id: string, name: string): string {
    return this.runner.filePath(id, name);
  }

  async start(request: ImportRequest): Promise<ImportJob> {
    const job: ImportJob = { id: randomUUID(), status: 'in-progress', request, transactionTime: new Date().toISOString(), progress: request.inputs.map(() => ({ line: 0, imported: 0, failed: 0, done: false })), error: [] };
    await this.save(job);
    this.run(job);
    return job;
  }

  async get(id: string): Promise<ImportJob | undefined> {
    const task = await this.runner.task(id);
    return task && importJobOf(task);
  }

  /** A failed job continues where it stopped (the resume token is its id). */
  async resume(job: ImportJob): Promise<ImportJob> {
    const again: ImportJob = { ...job, status: 'in-progress', reason: undefined, finished: undefined };
    await this.save(again);
    this.run(again);
    return again;
  }

  /** Stops a running job after its current batch; what was committed stays. */
  async cancel(job: ImportJob): Promise<void> {
    await this.runner.halt(job.id);
    await rm(this.runner.dir(job.id), { recursive: true, force: true });
    const latest = (await this.get(job.id)) ?? job;
    await this.save({ ...latest, status: 'cancelled', finished: new Date().toISOString(), error: [] });
    this.counters.reached('import', 'cancelled');
  }

  private async save(job: ImportJob): Promise<void> {
    await this.ctx.repo.update(taskOf(job));
  }

  private run(job: ImportJob): void {
    this.runner.run(job.id, (control) => this.loop(job, control));
  }

  private async loop(initial: ImportJob, control: JobControl): Promise<void> {
    let job = initial;
    const dir = this.runner.dir(job.id);
    await mkdir(dir, { recursive: true });
    // error files continue after the ones an earlier run wrote
    const errors = new NdjsonFiles(dir, 'OperationOutcome', this.ctx.config.exportFileLines, job.error.length);
    const client = job.request.client;
    const auth: AuthContext | undefined = client ? { clientId: client.id, scopes: new Scopes(client.scope), purposeOfUse: client.purposeOfUse } : undefined;
    let saved = Date.now();
    try {
      for (let i = 0; i < job.request.inputs.length; i++) {
        const input = job.request.inputs[i];
        const at = job.progress[i];
        if (at.done) continue;
        const result = await importLines(this.ctx, fetchLines(input.url, this.ctx.config.importTrustedUrls), {
          input: input.url,
          type: input.type,
          skip: at.line,
          auth,
          address: job.request.address,
          stopped: control.stopped,
          onError: (e) => errors.write([JSON.stringify(e.outcome)]),
          onProgress: async (p) => {
            job.progress[i] = { line: p.line, imported: at.imported + p.imported, failed: at.failed + p.failed, done: false };
            if (Date.now() - saved < PROGRESS_EVERY_MS) return;
            saved = Date.now();
            await this.save({ ...job, error: [...job.error, ...errors.files] });
          },
        });
        job.progress[i] = { line: result.line, imported: at.imported + result.imported, failed: at.failed + result.failed, done: true };
        this.counters.wrote('import', 1, result.imported);
      }
      job = { ...job, status: 'completed', finished: new Date().toISOString(), error: [...job.error, ...(await errors.close())] };
      await this.save(job);
      this.counters.reached('import', 'completed');
    } catch (err) {
      const files = await errors.close();
      job = { ...job, error: [...job.error, ...files] };
      // stopped (cancel, shutdown): the position is saved; a shutdown resumes at the next start
      if (err instanceof ImportStopped) {
        await this.save(job).catch(() => undefined);
        return;
      }
      const reason = `${(err as Error).message}`.slice(0, 300);
      await this.save({ ...job, status: 'failed', finished: new Date().toISOString(), reason }).catch(() => undefined);
      this.counters.reached('import', 'failed');
    }
  }

  /** Continues the jobs a previous run left in progress. */
  async resumeAll(): Promise<number> {
    let n = 0;
    for await (const task of this.runner.tasks()) {
      const job = importJobOf(task);
      if (job?.status === 'in-progress') {
        this.run(job);
        n++;
      }
    }
    return n;
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  idle(): Promise<void> {
    return this.runner.idle();
  }

  get runningCount(): number {
    return this.runner.runningCount;
  }
}
