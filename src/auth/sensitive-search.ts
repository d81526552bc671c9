// Searches that would reveal sensitive migration data to a client without the migration-data
// scope are refused (403). Redacting the results is not enough: which resources match a value,
// which lack one (:missing, :not), the order of a _sort, what a chain or _has joins on and what
// an _include follows all tell the value. A search is refused when any index key it reads —
// in a condition at any depth (chain links, _has, composites, union parameters' parts), a sort
// key, an _include or _revinclude — belongs to a parameter
//  - declared on a sensitive extension (`extension('…/migration-status')`): refused even before
//    any resource has rows for it, or
//  - that is custom and whose expression could read sensitive content at all
//    (src/auth/opaque-expression.ts): refused whatever the data, so that the refusal cannot be
//    used as an oracle by a parameter written to match one patient's status, or
//  - under which some current resource has rows extracted from its sensitive elements
//    (src/search/sensitive-rows.ts marks them at write time, whatever the expression): a
//    custom SearchParameter that walks into the extension another way is caught by its data.
// Status-revealing identifiers (src/auth/sensitive-identifiers.ts) are not refused: a search by
// a client without the scope runs over its view (SearchQuery.view, the index rows marked per
// view: src/search/sensitive-rows.ts), so `identifier=…/se-lma|123` finds nothing, as for a
// number nobody has, while every other identifier search works.
import type { Condition, IncludeSpec, SearchQuery } from '../search/ir.ts';
import type { SearchParam, SearchParamRegistry } from '../search/registry.ts';
import { forbidden, type AuthContext } from './authorize.ts';
import type { TrailNotes } from '../rest/types.ts';
import { isSensitiveExpression } from './sensitive.ts';
import { couldReadSensitive } from './opaque-expression.ts';
import { isStatusRevealingSystem } from './sensitive-identifiers.ts';

/** What the guard reads from the store: the keys with sensitive rows (ResourceStore). */
export interface SensitiveFacts {
  hasSensitiveRows(keys: string[]): Promise<boolean>;
}

function conditionKeys(c: Condition, out: Set<string>): void {
  if ('params' in c) for (const k of c.params) out.add(k);
  if (c.kind === 'chain' || c.kind === 'has') conditionKeys(c.condition, out);
  else if (c.kind === 'any') for (const inner of c.conditions) conditionKeys(inner, out);
}

/** The reference parameters an _include/_revinclude reads: the named one (and, for canonical
 * references, the targets' url parameters), or every reference parameter of the source type(s)
 * for `*`. */
function includeKeys(spec: IncludeSpec, registry: SearchParamRegistry, allTypes: readonly string[], out: Set<string>): void {
  if (spec.param !== '*') out.add(spec.param);
  else {
    for (const type of spec.sourceType === '*' ? allTypes : [spec.sourceType]) {
      for (const p of registry.forType(type)) if (p.type === 'reference') out.add(p.key);
    }
  }
  for (const k of spec.canonical ?? []) out.add(k);
}

/** Whether a condition names a status-revealing identifier system (a token value's system, a
 * reference's identifier system), at any depth. */
function namesStatusSystem(c: Condition): boolean {
  switch (c.kind) {
    case 'token':
      return c.values.some((v) => isStatusRevealingSystem(v.system));
    case 'tokenOfType':
      return c.values.some((v) => isStatusRevealingSystem(v.system));
    case 'reference':
      return c.values.some((v) => v.kind === 'identifier' && isStatusRevealingSystem(v.system));
    case 'composite':
      return c.values.some((t) => t.some((cv) => cv.type === 'token' && isStatusRevealingSystem(cv.value.system)));
    case 'chain':
    case 'has':
      return namesStatusSystem(c.condition);
    case 'any':
      return c.conditions.some(namesStatusSystem);
    default:
      return false;
  }
}

/** Whether a search's conditions name a status-revealing identifier system: its AuditEvent
 * records that a person was looked up by such a number, and is labelled like the data. */
export function queryNamesStatusSystem(q: SearchQuery): boolean {
  return q.conditions.some(namesStatusSystem);
}

/** The search as the client may run it: over its view when it lacks the migration-data scope
 * (without authorization — development — over the stored resources). Every door that searches
 * for a client goes through here (refuseSensitiveSearch does), so that no door answers over
 * rows the client could not see. */
export function overClientView<Q extends SearchQuery>(req: { auth?: AuthContext; trail?: TrailNotes }, q: Q): Q {
  if (req.trail && queryNamesStatusSystem(q)) req.trail.sensitiveQuery = true;
  if (req.auth && !req.auth.scopes.sensitive) q.view = 'redacted';
  return q;
}

/** Every index key a search reads. */
export function keysRead(q: SearchQuery, registry: SearchParamRegistry, allTypes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const c of q.conditions) conditionKeys(c, out);
  for (const s of q.sort) for (const k of s.params) if (k !== '_id' && k !== '_lastUpdated') out.add(k);
  for (const spec of [...q.include, ...q.revinclude]) includeKeys(spec, registry, allTypes, out);
  return [...out];
}

/** Sensitive by definition, whatever the data: declared on a sensitive extension, or a custom
 * parameter whose expression could read sensitive content (src/auth/opaque-expression.ts: the
 * refusal must not depend on the data, or it would tell it). */
function declaredSensitive(p: SearchParam | undefined, registry: SearchParamRegistry): boolean {
  if (!p) return false;
  const expressions = [p.expression, ...(p.components ?? []).map((c) => c.expression)];
  if (expressions.some(isSensitiveExpression)) return true;
  return registry.isCustom(p.url) && expressions.some(couldReadSensitive);
}

const REFUSAL = 'Searching, sorting or including on migration status, journey or vulnerability needs the migration-data scope';

/** Refuses (403) a search that reads a sensitive parameter, for a client without the scope, and
 * notes on the request's trail that its query reads one (the query stored in the AuditEvent
 * then tells as much as the search would: the event is labelled, and redacted for clients
 * without the scope). Without authorization (development) nothing is checked. */
export async function refuseSensitiveSearch(
  req: { auth?: AuthContext; trail?: TrailNotes },
  q: SearchQuery,
  registry: SearchParamRegistry,
  allTypes: readonly string[],
  facts: SensitiveFacts,
): Promise<void> {
  overClientView(req, q);
  if (!req.auth) return;
  // with the scope, only the trail needs to know, and only when there is one
  if (req.auth.scopes.sensitive && !req.trail) return;
  const keys = keysRead(q, registry, allTypes);
  if (keys.length === 0) return;
  const sensitive = keys.some((k) => declaredSensitive(registry.byKey(k), registry)) || (await facts.hasSensitiveRows(keys));
  if (!sensitive) return;
  if (req.trail) req.trail.sensitiveQuery = true;
  if (!req.auth.scopes.sensitive) throw forbidden(REFUSAL);
}
