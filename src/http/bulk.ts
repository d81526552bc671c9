// Bulk Data export status and files, under the FHIR base (so the access token is required,
// and the purpose-of-use firewall applies, as for every FHIR request):
//   GET    [base]/$export-status/[job]           202 + X-Progress/Retry-After while running,
//                                                200 + the manifest when done, 5xx when failed
//   DELETE [base]/$export-status/[job]           cancels the job and deletes its files (202)
//   GET    [base]/$export-file/[job]/[file]      one NDJSON file, streamed from disk
// Only the client that started a job sees it: another client gets 404, as for a job that
// does not exist. Each file download is one AuditEvent (the kick-off has its own, from the
// operation's route).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError, notFound } from '../fhir/errors.ts';
import { isId } from '../fhir/reference.ts';
import type { Context } from '../rest/types.ts';
import type { ExportJob } from '../bulk/export-jobs.ts';
import { baseUrlOf } from './routes.ts';

/** seconds a client is asked to wait between polls */
const RETRY_AFTER = 2;

async function ownJob(request: FastifyRequest, ctx: Context, id: string): Promise<ExportJob> {
  const bulk = ctx.bulk;
  if (!bulk || !isId(id)) throw notFound('No such export');
  const job = await bulk.exports.get(id);
  const clientId = request.fhirAuth?.clientId;
  // cancelled and expired jobs are gone, as far as the client is concerned
  if (!job || job.status === 'cancelled' || (job.request.clientId !== undefined && job.request.clientId !== clientId)) throw notFound(`No export ${id}`);
  return job;
}

function manifest(job: ExportJob, base: string, requiresAccessToken: boolean) {
  const url = (name: string) => `${base}/$export-file/${job.id}/${name}`;
  return {
    transactionTime: job.transactionTime,
    request: job.request.request,
    requiresAccessToken,
    output: job.output.map((f) => ({ type: f.type, url: url(f.name), count: f.count })),
    error: job.error.map((f) => ({ type: f.type, url: url(f.name), count: f.count })),
  };
}

export function registerBulkRoutes(app: FastifyInstance, ctx: Context): void {
  const requiresAccessToken = !ctx.config.devOpenAccess;
  app.get('/$export-status/:id', async (request: FastifyRequest, reply: FastifyReply) => {
    request.auditInteraction = 'operation';
    const job = await ownJob(request, ctx, (request.params as { id: string }).id);
    if (job.status === 'in-progress') {
      return reply.code(202).header('x-progress', job.progress ?? 'in progress').header('retry-after', String(RETRY_AFTER)).send();
    }
    if (job.status === 'failed') {
      throw new FhirError(500, { code: 'exception', diagnostics: job.reason ?? 'The export failed' });
    }
    const expires = ctx.bulk!.exports.expiresAt(job);
    if (expires !== undefined) reply.header('expires', new Date(expires).toUTCString());
    return reply.code(200).header('content-type', 'application/json').send(JSON.stringify(manifest(job, baseUrlOf(request, ctx), requiresAccessToken)));
  });

  app.delete('/$export-status/:id', async (request: FastifyRequest, reply: FastifyReply) => {
    request.auditInteraction = 'operation';
    const job = await ownJob(request, ctx, (request.params as { id: string }).id);
    await ctx.bulk!.exports.cancel(job);
    await ctx.audit?.later({
      interaction: 'operation', action: 'D', status: 202, clientId: request.fhirAuth?.clientId, purposeOfUse: request.fhirAuth?.purposeOfUse, address: request.ip, what: `Task/${job.id}`,
      description: `Bulk Data export ${job.id} cancelled and its files deleted`,
    });
    return reply.code(202).header('content-type', 'application/fhir+json').send(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: `Export ${job.id} cancelled; its files are deleted` }] }));
  });

  app.get('/$export-file/:id/:file', async (request: FastifyRequest, reply: FastifyReply) => {
    request.auditInteraction = 'operation';
    const { id, file } = request.params as { id: string; file: string };
    const job = await ownJob(request, ctx, id);
    // only names the job wrote (never a path a client made up)
    const entry = [...job.output, ...job.error].find((f) => f.name === file);
    if (job.status !== 'completed' || !entry) throw notFound(`Export ${id} has no file ${file.slice(0, 64)}`);
    const path = ctx.bulk!.exports.filePath(id, entry.name);
    const size = await stat(path).then((s) => s.size, () => undefined);
    if (size === undefined) throw notFound(`The file ${entry.name} of export ${id} is no longer here`);
    await ctx.audit?.later({
      interaction: 'operation', action: 'R', status: 200, clientId: request.fhirAuth?.clientId, purposeOfUse: request.fhirAuth?.purposeOfUse, address: request.ip,
      // the job's Task names the export; the file in the description (kept for failures only)
      what: `Task/${job.id}`,
      description: `Bulk Data export ${job.id}: file ${entry.name} downloaded (${entry.count} ${entry.type} resources)`,
    });
    return reply
      .code(200)
      .header('content-type', 'application/fhir+ndjson')
      .header('content-length', String(size))
      .header('cache-control', 'no-store')
      .send(createReadStream(path));
  });
}
