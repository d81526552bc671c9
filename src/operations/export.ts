// Bulk Data $export kick-off (Bulk Data Access IG 2.0.0): GET|POST [base]/$export,
// [base]/Patient/$export and [base]/Group/[id]/$export, with Prefer: respond-async.
// https://hl7.org/fhir/uv/bulkdata/STU2/export.html
// The request is checked here, whole, before a job starts: the client's scopes on every type
// (a type named in _type that it may not read is a 403; without _type, the types it may read),
// each _typeFilter parsed by the server's own search parser and checked as a search would be
// (the types a chain reaches, sensitive parameters refused to clients without the
// migration-data scope), the Group read with the client's token. The job (src/bulk/export-jobs.ts)
// writes the files as this client may see them; status and files: src/http/bulk.ts.
import type { Parameters } from 'fhir/r4.js';
import { allows, authorize, forbidden } from '../auth/authorize.ts';
import { refuseSensitiveSearch } from '../auth/sensitive-search.ts';
import { parseDateRange } from '../fhir/datetime.ts';
import { badRequest, FhirError, operationOutcome } from '../fhir/errors.ts';
import { isId } from '../fhir/reference.ts';
import { authorizeSearch } from '../rest/search.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';
import { compartmentTypes, filterQuery, FORMATS, type ExportLevel, type ExportRequest } from '../bulk/export-request.ts';
import { defineOperation, type OperationParameter } from './types.ts';

/** the canonical of the Bulk Data IG's CapabilityStatement this server instantiates */
export const BULK_DATA_CAPABILITY = 'http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data';

/** Types left out of a system-level export unless named in _type: the audit trail (its own
 * tools read it: `migfhir audit`, AuditEvent searches) and the server's own jobs. */
const NOT_BY_DEFAULT = new Set(['AuditEvent', 'Task']);

function lenient(req: FhirRequest): boolean {
  return /handling\s*=\s*lenient/i.test(req.headers.prefer ?? '');
}

/** A parameter's values: the query's (GET), or the Parameters body's (POST). */
function values(req: FhirRequest, name: string): string[] {
  const body = req.body as Parameters | undefined;
  const fromBody = (body?.resourceType === 'Parameters' ? (body.parameter ?? []) : [])
    .filter((p) => p.name === name)
    .map((p) => p.valueString ?? p.valueInstant ?? p.valueDateTime ?? p.valueCode ?? p.valueReference?.reference)
    .filter((v): v is string => typeof v === 'string');
  return [...(req.query[name] ?? []), ...fromBody];
}

/** _typeFilter values: repeated, and (as STU1 wrote them) comma-separated where a comma is
 * followed by the next `Type?` (a comma inside a query separates OR values). */
function typeFilters(req: FhirRequest): { type: string; query: string }[] {
  return values(req, '_typeFilter')
    .flatMap((v) => v.split(/,(?=[A-Z][A-Za-z]+\?)/))
    .map((f) => {
      const m = /^([A-Z][A-Za-z]+)\?(.*)$/s.exec(f.trim());
      if (!m) throw badRequest(`_typeFilter '${f.slice(0, 100)}' is not Type?search-parameters`, 'value');
      return { type: m[1], query: m[2] };
    });
}

async function kickOff(req: FhirRequest, ctx: Context, level: ExportLevel): Promise<FhirResponse> {
  if (!/respond-async/i.test(req.headers.prefer ?? '')) {
    throw badRequest('$export is asynchronous: send Prefer: respond-async (Bulk Data Access IG)', 'not-supported');
  }
  const bulk = ctx.bulk;
  if (!bulk) throw new FhirError(503, { code: 'transient', diagnostics: 'Bulk Data jobs are not available' });
  const loose = lenient(req);
  const format = values(req, '_outputFormat')[0];
  if (format !== undefined && !FORMATS.includes(format)) throw badRequest(`_outputFormat '${format.slice(0, 64)}' is not supported (this server writes ${FORMATS.join(', ')})`, 'not-supported');
  const sinceText = values(req, '_since')[0];
  let since: string | undefined;
  if (sinceText !== undefined) {
    const range = parseDateRange(sinceText);
    if (!range) throw badRequest('_since must be an instant (e.g. 2026-01-01T00:00:00Z)', 'value');
    since = new Date(range.start).toISOString();
  }
  const patientRefs = values(req, 'patient');
  if (patientRefs.length && level === 'system') throw badRequest('patient is a parameter of Patient/$export and Group/[id]/$export', 'not-supported');
  if (patientRefs.length && req.method !== 'POST') throw badRequest('patient is sent in a POST Parameters body (Bulk Data Access IG)', 'not-supported');
  const patients = patientRefs.map((r) => {
    const id = r.replace(/^Patient\//, '');
    if (!isId(id)) throw badRequest(`patient '${r.slice(0, 64)}' is not a Patient reference`, 'value');
    return id;
  });

  const inCompartment = level === 'system' ? undefined : compartmentTypes(ctx);
  const named = values(req, '_type').flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  let types: string[];
  if (named.length) {
    types = [];
    for (const t of [...new Set(named)]) {
      if (!ctx.types.has(t)) {
        if (loose) continue;
        throw badRequest(`_type: '${t.slice(0, 64)}' is not a resource type`, 'value');
      }
      if (inCompartment && !inCompartment.has(t)) {
        if (loose) continue;
        throw badRequest(`_type: ${t} is not in the Patient compartment, so a ${level === 'patient' ? 'Patient' : 'Group'}-level export has none`, 'not-supported');
      }
      authorize(req.auth, t, 'r', 's');
      types.push(t);
    }
  } else {
    types = (inCompartment ? [...inCompartment] : ctx.types.defs.resourceTypes.filter((t) => !NOT_BY_DEFAULT.has(t)))
      .filter((t) => allows(req.auth, t, 'r') && allows(req.auth, t, 's'))
      .sort((a, b) => (a === 'Patient' ? -1 : b === 'Patient' ? 1 : a.localeCompare(b)));
  }
  if (!types.length) throw forbidden('The access token allows reading none of the types this export would write');

  const filters: Record<string, string[]> = {};
  for (const f of typeFilters(req)) {
    if (!types.includes(f.type)) {
      if (loose) continue;
      throw badRequest(`_typeFilter names ${f.type}, which this export does not write`, 'value');
    }
    const q = filterQuery(ctx, f.type, f.query, req.baseUrl);
    authorizeSearch(req, q, ctx);
    await refuseSensitiveSearch(req, q, ctx.search, ctx.types.defs.resourceTypes, ctx.repo.store);
    (filters[f.type] ??= []).push(f.query);
  }

  let group: string | undefined;
  if (level === 'group') {
    authorize(req.auth, 'Group', 'r');
    const v = await ctx.repo.read('Group', req.id!); // 404, 410
    const g = JSON.parse(v.json!) as { actual?: boolean };
    if (g.actual === false) throw badRequest(`Group/${req.id} is a definition (actual=false): it has no members to export`, 'not-supported');
    group = req.id;
  }
  const query = new URLSearchParams();
  for (const [k, vs] of Object.entries(req.query)) for (const v of vs) query.append(k, v);
  const path = level === 'system' ? '$export' : level === 'patient' ? 'Patient/$export' : `Group/${req.id}/$export`;
  const request: ExportRequest = {
    level,
    types,
    ...(since ? { since } : {}),
    typeFilters: filters,
    ...(patients.length ? { patients } : {}),
    ...(group ? { group } : {}),
    ...(req.auth ? { clientId: req.auth.clientId } : {}),
    sensitive: !req.auth || req.auth.scopes.sensitive,
    request: `${req.baseUrl}/${path}${query.size ? `?${query}` : ''}`,
    outputFormat: format ?? 'application/fhir+ndjson',
  };
  const job = await bulk.exports.start(request);
  const status = `${req.baseUrl}/$export-status/${job.id}`;
  return {
    status: 202,
    headers: { 'content-location': status },
    body: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `Export started; poll ${status}` }]),
  };
}

const IN: OperationParameter[] = [
  { name: '_outputFormat', use: 'in', min: 0, max: '1', type: 'string', documentation: `${FORMATS.join(', ')} (all NDJSON)` },
  { name: '_since', use: 'in', min: 0, max: '1', type: 'instant', documentation: 'Only resources changed at or after this instant' },
  { name: '_type', use: 'in', min: 0, max: '*', type: 'string', documentation: 'Comma-separated resource types; default: every type the client may read (system level: except AuditEvent and Task)' },
  { name: '_typeFilter', use: 'in', min: 0, max: '*', type: 'string', documentation: 'Type?search-parameters: resources of that type must match one of its filters (this server\'s own search)' },
];
const PATIENT: OperationParameter = { name: 'patient', use: 'in', min: 0, max: '*', type: 'Reference', documentation: 'POST only: these patients (Patient/[id]) only' };
const RETURN: OperationParameter = { name: 'return', use: 'out', min: 0, max: '1', type: 'Binary', documentation: 'Asynchronous: 202 with Content-Location, the status URL; the manifest is served there' };
const NOT_IN_TRANSACTION = 'starts an asynchronous job answered at its own status URL';
const SHARED = { get: true, notInTransaction: NOT_IN_TRANSACTION } as const;

export const exportOperation = defineOperation({
  ...SHARED,
  code: 'export',
  id: 'export',
  title: 'Bulk Data export (system)',
  description: 'Exports every resource of the types the client may read (or of _type), as NDJSON files, asynchronously (Bulk Data Access IG 2.0.0).',
  base: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export',
  levels: ['system'],
  parameters: [...IN, RETURN],
  handler: (req, ctx) => kickOff(req, ctx, 'system'),
});

export const patientExportOperation = defineOperation({
  ...SHARED,
  code: 'export',
  id: 'patient-export',
  title: 'Bulk Data export (Patient)',
  description: 'Exports the Patient compartment of every patient (or of the patients named), as NDJSON files, asynchronously (Bulk Data Access IG 2.0.0).',
  base: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export',
  levels: ['type'],
  resourceTypes: ['Patient'],
  parameters: [...IN, PATIENT, RETURN],
  handler: (req, ctx) => kickOff(req, ctx, 'patient'),
});

export const groupExportOperation = defineOperation({
  ...SHARED,
  code: 'export',
  id: 'group-export',
  title: 'Bulk Data export (Group)',
  description: 'Exports the Patient compartments of the members of a Group (Group.member.entity, not inactive), as NDJSON files, asynchronously (Bulk Data Access IG 2.0.0).',
  base: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export',
  levels: ['instance'],
  resourceTypes: ['Group'],
  parameters: [...IN, PATIENT, RETURN],
  handler: (req, ctx) => kickOff(req, ctx, 'group'),
});

