// A patient's record copied between FHIR servers as a transaction Bundle of conditional updates,
// so that sending it again never duplicates anything:
// - each resource is keyed on its business identifiers (Type?identifier=s|v,…) when its type has
//   them; otherwise on meta.source, which names the resource's origin (its absolute URL on the
//   server it was first copied from: a unique identity, and what meta.source is meant for);
// - a resource that came from the receiving server itself is addressed by its id there;
// - references between the copied resources become urn:uuid fullUrls (derived from the origin
//   URL, so the same input gives the same Bundle); references to anything not copied become
//   absolute URLs on the sending server, so they never point at an unrelated local id.
// Inbound entries carry the merge write mode of src/mapping/apply.ts (stored ⊕ incoming); a
// plain FHIR server ignores it and performs the conditional update as written.
import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, Identifier, Resource } from 'fhir/r4.js';
import { loadDefinitions } from '../../fhir/definitions.ts';
import { absoluteAddress, formatReference, parseReference } from '../../fhir/reference.ts';
import { WRITE_MODE } from '../conventions.ts';

/** Resource types with an `identifier` search parameter on `.identifier`. */
let identified: Set<string> | undefined;
function hasIdentifier(type: string): boolean {
  identified ??= new Set(loadDefinitions().searchParameters.filter((p) => p.code === 'identifier' && p.type === 'token').flatMap((p) => p.base));
  return identified.has(type);
}

/** A name-based (v5-style) UUID: the same origin URL always gives the same fullUrl. */
export function urnFor(url: string): string {
  const h = createHash('sha1').update(url).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The absolute, version-less URL a reference names, read against the base it was found on. */
export function absoluteReference(ref: string, base: string): string | undefined {
  const p = parseReference(ref);
  if (p?.kind === 'relative') return formatReference({ base, type: p.type, id: p.id });
  return p?.kind === 'absolute' ? formatReference({ base: p.base, type: p.type, id: p.id }) : undefined;
}

/** Rewrites every Reference.reference in place (contained resources included, meta skipped). */
export function rewriteReferences(value: unknown, map: (ref: string) => string, top = true): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) rewriteReferences(v, map, false);
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (top && k === 'meta') continue;
    if (k === 'reference' && typeof v === 'string') (value as Record<string, unknown>)[k] = map(v);
    else rewriteReferences(v, map, false);
  }
}

/** Every absolute reference a resource makes, read against `base` (fragments and urns left out). */
export function referencesOf(resource: Resource, base: string): string[] {
  const out: string[] = [];
  rewriteReferences(structuredClone(resource), (ref) => {
    const abs = absoluteReference(ref, base);
    if (abs) out.push(abs);
    return ref;
  });
  return out;
}

/** FHIR search escaping (\ , | $) then URL encoding. */
function tokenValue(system: string, value: string): string {
  const esc = (s: string) => s.replace(/[\\,|$]/g, (c) => `\\${c}`);
  return encodeURIComponent(`${esc(system)}|${esc(value)}`);
}

/** The conditional URL that finds this resource's copy on the receiving server. */
export function keyOf(resource: Resource, origin: string, receivingBase?: string): string {
  const type = resource.resourceType;
  const own = receivingBase !== undefined ? absoluteAddress(origin) : undefined;
  if (own && own.base === receivingBase && own.type === type) return `${type}?_id=${encodeURIComponent(own.id)}`;
  const ids = ((resource as { identifier?: Identifier[] }).identifier ?? []).filter((i) => i.system && i.value);
  if (hasIdentifier(type) && ids.length) return `${type}?identifier=${ids.map((i) => tokenValue(i.system!, i.value!)).join(',')}`;
  return `${type}?_source=${encodeURIComponent(origin)}`;
}

/** meta.source when it already names a resource of this type (a copy's origin), else `url`. */
export function originOf(resource: Resource, url: string): string {
  const source = resource.meta?.source;
  const parts = source ? absoluteAddress(source) : undefined;
  return parts && parts.type === resource.resourceType ? formatReference({ base: parts.base, type: parts.type, id: parts.id }) : url;
}

export interface RecordInput {
  /** the resource and its absolute URL on the server it is read from */
  url: string;
  resource: Resource;
}

export interface RecordOptions {
  /** the receiving server's base URL, when known: its own resources are addressed by id */
  receivingBase?: string;
  /** inbound: entries carry src/mapping/apply.ts's merge mode */
  merge?: boolean;
}

/**
 * The transaction Bundle that writes `records` on the receiving server. Entries are sorted by
 * origin (the patient first), so the same record gives the same Bundle whatever order a
 * server returned it in.
 */
export function recordTransaction(records: RecordInput[], options: RecordOptions = {}): Bundle {
  const urns = new Map<string, string>();
  for (const r of records) urns.set(r.url, urnFor(r.url));
  const entries: (BundleEntry & { origin: string })[] = [];
  for (const { url, resource } of records) {
    const base = absoluteAddress(url)?.base;
    if (!base) throw new Error(`not an absolute resource URL: ${url}`);
    const copy = structuredClone(resource) as Resource;
    delete copy.id;
    const origin = originOf(copy, url);
    const { versionId: _v, lastUpdated: _l, ...meta } = copy.meta ?? {};
    void _v;
    void _l;
    copy.meta = { ...meta, source: origin };
    rewriteReferences(copy, (ref) => {
      const abs = absoluteReference(ref, base);
      if (!abs) return ref;
      return urns.get(abs) ?? abs;
    });
    entries.push({
      origin,
      fullUrl: urns.get(url),
      ...(options.merge ? { extension: [{ url: WRITE_MODE, valueCode: 'merge' }] } : {}),
      resource: copy,
      request: { method: 'PUT', url: keyOf(copy, origin, options.receivingBase) },
    } as BundleEntry & { origin: string });
  }
  const rank = (e: BundleEntry) => (e.resource?.resourceType === 'Patient' ? 0 : 1);
  entries.sort((a, b) => rank(a) - rank(b) || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  return { resourceType: 'Bundle', type: 'transaction', entry: entries.map(({ origin: _o, ...e }) => (void _o, e)) };
}
