// The one route table: every interaction and operation this server offers, as data. Fastify's
// routes (src/http/routes.ts), Bundle entry dispatch (src/rest/dispatch.ts: batch and transaction
// entries re-enter this table, as Medplum's router does), the CapabilityStatement
// (src/rest/capabilities.ts) and the served OperationDefinitions (src/operations/definition.ts)
// are all generated from it, so what the server says it does and what it routes cannot drift.
import { authorize, authorizeAll } from '../auth/authorize.ts';
import type { Permission } from '../auth/scopes.ts';
import { assertValidId, FhirError, notFound } from '../fhir/errors.ts';
import { OPERATION_SPECS } from '../operations/index.ts';
import type { OperationLevel, OperationSpec } from '../operations/types.ts';
import { bundle } from './bundle.ts';
import { metadata } from './capabilities.ts';
import { create } from './create.ts';
import { remove } from './delete.ts';
import { history } from './history.ts';
import { checkParameters } from './operation-parameters.ts';
import { patch } from './patch.ts';
import { read, vread } from './read.ts';
import { searchCompartment, searchSystem, searchType } from './search.ts';
import type { Context, FhirRequest, FhirResponse, Handler } from './types.ts';
import { update } from './update.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  method: Method;
  /** relative to the base, Fastify's syntax: `:type` a resource type, `:id` an id, `:vid` a
   * version, `:ctype` a compartment's searched type (or *) */
  path: string;
  level: OperationLevel;
  /** its CapabilityStatement interaction codes (none for /metadata and operations) */
  interactions: string[];
  operation?: OperationSpec;
  /** the resource type of a path that names one (Patient/$match) */
  resourceType?: string;
  /** the interaction the audit trail records, from the request body (a Bundle's type) */
  audit: (body: unknown) => string;
  /** whether this request writes: it then runs in one transaction with its AuditEvent */
  writes: (req: FhirRequest) => boolean;
  /** the SMART permissions it needs on its resource type (without one: on every type,
   * system/*), checked before the handler; handlers add what depends on the request */
  access: Permission[];
  /** whether it may change stored data (the AuditEvent write guard) */
  changesData: boolean;
  /** takes Bundle-sized bodies (config.maxBundleBytes) */
  bundleBody: boolean;
  /** reachable as a Bundle entry (a Bundle inside a Bundle is not) */
  inBundle: boolean;
  handler: Handler;
}

const always = () => true;
const never = () => false;
const named = (name: string) => () => name;

function interaction(method: Method, path: string, level: OperationLevel, code: string, access: Permission[], handler: Handler): RouteSpec {
  const changesData = ['create', 'update', 'patch', 'delete'].includes(code);
  return { method, path, level, interactions: [code], audit: named(code), writes: changesData ? always : never, access, changesData, bundleBody: false, inBundle: true, handler };
}

const isTransaction = (body: unknown) => (body as { type?: string } | undefined)?.type === 'transaction';

/** The RESTful interactions (https://hl7.org/fhir/R4/http.html). */
function interactions(): RouteSpec[] {
  return [
    { ...interaction('GET', '/metadata', 'system', 'capabilities', [], metadata), interactions: [] },
    interaction('GET', '/_history', 'system', 'history-system', ['r'], history),
    // the types a system search reaches are checked by the search
    interaction('GET', '/', 'system', 'search-system', [], searchSystem),
    interaction('POST', '/_search', 'system', 'search-system', [], searchSystem),
    // batch and transaction share the URL; the Bundle's type says which (and whether it
    // writes); each entry is authorized as the interaction it is
    {
      ...interaction('POST', '/', 'system', 'transaction', [], bundle),
      interactions: ['transaction', 'batch'],
      audit: (body) => (isTransaction(body) ? 'transaction' : 'batch'),
      writes: (req) => isTransaction(req.body),
      bundleBody: true,
      inBundle: false,
    },
    interaction('GET', '/:type', 'type', 'search-type', ['s'], searchType),
    interaction('POST', '/:type/_search', 'type', 'search-type', ['s'], searchType),
    // create; with If-None-Exist the handler adds search
    interaction('POST', '/:type', 'type', 'create', ['c'], create),
    // conditional update, patch and delete: found by search
    interaction('PUT', '/:type', 'type', 'update', ['s', 'u', 'c'], update),
    interaction('PATCH', '/:type', 'type', 'patch', ['u', 's'], patch),
    interaction('DELETE', '/:type', 'type', 'delete', ['d', 's'], remove),
    interaction('GET', '/:type/_history', 'type', 'history-type', ['r'], history),
    interaction('GET', '/:type/:id', 'instance', 'read', ['r'], read),
    // an update that creates: the handler adds create
    interaction('PUT', '/:type/:id', 'instance', 'update', ['u'], update),
    interaction('PATCH', '/:type/:id', 'instance', 'patch', ['u'], patch),
    interaction('DELETE', '/:type/:id', 'instance', 'delete', ['d'], remove),
    interaction('GET', '/:type/:id/_history', 'instance', 'history-instance', ['r'], history),
    interaction('GET', '/:type/:id/_history/:vid', 'instance', 'vread', ['r'], vread),
    // a compartment search is a search of the type it names (checked by the search)
    interaction('GET', '/:type/:id/:ctype', 'instance', 'search-type', [], searchCompartment),
  ];
}

/** An operation's routes: each level it has, each method it takes, under each of its types. */
export function operationRoutes(op: OperationSpec): RouteSpec[] {
  const methods: Method[] = [...(op.get ? (['GET'] as const) : []), ...(op.post ? (['POST'] as const) : [])];
  const types = op.resourceTypes === '*' ? [':type'] : op.resourceTypes;
  const paths: { path: string; level: OperationLevel; resourceType?: string }[] = [];
  for (const level of op.levels) {
    if (level === 'system') paths.push({ path: `/$${op.code}`, level });
    for (const t of level === 'system' ? [] : types) {
      const resourceType = t === ':type' ? undefined : t;
      if (level === 'type') paths.push({ path: `/${t}/$${op.code}`, level, resourceType });
      if (level === 'instance') {
        paths.push({ path: `/${t}/:id/$${op.code}`, level, resourceType });
        if (op.versioned) paths.push({ path: `/${t}/:id/_history/:vid/$${op.code}`, level, resourceType });
      }
    }
  }
  const writes = typeof op.writes === 'function' ? op.writes : op.writes ? always : never;
  return paths.flatMap((p) =>
    methods.map((method) => ({
      method,
      ...p,
      interactions: [],
      operation: op,
      audit: named(op.auditAs ?? 'operation'),
      writes,
      access: op.access ?? [],
      changesData: op.affectsState,
      bundleBody: op.bundleBody ?? false,
      inBundle: true,
      handler: op.handler,
    })),
  );
}

let table: RouteSpec[] | undefined;

/** Built on first use: operation modules import the REST handlers, which import this table. */
export function routeTable(): readonly RouteSpec[] {
  table ??= [...OPERATION_SPECS.flatMap(operationRoutes), ...interactions()];
  return table;
}

/** The route's path parameters, checked: a known type (404), a valid id (400). */
export function checkPathParams(params: { type?: string; id?: string; ctype?: string }, ctx: Context): void {
  if (params.type !== undefined && !ctx.types.has(params.type)) throw notFound(`Unknown resource type '${params.type.slice(0, 64)}'`);
  if (params.id !== undefined) assertValidId(params.id);
  if (params.ctype !== undefined && params.ctype !== '*' && !ctx.types.has(params.ctype)) throw notFound(`Unknown resource type '${params.ctype.slice(0, 64)}'`);
}

/** Runs a route's handler, whichever door the request came through (HTTP or a Bundle entry):
 * the audit trail cannot be changed through the API, the token must allow what the route
 * needs, and an operation takes only the parameters it declares. */
export async function invoke(spec: RouteSpec, req: FhirRequest, ctx: Context): Promise<FhirResponse> {
  if (spec.changesData && req.resourceType === 'AuditEvent' && ctx.audit) {
    throw new FhirError(405, { code: 'not-supported', diagnostics: 'The audit trail cannot be changed through the API' });
  }
  if (spec.access.length) {
    if (req.resourceType) authorize(req.auth, req.resourceType, ...spec.access);
    else authorizeAll(req.auth, ...spec.access);
  }
  return spec.handler(spec.operation ? checkParameters(spec.operation, req) : req, ctx);
}
