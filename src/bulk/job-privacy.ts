// A Bulk Data job is a Task (src/bulk/export-jobs.ts, import-jobs.ts) whose input holds the
// request as the kick-off checked it: the `_typeFilter` queries, the patients named, the input
// URLs, the client's scopes. Only the client that started the job may poll it (the status
// URL); read over REST by another client — any client with Task read — the request would tell
// which cohort was pulled, and by whom. So at the edge, for every client but the job's own,
// job Tasks (also in searches, histories, includes and Bundle responses) lose their input and
// output: status, times and the code stay. Applied at the edge with the redaction of sensitive
// elements, in one pass over the body (src/http/client-view.ts).
import { JOB_SYSTEM } from '../operations/reindex.ts';
import { EXPORT_CODE } from './export-jobs.ts';
import { IMPORT_CODE } from './import-jobs.ts';

type Json = Record<string, unknown>;

function jobOwner(task: Json): string | null | undefined {
  const codes = (task.code as { coding?: { system?: string; code?: string }[] } | undefined)?.coding ?? [];
  if (!codes.some((c) => c.system === JOB_SYSTEM && (c.code === EXPORT_CODE || c.code === IMPORT_CODE))) return undefined;
  const request = (task.input as { type?: { text?: string }; valueString?: string }[] | undefined)?.find((i) => i.type?.text === 'request')?.valueString;
  try {
    const parsed = request ? (JSON.parse(request) as { clientId?: string; client?: { id?: string } }) : {};
    return parsed.clientId ?? parsed.client?.id ?? null;
  } catch {
    return null;
  }
}

/** Whether a body's text could hold a job Task (its code's system): text without it is sent
 * as it is, unparsed. */
export function mayHoldJobTask(text: string): boolean {
  return text.includes(JOB_SYSTEM);
}

/** A parsed body without other clients' job requests (a copy where anything goes). */
export function withoutRequest(resource: Json, clientId: string): Json {
  if (resource.resourceType === 'Bundle' && Array.isArray(resource.entry)) {
    return { ...resource, entry: (resource.entry as Json[]).map((e) => (e.resource ? { ...e, resource: withoutRequest(e.resource as Json, clientId) } : e)) };
  }
  if (resource.resourceType !== 'Task') return resource;
  const owner = jobOwner(resource);
  if (owner === undefined || owner === clientId) return resource;
  const { input: _input, output: _output, ...rest } = resource;
  void [_input, _output];
  return rest;
}
