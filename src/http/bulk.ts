// Bulk Data export status and files, under the FHIR base (so the access token is required,
// and the purpose-of-use firewall applies, as for every FHIR request):
//   GET    [base]/$export-status/[job]           202 + X-Progress/Retry-After while running,
//                                                200 + the manifest when done, 5xx when failed
//   DELETE [base]/$export-status/[job]           cancels the job and deletes its files (202)
//   GET    [base]/$export-file/[job]/[file]      one NDJSON file, streamed from disk
//   GET    [base]/$import-status/[job]           the same for $import (src/operations/bulk-import.ts);
//                                                a failed import names its resume token
//   DELETE [base]/$import-status/[job]           stops it (what was committed stays)
//   GET    [base]/$import-file/[job]/[file]      its error NDJSON (OperationOutcome per failed line)
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
import type { ImportJob } from '../bulk/import-jobs.ts';
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

async function ownImport(request: FastifyRequest, ctx: Context, id: string): Promise<ImportJob> {
  const bulk = ctx.bulk;
  if (!bulk || !isId(id)) throw notFound('No such import');
  const job = await bulk.imports.get(id);
  if (!job || job.status === 'cancelled' || (job.request.client?.id ?? undefined) !== request.fhirAuth?.clientId) throw notFound(`No import ${id}`);
  return job;
}

function importProgress(job: ImportJob): string {
  const imported = job.progress.reduce((n, p) => n + p.imported, 0);
  const failed = job.progress.reduce((n, p) => n + p.failed, 0);
  const input = job.progress.findIndex((p) => !p.done);
  return `${imported} resources imported, ${failed} lines failed${input >= 0 ? `; input ${input + 1} of ${job.progress.length}` : ''}`;
}

function sendFile(reply: FastifyReply, path: string, size: number): FastifyReply {
  return reply
    .code(200)
    .header('content-type', 'application/fhir+ndjson')
    .header('content-length', String(size))
    .header('cache-control', 'no-store')
    .send(createReadStream(path));
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
    return sendFile(reply, path, size);
  });

  app.get('/$import-status/:id', async (request: FastifyRequest, reply: FastifyReply) => {
    request.auditInteraction = 'operation';
    const job = await ownImport(request, ctx, (request.params as { id: string }).id);
    if (job.status === 'in-progress') {
      return reply.code(202).header('x-progress', importProgress(job)).header('retry-after', String(RETRY_AFTER)).send();
    }
    const base = baseUrlOf(request, ctx);
    const errors = job.error.map((f) => ({ type: f.type, url: `${base}/$import-file/${job.id}/${f.name}`, count: f.count }));
    if (job.status === 'failed') {
      // the lines before the failure are committed; the resume token continues after them
      throw new FhirError(500, [
        { code: 'exception', diagnostics: `${job.reason ?? 'The import failed'} (${importProgress(job)}); resume with POST ${base}/$import and the parameter resume=${job.id}` },
        ...errors.map((e) => ({ severity: 'information' as const, code: 'informational' as const, diagnostics: `failed lines: ${e.url}` })),
      ]);
    }
    return reply.code(200).header('content-type', 'application/json').send(JSON.stringify({
      transactionTime: job.transactionTime,
      request: job.request.request,
      requiresAccessToken,
      output: job.request.inputs.map((input, i) => ({ type: input.type ?? 'Resource', inputUrl: input.url, count: job.progress[i]?.imported ?? 0 })),
      error: errors,
    }));
  });

  app.delete('/$import-status/:id', async (request: FastifyRequest, reply: FastifyReply) => {
    request.auditInteraction = 'operation';
    const job = await ownImport(request, ctx, (request.params as { id: string }).id);
    await ctx.bulk!.imports.cancel(job);
    return reply.code(202).header('content-type', 'application/fhir+json').send(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: `Import ${job.id} stopped; the lines committed before stay` }] }));
  });

  app.get('/$import-file/:id/:file', async (request: FastifyRequest, reply: FastifyReply) => {
    request.auditInteraction = 'operation';
    const { id, file } = request.params as { id: string; file: string };
    const job = await ownImport(request, ctx, id);
    const entry = job.error.find((f) => f.name === file);
    if (!entry) throw notFound(`Import ${id} has no file ${file.slice(0, 64)}`);
    const path = ctx.bulk!.imports.filePath(id, entry.name);
    const size = await stat(path).then((s) => s.size, () => undefined);
    if (size === undefined) throw notFound(`The file ${entry.name} of import ${id} is no longer here`);
    return sendFile(reply, path, size);
  });
}
