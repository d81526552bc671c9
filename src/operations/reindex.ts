// $reindex (server-specific, like HAPI's): https://hapifhir.io/hapi-fhir/docs/server_jpa/search.html
// Rebuilds search index rows for all resources, or those of one type, after custom
// SearchParameters are added. Runs in the background in batches (one transaction each), so
// the server keeps serving; progress lives in a Task resource (GET [base]/Task/[id]), which
// also makes the job resumable: an in-progress job continues from its last position when the
// server starts again.
import type { Task } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { badRequest, FhirError } from '../fhir/errors.ts';
import type { Repository } from '../store/repository.ts';
import type { BackgroundJobs, Context, Handler } from '../rest/types.ts';
import { defineOperation } from './types.ts';
import { authorizeAll } from '../auth/authorize.ts';

export const JOB_SYSTEM = 'https://migfhir.org/fhir/CodeSystem/server-job';
const BATCH = 200;
const PROGRESS_EVERY_MS = 2000;

function output(task: Task, name: string): number {
  return task.output?.find((o) => o.type.text === name)?.valueInteger ?? 0;
}

function withProgress(task: Task, status: Task['status'], position: number, processed: number): Task {
  const now = new Date().toISOString();
  return {
    ...task,
    status,
    lastModified: now,
    ...(status === 'completed' ? { executionPeriod: { ...task.executionPeriod, end: now } } : {}),
    output: [
      { type: { text: 'position' }, valueInteger: position },
      { type: { text: 'processed' }, valueInteger: processed },
    ],
  };
}

export class ReindexJobs implements BackgroundJobs {
  private readonly repo: Repository;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();

  constructor(repo: Repository) {
    this.repo = repo;
  }

  async start(types: string[] | undefined): Promise<Task> {
    const now = new Date().toISOString();
    const task: Task = {
      resourceType: 'Task',
      id: randomUUID(),
      status: 'in-progress',
      intent: 'order',
      code: { coding: [{ system: JOB_SYSTEM, code: 'reindex', display: 'Rebuild search indexes' }] },
      authoredOn: now,
      executionPeriod: { start: now },
      input: [{ type: { text: 'types' }, valueString: types?.join(',') ?? '*' }],
      output: [
        { type: { text: 'position' }, valueInteger: 0 },
        { type: { text: 'processed' }, valueInteger: 0 },
      ],
    };
    await this.repo.update(task);
    this.run(task);
    return task;
  }

  /** Continues jobs left in progress by a previous run of the server. */
  async resume(): Promise<number> {
    const { matches } = await this.repo.store.search({
      types: ['Task'],
      conditions: [],
      sort: [],
      count: 1000,
      total: 'none',
      include: [],
      revinclude: [],
    });
    let n = 0;
    for (const m of matches) {
      const task = JSON.parse(m.json) as Task;
      if (task.status === 'in-progress' && task.code?.coding?.some((c) => c.system === JOB_SYSTEM && c.code === 'reindex')) {
        this.run(task);
        n++;
      }
    }
    return n;
  }

  private run(task: Task): void {
    const p = this.loop(task).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  private async loop(initial: Task): Promise<void> {
    const spec = initial.input?.[0]?.valueString ?? '*';
    const types = spec === '*' ? undefined : spec.split(',');
    let position = output(initial, 'position');
    let processed = output(initial, 'processed');
    let saved = Date.now();
    let task = initial;
    try {
      for (;;) {
        if (this.stopped) return; // stays in-progress: resumed at the next start
        const batch = await this.repo.store.scan(types, position, BATCH);
        if (batch.length === 0) break;
        await this.repo.reindex(batch);
        position = batch[batch.length - 1].position;
        processed += batch.length;
        if (Date.now() - saved > PROGRESS_EVERY_MS) {
          task = withProgress(task, 'in-progress', position, processed);
          await this.repo.update(task);
          saved = Date.now();
        }
        await new Promise((r) => setImmediate(r)); // let requests in between batches
      }
      await this.repo.update(withProgress(task, 'completed', position, processed));
    } catch (err) {
      if (this.stopped) return;
      await this.repo.update({ ...withProgress(task, 'failed', position, processed), statusReason: { text: String((err as Error).message).slice(0, 200) } } as Task);
    }
  }

  /** Stops after the current batch; waits for running jobs to pause. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.running]);
  }

  /** Resolves when every running job has finished (tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}

export const reindex: Handler = async (req, ctx: Context) => {
  authorizeAll(req.auth, 'u');
  let types: string[] | undefined = req.resourceType ? [req.resourceType] : undefined;
  const typeParam = req.query._type?.[0];
  if (!req.resourceType && typeParam) {
    types = typeParam.split(',');
    for (const t of types) if (!ctx.types.has(t)) throw badRequest(`_type: '${t.slice(0, 64)}' is not a resource type`, 'value');
    // as at type level (src/rest/route-table.ts invoke): the trail is the audit sinks' alone
    if (ctx.audit && types.includes('AuditEvent')) throw new FhirError(405, { code: 'not-supported', diagnostics: 'The audit trail cannot be changed through the API' });
  }
  const task = await ctx.jobs.start(types);
  return {
    status: 202,
    headers: { 'content-location': `${req.baseUrl}/Task/${task.id}` },
    body: {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'informational', diagnostics: `Reindexing ${types?.join(', ') ?? 'all resources'}; progress: GET ${req.baseUrl}/Task/${task.id}` }],
    },
  };
};

export const reindexOperation = defineOperation({
  code: 'reindex',
  id: 'reindex',
  title: 'Rebuild search index rows',
  description: 'Starts a background job (a Task) that rebuilds the search index of all resources, or those of one type or of _type.',
  levels: ['system', 'type'],
  resourceTypes: '*',
  affectsState: true,
  notInTransaction: 'starts a background job whose batches commit on their own',
  access: ['u'],
  parameters: [{ name: '_type', use: 'in', min: 0, max: '1', type: 'string', documentation: 'At system level: the types to reindex, comma-separated' }],
  handler: reindex,
});
