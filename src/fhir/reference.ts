// Every literal reference, id and canonical the server reads or writes is parsed and formatted
// here, so that what counts as a resource id or a reference to this server is defined once.
// Kept free of other modules but errors.ts: the audit worker thread loads it.
import { badRequest } from './errors.ts';

/** The spec's id characters, as regular-expression source to embed in larger patterns
 * (e.g. a scan of serialized JSON for references). */
export const ID_SOURCE = '[A-Za-z0-9\\-.]{1,64}';
/** A resource type's name as it appears in a reference or a scope (syntax only: whether the
 * server knows the type is the definitions' business). */
export const TYPE_SOURCE = '[A-Z][A-Za-z]+';

/** The spec's ids: 1–64 characters from [A-Za-z0-9\-\.]. */
export const ID_PATTERN = new RegExp(`^${ID_SOURCE}$`);

const RELATIVE = new RegExp(`^(${TYPE_SOURCE})/(${ID_SOURCE})(?:/_history/(${ID_SOURCE}))?$`);
// the base is everything before the last Type/id(/_history/vid): no query or fragment in it
const ABSOLUTE = new RegExp(`^(https?://[^?#]*)/(${TYPE_SOURCE})/(${ID_SOURCE})(?:/_history/(${ID_SOURCE}))?$`);
const CONDITIONAL = new RegExp(`^(${TYPE_SOURCE})\\?(.*)$`, 's');
const URN = /^urn:(uuid|oid):[A-Za-z0-9.\-]+$/;

/** urn:uuid and urn:oid names inside a text (a narrative's links to other Bundle entries). */
export const URN_IN_TEXT = /urn:(?:uuid|oid):[A-Za-z0-9.\-]+/g;

export function isId(v: unknown): v is string {
  return typeof v === 'string' && ID_PATTERN.test(v);
}

export function assertValidId(id: string, what = 'id'): void {
  if (!ID_PATTERN.test(id)) {
    // The offending value is the caller's own input; echo it only truncated.
    throw badRequest(`Invalid ${what} '${id.slice(0, 64)}': ids are 1-64 characters of A-Z a-z 0-9 - .`, 'value');
  }
}

/** A resource (or one version of it) on some server: `base` is absent for relative references. */
export interface ResourceAddress {
  type: string;
  id: string;
  version?: string;
  base?: string;
}

export type ParsedReference =
  | ({ kind: 'relative' } & ResourceAddress)
  | ({ kind: 'absolute'; base: string } & ResourceAddress)
  /** the whole urn, e.g. urn:uuid:…: a Bundle entry's fullUrl */
  | { kind: 'urn'; scheme: 'uuid' | 'oid'; urn: string }
  /** #id of a contained resource; '#' alone (id '') is the containing resource */
  | { kind: 'contained'; id: string }
  /** Type?query, resolved by search inside a transaction */
  | { kind: 'conditional'; type: string; query: string };

/** A literal Reference.reference (or fullUrl, or Location header) in any of its forms, or
 * undefined when it is none of them (a non-resource URL, a malformed id). */
export function parseReference(ref: string): ParsedReference | undefined {
  const c = ref.charCodeAt(0);
  if (c === 35 /* # */) return { kind: 'contained', id: ref.slice(1) };
  if (c >= 65 && c <= 90 /* A-Z */) {
    const m = RELATIVE.exec(ref);
    if (m) return m[3] === undefined ? { kind: 'relative', type: m[1], id: m[2] } : { kind: 'relative', type: m[1], id: m[2], version: m[3] };
    const q = CONDITIONAL.exec(ref);
    return q ? { kind: 'conditional', type: q[1], query: q[2] } : undefined;
  }
  if (ref.startsWith('urn:')) {
    const u = URN.exec(ref);
    return u ? { kind: 'urn', scheme: u[1] as 'uuid' | 'oid', urn: ref } : undefined;
  }
  const a = ABSOLUTE.exec(ref);
  if (!a) return undefined;
  return a[4] === undefined ? { kind: 'absolute', base: a[1], type: a[2], id: a[3] } : { kind: 'absolute', base: a[1], type: a[2], id: a[3], version: a[4] };
}

/** The resource a relative or absolute reference names, else undefined (urns, contained,
 * conditional, anything else). */
export function resourceAddress(ref: string): ResourceAddress | undefined {
  const p = parseReference(ref);
  if (!p || (p.kind !== 'relative' && p.kind !== 'absolute')) return undefined;
  const { kind: _, ...address } = p;
  return address;
}

/** Base, type, id and version of an absolute resource URL, else undefined. */
export function absoluteAddress(url: string): (ResourceAddress & { base: string }) | undefined {
  const p = parseReference(url);
  if (p?.kind !== 'absolute') return undefined;
  const { kind: _, ...address } = p;
  return address;
}

/** Type, id and version of a reference to this server: relative ones, and absolute ones on one
 * of `bases` (the server's own base URLs). Other servers' URLs are never taken for local ids. */
export function localTarget(ref: string, bases: readonly string[]): ResourceAddress | undefined {
  const p = parseReference(ref);
  if (p?.kind === 'relative') return p;
  if (p?.kind === 'absolute' && bases.includes(p.base)) return { type: p.type, id: p.id, ...(p.version !== undefined ? { version: p.version } : {}) };
  return undefined;
}

/** `Type/id` of a reference to this server with `baseUrl`, version dropped, else undefined. */
export function localKey(ref: string, baseUrl: string): string | undefined {
  const t = localTarget(ref, [baseUrl]);
  return t && `${t.type}/${t.id}`;
}

/** `Type/id`, `Type/id/_history/vid`, and either on `base` when given. */
export function formatReference(a: ResourceAddress): string {
  const rel = a.version === undefined ? `${a.type}/${a.id}` : `${a.type}/${a.id}/_history/${a.version}`;
  return a.base === undefined ? rel : `${a.base}/${rel}`;
}

/** The reference with its /_history/vid suffix removed (any URL form). */
export function withoutVersion(ref: string): string {
  const i = ref.indexOf('/_history/');
  return i < 0 ? ref : ref.slice(0, i);
}

export function isConditionalReference(ref: string): boolean {
  const c = ref.charCodeAt(0);
  return c >= 65 && c <= 90 && CONDITIONAL.test(ref);
}

/** A canonical: `url|version`, the version optional. */
export function parseCanonical(canonical: string): { url: string; version?: string } {
  const i = canonical.indexOf('|');
  return i < 0 ? { url: canonical } : { url: canonical.slice(0, i), version: canonical.slice(i + 1) };
}

/** The canonical's url without its |version. */
export function canonicalUrl(canonical: string): string {
  const i = canonical.indexOf('|');
  return i < 0 ? canonical : canonical.slice(0, i);
}
