// Custom SearchParameter resources (https://hl7.org/fhir/R4/searchparameter.html): stored
// SearchParameters with status other than retired become searchable as soon as they are
// written, and again at every start. Values of resources written earlier are found only after
// $reindex.
import type { SearchParameter } from 'fhir/r4.js';
import { searchParameterInfo, type SearchParameterInfo } from '../fhir/definitions.ts';
import type { ResourceStore, VersionWrite } from '../store/types.ts';
import type { SearchParamRegistry } from './registry.ts';

export function toInfo(sp: SearchParameter): SearchParameterInfo | undefined {
  if (!sp.url || !sp.code || !sp.base?.length || !sp.type || sp.status === 'retired') return undefined;
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
