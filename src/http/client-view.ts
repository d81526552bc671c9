// What an answer's body becomes for the client that asked, at the edge, in one pass: without
// the migration-data scope, sensitive elements and their labels removed (src/auth/sensitive.ts);
// for every client but a job's own, a Bulk Data job Task's request and files removed
// (src/bulk/job-privacy.ts). The body's text is looked at once for what either could concern,
// and parsed at most once; a body neither concerns is sent as it is, unparsed.
import type { Resource } from 'fhir/r4.js';
import { MediaText, serialize, type ResponseBody } from '../fhir/body.ts';
import type { AuthContext } from '../auth/authorize.ts';
import { mayHoldSensitive, redactParsed } from '../auth/sensitive.ts';
import { mayHoldJobTask, withoutRequest } from '../bulk/job-privacy.ts';

/** `jobs`: whether the answer can hold job Tasks at all (answers about Tasks, or at system
 * level: history, batch, search). An ER7 answer is built from what the client may see
 * (src/operations/hl7v2-export.ts) and is not looked at. */
export function clientView(body: ResponseBody, auth: AuthContext | undefined, jobs: boolean): ResponseBody {
  if (!auth || body instanceof MediaText) return body;
  const redact = !auth.scopes.sensitive;
  if (!redact && !jobs) return body;
  const text = serialize(body);
  const sensitive = redact && mayHoldSensitive(text);
  const job = jobs && mayHoldJobTask(text);
  if (!sensitive && !job) return body;
  let out = JSON.parse(text) as Record<string, unknown>;
  if (sensitive) out = redactParsed(out);
  if (job) out = withoutRequest(out, auth.clientId);
  return out as unknown as Resource;
}
