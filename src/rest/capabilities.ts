// GET [base]/metadata: https://hl7.org/fhir/R4/http.html#capabilities
// Generated from what this server really does: the resource types and their search parameters
// come from the R4 definitions (plus custom SearchParameters), the interactions and operations
// from the route table (src/rest/route-table.ts) that also routes them, each operation's
// definition being the OperationDefinition this server serves (src/operations/definition.ts).
import { ResourceJson } from '../fhir/body.ts';
import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceSearchParam } from 'fhir/r4.js';
import { supportedProfiles } from '../ig/package.ts';
import type { Context, FhirRequest, Handler } from './types.ts';
import { ADAPTERS } from '../mapping/registry.ts';
import { definitionUrl } from '../operations/definition.ts';
import { BULK_DATA_CAPABILITY } from '../operations/export.ts';
import type { OperationSpec } from '../operations/types.ts';
import { routeTable, type RouteSpec } from './route-table.ts';

const SOFTWARE = { name: 'migfhir', version: '0.1.0' };
const OPEN_WARNING = 'WARNING: development open access — this server enforces no authorization (--dev-open-access).';
const SEARCHABLE = new Set(['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri']);

/** The interactions that change nothing. */
const READ_ONLY = new Set(['read', 'vread', 'history-instance', 'history-type', 'search-type']);

/** The interaction codes routed at these levels, in table order. */
function interactionCodes(routes: readonly RouteSpec[], system: boolean): { code: string }[] {
  const codes = routes.filter((r) => (r.level === 'system') === system).flatMap((r) => r.interactions);
  return [...new Set(codes)].map((code) => ({ code }));
}

/** The operations routed for a type (or at system level), once each. */
function operations(routes: readonly RouteSpec[], type: string | undefined): { name: string; definition: string }[] {
  const ops = new Set<OperationSpec>();
  for (const r of routes) {
    if (!r.operation) continue;
    const applies = type === undefined ? r.level === 'system' : r.level !== 'system' && (r.operation.resourceTypes === '*' || r.operation.resourceTypes.includes(type));
    if (applies) ops.add(r.operation);
  }
  return [...ops].map((o) => ({ name: o.code, definition: definitionUrl(o) }));
}

function searchParams(ctx: Context, type: string): CapabilityStatementRestResourceSearchParam[] {
  return [...ctx.search.forType(type)]
    .filter((p) => SEARCHABLE.has(p.type) && (p.evaluate || p.code === '_id' || p.code === '_lastUpdated'))
    .map((p) => ({ name: p.code, definition: p.url, type: p.type as CapabilityStatementRestResourceSearchParam['type'] }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function capabilityStatement(req: FhirRequest, ctx: Context): CapabilityStatement {
  const routes = routeTable();
  const typeInteractions = interactionCodes(routes, false);
  const profiles = supportedProfiles(ctx.ig);
  // the audit trail is written by the server alone (405 to every write of an AuditEvent)
  const auditReadOnly = Boolean(ctx.audit) || ctx.repo.store.auditLedger()?.kind === 'rows';
  const readOnlyInteractions = typeInteractions.filter((i) => READ_ONLY.has(i.code));
  const resource = ctx.types.defs.resourceTypes.map((type) => {
    const refs = [...ctx.search.forType(type)].filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`).sort();
    const typeOperations = operations(routes, type);
    if (type === 'AuditEvent' && auditReadOnly) {
      const readOperations = operations(routes.filter((r) => !r.changesData), type);
      return {
        type,
        profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
        interaction: readOnlyInteractions,
        versioning: 'versioned',
        readHistory: true,
        updateCreate: false,
        conditionalRead: 'modified-since',
        searchInclude: ['*', ...refs],
        searchRevInclude: ['*'],
        searchParam: searchParams(ctx, type),
        ...(readOperations.length ? { operation: readOperations } : {}),
      };
    }
    return {
      type,
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      ...(profiles.has(type) ? { supportedProfile: profiles.get(type) } : {}),
      interaction: typeInteractions,
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'modified-since',
      conditionalUpdate: true,
      conditionalDelete: ctx.config.conditionalDeleteMax > 1 ? 'multiple' : 'single',
      searchInclude: ['*', ...refs],
      searchRevInclude: ['*'],
      searchParam: searchParams(ctx, type),
      ...(typeOperations.length ? { operation: typeOperations } : {}),
    };
  }) as CapabilityStatementRestResource[];
  const systemOperations = operations(routes, undefined);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'migfhir',
    kind: 'instance',
    software: SOFTWARE,
    implementation: { description: 'migfhir FHIR R4 server', url: req.baseUrl },
    // the Bulk Data Access IG's server CapabilityStatement ($export at system, Patient and Group level)
    instantiates: [BULK_DATA_CAPABILITY],
    fhirVersion: '4.0.1',
    ...(ctx.ig?.guide ? { implementationGuide: [`${ctx.ig.guide.url}|${ctx.ig.guide.version}`] } : {}),
    format: ['application/fhir+json', 'json', 'application/fhir+xml', 'xml'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json', 'application/fhir+xml'],
    ...(ctx.config.devOpenAccess ? { description: OPEN_WARNING } : {}),
    rest: [
      {
        mode: 'server',
        documentation: `${ctx.config.devOpenAccess ? `${OPEN_WARNING} ` : ''}Storage engine: ${ctx.repo.store.engine}. Adapters: ${ADAPTERS.map((a) => `${a.id} ${a.version} (${a.country}; ${a.formats.join(', ')}; ${a.directions.join('/')}; via ${a.operations.join(', ')})`).join('; ')}`,
        security: ctx.config.devOpenAccess
          ? { description: OPEN_WARNING }
          : {
              service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
              description: 'SMART Backend Services (client_credentials with private_key_jwt); see .well-known/smart-configuration',
              extension: [
                {
                  url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                  extension: [{ url: 'token', valueUri: `${req.baseUrl}/auth/token` }],
                },
              ],
            },
        resource,
        interaction: interactionCodes(routes, true) as never,
        // system-level search takes the parameters every type shares
        searchParam: searchParams(ctx, 'Patient').filter((p) => p.name.startsWith('_')),
        ...(systemOperations.length ? { operation: systemOperations } : {}),
      },
    ],
  };
}

/** Per server and base URL; dropped when search parameters change. */
const caches = new WeakMap<Context, Map<string, string>>();

export function invalidateCapabilities(ctx: Context): void {
  caches.delete(ctx);
}

export const metadata: Handler = async (req, ctx) => {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new Map()));
  let text = cache.get(req.baseUrl);
  if (!text) {
    text = JSON.stringify(capabilityStatement(req, ctx));
    cache.set(req.baseUrl, text);
  }
  return { status: 200, body: new ResourceJson('CapabilityStatement', text) };
};
