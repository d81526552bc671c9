// Sensitive migration data (WHO Europe: protect migration-health data from misuse). Elements
// that reveal migration status, the migration journey or vulnerabilities — the IG's extensions
// for them — are labelled on write with meta.security (restricted confidentiality, a
// migration-data sensitivity and a no-disclosure-for-non-health-purposes policy). Clients
// without the explicit scope MIGRATION_SCOPE receive such resources with those elements
// removed and the REDACTED label, and cannot search on them.
import type { Coding, Extension, Resource } from 'fhir/r4.js';
import { forbidden } from './authorize.ts';

export { MIGRATION_DATA_SCOPE as MIGRATION_SCOPE } from './scopes.ts';
export const SENSITIVITY_SYSTEM = 'https://migfhir.org/fhir/CodeSystem/sensitivity';
const MARKER = SENSITIVITY_SYSTEM;

export const LABELS: Coding[] = [
  { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R', display: 'restricted' },
  { system: SENSITIVITY_SYSTEM, code: 'migration', display: 'migration status, journey or vulnerability' },
  { system: SENSITIVITY_SYSTEM, code: 'no-non-health-use', display: 'no disclosure for non-health purposes' },
];
export const REDACTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' };

/** Extension URLs of sensitive elements: the IG's own (any canonical base) by their names. */
const SENSITIVE_EXTENSION = /\/StructureDefinition\/(migration-?status|migration-?journey|vulnerabilit(y|ies)|asylum[-a-z]*|residence-?status)$/i;

export function isSensitiveExtension(url: unknown): boolean {
  return typeof url === 'string' && SENSITIVE_EXTENSION.test(url);
}

function hasSensitive(value: unknown, depth = 0): boolean {
  if (depth > 64 || !value || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasSensitive(v, depth + 1));
  const obj = value as Record<string, unknown>;
  if (isSensitiveExtension(obj.url)) return true;
  return Object.entries(obj).some(([k, v]) => k !== 'meta' && typeof v === 'object' && hasSensitive(v, depth + 1));
}

/** Adds the labels to a resource holding sensitive elements (in place). */
export function labelSensitive(resource: Resource): void {
  if (!hasSensitive(resource)) return;
  const security = [...(resource.meta?.security ?? [])];
  for (const l of LABELS) if (!security.some((s) => s.system === l.system && s.code === l.code)) security.push(l);
  resource.meta = { ...resource.meta, security };
}

function strip(value: unknown, depth = 0): unknown {
  if (depth > 64 || !value || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const kept = value.filter((v) => !(v && typeof v === 'object' && isSensitiveExtension((v as Record<string, unknown>).url))).map((v) => strip(v, depth + 1));
    return kept;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const s = strip(v, depth + 1);
    if (Array.isArray(s) && s.length === 0) continue; // no empty arrays in FHIR JSON
    out[k] = s;
  }
  return out;
}

function redactResource(r: Record<string, unknown>): Record<string, unknown> {
  const meta = r.meta as { security?: Coding[] } | undefined;
  if (!meta?.security?.some((s) => s.system === SENSITIVITY_SYSTEM)) {
    if (r.resourceType === 'Bundle' && Array.isArray(r.entry)) {
      return { ...r, entry: (r.entry as Record<string, unknown>[]).map((e) => (e.resource ? { ...e, resource: redactResource(e.resource as Record<string, unknown>) } : e)) };
    }
    return r;
  }
  const out = strip(r) as Record<string, unknown>;
  const m = { ...(out.meta as object) } as { security?: Coding[] };
  m.security = [...(m.security ?? []), REDACTED];
  out.meta = m;
  return out;
}

/** What a client without the scope sees of a stored resource (patches apply to this view). */
export function withoutSensitive(resource: Resource): Resource {
  return strip(resource) as Resource;
}

/** A write by a client without the scope: it could neither see the stored version's sensitive
 * elements nor change them, so they are kept — a PUT or PATCH from a system without the
 * migration-data scope must not erase a patient's migration data. The IG's sensitive
 * extensions sit on the resource root; a stored version holding others deeper in (from another
 * source) cannot be merged safely, and the write is refused (403) rather than losing them. The
 * client's own sensitive extensions are written where the stored version has none of that url,
 * and a REDACTED label echoed from a response is dropped. `storedVersion` may be the stored
 * JSON, which is then parsed only when it carries the sensitivity label. */
export function keepSensitive(next: Resource, storedVersion: Resource | string): Resource {
  const security = next.meta?.security?.filter((c) => !(c.system === REDACTED.system && c.code === REDACTED.code));
  const out = { ...next, ...(next.meta ? { meta: { ...next.meta, security } } : {}) } as Resource & { extension?: Extension[] };
  if (out.meta && !out.meta.security?.length) {
    const { security: _s, ...meta } = out.meta;
    out.meta = meta;
    if (Object.keys(meta).length === 0) delete out.meta;
  }
  // stored JSON without the sensitivity label (every write labels sensitive content) is not parsed
  if (typeof storedVersion === 'string' && !storedVersion.includes(MARKER)) return out;
  const stored = typeof storedVersion === 'string' ? (JSON.parse(storedVersion) as Resource) : storedVersion;
  if (!hasSensitive(stored)) return out;
  const { extension: storedExtensions, ...rest } = stored as Resource & { extension?: Extension[] };
  if (hasSensitive(rest)) throw forbidden(`This ${stored.resourceType} holds migration data this client cannot see below its root; writing it needs the migration-data scope`);
  const kept = (storedExtensions ?? []).filter((e) => isSensitiveExtension(e.url));
  const urls = new Set(kept.map((e) => e.url));
  const extension = [...(out.extension ?? []).filter((e) => !(isSensitiveExtension(e.url) && urls.has(e.url))), ...kept];
  out.extension = extension;
  return out;
}

/** A response body with sensitive elements removed, for clients without the scope. Bodies
 * without the label are returned as they are, unparsed. */
export function redactBody(body: string | Resource): string | Resource {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (!text.includes(MARKER)) return body;
  return JSON.stringify(redactResource(JSON.parse(text)));
}

/** Search parameters whose expression reads sensitive extensions. */
export function isSensitiveExpression(expression: string | undefined): boolean {
  if (!expression) return false;
  return /extension\(\s*'[^']*\/StructureDefinition\/(migration-?status|migration-?journey|vulnerabilit(y|ies)|asylum[-a-z]*|residence-?status)'\s*\)/i.test(expression);
}
