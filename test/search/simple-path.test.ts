// The fast path evaluator (src/search/simple-path.ts) against fhirpath.js on the official R4
// example instances, for the search parameters whose expressions end in a filter
// (`telecom.where(system='phone')`, `extension('url')`): the same values of the same types.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { SearchParamRegistry } from '../../src/search/registry.ts';
import { compileSimplePath } from '../../src/search/simple-path.ts';

const defs = loadDefinitions();
const registry = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

/** fhirpath.js results as the registry's fallback reports them. */
function reference(expression: string) {
  const fn = fhirpath.compile(expression, r4model, { resolveInternalTypes: false });
  return (r: unknown) => (fn(r as object) as any[]).map((n) => ({ data: n.data, type: n.getTypeInfo?.()?.name ?? n.fhirNodeDataType }));
}

t.test('filtered paths: the fast evaluator and fhirpath.js agree on every R4 example', async (t) => {
  const filtered = new Map<string, { code: string; fast: (r: unknown) => { data: unknown; type: string }[]; slow: (r: unknown) => { data: unknown; type: string }[] }[]>();
  for (const type of defs.resourceTypes) {
    for (const p of registry.forType(type)) {
      const expression = (p as { expression?: string }).expression;
      if (!expression || !/\.(where|extension)\(/.test(expression) || p.type === 'composite') continue;
      const fast = compileSimplePath(expression, type, defs.paths);
      if (!fast) continue;
      (filtered.get(type) ?? filtered.set(type, []).get(type)!).push({ code: p.code, fast, slow: reference(expression) });
    }
  }
  t.ok((filtered.get('Patient') ?? []).some((p) => p.code === 'phone'), 'Patient.phone takes the fast path');
  t.ok((filtered.get('Patient') ?? []).some((p) => p.code === 'mothersMaidenName'), "Patient.extension('…') takes the fast path");
  let compared = 0;
  let found = 0;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json') || f === 'package.json') continue;
    const params = filtered.get(f.slice(0, f.indexOf('-')));
    if (!params) continue;
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    for (const p of params ?? []) {
      const slow = p.slow(r);
      const fast = p.fast(r).map((n) => ({ data: n.data, type: n.type }));
      compared++;
      if (slow.length) found++;
      if (JSON.stringify(fast) !== JSON.stringify(slow)) t.same(fast, slow, `${f}: ${r.resourceType}.${p.code}`);
    }
  }
  t.ok(compared > 100, `${compared} evaluations compared`);
  t.ok(found > 20, `${found} with values`);
});
