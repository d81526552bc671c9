// Which search parameters index a resource's sensitive elements, known from the data rather
// than from the expression's text: a parameter whose rows for the full resource differ from its
// rows for the redacted view (what a client without the migration-data scope sees) reads
// sensitive elements, whatever its expression says — `extension('…/migration-status')`,
// `extension.where(url = …)`, `extension.extension.value`, or a where() on them. Engines keep
// the marks with the rows (src/store/sqlite sp_sensitive, the Mongo document's `sens`), and
// src/auth/sensitive-search.ts refuses such parameters to clients without the scope.
import { SENSITIVITY_SYSTEM } from '../auth/sensitive.ts';
import { ROW_TABLES, rowKey, type IndexRows } from './index-rows.ts';

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
