// The framework-free router: a method and a FHIR URL (relative to the base) → the handler and
// its request fields. Bundle entries are dispatched here (Medplum's fhir-router does the same);
// HTTP requests go through Fastify's router in src/http/routes.ts to the same handlers.
import { isFhirPathPatch } from './fhirpath-patch.ts';
import { decodeSegment, queryOf } from '../fhir/query.ts';
import { badRequest, FhirError, notFound, ID_PATTERN } from '../fhir/errors.ts';
import { create } from './create.ts';
import { remove } from './delete.ts';
import { history } from './history.ts';
import { patch } from './patch.ts';
import { read, vread } from './read.ts';
import { searchCompartment, searchSystem, searchType } from './search.ts';
import type { Context, FhirRequest, Handler } from './types.ts';
import { update } from './update.ts';
import { metadata } from './capabilities.ts';

export interface Route {
  handler: Handler;
  resourceType?: string;
  id?: string;
  versionId?: string;
  compartmentType?: string;
  query: Record<string, string[]>;
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
  const [type, id, third, fourth] = segments;
  const known = (t: string) => {
    if (!ctx.types.has(t)) throw notFound(`Unknown resource type '${t.slice(0, 64)}'`);
    return t;
  };
  const validId = (v: string) => {
    if (!ID_PATTERN.test(v)) throw badRequest(`Invalid id '${v.slice(0, 64)}'`, 'value');
    return v;
  };
  const m = method.toUpperCase();
  if (type === 'AuditEvent' && m !== 'GET' && m !== 'HEAD' && ctx.audit) {
    throw new FhirError(405, { code: 'not-supported', diagnostics: 'The audit trail cannot be changed through the API' });
  }
  const none = () => notFound(`No FHIR interaction at ${m} ${path.slice(0, 200)}`);
  switch (segments.length) {
    case 0:
      if (m === 'GET') return { handler: searchSystem, query };
      throw none();
    case 1:
      if (type === 'metadata' && m === 'GET') return { handler: metadata, query };
      if (type === '_history' && m === 'GET') return { handler: history, query };
      known(type);
      if (m === 'GET') return { handler: searchType, resourceType: type, query };
      if (m === 'POST') return { handler: create, resourceType: type, query };
      if (m === 'PUT') return { handler: update, resourceType: type, query };
      if (m === 'PATCH') return { handler: patch, resourceType: type, query };
      if (m === 'DELETE') return { handler: remove, resourceType: type, query };
      throw none();
    case 2:
      known(type);
      if (id === '_history' && m === 'GET') return { handler: history, resourceType: type, query };
      if (id === '_search' && m === 'POST') return { handler: searchType, resourceType: type, query };
      validId(id);
      if (m === 'GET' || m === 'HEAD') return { handler: read, resourceType: type, id, query };
      if (m === 'PUT') return { handler: update, resourceType: type, id, query };
      if (m === 'PATCH') return { handler: patch, resourceType: type, id, query };
      if (m === 'DELETE') return { handler: remove, resourceType: type, id, query };
      throw none();
    case 3:
      known(type);
      validId(id);
      if (m !== 'GET') throw none();
      if (third === '_history') return { handler: history, resourceType: type, id, query };
      return { handler: searchCompartment, resourceType: type, id, compartmentType: third === '*' ? third : known(third), query };
    case 4:
      known(type);
      validId(id);
      if (third === '_history' && m === 'GET') return { handler: vread, resourceType: type, id, versionId: fourth, query };
      throw none();
    default:
      throw none();
  }
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
