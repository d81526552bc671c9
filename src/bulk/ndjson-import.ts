// Imports NDJSON lines through the one write pipeline (Repository.update: shape, validation,
// labels, the server's checks), each with its AuditEvent in the same transaction, as a REST
// PUT would be: the resource keeps its id (so an export imported elsewhere keeps its
// references), an unchanged one writes no version, a client without the migration-data scope
// keeps the stored migration data it cannot see (keepSensitive, as update does).
// Lines are written a batch per transaction (writeBatch); a line the write pipeline refuses is
// left out of it and the others commit, so a failing line leaves nothing of itself and costs the
// others nothing. When the engine fails the transaction itself, its lines are written again one
// per transaction. Each failing line becomes one OperationOutcome naming its input and line
// number.
// Used by the server's import jobs (src/bulk/import-jobs.ts) and by `migfhir import`.
import type { OperationOutcome, Resource } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import type { AuditInput } from '../audit/audit.ts';
import { authorize, type AuthContext } from '../auth/authorize.ts';
import { keepSensitive } from '../auth/sensitive.ts';
import { ResourceJson } from '../fhir/body.ts';
import { FhirError } from '../fhir/errors.ts';
import { isId } from '../fhir/reference.ts';
import { patientsOf } from '../http/audit.ts';
import type { Context } from '../rest/types.ts';

/** lines per transaction */
export const BATCH = 200;
/** and at most this many bytes of line text per transaction (a longer line goes alone): large
 * resources (Binary, DocumentReference) must not make a transaction that an engine refuses as a
 * whole (MongoDB's engine: 64 MiB with the index entries, src/store/mongo/index.ts) */
export const BATCH_BYTES = 8 * 1024 * 1024;

export interface LineError {
  /** 1-based line number in its input */
  line: number;
  outcome: OperationOutcome;
}

export interface ImportOptions {
  /** the input's name in error messages (its URL or file name) */
  input: string;
  /** the type every line must have, when the manifest says */
  type?: string;
  /** lines already imported (a resumed job): skipped */
  skip: number;
  /** who imports: scopes checked per line, audited as the agent; undefined in open access or the CLI */
  auth?: AuthContext;
  address?: string;
  onError: (e: LineError) => Promise<void>;
  /** after each committed batch: lines read so far (the resume position) and totals */
  onProgress?: (p: { line: number; imported: number; failed: number }) => Promise<void> | void;
  stopped?: () => boolean;
}

export interface ImportCount {
  line: number;
  imported: number;
  failed: number;
}

export class ImportStopped extends Error {}

function outcomeOf(input: string, line: number, err: unknown): OperationOutcome {
  const issues = err instanceof FhirError ? err.outcome.issue : [{ severity: 'error' as const, code: 'exception' as const, diagnostics: 'the line could not be stored' }];
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({ ...i, diagnostics: `${input}, line ${line}: ${i.diagnostics ?? i.code}`.slice(0, 1000) })),
  };
}

function invalid(diagnostics: string): FhirError {
  return new FhirError(422, { code: 'invalid', diagnostics });
}

/** A line as the resource to store, or why not (nothing about its content beyond its shape). */
function parseLine(text: string, ctx: Context, options: ImportOptions): Resource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  const r = value as Resource;
  if (!r || typeof r !== 'object' || Array.isArray(r) || typeof r.resourceType !== 'string') throw invalid('not a FHIR resource (no resourceType)');
  if (!ctx.types.has(r.resourceType)) throw invalid(`'${r.resourceType.slice(0, 64)}' is not a resource type`);
  if (options.type && r.resourceType !== options.type) throw invalid(`a ${r.resourceType} in an input of ${options.type}`);
  if (r.resourceType === 'AuditEvent' && ctx.audit) throw new FhirError(405, { code: 'not-supported', diagnostics: 'The audit trail cannot be changed through the API' });
  if (r.id !== undefined && !isId(r.id)) throw invalid('its id is not a FHIR id');
  authorize(options.auth, r.resourceType, 'c', 'u');
  const resource = { ...r, id: r.id ?? randomUUID() } as Resource;
  if (resource.meta) {
    // server-managed: this server numbers its own versions
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta;
    if (Object.keys(meta).length) resource.meta = meta;
    else delete resource.meta;
  }
  return resource;
}

/** Writes one resource inside the caller's transaction; returns its AuditEvents' inputs (one per
 * patient it concerns, as a REST write's), stored by the caller in the same transaction. */
async function write(ctx: Context, resource: Resource, options: ImportOptions): Promise<AuditInput[]> {
  const merge = options.auth && !options.auth.scopes.sensitive ? keepSensitive : undefined;
  const result = await ctx.repo.update(resource, { merge, shapeStatus: 422 });
  if (!ctx.audit || result.unchanged) return [];
  const what = `${resource.resourceType}/${resource.id}`;
  const patients = patientsOf({ resourceType: resource.resourceType, id: resource.id, query: {} }, new ResourceJson(resource.resourceType, result.version.json!));
  return (patients.length ? patients : [undefined]).map((patient) => ({
    interaction: result.created ? 'create' : 'update', action: result.created ? 'C' : 'U', status: result.created ? 201 : 200,
    clientId: options.auth?.clientId, purposeOfUse: options.auth?.purposeOfUse, address: options.address, what, patient,
  }));
}

/** Writes lines and their AuditEvents in one transaction: every event of a resource commits with
 * it, and the events are appended together (the trail's head read once per batch). A line the
 * write pipeline refuses is left out and the others go on in the same transaction: a refusal is
 * a FhirError thrown before the line wrote anything (the checks and labels run before the
 * version is put), so nothing of it is in the transaction — the transaction's writes are
 * counted to know. Any other error, or a FhirError after a write of the line (an engine's
 * conflict), rolls the whole transaction back: it is thrown. Run again from the start when an
 * engine retries the transaction (MongoDB on a write conflict), so its lists are made inside. */
async function writeBatch(ctx: Context, todo: Batch, options: ImportOptions): Promise<{ line: number; err: FhirError }[]> {
  return ctx.repo.transaction(async (tx) => {
    // the transaction the repository's writes of this async context go through (its ambient one)
    let writes = 0;
    const put = tx.write;
    tx.write = (v) => {
      writes++;
      return put(v);
    };
    try {
      const refused: { line: number; err: FhirError }[] = [];
      const events: AuditInput[] = [];
      for (const b of todo) {
        const before = writes;
        try {
          events.push(...(await write(ctx, b.resource, options)));
        } catch (err) {
          if (!(err instanceof FhirError) || writes !== before) throw err;
          refused.push({ line: b.line, err });
        }
      }
      await ctx.audit?.inTransactionAll(events);
      return refused;
    } finally {
      tx.write = put;
    }
  });
}

type Batch = { line: number; resource: Resource }[];

export async function importLines(ctx: Context, lines: AsyncIterable<string>, options: ImportOptions): Promise<ImportCount> {
  const count: ImportCount = { line: 0, imported: 0, failed: 0 };
  let batch: Batch = [];
  let bytes = 0;
  const fail = async (line: number, err: unknown) => {
    count.failed++;
    await options.onError({ line, outcome: outcomeOf(options.input, line, err) });
  };
  const flush = async () => {
    if (!batch.length) return;
    const todo = batch;
    batch = [];
    bytes = 0;
    try {
      const refused = await writeBatch(ctx, todo, options);
      count.imported += todo.length - refused.length;
      for (const r of refused) await fail(r.line, r.err);
    } catch {
      // the engine refused the transaction: each line on its own, so the others are kept
      for (const b of todo) {
        try {
          const refused = await writeBatch(ctx, [b], options);
          if (refused.length) await fail(b.line, refused[0].err);
          else count.imported++;
        } catch (err) {
          await fail(b.line, err);
        }
      }
    }
    await options.onProgress?.({ ...count });
  };
  let interrupted = false;
  for await (const text of lines) {
    if (options.stopped?.()) {
      interrupted = true;
      break;
    }
    count.line++;
    if (count.line <= options.skip || !text.trim()) continue;
    let resource: Resource;
    try {
      resource = parseLine(text, ctx, options);
    } catch (err) {
      await flush();
      await fail(count.line, err);
      await options.onProgress?.({ ...count });
      continue;
    }
    if (bytes + text.length > BATCH_BYTES) await flush();
    batch.push({ line: count.line, resource });
    bytes += text.length;
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  if (interrupted) throw new ImportStopped();
  return count;
}
