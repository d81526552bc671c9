// Custom SearchParameter resources (https://hl7.org/fhir/R4/searchparameter.html): stored
// SearchParameters with status other than retired become searchable as soon as they are
// written, and again at every start. Values of resources written earlier are found only after
// $reindex.
import type { SearchParameter } from 'fhir/r4.js';
import { searchParameterInfo, type SearchParameterInfo } from '../fhir/definitions.ts';
import type { ResourceStore, VersionWrite } from '../store/types.ts';
import type { SearchParamRegistry } from './registry.ts';

// A custom parameter's expression runs on every write of its base types, inside the write
// transaction: it must stay linear in the resource. descendants(), repeat() and aggregate() can
// make one write evaluate millions of nodes, and so can an environment variable inside a
// function's argument (select(%resource.…) re-reads the whole resource for every item, nested
// as deep as the text allows). No R4 SearchParameter does either; R4's composites do start
// component paths with %resource, which stays allowed outside arguments.
const COSTLY = /\b(descendants|repeat|aggregate|trace)\s*\(/;

/** Whether `%` appears inside parentheses (outside string literals). */
function variableInArgument(expression: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (const ch of expression) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '%' && depth > 0) return true;
  }
  return false;
}

/** Why a SearchParameter's expression may not be indexed here, or undefined when it may. */
export function costlyExpression(sp: SearchParameter): string | undefined {
  const texts = [sp.expression, ...(sp.component ?? []).map((c) => c.expression)].filter((e): e is string => typeof e === 'string');
  if (texts.some((e) => e.length > 2000)) return 'its expression is longer than 2,000 characters';
  if (texts.some((e) => COSTLY.test(e) || variableInArgument(e))) {
    return 'its expression uses descendants(), repeat(), aggregate() or trace(), or an environment variable inside a function argument, which could make every write evaluate without bound';
  }
  return undefined;
}

export function toInfo(sp: SearchParameter): SearchParameterInfo | undefined {
  if (!sp.url || !sp.code || !sp.base?.length || !sp.type || sp.status === 'retired' || costlyExpression(sp)) return undefined;
  return searchParameterInfo(sp);
}

/** Keeps the registry in step with SearchParameter writes; returns whether anything changed. */
export function applySearchParameterWrites(registry: SearchParamRegistry, written: VersionWrite[], known: Map<string, string>): boolean {
  let changed = false;
  for (const w of written) {
    if (w.resourceType !== 'SearchParameter') continue;
    const key = w.id;
    const previousUrl = known.get(key);
    if (previousUrl) registry.removeCustom(previousUrl);
    known.delete(key);
    changed = true;
    if (w.json === null) continue;
    const info = toInfo(JSON.parse(w.json) as SearchParameter);
    if (info) {
      registry.addCustom(info);
      known.set(key, info.url);
    }
  }
  return changed;
}

/** Registers every stored SearchParameter (at start-up). */
export async function loadStoredSearchParameters(store: ResourceStore, registry: SearchParamRegistry, known: Map<string, string>): Promise<number> {
  let cursor: { after: (string | number | null)[] } | undefined;
  let n = 0;
  for (;;) {
    const page = await store.search(
      { types: ['SearchParameter'], conditions: [], sort: [], count: 500, total: 'none', include: [], revinclude: [] },
      cursor,
    );
    for (const m of page.matches) {
      const info = toInfo(JSON.parse(m.json) as SearchParameter);
      if (info) {
        registry.addCustom(info);
        known.set(m.id, info.url);
        n++;
      }
    }
    if (!page.hasMore || !page.matches.length) return n;
    cursor = { after: page.matches[page.matches.length - 1].position };
  }
}
