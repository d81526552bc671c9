// search: https://hl7.org/fhir/R4/search.html and http.html#search
// GET [type]?…, POST [type]/_search (form body), GET [base]?_type=… (system level) and
// compartment search GET [Compartment]/[id]/[type]. Results are a searchset Bundle with
// keyset-cursor paging links that stay correct while data changes between pages.
import type { BundleLink, Resource } from 'fhir/r4.js';
import { badRequest, FhirError, operationOutcome } from '../fhir/errors.ts';
import { bundleText, type EntryText } from '../fhir/bundle.ts';
import type { Condition, Cursor } from '../search/ir.ts';
import { applySubsetting, subsettingOf } from './subsetting.ts';
import { allows, authorize, forbidden } from '../auth/authorize.ts';
import { refuseSensitiveSearch } from '../auth/sensitive-search.ts';
import type { SearchQuery } from '../search/ir.ts';

/** Every type a search touches — the searched ones, chain targets, _has sources — must be
 * searchable with the client's scopes; otherwise a join would reveal what it may not see. */
export function authorizeSearch(req: FhirRequest, q: SearchQuery, ctx: Context): void {
  if (!req.auth) return;
  for (const t of q.types) authorize(req.auth, t, 's');
  const walk = (c: Condition) => {
    if (c.kind === 'chain') {
      for (const t of c.targetTypes) authorize(req.auth, t, 's');
      walk(c.condition);
    } else if (c.kind === 'has') {
      authorize(req.auth, c.sourceType, 's');
      walk(c.condition);
    }
  };
  q.conditions.forEach(walk);
}
import type { Context, FhirRequest, FhirResponse, Handler } from './types.ts';
import { patientsOfStored } from '../audit/patients.ts';

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(token: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const ok = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => x === null || ['string', 'number'].includes(typeof x));
    if (c && (ok(c.after) || ok(c.before))) return c;
  } catch {
    // fall through
  }
  throw badRequest('_page is not a cursor this server issued', 'value');
}

export function handlingStrict(req: FhirRequest): boolean {
  return /handling\s*=\s*strict/i.test(req.headers.prefer ?? '');
}

/** Search-parameter query of a request: GET query, or the form body of POST _search. */
function searchParameters(req: FhirRequest): Record<string, string[]> {
  if (req.method !== 'POST') return req.query;
  const merged: Record<string, string[]> = Object.create(null);
  for (const [k, v] of Object.entries(req.query)) merged[k] = [...v];
  if (req.body !== undefined && req.contentType !== 'application/x-www-form-urlencoded') {
    throw new FhirError(415, { code: 'not-supported', diagnostics: 'POST _search takes its parameters as application/x-www-form-urlencoded' });
  }
  const body = req.body as Record<string, string[]> | undefined;
  if (body) for (const [k, v] of Object.entries(body)) (merged[k] ??= []).push(...v);
  return merged;
}

/** The compartment condition for GET [Compartment]/[id]/[type]. */
export function compartmentCondition(ctx: Context, compartment: string, id: string, type: string): Condition {
  const def = ctx.types.defs.compartments.find((c) => c.code === compartment);
  const codes = def?.resources[type];
  if (!def || !codes) throw badRequest(`${type} is not in the ${compartment} compartment`, 'invalid');
  if (codes.includes('{def}')) return { kind: 'id', values: [id], not: false };
  const params = codes.map((code) => ctx.search.get(type, code)).filter((p) => p?.type === 'reference').map((p) => p!.key);
  return { kind: 'compartment', params, targetType: compartment, targetId: id };
}

export async function runSearch(req: FhirRequest, ctx: Context, types: string[], path: string, extra: Condition[] = []): Promise<FhirResponse> {
  const params = searchParameters(req);
  const parsed = ctx.searchParser.parse({ types, query: params, baseUrl: req.baseUrl, strict: handlingStrict(req) });
  const q = parsed.query;
  q.conditions.push(...extra);
  authorizeSearch(req, q, ctx);
  await refuseSensitiveSearch(req, q, ctx.search, ctx.types.defs.resourceTypes, ctx.repo.store);
  const subset = subsettingOf({ ...req, query: params });
  const countOnly = subset?.summary === 'count';
  if (countOnly) {
    q.count = 0;
    q.total = 'accurate';
  }
  // _count=0 asks for the total alone
  if (q.count === 0 && q.total === 'none') q.total = 'accurate';
  const pageToken = params._page?.[0];
  const cursor = pageToken ? decodeCursor(pageToken) : undefined;
  const position = cursor?.after ?? cursor?.before;
  if (position && (position.length !== q.sort.length + 1 || typeof position[position.length - 1] !== 'number')) {
    throw badRequest('_page does not belong to this search (its _sort differs)', 'value');
  }
  const result = await ctx.repo.search(q, cursor);

  const selfParams = new URLSearchParams(parsed.applied);
  if (subset?.summary) selfParams.set('_summary', subset.summary);
  if (params._elements) selfParams.set('_elements', params._elements[0]);
  if (params._type && types.length) selfParams.set('_type', types.join(','));
  const link = (relation: string, c?: Cursor): BundleLink => {
    const p = new URLSearchParams(selfParams);
    if (c) p.set('_page', encodeCursor(c));
    const qs = p.toString();
    return { relation, url: `${req.baseUrl}/${path}${qs ? `?${qs}` : ''}` };
  };
  const links = [link('self', cursor), link('first')];
  const m = result.matches;
  if (m.length) {
    const forward = !cursor?.before;
    const moreBefore = forward ? cursor?.after !== undefined : result.hasMore;
    const moreAfter = forward ? result.hasMore : true;
    if (moreBefore) links.push(link('previous', { before: m[0].position }));
    if (moreAfter) links.push(link('next', { after: m[m.length - 1].position }));
  }
  let total = result.total;
  if (total === undefined && !cursor && !result.hasMore) total = m.length; // the whole result is on this page

  const render = (json: string): string => (subset && !countOnly ? JSON.stringify(applySubsetting(JSON.parse(json) as Resource, subset, ctx.types)) : json);
  // included resources of types the client may not read are left out, as if absent
  const included = result.included.filter((r) => allows(req.auth, r.resourceType, 'r'));
  if (subset && !countOnly && req.trail) req.trail.patients = patientsOfStored([...m, ...included]);
  const entries: EntryText[] = [
    ...m.map((r) => ({ fullUrl: `${req.baseUrl}/${r.resourceType}/${r.id}`, resourceJson: render(r.json), extra: { search: { mode: 'match' } } })),
    ...included.map((r) => ({ fullUrl: `${req.baseUrl}/${r.resourceType}/${r.id}`, resourceJson: render(r.json), extra: { search: { mode: 'include' } } })),
  ];
  if (parsed.ignored.length) {
    const oo = operationOutcome(parsed.ignored.map((i) => ({ severity: 'warning', code: 'not-supported', diagnostics: `Ignored: ${i.reason}`, expression: [i.name] })));
    entries.push({ resourceJson: JSON.stringify(oo), extra: { search: { mode: 'outcome' } } });
  }
  return { status: 200, body: bundleText('searchset', entries, { total, link: links }) };
}

export const searchType: Handler = async (req, ctx) => runSearch(req, ctx, [req.resourceType!], req.resourceType!);

export const searchSystem: Handler = async (req, ctx) => {
  const typeParam = searchParameters(req)._type?.join(',');
  let types = typeParam ? typeParam.split(',').map((t) => t.trim()).filter(Boolean) : ctx.types.defs.resourceTypes;
  // without _type, a system search covers the types the client may search
  if (!typeParam && req.auth) types = types.filter((t) => allows(req.auth, t, 's'));
  if (types.length === 0) throw forbidden('The access token allows searching no resource type');
  for (const t of types) if (!ctx.types.has(t)) throw badRequest(`_type: '${t.slice(0, 64)}' is not a resource type`, 'value');
  return runSearch(req, ctx, types, '');
};

export const searchCompartment: Handler = async (req, ctx) => {
  const compartment = req.resourceType!;
  const target = req.compartmentType!;
  if (target === '*') return searchWholeCompartment(req, ctx);
  return runSearch(req, ctx, [target], `${compartment}/${req.id}/${target}`, [compartmentCondition(ctx, compartment, req.id!, target)]);
};

/** [compartment]/[id]/* (search.html#compartment): every type that has members in the
 * compartment through its parameters, those the client may search, narrowed by `_type`. */
async function searchWholeCompartment(req: FhirRequest, ctx: Context): Promise<FhirResponse> {
  const compartment = req.resourceType!;
  const def = ctx.types.defs.compartments.find((c) => c.code === compartment);
  if (!def) throw badRequest(`${compartment} is not a compartment`, 'invalid');
  const wanted = req.query._type?.flatMap((v) => v.split(',')).filter(Boolean);
  const types = Object.entries(def.resources)
    .filter(([type, codes]) => codes.length > 0 && !codes.includes('{def}') && (!wanted || wanted.includes(type)) && allows(req.auth, type, 's'))
    .map(([type]) => type);
  if (types.length === 0) throw forbidden(`No type of the ${compartment} compartment can be searched here`);
  const params = types.flatMap((type) => (compartmentCondition(ctx, compartment, req.id!, type) as { params: string[] }).params);
  return runSearch(req, ctx, types, `${compartment}/${req.id}/*`, [{ kind: 'compartment', params, targetType: compartment, targetId: req.id! }]);
}
