// batch and transaction: https://hl7.org/fhir/R4/http.html#transaction
// POST [base] with a Bundle. A batch runs each entry on its own; a transaction runs every entry
// in one store transaction (all or nothing), in the spec's order DELETE, POST, PUT/PATCH, GET,
// after giving POSTed entries their ids and rewriting references to them (urn:uuid:, urn:oid:
// and other fullUrls, inside extensions, contained resources and narrative) and resolving
// conditional references (Patient?identifier=…) by search.
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from 'fhir/r4.js';
import { badRequest, FhirError, notSupported, preconditionFailed } from '../fhir/errors.ts';
import { bundleText, type EntryText } from '../fhir/bundle.ts';
import { parseReference } from '../fhir/reference.ts';
import { rewriteReferences } from './bundle-references.ts';
import { confirmedWrite, type PreparedBundle } from './bundle-prepared.ts';
import { MediaText, resourceOf, serialize } from '../fhir/body.ts';
import { criteria, queryFromHeader } from './conditional.ts';
import { entryRequest, route, type Route } from './dispatch.ts';
import { invoke } from './route-table.ts';
import { isRetryableStoreError } from '../store/retryable.ts';
import { isFhirPathPatch } from './fhirpath-patch.ts';
import type { Context, FhirRequest, FhirResponse, Handler } from './types.ts';

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 410: 'Gone', 413: 'Payload Too Large', 429: 'Too Many Requests',
  409: 'Conflict', 412: 'Precondition Failed', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 500: 'Internal Server Error', 501: 'Not Implemented',
};

interface Planned {
  index: number;
  method: string;
  url: string;
  route: Route;
  headers: Record<string, string | undefined>;
  body?: unknown;
  fullUrl?: string;
}

function statusText(status: number): string {
  return `${status} ${REASONS[status] ?? ''}`.trim();
}

/** The entry's request, checked: method and url are required. */
function plan(req: FhirRequest, ctx: Context, entry: BundleEntry, index: number): Planned {
  const method = entry.request?.method?.toUpperCase();
  const url = entry.request?.url;
  if (!method || !url) throw badRequest(`Bundle.entry[${index}] needs request.method and request.url`, 'required', [`Bundle.entry[${index}].request`]);
  if (!(method in ORDER)) throw badRequest(`Bundle.entry[${index}]: method ${method} is not allowed in a Bundle`, 'not-supported');
  const headers: Record<string, string | undefined> = { prefer: 'return=representation' };
  if (entry.request?.ifMatch) headers['if-match'] = entry.request.ifMatch;
  if (entry.request?.ifNoneMatch) headers['if-none-match'] = entry.request.ifNoneMatch;
  if (entry.request?.ifNoneExist) headers['if-none-exist'] = entry.request.ifNoneExist;
  if (entry.request?.ifModifiedSince) headers['if-modified-since'] = entry.request.ifModifiedSince;
  let body: unknown = entry.resource;
  if (method === 'PATCH') body = patchBody(entry.resource, index);
  else if ((method === 'POST' || method === 'PUT') && !entry.resource) {
    throw badRequest(`Bundle.entry[${index}]: ${method} needs a resource`, 'required', [`Bundle.entry[${index}].resource`]);
  }
  return { index, method, url, route: route(method, url, req.baseUrl, ctx), headers, body, fullUrl: entry.fullUrl };
}

/** FHIRPath Patch in a Bundle is a Parameters resource; JSON Patch travels as a Binary
 * (contentType application/json-patch+json). */
function patchBody(resource: Resource | undefined, index: number): unknown {
  if (isFhirPathPatch(resource)) return resource;
  const b = resource as { resourceType?: string; contentType?: string; data?: string } | undefined;
  if (b?.resourceType !== 'Binary' || b.contentType !== 'application/json-patch+json' || !b.data) {
    throw badRequest(`Bundle.entry[${index}]: PATCH needs a Parameters resource (FHIRPath Patch) or a Binary with contentType application/json-patch+json`, 'not-supported');
  }
  try {
    return JSON.parse(Buffer.from(b.data, 'base64').toString('utf8'));
  } catch {
    throw badRequest(`Bundle.entry[${index}]: the Binary's data is not a JSON Patch document`, 'structure');
  }
}

/** One entry's answer as a Bundle response entry. */
function responseEntry(res: FhirResponse, includeResource: boolean): EntryText {
  const h = res.headers ?? {};
  const response: Record<string, unknown> = { status: statusText(res.status) };
  if (h.location) response.location = h.location;
  else if (h['content-location']) response.location = h['content-location'];
  if (h.etag) response.etag = h.etag;
  if (h['last-modified']) response.lastModified = new Date(h['last-modified']).toISOString();
  let resourceJson: string | undefined;
  if (res.body !== undefined) {
    if (res.body.resourceType === 'OperationOutcome') response.outcome = resourceOf(res.body);
    else if (includeResource) resourceJson = serialize(res.body);
  }
  return { resourceJson, extra: { response } };
}

/** An answer in a media type of the operation's own (HL7 v2 ER7) travels in a Bundle as a Binary. */
function asResource(res: FhirResponse): FhirResponse {
  return res.body instanceof MediaText ? { ...res, body: res.body.resource } : res;
}

function errorEntry(err: unknown): EntryText {
  const e = err instanceof FhirError ? err : new FhirError(500, { code: 'exception', diagnostics: 'Internal error while processing the entry' });
  return { extra: { response: { status: statusText(e.status), outcome: e.outcome } } };
}

/** Prefixes an entry's error with where it happened; the status stays the entry's own. An
 * error the engine retries the transaction on (a MongoDB write conflict) passes unchanged, with
 * its labels: wrapped, it would end the transaction with a 500 instead of a new attempt. */
function atEntry(err: unknown, p: Planned): unknown {
  if (isRetryableStoreError(err)) return err;
  const where = `Bundle.entry[${p.index}]`;
  if (err instanceof FhirError) {
    const outcome = err.outcome as OperationOutcome;
    return new FhirError(
      err.status,
      outcome.issue.map((i) => ({
        severity: i.severity,
        code: i.code,
        diagnostics: `${where} (${p.method} ${p.url.slice(0, 100)}): ${i.diagnostics ?? ''}`,
        expression: [where, ...(i.expression ?? []).map((x) => `${where}.resource.${x}`)],
      })),
      err.headers,
    );
  }
  return new FhirError(500, { code: 'exception', diagnostics: `${where}: internal error`, expression: [where] });
}

/** Whether an entry's response carries its resource whatever the Bundle's Prefer says: a read
 * or search, and an operation, whose answer is its result (Prefer return= shapes the answers
 * of create, update and patch). */
function answersWithBody(p: Planned): boolean {
  return p.method === 'GET' || p.method === 'HEAD' || p.route.spec.operation !== undefined;
}

async function batch(req: FhirRequest, ctx: Context, entries: BundleEntry[], representation: boolean): Promise<EntryText[]> {
  const out: EntryText[] = [];
  for (let i = 0; i < entries.length; i++) {
    try {
      const p = plan(req, ctx, entries[i], i);
      const res = await invoke(p.route.spec, entryRequest(req, p.method, p.route, p.headers, p.body), ctx);
      out.push(responseEntry(asResource(res), representation || answersWithBody(p)));
    } catch (err) {
      out.push(errorEntry(err));
    }
  }
  return out;
}

async function transaction(req: FhirRequest, ctx: Context, entries: BundleEntry[], representation: boolean, prepared?: PreparedBundle): Promise<EntryText[]> {
  if (ctx.repo.store.atomicTransactions === false) {
    throw notSupported(`Transaction Bundles need atomic multi-document writes, which this server's ${ctx.repo.store.engine} store lacks (a standalone server, not a replica set); send a batch Bundle, or run the database as a replica set`);
  }
  const limit = ctx.repo.store.maxTransactionEntries;
  if (limit !== undefined && entries.length > limit) {
    throw new FhirError(413, { code: 'too-costly', diagnostics: `The transaction Bundle has ${entries.length} entries; this server's ${ctx.repo.store.engine} store commits at most ${limit} in one transaction. Split it, or send a batch` });
  }
  const checked = entries.map((e, i) => plan(req, ctx, e, i));
  for (const p of checked) {
    const why = p.route.spec.operation?.notInTransaction;
    if (why) throw atEntry(badRequest(`$${p.route.spec.operation!.code} cannot be part of a transaction: it ${why}; send it on its own or in a batch`, 'not-supported'), p);
  }
  let results: EntryText[] = [];
  await ctx.repo.transaction(async () => {
    // The engine may run this more than once (MongoDB retries a transaction after a write
    // conflict): every attempt starts from the entries as sent — new ids, conditional criteria
    // and references resolved again — since the planning below changes what it works on.
    // The copies are made only on such an engine: SQLite runs this once, and copying every
    // body cost the HL7 v2 feed ~0.1 ms of CPU a message.
    results = new Array(entries.length);
    const fresh = ctx.repo.store.retriesTransactions === true;
    const planned = checked.map((p) => ({ ...p, body: p.body === undefined || !fresh ? p.body : structuredClone(p.body) }));
    const ids = new Map<string, string>();
    const targets = new Map<string, number>();
    const claim = (target: string, p: Planned) => {
      const other = targets.get(target);
      if (other !== undefined) {
        throw badRequest(`Bundle.entry[${p.index}] and Bundle.entry[${other}] both write ${target}`, 'duplicate', [`Bundle.entry[${p.index}]`]);
      }
      targets.set(target, p.index);
    };
    const alias = (p: Planned, target: string) => {
      if (!p.fullUrl) return;
      ids.set(p.fullUrl, target);
      // entries may also refer to an absolute fullUrl by its relative Type/id form
      const ref = parseReference(p.fullUrl);
      if (ref?.kind === 'absolute' && ref.version === undefined) ids.set(`${ref.type}/${ref.id}`, target);
    };
    const matchIds = async (type: string, query: Record<string, string[]>): Promise<string[]> => {
      const q = await criteria(req, ctx, type, query);
      return (await ctx.repo.conditionalMatches(q, 2)).map((m) => m.id);
    };
    // 1. identities: POSTs get their ids now; conditional PUTs and creates are resolved
    for (const p of planned) {
      try {
        const type = p.route.resourceType;
        if (p.method === 'POST' && type && p.route.spec.interactions.includes('create')) {
          const ifNoneExist = p.headers['if-none-exist'];
          // the id its preparation guessed, when prepared ahead (bundle-prepared.ts)
          let id: string = prepared?.entries[p.index]?.id ?? randomUUID();
          if (ifNoneExist) {
            const found = await matchIds(type, queryFromHeader(ifNoneExist));
            if (found.length > 1) throw preconditionFailed('If-None-Exist matches more than one resource');
            if (found.length === 1) id = found[0];
          }
          p.route = { ...p.route, assignedId: id } as Route;
          claim(`${type}/${id}`, p);
          alias(p, `${type}/${id}`);
        } else if ((p.method === 'PUT' || p.method === 'PATCH' || p.method === 'DELETE') && type) {
          if (p.route.id) {
            claim(`${type}/${p.route.id}`, p);
            if (p.method === 'PUT') alias(p, `${type}/${p.route.id}`);
          } else if (p.method === 'PUT') {
            const found = await matchIds(type, p.route.query);
            if (found.length > 1) throw preconditionFailed('The conditional update criteria match more than one resource');
            const body = p.body as Resource;
            const id = found[0] ?? body.id ?? randomUUID();
            if (found[0] && body.id && body.id !== found[0]) throw badRequest(`The body's id does not match the resource the criteria found (${found[0]})`);
            p.body = { ...body, id };
            p.route = { ...p.route, id, query: Object.create(null) };
            claim(`${type}/${id}`, p);
            alias(p, `${type}/${id}`);
          }
        }
      } catch (err) {
        throw atEntry(err, p);
      }
    }
    // 2. the entries, in the spec's order. References are rewritten just before an entry runs,
    // so a conditional reference also finds what earlier entries of this transaction created.
    const resolveConditional = async (ref: string) => {
      const [type, qs] = [ref.slice(0, ref.indexOf('?')), ref.slice(ref.indexOf('?') + 1)];
      if (!ctx.types.has(type)) throw badRequest(`Conditional reference '${ref.slice(0, 100)}' names an unknown type`);
      const found = await matchIds(type, queryFromHeader(qs));
      if (found.length !== 1) {
        throw preconditionFailed(`Conditional reference '${ref.slice(0, 100)}' matches ${found.length === 0 ? 'no' : 'more than one'} resource`);
      }
      return `${type}/${found[0]}`;
    };
    const ordered = [...planned].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index);
    for (const p of ordered) {
      let res: FhirResponse;
      try {
        if (p.body && typeof p.body === 'object' && p.method !== 'PATCH') await rewriteReferences(p.body, ids, resolveConditional);
        const r = entryRequest(req, p.method, p.route, p.headers, p.body);
        r.assignedId = (p.route as Route & { assignedId?: string }).assignedId;
        if (prepared && (p.method === 'POST' || p.method === 'PUT') && !p.headers['if-match']) {
          const write = confirmedWrite(prepared, p.index, p.method === 'POST' ? r.assignedId : p.route.id, ids);
          if (write) r.prepared = write;
        }
        res = await invoke(p.route.spec, r, ctx);
      } catch (err) {
        throw atEntry(err, p);
      }
      results[p.index] = responseEntry(asResource(res), representation || answersWithBody(p));
    }
  });
  return results;
}

export const bundle: Handler = (req, ctx) => processBundle(req, ctx);

/** POST [base] with a Bundle; `prepared`: a transaction's entries prepared ahead of it, off this
 * thread (bundle-prepared.ts: an adapter's feed). */
export async function processBundle(req: FhirRequest, ctx: Context, prepared?: PreparedBundle): Promise<FhirResponse> {
  const b = req.body as Bundle | undefined;
  if (!b || typeof b !== 'object' || b.resourceType !== 'Bundle') {
    throw badRequest('POST to the base URL takes a Bundle of type batch or transaction', 'invalid', ['resourceType']);
  }
  if (b.type !== 'batch' && b.type !== 'transaction') {
    throw badRequest(`Bundle.type must be batch or transaction, not '${String(b.type).slice(0, 32)}'`, 'value', ['Bundle.type']);
  }
  const entries = b.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array', 'structure', ['Bundle.entry']);
  if (entries.length > ctx.config.maxBundleEntries) {
    throw new FhirError(413, { code: 'too-costly', diagnostics: `The Bundle has ${entries.length} entries; this server takes at most ${ctx.config.maxBundleEntries}` });
  }
  const representation = /return\s*=\s*representation/i.test(req.headers.prefer ?? '');
  const out = b.type === 'batch' ? await batch(req, ctx, entries, representation) : await transaction(req, ctx, entries, representation, prepared);
  const type = b.type === 'batch' ? 'batch-response' : 'transaction-response';
  return { status: 200, body: bundleText(type, out, { id: randomUUID() }) };
};

