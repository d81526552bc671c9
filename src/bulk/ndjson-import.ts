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
// With the prepare pool (src/store/prepare, --prepare-threads), the lines are read and prepared
// ahead on other threads (parsed, checked, labelled, their stored JSON and index rows made) while
// the writer commits the batch before; the writer then reads each line's current version,
// numbers the new one and inserts. Batches, refusals, their order and what is stored are the same
// as without it; a line prepared before a conformance resource (a custom SearchParameter, a
// profile) committed is prepared again before it is written.
// Used by the server's import jobs (src/bulk/import-jobs.ts) and by `migfhir import`.
import type { OperationOutcome, Resource } from 'fhir/r4.js';
import type { AuditInput } from '../audit/audit.ts';
import { authorize, type AuthContext } from '../auth/authorize.ts';
import { keepSensitive } from '../auth/sensitive.ts';
import { ResourceJson } from '../fhir/body.ts';
import { FhirError } from '../fhir/errors.ts';
import { patientsOf } from '../http/audit.ts';
import type { Context } from '../rest/types.ts';
import type { PreparePool } from '../store/prepare/pool.ts';
import { refusalError, type PreparedLine } from '../store/prepare/preparer.ts';
import type { PreparedWrite } from '../store/prepare/prepared.ts';
import type { WriteResult } from '../store/repository.ts';
import { lineResource, type LineRules } from './ndjson-line.ts';

/** lines per transaction: each commit writes every page it changed to the WAL, and a batch's
 * index rows land on pages all over the value indexes, so fewer, larger commits write fewer
 * pages a row (200 → 500 lines: ~20 % less CPU a row of index, scripts/bench/README.md). A
 * REST write waits for the batch under way: ~0.1 s at 500 lines. */
export const BATCH = 500;
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

/** A line the writer takes: read by itself, or prepared ahead by the pool at `stamp`. */
type Item = { line: number; resource: Resource } | { line: number; text: string; stamp: number; prepared: PreparedWrite | Extract<PreparedLine, { kind: 'refused' }> };

/** Writes one line's resource inside the caller's transaction; returns its AuditEvents' inputs
 * (one per patient it concerns, as a REST write's), stored by the caller in the same transaction. */
async function write(ctx: Context, item: Item, options: ImportOptions, rules: LineRules): Promise<AuditInput[]> {
  const merge = options.auth && !options.auth.scopes.sensitive ? keepSensitive : undefined;
  let result: WriteResult;
  if ('resource' in item) result = await ctx.repo.update(item.resource, { merge, shapeStatus: 422 });
  else if (item.prepared.kind === 'refused') throw refusalError(item.prepared);
  else {
    const p = item.prepared;
    result = await ctx.repo.updatePrepared(p, () => lineResource(item.text, ctx.types, rules, p.id), { merge });
  }
  if (!ctx.audit || result.unchanged) return [];
  const { resourceType, id } = result.version;
  const what = `${resourceType}/${id}`;
  const patients = patientsOf({ resourceType, id, query: {} }, new ResourceJson(resourceType, result.version.json!));
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
async function writeBatch(ctx: Context, todo: Item[], options: ImportOptions, rules: LineRules): Promise<{ line: number; err: FhirError }[]> {
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
          events.push(...(await write(ctx, b, options, rules)));
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

/** A line as read, and as the pool prepared it (absent: not prepared; skipped lines are not). */
interface Entry {
  line: number;
  text: string;
  /** before the resume position, or blank */
  skip: boolean;
  prepared?: PreparedLine;
  stamp?: number;
}

/** The lines as read, one after another. */
async function* readHere(lines: AsyncIterable<string>, skip: number): AsyncIterable<Entry> {
  let line = 0;
  for await (const text of lines) {
    line++;
    yield { line, text, skip: line <= skip || !text.trim() };
  }
}

/** The lines prepared ahead by the pool, in order: read in chunks of at most a batch, each sent
 * to the pool as soon as read; at most the pool's size + 2 chunks held (back-pressure: no more
 * lines are read until the writer takes the oldest). */
async function* preparedAhead(pool: PreparePool, lines: AsyncIterable<string>, skip: number, rules: LineRules): AsyncIterable<Entry> {
  const ahead: Promise<Entry[]>[] = [];
  let chunk: Entry[] = [];
  let bytes = 0;
  const send = () => {
    const entries = chunk;
    chunk = [];
    bytes = 0;
    const todo = entries.filter((e) => !e.skip);
    const done = todo.length
      ? pool.prepare(todo.map((e) => e.text), rules).then((r) => {
          todo.forEach((e, i) => {
            e.prepared = r.lines[i];
            e.stamp = r.stamp;
          });
          return entries;
        })
      : Promise.resolve(entries);
    // a failure is thrown when the writer reaches the chunk, not as an unhandled rejection before
    done.catch(() => undefined);
    ahead.push(done);
  };
  for await (const entry of readHere(lines, skip)) {
    if (chunk.length && (chunk.length >= BATCH || bytes + entry.text.length > BATCH_BYTES)) send();
    chunk.push(entry);
    bytes += entry.text.length;
    while (ahead.length > pool.size + 1) yield* await ahead.shift()!;
  }
  if (chunk.length) send();
  while (ahead.length) yield* await ahead.shift()!;
}

/** What the writer makes of an entry; throws what refuses the line before its batch (it is not
 * a resource, or the client may not write its type). */
function itemOf(ctx: Context, entry: Entry, options: ImportOptions, rules: LineRules): Item {
  const p = entry.prepared;
  if (!p || p.kind === 'inline') {
    const resource = lineResource(entry.text, ctx.types, rules);
    authorize(options.auth, resource.resourceType, 'c', 'u');
    return { line: entry.line, resource };
  }
  if (p.kind === 'unreadable') throw refusalError(p);
  authorize(options.auth, p.resourceType, 'c', 'u');
  return { line: entry.line, text: entry.text, stamp: entry.stamp!, prepared: p };
}

/** Prepares again the lines of a batch prepared before the conformance resources last changed
 * (a custom SearchParameter committed since must index them), until none is. */
async function current(ctx: Context, pool: PreparePool | undefined, todo: Item[], rules: LineRules): Promise<void> {
  for (;;) {
    const stale = pool ? todo.flatMap((item, i) => ('stamp' in item && item.stamp !== pool.stamp ? [i] : [])) : [];
    if (!stale.length) return;
    const again = await pool!.prepare(stale.map((i) => (todo[i] as { text: string }).text), rules);
    stale.forEach((i, k) => {
      const item = todo[i] as Extract<Item, { text: string }>;
      const p = again.lines[k];
      // its type's index rows now read the version (a new SearchParameter): the writer prepares it
      if (p.kind === 'inline') todo[i] = { line: item.line, resource: lineResource(item.text, ctx.types, rules, item.prepared.kind === 'ready' ? item.prepared.id : undefined) };
      else if (p.kind === 'ready' || p.kind === 'refused') todo[i] = { ...item, stamp: again.stamp, prepared: p };
    });
  }
}

export async function importLines(ctx: Context, lines: AsyncIterable<string>, options: ImportOptions): Promise<ImportCount> {
  const count: ImportCount = { line: 0, imported: 0, failed: 0 };
  const rules: LineRules = { type: options.type, audit: !!ctx.audit };
  const pool = ctx.prepare?.size ? ctx.prepare : undefined;
  let batch: Item[] = [];
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
    await current(ctx, pool, todo, rules);
    try {
      const refused = await writeBatch(ctx, todo, options, rules);
      count.imported += todo.length - refused.length;
      for (const r of refused) await fail(r.line, r.err);
    } catch {
      // the engine refused the transaction: each line on its own, so the others are kept
      for (const b of todo) {
        try {
          const refused = await writeBatch(ctx, [b], options, rules);
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
  const entries = pool ? preparedAhead(pool, lines, options.skip, rules) : readHere(lines, options.skip);
  for await (const entry of entries) {
    if (options.stopped?.()) {
      interrupted = true;
      break;
    }
    count.line = entry.line;
    if (entry.skip) continue;
    let item: Item;
    try {
      item = itemOf(ctx, entry, options, rules);
    } catch (err) {
      await flush();
      await fail(count.line, err);
      await options.onProgress?.({ ...count });
      continue;
    }
    if (bytes + entry.text.length > BATCH_BYTES) await flush();
    batch.push(item);
    bytes += entry.text.length;
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  if (interrupted) throw new ImportStopped();
  return count;
}
