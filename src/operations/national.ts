// National FHIR profiles in and out (server-specific operations; FHIR has no standard one:
// $import is Bulk Data's asynchronous NDJSON load and $process-message takes messages of the
// server's own profile). Named after $import-summary and $hl7v2-export, which they sit beside:
//   POST [base]/$import-national?adapter=de    a national Bundle (any type; CEZIH: a PMIR
//        message) or one resource → mapped to migfhir profiles, applied with conditional
//        updates keyed on identifiers and merge semantics (src/mapping/apply.ts), with a
//        Provenance. Re-sending the same content changes nothing (200, issue 'duplicate').
//   GET  [base]/Patient/[id]/$export-national?adapter=de   the patient (and what the adapter maps
//        with it, e.g. the German Coverage) in the national profile, as a Bundle.
import type { Bundle, OperationOutcome, Parameters, Patient, Resource } from 'fhir/r4.js';
import { authorize } from '../auth/authorize.ts';
import { viewFor } from '../auth/sensitive.ts';
import { badRequest, FhirError, notFound, operationOutcome, type IssueInput } from '../fhir/errors.ts';
import { applyAdapterBundle } from '../mapping/apply.ts';
import { resourceOf } from '../fhir/body.ts';
import type { NationalAdapter } from '../mapping/national/bundle.ts';
import { NATIONAL_ADAPTERS } from '../mapping/registry.ts';
import { defineOperation, parametersOf } from './types.ts';
import type { FhirRequest, Handler } from '../rest/types.ts';
import { overClientView } from '../auth/sensitive-search.ts';

const byId = new Map<string, NationalAdapter>(NATIONAL_ADAPTERS.map((a) => [a.id, a]));

function adapterOf(req: FhirRequest, fromBody?: string): NationalAdapter {
  const id = req.query.adapter?.[0] ?? fromBody;
  if (!id) throw badRequest(`The adapter parameter is required (one of ${[...byId.keys()].join(', ')})`, 'required');
  const adapter = byId.get(id);
  if (!adapter) throw badRequest(`Unknown national adapter '${id.slice(0, 32)}' (one of ${[...byId.keys()].join(', ')})`, 'not-supported');
  return adapter;
}

/** The national content: the body itself, or a Parameters' `resource` (with `adapter`, `sender`). */
function inputOf(body: unknown): { resource: Resource; adapter?: string; sender?: string } {
  const b = body as Resource | undefined;
  if (!b || typeof b !== 'object' || typeof b.resourceType !== 'string') throw badRequest('$import-national takes a FHIR resource or Bundle as JSON', 'invalid');
  if (b.resourceType !== 'Parameters') return { resource: b };
  const p = (b as Parameters).parameter ?? [];
  const resource = p.find((x) => x.name === 'resource')?.resource;
  if (!resource) throw badRequest('Parameters: the national content is the parameter "resource"', 'required', ['Parameters.parameter']);
  return { resource, adapter: p.find((x) => x.name === 'adapter')?.valueCode ?? p.find((x) => x.name === 'adapter')?.valueString, sender: p.find((x) => x.name === 'sender')?.valueString };
}

/** $import-national, with every import (applied or refused) in the inbound message log
 * (src/inbound/log.ts). It runs its own transaction, which its AuditEvents join (auditsItself),
 * so that the log is written once the import has committed or failed: never "applied" for an
 * import whose commit then failed. */
const importNationalLogged: Handler = async (req, ctx) => {
  const received = new Date().toISOString();
  const named = (req.body as Parameters | undefined)?.resourceType === 'Parameters' ? (req.body as Parameters).parameter : undefined;
  const input = {
    body: req.body,
    adapter: req.query.adapter?.[0] ?? named?.find((x) => x.name === 'adapter')?.valueCode ?? named?.find((x) => x.name === 'adapter')?.valueString,
    sender: req.query.sender?.[0] ?? named?.find((x) => x.name === 'sender')?.valueString,
    received,
    declaredBytes: Number(req.headers['content-length'] ?? 0) || undefined,
  };
  try {
    const response = await ctx.repo.transaction(async () => {
      const r = await importNational(req, ctx);
      await req.auditEvent?.(r, { inTransaction: true });
      return r;
    });
    await ctx.inbound?.recordNational(input, { response });
    return response;
  } catch (error) {
    await ctx.inbound?.recordNational(input, { error });
    throw error;
  }
};

export const importNational: Handler = async (req, ctx) => {
  const input = inputOf(req.body);
  const adapter = adapterOf(req, input.adapter);
  const mapped = adapter.map({ body: input.resource, received: new Date().toISOString(), sender: req.query.sender?.[0] ?? input.sender });
  const applied = await applyAdapterBundle(req, ctx, mapped.bundle, mapped.source);
  if (applied.duplicateOf) {
    const outcome: OperationOutcome = operationOutcome([{ severity: 'information', code: 'duplicate', diagnostics: `This content was imported before (${applied.duplicateOf}); nothing was written again` }]);
    return { status: 200, body: outcome };
  }
  const issues: IssueInput[] = mapped.warnings.map((w) => ({ severity: 'warning', code: 'informational', diagnostics: w.message, expression: [w.location] }));
  if (!issues.length) return applied.response;
  const body = resourceOf<Bundle>(applied.response.body!);
  const first = body.entry?.[0];
  if (first?.response) first.response.outcome = operationOutcome(issues);
  return { ...applied.response, body };
};

export const exportNational: Handler = async (req, ctx) => {
  const adapter = adapterOf(req);
  authorize(req.auth, 'Patient', 'r');
  // the national profile is mapped from what the client may see, not from the stored resources
  const view = viewFor(req.auth);
  const stored = await ctx.repo.read('Patient', req.id!);
  if (!stored.json) throw notFound(`Patient/${req.id} is deleted`);
  const patient = view(JSON.parse(stored.json) as Patient);
  const resources: Resource[] = [patient];
  for (const [type, mapper] of Object.entries(adapter.spec.resources ?? {})) {
    authorize(req.auth, type, 's');
    const { query } = ctx.searchParser.parse({ types: [type], query: { [mapper.patientParam]: [`Patient/${patient.id}`] }, baseUrl: req.baseUrl, strict: true, count: { default: 100, max: 100 } });
    const found = await ctx.repo.search(overClientView(req, query));
    for (const m of found.matches) resources.push(view(JSON.parse(m.json) as Resource));
  }
  try {
    return { status: 200, body: adapter.fromFhir!(resources, { now: new Date().toISOString(), baseUrl: req.baseUrl }) };
  } catch (err) {
    if (err instanceof FhirError) throw err;
    throw new FhirError(500, { code: 'exception', diagnostics: `The ${adapter.id} adapter could not map Patient/${patient.id}` });
  }
};

export const importNationalOperation = defineOperation({
  code: 'import-national',
  id: 'import-national',
  title: 'Import content in a national profile',
  description: 'Maps a national Bundle or resource to migfhir profiles and applies it with conditional updates keyed on identifiers, with a Provenance; re-sending it changes nothing.',
  levels: ['system'],
  affectsState: true,
  writes: true,
  auditAs: 'transaction',
  // its own transaction, which its AuditEvents join: the inbound log is written after the commit
  auditsItself: true,
  notInTransaction: 'imports a whole national Bundle as its own transaction',
  bundleBody: true,
  resourceBody: true,
  parameters: [
    { name: 'adapter', use: 'in', min: 1, max: '1', type: 'code', documentation: `The national adapter: ${NATIONAL_ADAPTERS.map((a) => a.id).join(', ')}` },
    ...parametersOf('in', 'resource:Resource sender:string', { resource: 'The national content (the body may also be the content itself)' }),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
  handler: importNationalLogged,
});

export const exportNationalOperation = defineOperation({
  code: 'export-national',
  id: 'export-national',
  title: 'Export a patient in a national profile',
  description: 'The patient (and what the adapter maps with it) in the national profile, mapped from what the client may see.',
  levels: ['instance'],
  resourceTypes: ['Patient'],
  get: true,
  post: false,
  access: ['r'],
  parameters: [
    { name: 'adapter', use: 'in', min: 1, max: '1', type: 'code', documentation: `The national adapter: ${NATIONAL_ADAPTERS.filter((a) => a.fromFhir).map((a) => a.id).join(', ')}` },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
  handler: exportNational,
});
