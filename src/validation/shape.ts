// The basic FHIR JSON rules every stored resource must meet, checked on every write before the
// full validator (profiles, invariants, terminology) exists: a known resourceType, a valid id,
// only known top-level elements, arrays exactly where the cardinality allows repeats, the JSON
// type of primitive elements, no nulls or empty values, and required top-level elements present.
import type { IssueInput } from '../fhir/errors.ts';
import type { ResourceTypes } from '../fhir/definitions.ts';
import { ID_PATTERN } from '../fhir/reference.ts';

const NUMBER_TYPES = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt']);
const PRIMITIVES = new Set([
  'boolean', 'string', 'code', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid', 'markdown', 'base64Binary',
  'date', 'dateTime', 'instant', 'time', 'xhtml', ...NUMBER_TYPES,
]);

export const MAX_STRING = 1024 * 1024;
const ELEMENT_NAME = /^_?[A-Za-z][A-Za-z0-9_]*$/;

function jsonKind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function primitiveOk(type: string, v: unknown): boolean {
  if (type === 'boolean') return typeof v === 'boolean';
  if (NUMBER_TYPES.has(type)) return typeof v === 'number' && Number.isFinite(v);
  // an empty string is of the right JSON type: emptyValues says what is wrong with it
  return typeof v === 'string';
}

/** Empty objects, arrays and strings, and nulls, are not allowed anywhere in FHIR JSON. */
function emptyValues(value: unknown, path: string, out: IssueInput[], depth = 0): void {
  if (out.length >= 100 || depth > 200) return;
  if (value === null) {
    out.push({ code: 'structure', diagnostics: `${path}: null is not allowed in FHIR JSON`, expression: [path] });
  } else if (typeof value === 'string') {
    if (value.length === 0) out.push({ code: 'structure', diagnostics: `${path}: empty strings are not allowed`, expression: [path] });
    // R4 datatypes: "strings SHALL NOT exceed 1 MB"; base64Binary data and xhtml narrative are no strings
    else if (value.length > MAX_STRING && !/\.(data|div)$/.test(path)) {
      out.push({ code: 'too-long', diagnostics: `${path}: strings are limited to 1 MB`, expression: [path] });
    }
  } else if (Array.isArray(value)) {
    if (value.length === 0) out.push({ code: 'structure', diagnostics: `${path}: empty arrays are not allowed`, expression: [path] });
    value.forEach((v, i) => {
      // repeating primitives and their _extension twins use null as a placeholder for
      // "no value (or no extension) at this position"
      if (v === null) return;
      emptyValues(v, `${path}[${i}]`, out, depth + 1);
    });
  } else if (typeof value === 'object') {
    const keys = Object.keys(value as object);
    if (keys.length === 0) out.push({ code: 'structure', diagnostics: `${path}: empty objects are not allowed`, expression: [path] });
    for (const k of keys) {
      // FHIR element names are letters and digits (with _ for primitive extensions): this also
      // keeps operator-like keys ($where, $set) out of every stored document
      if (!ELEMENT_NAME.test(k)) out.push({ code: 'structure', diagnostics: `${path}: '${k.slice(0, 64)}' is not a FHIR element name`, expression: [path] });
    }
    for (const k of keys) emptyValues((value as Record<string, unknown>)[k], `${path}.${k}`, out, depth + 1);
  }
}

/** Issues (errors) found in a candidate resource; empty when it meets the basic rules. */
export function checkShape(resource: unknown, types: ResourceTypes, nested = false): IssueInput[] {
  const issues: IssueInput[] = [];
  if (jsonKind(resource) !== 'object') {
    return [{ code: 'structure', diagnostics: 'The body must be a JSON object holding a FHIR resource' }];
  }
  const r = resource as Record<string, unknown>;
  const type = r.resourceType;
  if (typeof type !== 'string' || type.length === 0) {
    return [{ code: 'structure', diagnostics: 'The resource has no resourceType', expression: ['resourceType'] }];
  }
  if (!types.has(type)) {
    return [{ code: 'not-supported', diagnostics: `'${type.slice(0, 64)}' is not an R4 resource type`, expression: ['resourceType'] }];
  }
  if (r.id !== undefined && (typeof r.id !== 'string' || !ID_PATTERN.test(r.id))) {
    issues.push({ code: 'value', diagnostics: 'id must be 1-64 characters of A-Z a-z 0-9 - .', expression: [`${type}.id`] });
  }
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(r)) {
    if (key === 'resourceType') continue;
    const path = `${type}.${key}`;
    const el = types.elementForProperty(type, key);
    if (!el) {
      issues.push({ code: 'structure', diagnostics: `Unknown element '${key.slice(0, 64)}'`, expression: [path] });
      continue;
    }
    const primitiveExt = key.startsWith('_');
    const many = el.max !== '1' && el.max !== '0';
    let valueType = el.types[0];
    if (el.choice) {
      const suffix = (primitiveExt ? key.slice(1) : key).slice(el.name.length);
      valueType = el.types.find((t) => t.toLowerCase() === suffix.toLowerCase()) ?? '';
      if (!valueType || suffix[0] !== suffix[0].toUpperCase()) {
        issues.push({ code: 'structure', diagnostics: `'${key}' is not a valid type for ${el.name}[x]`, expression: [path] });
        continue;
      }
      if (seen.has(el.name)) {
        issues.push({ code: 'structure', diagnostics: `Only one type is allowed for ${el.name}[x]`, expression: [path] });
      }
      seen.add(el.name);
    }
    if (many !== Array.isArray(value) && value !== null) {
      issues.push({
        code: 'structure',
        diagnostics: many ? `'${key}' repeats, so it must be an array` : `'${key}' does not repeat, so it must not be an array`,
        expression: [path],
      });
      continue;
    }
    if (!primitiveExt && PRIMITIVES.has(valueType)) {
      const values = many ? (value as unknown[]) : [value];
      values.forEach((v, i) => {
        if (v !== null && !primitiveOk(valueType, v)) {
          issues.push({
            code: 'value',
            diagnostics: `'${key}' must be a JSON ${valueType === 'boolean' ? 'boolean' : NUMBER_TYPES.has(valueType) ? 'number' : 'string'} (${valueType}), not ${jsonKind(v)}`,
            expression: [many ? `${path}[${i}]` : path],
          });
        }
      });
    } else if (!primitiveExt && valueType && valueType !== 'Resource') {
      const values = many ? (value as unknown[]) : [value];
      values.forEach((v, i) => {
        if (jsonKind(v) !== 'object') {
          issues.push({ code: 'structure', diagnostics: `'${key}' must be a JSON object (${valueType})`, expression: [many ? `${path}[${i}]` : path] });
        }
      });
    }
  }
  for (const el of types.elements(type)) {
    if (el.min > 0 && !Object.keys(r).some((k) => types.elementForProperty(type, k) === el)) {
      issues.push({ code: 'required', diagnostics: `Missing required element '${el.name}${el.choice ? '[x]' : ''}'`, expression: [`${type}.${el.name}`] });
    }
  }
  if (!nested) emptyValues(r, type, issues);
  if (Array.isArray(r.contained)) {
    (r.contained as unknown[]).forEach((c, i) => {
      for (const issue of checkShape(c, types, true)) {
        issues.push({ ...issue, expression: issue.expression?.map((e) => `${type}.contained[${i}].${e.split('.').slice(1).join('.') || e}`) });
      }
    });
  }
  return issues;
}
