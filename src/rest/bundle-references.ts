// A transaction Bundle's references to its entries' fullUrls (urn:uuid:, urn:oid: and other
// fullUrls, inside extensions, contained resources and narrative), rewritten to the Type/id the
// entries were given; conditional references (Patient?identifier=…) resolved by the caller.
// Apart from bundle.ts so that a thread preparing an adapter's Bundle ahead of the transaction
// (src/transport/hl7v2-prepare.ts) rewrites exactly as the transaction does, without loading
// the REST handlers.
import { isConditionalReference, URN_IN_TEXT } from '../fhir/reference.ts';

/** A conditional reference met on the way, to resolve afterwards. */
export interface ConditionalAt {
  obj: Record<string, unknown>;
  key: string;
  ref: string;
}

/** Rewrites references to entries' fullUrls and resolves conditional references, in place.
 * The walk is synchronous (an await per JSON node cost more than the rewriting); conditional
 * references are collected on the way and resolved afterwards, in document order. */
export async function rewriteReferences(value: unknown, ids: Map<string, string>, resolveConditional: (ref: string) => Promise<string>): Promise<void> {
  const conditional: ConditionalAt[] = [];
  rewriteLocal(value, ids, conditional, 0);
  for (const c of conditional) c.obj[c.key] = await resolveConditional(c.ref);
}

/** The synchronous walk: rewrites in place, collects conditional references in `conditional`. */
export function rewriteLocal(value: unknown, ids: Map<string, string>, conditional: ConditionalAt[], depth = 0): void {
  if (depth > 128 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) rewriteLocal(v, ids, conditional, depth + 1);
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    // meta (profile, tag, source…) never points at another entry: meta.source may well hold the
    // very fullUrl an entry came with, and must keep it
    if (k === 'meta' && depth === 0) continue;
    const v = obj[k];
    if (typeof v === 'string') {
      if (k === 'reference' && isConditionalReference(v)) conditional.push({ obj, key: k, ref: v });
      else if (ids.has(v) && (k === 'reference' || /^(urn:|https?:)/.test(v))) obj[k] = ids.get(v)!;
      else if (k === 'div' && v.includes('urn:')) {
        obj[k] = v.replace(URN_IN_TEXT, (m) => ids.get(m) ?? m);
      }
    } else rewriteLocal(v, ids, conditional, depth + 1);
  }
}
