// One NDJSON line of an import as the resource to store, or why not (nothing about its content
// beyond its shape): the rules of the line itself, before the write pipeline. Run on the writer's
// thread (src/bulk/ndjson-import.ts) or ahead of it on a prepare thread (src/store/prepare), so
// both read a line alike.
import type { Resource } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { FhirError } from '../fhir/errors.ts';
import { isId } from '../fhir/reference.ts';

/** What the import's manifest and the server say of every line. */
export interface LineRules {
  /** the type every line must have, when the manifest says */
  type?: string;
  /** true when the server keeps an audit trail: AuditEvents cannot be imported into it */
  audit: boolean;
}

function invalid(diagnostics: string): FhirError {
  return new FhirError(422, { code: 'invalid', diagnostics });
}

/** The line's resource with its id (`id`, else a new one, when the line has none) and without
 * the server-managed meta; throws a FhirError when the line cannot be one. */
export function lineResource(text: string, types: { has(type: string): boolean }, rules: LineRules, id?: string): Resource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  const r = value as Resource;
  if (!r || typeof r !== 'object' || Array.isArray(r) || typeof r.resourceType !== 'string') throw invalid('not a FHIR resource (no resourceType)');
  if (!types.has(r.resourceType)) throw invalid(`'${r.resourceType.slice(0, 64)}' is not a resource type`);
  if (rules.type && r.resourceType !== rules.type) throw invalid(`a ${r.resourceType} in an input of ${rules.type}`);
  if (r.resourceType === 'AuditEvent' && rules.audit) throw new FhirError(405, { code: 'not-supported', diagnostics: 'The audit trail cannot be changed through the API' });
  if (r.id !== undefined && !isId(r.id)) throw invalid('its id is not a FHIR id');
  const resource = { ...r, id: r.id ?? id ?? randomUUID() } as Resource;
  if (resource.meta) {
    // server-managed: this server numbers its own versions
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta;
    if (Object.keys(meta).length) resource.meta = meta;
    else delete resource.meta;
  }
  return resource;
}
