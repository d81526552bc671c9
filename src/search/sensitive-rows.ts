// What a resource's sensitive elements put into the search index, known from the data rather
// than from the expression's text. A labelled resource is extracted twice: as stored, and as a
// client without the migration-data scope sees it (src/auth/sensitive.ts withoutSensitive).
//  - Rows: each row is marked with the view it belongs to (index-rows.ts FULL_ONLY, VIEW_ONLY,
//    none for both). Every search reads only its client's view's rows (the engines' `sens`
//    column or flag), so a search by a client without the scope answers as over the views —
//    `identifier=…/se-lma|123` finds nothing, `identifier:missing=true` finds the patient whose
//    only identifier is hidden — while searches on the same parameter by other values work.
//  - Parameters: a parameter whose rows differ because of the sensitive *extensions* (migration
//    status, journey, vulnerability, answers labelled inline, base64 content) is also marked
//    as a whole (IndexRows.sensitive; src/store/sqlite sp_sensitive, the Mongo document's
//    `sens` list), and src/auth/sensitive-search.ts refuses it to clients without the scope,
//    as before rows were marked. Status-revealing identifiers only mark rows: refusing the
//    `identifier` parameter would break the commonest search there is.
//  - Labels: the sensitivity labels (src/auth/sensitive.ts LABELS) are not in the view either,
//    so their `_security` rows are FULL_ONLY: `_security=…|migration` by such a client finds
//    nothing, `_security:not` finds everyone, a sort or chain on it sees no label.
// A resource with status-revealing identifiers is not extracted again for its view: the rows
// that came from such an Identifier (a token row of the Identifier node, a reference row of a
// Reference carrying one) are noted while the full resource is extracted and marked here
// (hideStatusRows), which is what a second extraction would have found for R4's parameters. A
// custom SearchParameter that could read into an identifier or meta.security (its value, an
// exists(), a first()) cannot be answered by marking rows, and its type is extracted again.
import { isSensitivityLabel, SENSITIVITY_SYSTEM } from '../auth/sensitive.ts';
import { FULL_ONLY, ROW_TABLES, rowKey, VIEW_ONLY, type IndexRows, type ReferenceRow } from './index-rows.ts';
import type { SearchParam, SearchParamRegistry } from './registry.ts';

/** Whether a resource carries the label that writes put on sensitive content (labelSensitive),
 * the same test redaction makes: what is not labelled is not redacted, so its rows reveal
 * nothing a read would not. */
export function carriesSensitivityLabel(resource: { meta?: { security?: { system?: string }[] } }): boolean {
  const security = resource.meta?.security;
  return Array.isArray(security) && security.some((s) => s?.system === SENSITIVITY_SYSTEM);
}

/** Keys of the parameters whose rows differ between the full resource and its redacted view,
 * both extracted before dedupe. Counted as multisets, so a value that the sensitive elements
 * share with the rest (a code "irregular" in another extension too) still marks the parameter.
 * Both directions count: rows only the view yields (an expression that tests for the absence
 * of sensitive elements) reveal them as much as rows only the full resource yields. */
export function sensitiveParams(full: IndexRows, view: IndexRows): string[] {
  const out = new Set<string>();
  for (const table of ROW_TABLES) {
    const counts = new Map<string, number>();
    const params = new Map<string, string>();
    for (const r of full[table]) {
      const k = rowKey(r);
      counts.set(k, (counts.get(k) ?? 0) + 1);
      params.set(k, r.param);
    }
    for (const r of view[table]) {
      const k = rowKey(r);
      const n = counts.get(k);
      if (n === undefined) out.add(r.param);
      else if (n === 1) counts.delete(k);
      else counts.set(k, n - 1);
    }
    for (const k of counts.keys()) out.add(params.get(k)!);
  }
  return [...out].sort();
}

/** The rows of both views in one set (in place on `full`, before dedupe): a row the two share
 * unmarked, a row only the full resource yields FULL_ONLY, a row only the view yields appended
 * as VIEW_ONLY. Multisets again: a value found twice in full and once in the view is one
 * unmarked row and one FULL_ONLY row. */
export function markRows(full: IndexRows, view: IndexRows): IndexRows {
  for (const table of ROW_TABLES) {
    const inView = new Map<string, number>();
    for (const r of view[table]) {
      const k = rowKey(r);
      inView.set(k, (inView.get(k) ?? 0) + 1);
    }
    const rows = full[table] as { sens?: number }[];
    for (const r of rows) {
      const k = rowKey(r);
      const n = inView.get(k);
      if (n === undefined) r.sens = FULL_ONLY;
      else if (n === 1) inView.delete(k);
      else inView.set(k, n - 1);
    }
    if (inView.size === 0) continue;
    const viewOnly: { sens?: number }[] = [];
    for (const r of view[table]) {
      const k = rowKey(r);
      const n = inView.get(k);
      if (n === undefined) continue;
      if (n === 1) inView.delete(k);
      else inView.set(k, n - 1);
      viewOnly.push({ ...r, sens: VIEW_ONLY });
    }
    // a parameter's rows stay contiguous (dedupe compares runs of one parameter)
    rows.push(...viewOnly);
    rows.sort((a, b) => ((a as { param: string }).param < (b as { param: string }).param ? -1 : (a as { param: string }).param > (b as { param: string }).param ? 1 : 0));
  }
  return full;
}

/** Whether some row of these is marked (the engines keep track of marked parameters). */
export function markedParams(rows: IndexRows): string[] {
  const out = new Set<string>();
  for (const table of ROW_TABLES) for (const r of rows[table]) if (r.sens) out.add(r.param);
  return [...out];
}

/** The key of `_security`, whose rows of the sensitivity labels only the full resource has. */
const SECURITY_KEY = 'Resource._security';

/** Whether an expression could reach an Identifier's parts or the resource's meta other than as
 * a whole Identifier node: the custom parameters that need a second extraction. */
const READS_IDENTIFIER_OR_META = /identifier|security|meta|children|descendants|repeat|ofType|\bas\b|\bis\b|trace|`/i;
const reExtractCache = new WeakMap<SearchParam[], boolean>();

/** Whether the view of a resource of this type must be extracted again rather than told from
 * the noted rows: some custom parameter of the type could read into an identifier or meta. */
export function needsViewExtraction(registry: SearchParamRegistry, params: SearchParam[]): boolean {
  let v = reExtractCache.get(params);
  if (v === undefined) {
    v = params.some((p) => registry.isCustom(p.url) && [p.expression, ...(p.components ?? []).map((c) => c.expression)].some((e) => !!e && READS_IDENTIFIER_OR_META.test(e)));
    reExtractCache.set(params, v);
  }
  return v;
}

/** Marks, in place (after markRows, before dedupe), the rows the view of a labelled resource
 * lacks without extracting it: those noted as coming from a status-revealing identifier
 * (`fromIdentifier`) and the `_security` rows of the sensitivity labels become FULL_ONLY; a
 * reference row that also names its target keeps that target in the view (a VIEW_ONLY copy
 * without the identifier), as the view's Reference keeps its `reference`. */
export function hideStatusRows(rows: IndexRows, fromIdentifier: ReadonlySet<object>): IndexRows {
  const copies: ReferenceRow[] = [];
  for (const r of rows.reference) {
    if (r.sens || !fromIdentifier.has(r)) continue;
    r.sens = FULL_ONLY;
    if (r.targetId !== null || r.url !== null) copies.push({ ...r, identifierSystem: null, identifierValue: null, sens: VIEW_ONLY });
  }
  for (const r of rows.token) {
    if (r.sens) continue;
    if (fromIdentifier.has(r) || (r.param === SECURITY_KEY && isSensitivityLabel(r))) r.sens = FULL_ONLY;
  }
  for (const table of ROW_TABLES) {
    if (table === 'reference' || table === 'token') continue;
    for (const r of rows[table] as { sens?: number }[]) if (!r.sens && fromIdentifier.has(r)) r.sens = FULL_ONLY;
  }
  if (copies.length) {
    // a parameter's rows stay contiguous (dedupe compares runs of one parameter)
    rows.reference.push(...copies);
    rows.reference.sort((a, b) => (a.param < b.param ? -1 : a.param > b.param ? 1 : 0));
  }
  return rows;
}
