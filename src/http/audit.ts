// Audit of every FHIR interaction over HTTP: successes from the route wrapper (writes in the
// write's own transaction), failures — including refused authorization — from Fastify's
// onError hook, so each request yields exactly one AuditEvent.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditInput } from '../audit/audit.ts';
import { FhirError } from '../fhir/errors.ts';
import type { FhirRequest, FhirResponse } from '../rest/types.ts';
import type { Context } from '../rest/types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auditInteraction?: string;
  }
}

const ACTIONS: Record<string, AuditInput['action']> = {
  create: 'C', update: 'U', patch: 'U', delete: 'D', transaction: 'E', batch: 'E', operation: 'E',
};
export const WRITES = new Set(['create', 'update', 'patch', 'delete', 'transaction']);

function patientOf(req: Pick<FhirRequest, 'resourceType' | 'id' | 'compartmentType' | 'query'>, body?: unknown): string | undefined {
  if (req.resourceType === 'Patient' && req.id) return `Patient/${req.id}`;
  for (const p of ['patient', 'subject']) {
    const v = req.query[p]?.[0];
    if (v && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(v)) return v;
    if (v && p === 'patient' && /^[A-Za-z0-9\-.]{1,64}$/.test(v)) return `Patient/${v}`;
  }
  if (typeof body === 'string' && body.length < 1_000_000 && !body.startsWith('{"resourceType":"Bundle"')) {
    const m = /"(?:subject|patient)":\{"reference":"(Patient\/[A-Za-z0-9\-.]{1,64})"/.exec(body);
    if (m) return m[1];
  }
  return undefined;
}

export function auditInput(request: FastifyRequest, interaction: string, status: number, req?: FhirRequest, res?: FhirResponse): AuditInput {
  const auth = request.fhirAuth;
  let what: string | undefined;
  const location = res?.headers?.location ?? res?.headers?.['content-location'];
  if (location) what = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})\/_history\//.exec(location)?.[1];
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
    patient: req ? patientOf(req, res?.body) : undefined,
    query: interaction.startsWith('search') && qs ? qs : undefined,
  };
}

export function registerAuditHooks(app: FastifyInstance, ctx: Context): void {
  if (!ctx.audit) return;
  const audit = ctx.audit;
  app.addHook('onError', async (request, _reply, error) => {
    // refused past an address limit: the window's one event counts it (src/http/auth.ts)
    if (request.auditAggregated) return;
    const status = error instanceof FhirError ? error.status : ((error as { statusCode?: number }).statusCode ?? 500);
    const input = auditInput(request, request.auditInteraction ?? 'unknown', status);
    input.description = error instanceof FhirError ? error.outcome.issue[0]?.diagnostics?.slice(0, 200) : `HTTP ${status}`;
    await audit.later(input);
  });
}
