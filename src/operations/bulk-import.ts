// Bulk Data $import kick-off: POST [base]/$import with Prefer: respond-async and a Parameters
// manifest, as HAPI FHIR implements the Bulk Data Import proposal
// (https://hapifhir.io/hapi-fhir/docs/server_jpa_partitioning/bulk_import.html,
// https://github.com/smart-on-fhir/bulk-import/blob/master/import.md):
//   inputFormat  application/fhir+ndjson
//   inputSource  the system the data comes from (recorded)
//   input        repeated, parts: type (code, optional: every line must be of it), url (uri)
//   resume       the id of a failed job: it continues where it stopped (this server's resume token)
// Every input URL must start with a prefix the operator trusts (--import-trusted-urls). The
// client needs create and update on every type (system/*.cu…); each line is authorized again by
// type as it is written (src/bulk/ndjson-import.ts). Status: [base]/$import-status/[job].
import type { Parameters, ParametersParameter } from 'fhir/r4.js';
import { badRequest, FhirError, notFound, operationOutcome } from '../fhir/errors.ts';
import { isId } from '../fhir/reference.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';
import { isTrusted, type ImportInput, type ImportRequest } from '../bulk/import-jobs.ts';
import { FORMATS } from '../bulk/export-request.ts';
import { defineOperation } from './types.ts';

function part(p: ParametersParameter, name: string): ParametersParameter | undefined {
  return p.part?.find((x) => x.name === name);
}

async function kickOff(req: FhirRequest, ctx: Context): Promise<FhirResponse> {
  if (!/respond-async/i.test(req.headers.prefer ?? '')) throw badRequest('$import is asynchronous: send Prefer: respond-async', 'not-supported');
  const bulk = ctx.bulk;
  if (!bulk) throw new FhirError(503, { code: 'transient', diagnostics: 'Bulk Data jobs are not available' });
  const body = req.body as Parameters | undefined;
  if (body?.resourceType !== 'Parameters') throw badRequest('$import takes a Parameters manifest (inputFormat, inputSource, input: type and url)', 'invalid');
  const params = body.parameter ?? [];
  const status = (id: string) => `${req.baseUrl}/$import-status/${id}`;
  const started = (id: string, what: string): FhirResponse => ({
    status: 202,
    headers: { 'content-location': status(id) },
    body: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `${what}; poll ${status(id)}` }]),
  });

  const resume = params.find((p) => p.name === 'resume')?.valueString;
  if (resume !== undefined) {
    const job = isId(resume) ? await bulk.imports.get(resume) : undefined;
    if (!job || (job.request.client?.id ?? undefined) !== req.auth?.clientId) throw notFound(`No import ${resume.slice(0, 64)}`);
    if (job.status !== 'failed') throw badRequest(`Import ${job.id} is ${job.status}: only a failed import can be resumed`, 'business-rule');
    await bulk.imports.resume(job);
    return started(job.id, `Import ${job.id} resumed where it stopped`);
  }

  const format = params.find((p) => p.name === 'inputFormat')?.valueCode ?? params.find((p) => p.name === 'inputFormat')?.valueString;
  if (format !== undefined && !FORMATS.includes(format)) throw badRequest(`inputFormat '${format.slice(0, 64)}' is not supported (NDJSON: ${FORMATS.join(', ')})`, 'not-supported');
  const inputs: ImportInput[] = [];
  for (const p of params.filter((x) => x.name === 'input')) {
    const url = part(p, 'url')?.valueUri ?? part(p, 'url')?.valueUrl ?? part(p, 'url')?.valueString;
    const type = part(p, 'type')?.valueCode ?? part(p, 'type')?.valueString;
    if (!url) throw badRequest('each input needs a url part', 'required');
    if (type !== undefined && !ctx.types.has(type)) throw badRequest(`input type '${type.slice(0, 64)}' is not a resource type`, 'value');
    if (!isTrusted(url, ctx.config.importTrustedUrls)) {
      throw new FhirError(403, { code: 'forbidden', diagnostics: `This server fetches imports only from the URLs its operator trusts (--import-trusted-urls); ${url.slice(0, 200)} is not one` });
    }
    inputs.push({ ...(type ? { type } : {}), url });
  }
  if (!inputs.length) throw badRequest('$import needs at least one input (parts type and url)', 'required');
  const request: ImportRequest = {
    inputs,
    ...(req.auth ? { client: { id: req.auth.clientId, scope: req.auth.scopes.text, purposeOfUse: req.auth.purposeOfUse } } : {}),
    request: `${req.baseUrl}/$import`,
  };
  const job = await bulk.imports.start(request);
  return started(job.id, `Import of ${inputs.length} input${inputs.length > 1 ? 's' : ''} started`);
}

export const bulkImportOperation = defineOperation({
  code: 'import',
  id: 'import',
  title: 'Bulk Data import',
  description: 'Imports NDJSON files from trusted URLs, asynchronously, each resource through the same checks, labels and audit as a REST update (the Bulk Data Import proposal, as HAPI FHIR implements it).',
  levels: ['system'],
  affectsState: true,
  notInTransaction: 'starts an asynchronous job whose batches commit on their own',
  access: ['c', 'u'],
  parameters: [
    { name: 'inputFormat', use: 'in', min: 0, max: '1', type: 'code', documentation: 'application/fhir+ndjson' },
    { name: 'inputSource', use: 'in', min: 0, max: '1', type: 'uri', documentation: 'The system the data comes from' },
    { name: 'storageDetail', use: 'in', min: 0, max: '1', documentation: 'Accepted for HAPI compatibility; inputs are fetched over HTTP(S)', part: [{ name: 'type', use: 'in', min: 0, max: '1', type: 'code' }] },
    {
      name: 'input', use: 'in', min: 0, max: '*', documentation: 'One NDJSON file',
      part: [
        { name: 'type', use: 'in', min: 0, max: '1', type: 'code', documentation: 'The type of every line' },
        { name: 'url', use: 'in', min: 1, max: '1', type: 'uri', documentation: 'Under one of the trusted import URLs' },
      ],
    },
    { name: 'resume', use: 'in', min: 0, max: '1', type: 'string', documentation: 'The id of a failed import of this client: it continues from the last line committed' },
  ],
  handler: kickOff,
});
