// Slicing by references' targets: discriminators on resolve() (type and profile) resolve the
// reference inside the Bundle being validated; plus the matching helpers.
import t from 'tap';
import { assignSlices, matchesPattern, type SliceContext } from '../../src/validation/slicing.ts';
import { jsonEqual } from '../../src/fhir/json.ts';
import type { CompiledProfile, ElementNode } from '../../src/validation/profiles.ts';
import { offlineValidator } from '../../src/validation/offline.ts';

const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const node = (over: Partial<ElementNode>): ElementNode => ({ id: 'X.entry', path: 'X.entry', name: 'entry', extName: '_entry', min: 0, max: Infinity, array: true, types: [], choice: false, constraints: [], modifier: false, children: [], slices: [], ...over });

t.test('type discriminator on resolve()', async (t) => {
  const cond = node({ id: 'X.entry:cond', sliceName: 'cond', min: 1, max: 1, types: [{ code: 'Reference', targetProfiles: [`${CORE}Condition`] }] });
  const base = node({ slicing: { discriminator: [{ type: 'type', path: 'resolve()' }], rules: 'closed', ordered: false }, slices: [cond], types: [{ code: 'Reference' }] });
  const resources: Record<string, unknown> = { 'urn:uuid:1': { resourceType: 'Condition', id: '1' }, 'urn:uuid:2': { resourceType: 'AllergyIntolerance', id: '2' } };
  const ctx: SliceContext = {
    profile: { url: 'x', byId: new Map() } as unknown as CompiledProfile,
    conformsTo: () => false,
    typeOf: (item) => (item as { resourceType?: string }).resourceType,
    resolve: (r) => resources[(r as { reference: string }).reference],
    profileType: (url) => url.slice(CORE.length),
  };
  let a = assignSlices([{ reference: 'urn:uuid:1' }], ['entry'], base, ctx);
  t.equal(a.slices[0], cond, 'the Condition reference is in the slice');
  t.same(a.problems, []);
  a = assignSlices([{ reference: 'urn:uuid:2' }], ['entry'], base, ctx);
  t.equal(a.slices[0], undefined);
  t.ok(a.problems.some((p) => /CLOSED/.test(p.message)), 'closed slicing: the AllergyIntolerance is refused');
  t.ok(a.problems.some((p) => /Slice 'cond'/.test(p.message)), 'and the required slice is missing');
  a = assignSlices([{ reference: 'urn:uuid:unknown' }], ['entry'], base, ctx);
  t.equal(a.slices[0], undefined, 'an unresolvable reference matches no slice');
});

t.test('pattern and equality helpers', async (t) => {
  t.ok(matchesPattern({ coding: [{ system: 's', code: 'a' }, { system: 's', code: 'b' }], text: 'x' }, { coding: [{ system: 's', code: 'b' }] }));
  t.notOk(matchesPattern({ coding: [{ system: 's', code: 'a' }] }, { coding: [{ system: 's', code: 'b' }] }));
  t.ok(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
  t.notOk(jsonEqual({ a: 1 }, { a: 1, b: 2 }));
});

t.test('urn:uuid references between Bundle entries are checked against their target types', async (t) => {
  const { validator } = offlineValidator();
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'urn:uuid:6b1f0c2e-0f3a-4d0e-9a7e-2a8b8f3c1d21', resource: { resourceType: 'Practitioner', name: [{ family: 'Dr' }] } },
      { fullUrl: 'urn:uuid:6b1f0c2e-0f3a-4d0e-9a7e-2a8b8f3c1d22', resource: { resourceType: 'Patient', managingOrganization: { reference: 'urn:uuid:6b1f0c2e-0f3a-4d0e-9a7e-2a8b8f3c1d21' } } },
    ],
  };
  const errors = validator.validate(bundle).filter((i) => i.severity === 'error');
  t.ok(errors.some((i) => i.expression?.[0] === 'Bundle.entry[1].resource.managingOrganization' && /not a valid target/.test(i.diagnostics)), 'a Practitioner is not an Organization', { errors });
});
