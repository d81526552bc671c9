// Adapts Fastify to the framework-free handlers in src/rest: builds a FhirRequest, runs the
// handler, and writes the FhirResponse with FHIR's headers.
import { MediaText, serialize } from '../fhir/body.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditInput, auditInputs, registerAuditHooks } from './audit.ts';
import { clientView } from './client-view.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';
import { checkPathParams, invoke, routeTable, type RouteSpec } from '../rest/route-table.ts';
import { FHIR_JSON, FHIR_XML, isPretty, negotiate, type Format } from './negotiation.ts';

type Params = { type?: string; id?: string; vid?: string; ctype?: string };

export function baseUrlOf(request: FastifyRequest, ctx: Context): string {
  return ctx.config.baseUrl ?? `${request.protocol}://${request.host}${ctx.config.basePath}`;
}

/** The response format (406 before anything runs when none fits); an operation with media
 * types of its own (HL7 v2 ER7) negotiates itself and answers its FHIR resources in JSON. */
function responseFormat(request: FastifyRequest, spec: RouteSpec): Format {
  const query = request.query as Record<string, string[]>;
  if (spec.operation?.ownFormats) return 'json';
  return negotiate(query._format?.[0], request.headers.accept, request.headers['content-type']);
}

function toFhirRequest(request: FastifyRequest, ctx: Context, spec: RouteSpec): FhirRequest {
  const params = request.params as Params;
  const query = request.query as Record<string, string[]>;
  checkPathParams(params, ctx);
  const contentType = request.headers['content-type']?.split(';')[0].trim().toLowerCase();
  return {
    method: request.method,
    baseUrl: baseUrlOf(request, ctx),
    resourceType: spec.resourceType ?? params.type,
    id: params.id,
    versionId: params.vid,
    compartmentType: params.ctype,
    query,
    headers: request.headers as Record<string, string | undefined>,
    body: request.body,
    contentType,
    auth: request.fhirAuth,
    ...(ctx.audit ? { trail: (request.auditNotes ??= {}) } : {}),
  };
}

export function sendFhir(reply: FastifyReply, res: FhirResponse, pretty: boolean, format: Format = 'json'): FastifyReply {
  // serialized before the status is set: a resource with no XML form is a 406, not a half-sent answer
  const text = res.body === undefined || res.status === 304 || res.status === 204 ? undefined : serialize(res.body, format, pretty);
  reply.code(res.status);
  if (res.headers) reply.headers(res.headers);
  if (text === undefined) return reply.send();
  // an operation may answer in a media type of its own (HL7 v2 ER7)
  if (res.body instanceof MediaText) return reply.header('content-type', res.body.contentType).send(text);
  return reply.header('content-type', format === 'xml' ? FHIR_XML : FHIR_JSON).send(text);
}

/** The Fastify handler of one route of the table: the request as a FhirRequest, the handler
 * through `invoke` (as Bundle entries run it), the audit trail, and the answer. */
export function fastifyHandler(spec: RouteSpec, ctx: Context) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const kind = spec.audit(request.body);
    request.auditInteraction = kind;
    const format = responseFormat(request, spec);
    const req = toFhirRequest(request, ctx, spec);
    const audit = ctx.audit;
    let res: FhirResponse;
    if (audit && spec.operation?.auditsItself) {
      // it runs its own transactions: its AuditEvent joins the one that writes
      req.auditEvent = async (r, note) => {
        if (note.inTransaction) {
          const inputs = note.patient !== undefined ? [{ ...auditInput(request, kind, r.status, req, r), patient: note.patient }] : auditInputs(request, kind, r.status, req, r);
          for (const input of inputs) await audit.inTransaction(input);
        }
        else await audit.later({ ...auditInput(request, kind, r.status, req), ...(note.description ? { description: note.description } : {}) });
      };
      res = await invoke(spec, req, ctx);
    } else if (audit && spec.writes(req)) {
      // the write and its AuditEvent commit together, or neither does
      res = await ctx.repo.transaction(async () => {
        const r = await invoke(spec, req, ctx);
        for (const input of auditInputs(request, kind, r.status, req, r)) await audit.inTransaction(input);
        return r;
      });
    } else {
      res = await invoke(spec, req, ctx);
      // past the trail's backlog bound the response waits for it (back-pressure: Auditor.later)
      if (audit && kind !== 'capabilities') {
        let backPressure: Promise<void> | undefined;
        for (const input of auditInputs(request, kind, res.status, req, res)) backPressure = audit.later(input) ?? backPressure;
        if (backPressure) await backPressure;
      }
    }
    // clients without the migration-data scope get sensitive elements removed, and Bulk Data
    // job Tasks tell their request only to the client that started them — in one pass over the
    // body (job Tasks come only in answers about Tasks or at system level: history, batch, search)
    const jobs = req.resourceType === undefined || req.resourceType === 'Task';
    if (res.body !== undefined) res = { ...res, body: clientView(res.body, req.auth, jobs) };
    return sendFhir(reply, res, isPretty(req.query._pretty?.[0]), format);
  };
}

/** Registers the routes of the table whose bodies are FHIR JSON (src/http/hl7v2.ts registers
 * the HL7 v2 ones, in a scope that parses their media types). */
export function registerRoutes(app: FastifyInstance, ctx: Context): void {
  registerAuditHooks(app, ctx);
  for (const spec of routeTable()) {
    if (spec.operation?.rawBody) continue;
    registerRoute(app, spec, ctx);
  }
}

export function registerRoute(app: FastifyInstance, spec: RouteSpec, ctx: Context): void {
  app.route({ method: spec.method, url: spec.path, ...(spec.bundleBody ? { bodyLimit: ctx.config.maxBundleBytes } : {}), handler: fastifyHandler(spec, ctx) });
}
