// _summary and _elements (https://hl7.org/fhir/R4/search.html#summary, #elements): a subset of
// a resource's top-level elements, marked with the SUBSETTED tag as the spec asks.
import type { Resource } from 'fhir/r4.js';
import { badRequest } from '../fhir/errors.ts';
import type { ResourceTypes } from '../fhir/definitions.ts';
import { firstParam, type FhirRequest } from './types.ts';

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';
const SUMMARY_MODES = new Set(['true', 'text', 'data', 'count', 'false']);
const ALWAYS = new Set(['resourceType', 'id', 'meta']);
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

export interface Subsetting {
  summary?: SummaryMode;
  elements?: Set<string>;
}

export function subsettingOf(req: FhirRequest): Subsetting | undefined {
  const summary = firstParam(req, '_summary');
  const elements = firstParam(req, '_elements');
  if (summary !== undefined && !SUMMARY_MODES.has(summary)) {
    throw badRequest(`_summary must be one of true, text, data, count, false`, 'value');
  }
  if (summary === undefined && elements === undefined) return undefined;
  if (summary !== undefined && summary !== 'false' && elements !== undefined) {
    throw badRequest('_summary and _elements cannot be combined', 'invalid');
  }
  const out: Subsetting = {};
  if (summary && summary !== 'false') out.summary = summary as SummaryMode;
  if (elements !== undefined) {
    // "Patient.name" and "name" both name the top-level element
    out.elements = new Set(
      elements.split(',').map((e) => e.trim()).filter(Boolean).map((e) => (e.includes('.') ? e.slice(e.indexOf('.') + 1) : e)),
    );
  }
  return out.summary || out.elements ? out : undefined;
}

/** A copy of `resource` reduced per `s`; the input is not changed. */
export function applySubsetting(resource: Resource, s: Subsetting, types: ResourceTypes): Resource {
  const type = resource.resourceType;
  const keep = (key: string): boolean => {
    if (ALWAYS.has(key)) return true;
    const el = types.elementForProperty(type, key);
    if (!el) return false;
    if (s.elements) return s.elements.has(el.name) || el.min > 0 || el.modifier;
    switch (s.summary) {
      case 'true':
        return el.summary || el.min > 0;
      case 'text':
        return el.name === 'text' || el.min > 0;
      case 'data':
        return el.name !== 'text';
      default:
        return true;
    }
  };
  const out: Record<string, unknown> = {};
  let removed = false;
  for (const [k, v] of Object.entries(resource)) {
    if (keep(k)) out[k] = v;
    else removed = true;
  }
  if (removed || s.summary === 'text' || s.summary === 'data' || s.summary === 'true') {
    const meta = { ...(resource.meta ?? {}) };
    const tags = (meta.tag ?? []).filter((t) => !(t.system === SUBSETTED.system && t.code === SUBSETTED.code));
    meta.tag = [...tags, SUBSETTED];
    out.meta = meta;
  }
  return out as unknown as Resource;
}
