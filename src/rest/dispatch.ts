// Bundle entry dispatch: a method and a FHIR URL (relative to the base) → the route of the one
// route table (src/rest/route-table.ts) that HTTP requests reach through Fastify, and its
// request fields. Batch and transaction entries thus re-enter the same table (as Medplum's
// fhir-router does): interactions and $operations alike. Like Fastify, a literal segment wins
// over a parameter (Patient/$match is the operation, not a read of the id '$match').
import { isFhirPathPatch } from './fhirpath-patch.ts';
import { decodeSegment, queryOf } from '../fhir/query.ts';
import { badRequest, notFound } from '../fhir/errors.ts';
import { checkPathParams, routeTable, type RouteSpec } from './route-table.ts';
import type { Context, FhirRequest, Handler } from './types.ts';

export interface Route {
  spec: RouteSpec;
  handler: Handler;
  resourceType?: string;
  id?: string;
  versionId?: string;
  compartmentType?: string;
  query: Record<string, string[]>;
}

interface Compiled {
  spec: RouteSpec;
  segments: string[];
  /** per segment, 0 for a literal and 1 for a parameter: the lowest sorts first */
  rank: string;
}

let compiled: Map<string, Compiled[]> | undefined;

/** The Bundle-reachable routes by method and segment count, most specific first. */
function routesFor(method: string, length: number): Compiled[] {
  if (!compiled) {
    compiled = new Map();
    for (const spec of routeTable()) {
      if (!spec.inBundle) continue;
      const segments = spec.path.split('/').filter(Boolean);
      const key = `${spec.method} ${segments.length}`;
      const list = compiled.get(key) ?? [];
      list.push({ spec, segments, rank: segments.map((s) => (s.startsWith(':') ? 1 : 0)).join('') });
      compiled.set(key, list);
    }
    for (const list of compiled.values()) list.sort((a, b) => a.rank.localeCompare(b.rank));
  }
  return compiled.get(`${method === 'HEAD' ? 'GET' : method} ${length}`) ?? [];
}

/** Resolves `url` (relative, or absolute on `baseUrl`) for `method`; 400/404 when nothing fits. */
export function route(method: string, url: string, baseUrl: string, ctx: Context): Route {
  let path = url;
  if (path.startsWith(`${baseUrl}/`)) path = path.slice(baseUrl.length + 1);
  else if (/^[a-z]+:/i.test(path)) throw badRequest(`Entry URL '${url.slice(0, 200)}' is not on this server's base ${baseUrl}`, 'invalid');
  path = path.replace(/^\/+/, '');
  const q = path.indexOf('?');
  const query = q >= 0 ? queryOf(path.slice(q + 1)) : (Object.create(null) as Record<string, string[]>);
  const segments = (q >= 0 ? path.slice(0, q) : path).split('/').filter(Boolean).map(decodeSegment);
  const m = method.toUpperCase();
  for (const c of routesFor(m, segments.length)) {
    const params: Record<string, string> = {};
    if (!c.segments.every((s, i) => (s.startsWith(':') ? ((params[s.slice(1)] = segments[i]), true) : s === segments[i]))) continue;
    checkPathParams(params, ctx);
    return {
      spec: c.spec,
      handler: c.spec.handler,
      resourceType: c.spec.resourceType ?? params.type,
      id: params.id,
      versionId: params.vid,
      compartmentType: params.ctype,
      query,
    };
  }
  throw notFound(`No FHIR interaction at ${m} ${path.slice(0, 200)}`);
}

/** A FhirRequest for a Bundle entry, inheriting the Bundle request's base URL and Prefer. */
export function entryRequest(parent: FhirRequest, method: string, r: Route, headers: Record<string, string | undefined>, body?: unknown): FhirRequest {
  return {
    method: method.toUpperCase(),
    baseUrl: parent.baseUrl,
    resourceType: r.resourceType,
    id: r.id,
    versionId: r.versionId,
    compartmentType: r.compartmentType,
    query: r.query,
    headers,
    body,
    // a Bundle's PATCH entry carries FHIRPath Patch as a Parameters resource, JSON Patch as a Binary
    contentType: method.toUpperCase() === 'PATCH' && !isFhirPathPatch(body) ? 'application/json-patch+json' : 'application/fhir+json',
    auth: parent.auth,
  };
}
