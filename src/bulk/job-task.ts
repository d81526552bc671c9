// The Task a Bulk Data job is stored as (export-jobs.ts, import-jobs.ts; $reindex's jobs use the
// same server-job code system): the checked request as its input, progress and files as its
// outputs, so that a job survives a restart of the server.
import type { Task, TaskOutput } from 'fhir/r4.js';
import { JOB_SYSTEM } from '../operations/reindex.ts';

export interface JobState {
  id: string;
  status: Task['status'];
  transactionTime: string;
  finished?: string;
  reason?: string;
  businessStatus?: string;
  request: unknown;
}

export function jobTask(job: JobState, code: { code: string; display: string }, output: TaskOutput[]): Task {
  return {
    resourceType: 'Task',
    id: job.id,
    status: job.status,
    intent: 'order',
    ...(job.businessStatus ? { businessStatus: { text: job.businessStatus } } : {}),
    ...(job.reason ? { statusReason: { text: job.reason } } : {}),
    code: { coding: [{ system: JOB_SYSTEM, ...code }] },
    authoredOn: job.transactionTime,
    lastModified: new Date().toISOString(),
    executionPeriod: { start: job.transactionTime, ...(job.finished ? { end: job.finished } : {}) },
    input: [{ type: { text: 'request' }, valueString: JSON.stringify(job.request) }],
    ...(output.length ? { output } : {}),
  };
}
