// GET [base]/metadata: https://hl7.org/fhir/R4/http.html#capabilities
// Generated from what this server really does: the resource types come from the R4 definitions,
// the interactions from the handlers registered in src/rest/router.ts.
import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4.js';
import { INTERACTIONS } from './router.ts';
import type { Context, FhirRequest, Handler } from './types.ts';

const SOFTWARE = { name: 'migfhir', version: '0.1.0' };
const cache = new Map<string, string>();

export function capabilityStatement(req: FhirRequest, ctx: Context): CapabilityStatement {
  const typeInteractions = INTERACTIONS.filter((i) => i.level !== 'system').map((i) => ({ code: i.code }));
  const resource = ctx.types.defs.resourceTypes.map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: typeInteractions as CapabilityStatementRestResource['interaction'],
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: false,
    conditionalRead: 'modified-since',
    conditionalUpdate: false,
    conditionalDelete: 'not-supported',
  })) as CapabilityStatementRestResource[];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'migfhir',
    kind: 'instance',
    software: SOFTWARE,
    implementation: { description: 'migfhir FHIR R4 server', url: req.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        documentation: `Storage engine: ${ctx.repo.store.engine}`,
        resource,
        interaction: INTERACTIONS.filter((i) => i.level === 'system').map((i) => ({ code: i.code })) as never,
      },
    ],
  };
}

export const metadata: Handler = async (req, ctx) => {
  let text = cache.get(req.baseUrl);
  if (!text) {
    text = JSON.stringify(capabilityStatement(req, ctx));
    cache.set(req.baseUrl, text);
  }
  return { status: 200, body: text };
};
