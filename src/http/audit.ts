// Audit of every FHIR interaction over HTTP: successes from the route wrapper (writes in the
// write's own transaction), failures — including refused authorization — from Fastify's
// onError hook. Each event names the patient whose data it touches, so that `AuditEvent?patient=`
// finds every disclosure of a patient's data: the patient of the request (Patient/id, a
// patient or subject parameter), and every patient the answer or the request body carries
// (search and batch entries, a resource's subject, a transaction's written entries). A request
// touching several patients yields one event per patient (IHE BALP's pattern: the trail's
// patient index has one patient an event); one touching none, one event.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditInput } from '../audit/audit.ts';
import { FhirError } from '../fhir/errors.ts';
import { isId, parseReference, resourceAddress } from '../fhir/reference.ts';
import { addPatientsIn } from '../audit/patients.ts';
import { serialize, type ResponseBody } from '../fhir/body.ts';
import type { FhirRequest, FhirResponse, TrailNotes } from '../rest/types.ts';
import type { Context } from '../rest/types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auditInteraction?: string;
    /** what the handlers noted for this request's AuditEvent (FhirRequest.trail) */
    auditNotes?: TrailNotes;
  }
}

const ACTIONS: Record<string, AuditInput['action']> = {
  create: 'C', update: 'U', patch: 'U', delete: 'D', transaction: 'E', batch: 'E', operation: 'E',
};

type RequestTarget = Pick<FhirRequest, 'resourceType' | 'id' | 'query' | 'trail'>;

/** The patient a request names: Patient/id (also as a compartment), or a patient or subject
 * search parameter. */
function patientOf(req: RequestTarget): string | undefined {
  if (req.resourceType === 'Patient' && req.id) return `Patient/${req.id}`;
  for (const p of ['patient', 'subject']) {
    const v = req.query[p]?.[0];
    if (!v) continue;
    const ref = parseReference(v);
    if (ref?.kind === 'relative' && ref.type === 'Patient' && ref.version === undefined) return v;
    if (p === 'patient' && isId(v)) return `Patient/${v}`;
  }
  return undefined;
}

/** Every patient whose data a request touched: the one it names, and those in the answer (or,
 * when the handler noted them, in the stored resources the answer showed part of) and in the
 * request body (whose transaction references are resolved by then). The trail's own events are
 * not split per patient they mention: reading the trail is one event. */
export function patientsOf(req: RequestTarget, answer?: ResponseBody, requestBody?: unknown): string[] {
  const found = new Set<string>();
  const named = patientOf(req);
  if (named) found.add(named);
  if (req.resourceType !== 'AuditEvent') {
    const noted = req.trail?.patients;
    if (noted) for (const p of noted) found.add(p);
    else if (answer !== undefined) addPatientsIn(found, serialize(answer));
    addPatientsIn(found, requestText(requestBody));
  }
  return [...found];
}

/** A request body as text: parsed JSON, or the text or bytes of another media type. */
function requestText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  return Buffer.isBuffer(body) ? undefined : JSON.stringify(body);
}

/** The events of one interaction: one per patient it touched (at least one). */
export function auditInputs(request: FastifyRequest, interaction: string, status: number, req?: FhirRequest, res?: FhirResponse): AuditInput[] {
  const input = baseInput(request, interaction, status, req, res);
  const target = req ?? requestTarget(request);
  // a read's body is in `res`; a write's also in the request (201 with Prefer: return=minimal)
  const body = req ? req.body : request.body;
  const patients = patientsOf(target, res?.body, request.method === 'GET' || request.method === 'HEAD' ? undefined : body);
  if (patients.length <= 1) {
    input.patient = patients[0];
    return [input];
  }
  return patients.map((patient) => ({ ...input, patient }));
}

/** What a request that failed before its handler ran names (its route's type, a valid id, its
 * query); nothing else of it is trusted. */
function requestTarget(request: FastifyRequest): RequestTarget {
  const params = (request.params ?? {}) as { type?: string; id?: string };
  return {
    resourceType: params.type,
    id: isId(params.id) ? params.id : undefined,
    query: (request.query ?? {}) as Record<string, string[]>,
  };
}

/** One event of an interaction, with the first patient it touched (HL7 v2 ingest, which
 * knows its patient). */
export function auditInput(request: FastifyRequest, interaction: string, status: number, req?: FhirRequest, res?: FhirResponse): AuditInput {
  const input = baseInput(request, interaction, status, req, res);
  if (req) input.patient = patientsOf(req, res?.body)[0];
  return input;
}

function baseInput(request: FastifyRequest, interaction: string, status: number, req?: FhirRequest, res?: FhirResponse): AuditInput {
  const auth = request.fhirAuth;
  let what: string | undefined;
  const location = res?.headers?.location ?? res?.headers?.['content-location'];
  const target = location ? resourceAddress(location) : undefined;
  if (target?.version !== undefined) what = `${target.type}/${target.id}`;
  if (!what && req?.resourceType && req.id) what = `${req.resourceType}/${req.id}`;
  const qs = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : undefined;
  return {
    interaction,
    action: ACTIONS[interaction] ?? 'R',
    status,
    clientId: auth?.clientId,
    purposeOfUse: auth?.purposeOfUse,
    address: request.ip,
    what,
    query: (interaction.startsWith('search') || request.auditNotes?.query) && qs ? qs : undefined,
    ...(request.auditNotes?.sensitiveQuery ? { sensitive: true } : {}),
  };
}

export function registerAuditHooks(app: FastifyInstance, ctx: Context): void {
  if (!ctx.audit) return;
  const audit = ctx.audit;
  app.addHook('onError', async (request, _reply, error) => {
    // refused past an address limit: the window's one event counts it (src/http/auth.ts)
    if (request.auditAggregated) return;
    const status = error instanceof FhirError ? error.status : ((error as { statusCode?: number }).statusCode ?? 500);
    const description = error instanceof FhirError ? error.outcome.issue[0]?.diagnostics?.slice(0, 200) : `HTTP ${status}`;
    let backPressure: Promise<void> | undefined;
    for (const input of auditInputs(request, request.auditInteraction ?? 'unknown', status)) {
      input.description = description;
      backPressure = audit.later(input) ?? backPressure;
    }
    await backPressure;
  });
}
