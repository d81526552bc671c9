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

/** What a string member `k` of an object becomes: a reference to an entry's fullUrl (a
 * `reference`, or any member holding a full URL or URN) is the entry's Type/id; narrative names
 * entries inside its text. Unchanged otherwise (also a conditional reference: see callers). */
function rewrittenString(k: string, v: string, ids: Map<string, string>): string {
  if (ids.has(v) && (k === 'reference' || /^(urn:|https?:)/.test(v))) return ids.get(v)!;
  if (k === 'div' && v.includes('urn:')) return v.replace(URN_IN_TEXT, (m) => ids.get(m) ?? m);
  return v;
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
      else obj[k] = rewrittenString(k, v, ids);
    } else rewriteLocal(v, ids, conditional, depth + 1);
  }
}

/**
 * rewriteLocal without touching `value`: the rewritten value, sharing every part that nothing
 * was rewritten in (the same object when nothing was), for a caller that must keep the original
 * (the MLLP mapping thread speculates on a Bundle it also hands to the transaction) — no deep
 * copy first. Reports whether a conditional reference was met instead of collecting it.
 */
export function rewrittenCopy(value: unknown, ids: Map<string, string>, depth = 0): { value: unknown; conditional: boolean } {
  if (depth > 128 || value === null || typeof value !== 'object') return { value, conditional: false };
  let conditional = false;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = rewrittenCopy(value[i], ids, depth + 1);
      conditional ||= r.conditional;
      if (r.value !== value[i]) (out ??= value.slice())[i] = r.value;
    }
    return { value: out ?? value, conditional };
  }
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(obj)) {
    if (k === 'meta' && depth === 0) continue; // as rewriteLocal
    const v = obj[k];
    let next: unknown;
    if (typeof v === 'string') {
      if (k === 'reference' && isConditionalReference(v)) {
        conditional = true;
        continue;
      }
      next = rewrittenString(k, v, ids);
    } else {
      const r = rewrittenCopy(v, ids, depth + 1);
      conditional ||= r.conditional;
      next = r.value;
    }
    if (next !== v) (out ??= { ...obj })[k] = next;
  }
  return { value: out ?? obj, conditional };
}
