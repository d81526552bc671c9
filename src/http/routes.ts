// Adapts Fastify to the framework-free handlers in src/rest: builds a FhirRequest, runs the
// handler, and writes the FhirResponse with FHIR's headers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertValidId, FhirError, notFound } from '../fhir/errors.ts';
import { auditInputs, registerAuditHooks, WRITES } from './audit.ts';
import { redactBody } from '../auth/sensitive.ts';
import { metadata } from '../rest/capabilities.ts';
import { create } from '../rest/create.ts';
import { remove } from '../rest/delete.ts';
import { history } from '../rest/history.ts';
import { patch } from '../rest/patch.ts';
import { read, vread } from '../rest/read.ts';
import type { Context, FhirRequest, FhirResponse, Handler } from '../rest/types.ts';
import { update } from '../rest/update.ts';
import { searchCompartment, searchSystem, searchType } from '../rest/search.ts';
import { reindex } from '../operations/reindex.ts';
import { bundle } from '../rest/bundle.ts';
import { everything } from '../operations/everything.ts';
import { match } from '../operations/match.ts';
import { validate } from '../operations/validate.ts';
import { snapshot } from '../operations/snapshot.ts';
import { meta, metaAdd, metaDelete } from '../operations/meta.ts';
import { merge } from '../operations/merge.ts';
import { summary } from '../operations/summary.ts';
import { importSummary } from '../operations/import-summary.ts';
import { exportNational, importNational } from '../operations/national.ts';
import { importCsv } from '../operations/import-csv.ts';
import { score, scoreWrites } from '../operations/score.ts';
import { expand, lookup, subsumes, translate, validateCode } from '../operations/terminology.ts';
import { FHIR_JSON, isPretty, negotiate } from './negotiation.ts';

type Params = { type?: string; id?: string; vid?: string; ctype?: string };

export function baseUrlOf(request: FastifyRequest, ctx: Context): string {
  return ctx.config.baseUrl ?? `${request.protocol}://${request.host}${ctx.config.basePath}`;
}

function toFhirRequest(request: FastifyRequest, ctx: Context): FhirRequest {
  const params = request.params as Params;
  const query = request.query as Record<string, string[]>;
  negotiate(query._format?.[0], request.headers.accept);
  if (params.type !== undefined && !ctx.types.has(params.type)) {
    throw notFound(`Unknown resource type '${params.type.slice(0, 64)}'`);
  }
  if (params.id !== undefined) assertValidId(params.id);
  if (params.ctype !== undefined && params.ctype !== '*' && !ctx.types.has(params.ctype)) {
    throw notFound(`Unknown resource type '${params.ctype.slice(0, 64)}'`);
  }
  const contentType = request.headers['content-type']?.split(';')[0].trim().toLowerCase();
  return {
    method: request.method,
    baseUrl: baseUrlOf(request, ctx),
    resourceType: params.type,
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

export function sendFhir(reply: FastifyReply, res: FhirResponse, pretty: boolean): FastifyReply {
  reply.code(res.status);
  if (res.headers) reply.headers(res.headers);
  if (res.body === undefined || res.status === 304 || res.status === 204) return reply.send();
  reply.header('content-type', FHIR_JSON);
  let text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
  if (pretty) text = JSON.stringify(JSON.parse(text), null, 2);
  return reply.send(text);
}

/** `writes`: for an operation that writes only on request ($score persist=true), whether this one does. */
function route(handler: Handler, ctx: Context, interaction: string, writes?: (req: FhirRequest) => boolean) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    request.auditInteraction = interaction;
    const req = toFhirRequest(request, ctx);
    if (WRITES.has(interaction) && req.resourceType === 'AuditEvent' && ctx.audit) {
      throw new FhirError(405, { code: 'not-supported', diagnostics: 'The audit trail cannot be changed through the API' });
    }
    const audit = ctx.audit;
    let res: FhirResponse;
    const kind = interaction === 'bundle' ? ((req.body as { type?: string } | undefined)?.type === 'transaction' ? 'transaction' : 'batch') : interaction;
    request.auditInteraction = kind;
    if (audit && (WRITES.has(kind) || writes?.(req))) {
      // the write and its AuditEvent commit together, or neither does
      res = await ctx.repo.transaction(async () => {
        const r = await handler(req, ctx);
        for (const input of auditInputs(request, kind, r.status, req, r)) await audit.inTransaction(input);
        return r;
      });
    } else {
      res = await handler(req, ctx);
      // past the trail's backlog bound the response waits for it (back-pressure: Auditor.later)
      if (audit && interaction !== 'capabilities') {
        let backPressure: Promise<void> | undefined;
        for (const input of auditInputs(request, kind, res.status, req, res)) backPressure = audit.later(input) ?? backPressure;
        if (backPressure) await backPressure;
      }
    }
    // clients without the migration-data scope get sensitive elements removed
    if (req.auth && !req.auth.scopes.sensitive && res.body !== undefined) res = { ...res, body: redactBody(res.body) };
    return sendFhir(reply, res, isPretty(req.query._pretty?.[0]));
  };
}


export function registerRoutes(app: FastifyInstance, ctx: Context): void {
  const r = (h: Handler, interaction: string) => route(h, ctx, interaction);
  registerAuditHooks(app, ctx);
  app.get('/metadata', r(metadata, 'capabilities'));
  app.get('/_history', r(history, 'history-system'));
  app.get('/', r(searchSystem, 'search-system'));
  app.post('/_search', r(searchSystem, 'search-system'));
  app.post('/$reindex', r(reindex, 'operation'));
  app.post('/:type/$reindex', r(reindex, 'operation'));
  app.post('/', { bodyLimit: ctx.config.maxBundleBytes }, r(bundle, 'bundle'));
  app.post('/Patient/$match', r(match, 'operation'));
  app.post('/Patient/$merge', r(merge, 'update'));
  for (const [method, path, handler] of [
    ['GET', '/ValueSet/$expand', expand], ['POST', '/ValueSet/$expand', expand], ['GET', '/ValueSet/:id/$expand', expand], ['POST', '/ValueSet/:id/$expand', expand],
    ['GET', '/CodeSystem/$lookup', lookup], ['POST', '/CodeSystem/$lookup', lookup],
    ['GET', '/ValueSet/$validate-code', validateCode], ['POST', '/ValueSet/$validate-code', validateCode], ['GET', '/ValueSet/:id/$validate-code', validateCode], ['POST', '/ValueSet/:id/$validate-code', validateCode],
    ['GET', '/CodeSystem/$validate-code', validateCode], ['POST', '/CodeSystem/$validate-code', validateCode], ['GET', '/CodeSystem/:id/$validate-code', validateCode], ['POST', '/CodeSystem/:id/$validate-code', validateCode],
    ['GET', '/ConceptMap/$translate', translate], ['POST', '/ConceptMap/$translate', translate], ['GET', '/ConceptMap/:id/$translate', translate], ['POST', '/ConceptMap/:id/$translate', translate],
    ['GET', '/CodeSystem/$subsumes', subsumes], ['POST', '/CodeSystem/$subsumes', subsumes],
  ] as const) {
    const type = path.split('/')[1];
    app.route({ method, url: path, handler: r(async (req, c) => handler({ ...req, resourceType: type }, c), 'operation') });
  }
  app.post('/$import-summary', { bodyLimit: ctx.config.maxBundleBytes }, r(importSummary, 'transaction'));
  app.post('/$import-national', { bodyLimit: ctx.config.maxBundleBytes }, r(importNational, 'transaction'));
  app.get('/Patient/:id/$export-national', r(exportNational, 'operation'));
  app.post('/$import-csv', { bodyLimit: ctx.config.maxBundleBytes }, r(importCsv, 'operation'));
  app.get('/Patient/$summary', r(summary, 'operation'));
  app.get('/Patient/:id/$summary', r(summary, 'operation'));
  app.post('/Patient/:id/$summary', r(summary, 'operation'));
  app.post('/QuestionnaireResponse/$score', route(score, ctx, 'operation', scoreWrites));
  app.post('/QuestionnaireResponse/:id/$score', route(score, ctx, 'operation', scoreWrites));
  app.get('/Patient/$everything', r(everything, 'operation'));
  app.post('/Patient/$everything', r(everything, 'operation'));
  app.get('/Patient/:id/$everything', r(everything, 'operation'));
  app.post('/Patient/:id/$everything', r(everything, 'operation'));
  app.get('/$meta', r(meta, 'operation'));
  app.get('/:type/$meta', r(meta, 'operation'));
  for (const base of ['/:type/:id', '/:type/:id/_history/:vid']) {
    app.get(`${base}/$meta`, r(meta, 'operation'));
    app.post(`${base}/$meta`, r(meta, 'operation'));
    app.post(`${base}/$meta-add`, r(metaAdd, 'operation'));
    app.post(`${base}/$meta-delete`, r(metaDelete, 'operation'));
  }
  app.get('/StructureDefinition/$snapshot', r(snapshot, 'operation'));
  app.post('/StructureDefinition/$snapshot', r(snapshot, 'operation'));
  app.get('/StructureDefinition/:id/$snapshot', r(snapshot, 'operation'));
  app.post('/:type/$validate', r(validate, 'operation'));
  app.post('/:type/:id/$validate', r(validate, 'operation'));
  app.get('/:type/:id/$validate', r(validate, 'operation'));
  app.get('/:type', r(searchType, 'search-type'));
  app.post('/:type', r(create, 'create'));
  app.put('/:type', r(update, 'update'));
  app.patch('/:type', r(patch, 'patch'));
  app.delete('/:type', r(remove, 'delete'));
  app.get('/:type/_history', r(history, 'history-type'));
  app.get('/:type/:id', r(read, 'read'));
  app.put('/:type/:id', r(update, 'update'));
  app.patch('/:type/:id', r(patch, 'patch'));
  app.delete('/:type/:id', r(remove, 'delete'));
  app.get('/:type/:id/_history', r(history, 'history-instance'));
  app.get('/:type/:id/_history/:vid', r(vread, 'vread'));
  app.post('/:type/_search', r(searchType, 'search-type'));
  app.get('/:type/:id/:ctype', r(searchCompartment, 'search-type'));
}
