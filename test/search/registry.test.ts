// The search parameter registry's union parameters: a parameter whose expression is the union of
// other parameters' expressions stores no index rows; its searches read its parts' rows.
import t from 'tap';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { SearchParamRegistry } from '../../src/search/registry.ts';
import { extractIndex } from '../../src/search/extract.ts';

const defs = loadDefinitions();
const registry = () => new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);

t.test('R4 Observation combo parameters are answered by their parts', async (t) => {
  const r = registry();
  const union = (code: string) => r.get('Observation', code)!.unionOf;
  t.same(union('combo-code'), ['Observation.code', 'Observation.component-code']);
  t.same(union('combo-value-concept'), ['Observation.value-concept', 'Observation.component-value-concept']);
  t.same(union('combo-data-absent-reason'), ['Observation.data-absent-reason', 'Observation.component-data-absent-reason']);
  t.same(union('combo-code-value-quantity'), ['Observation.code-value-quantity', 'Observation.component-code-value-quantity'], 'composites: same root branches and components');
  t.same(union('combo-code-value-concept'), ['Observation.code-value-concept', 'Observation.component-code-value-concept']);
  // value[x] as Quantity | SampledData: the SampledData branch is no parameter of its own
  t.equal(union('combo-value-quantity'), undefined);
  t.equal(union('code'), undefined);
  const indexed = new Set(r.indexed('Observation').map((p) => p.code));
  t.notOk(indexed.has('combo-code'), 'no rows of its own');
  t.ok(indexed.has('code') && indexed.has('component-code'));
  const rows = extractIndex({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] } } as never, r);
  t.notOk(rows.token.some((x) => x.param === 'Observation.combo-code'));
  t.ok(rows.token.some((x) => x.param === 'Observation.code' && x.code === '8867-4'));
  t.equal(registry().indexed('Patient').filter((p) => p.unionOf).length, 0, 'Patient has no union parameters');
});

t.test('a custom parameter that changes a part ends the union (its rows need $reindex)', async (t) => {
  const r = registry();
  r.addCustom({ url: 'http://example.org/fhir/SearchParameter/obs-code', code: 'code', base: ['Observation'], type: 'token', expression: 'Observation.code.coding' } as never);
  t.equal(r.get('Observation', 'combo-code')!.unionOf, undefined);
  t.ok(r.indexed('Observation').some((p) => p.code === 'combo-code'), 'indexed with rows of its own again');
});

t.test("Patient's deceased token is evaluated without FHIRPath with FHIRPath's answers", async (t) => {
  const fhirpath = (await import('fhirpath')).default;
  const r4model = (await import('fhirpath/fhir-context/r4/index.js')).default;
  const expected = fhirpath.compile('Patient.deceased.exists() and Patient.deceased != false', r4model, { resolveInternalTypes: false });
  const deceased = registry().get('Patient', 'deceased')!;
  const cases: Record<string, unknown>[] = [
    {}, { deceasedBoolean: true }, { deceasedBoolean: false }, { deceasedDateTime: '2020-01-01' }, { deceasedDateTime: '2020' },
    // read by FHIRPath itself: a value only as an extension, an id beside the value, a wrong JSON type
    { _deceasedBoolean: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] } }, { deceasedBoolean: true, _deceasedBoolean: { id: 'a' } }, { deceasedBoolean: 'true' },
  ];
  for (const c of cases) {
    const patient = { resourceType: 'Patient', ...c };
    t.same(deceased.evaluate!(patient).map((n) => n.data), expected(patient), JSON.stringify(c));
    const rows = extractIndex(patient as never, registry()).token.filter((x) => x.param === 'Patient.deceased');
    t.same(rows.map((x) => x.code), (expected(patient) as boolean[]).map(String), `${JSON.stringify(c)}: its token row`);
  }
});
