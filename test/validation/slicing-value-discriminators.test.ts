// Value discriminators written `$this.system` (the path of the slice's own child) and value
// discriminators on an element with a required binding instead of a fixed value: both select
// slices, as FHIR's profiling rules say and HL7 Italia's Patient-it-base identifier slices use.
import t from 'tap';
import { assignSlices, type SliceContext } from '../../src/validation/slicing.ts';
import type { CompiledProfile, ElementNode } from '../../src/validation/profiles.ts';

const node = (over: Partial<ElementNode>): ElementNode => ({ id: 'Patient.identifier', path: 'Patient.identifier', name: 'identifier', extName: '_identifier', min: 0, max: Infinity, array: true, types: [{ code: 'Identifier' }], choice: false, constraints: [], modifier: false, children: [], slices: [], ...over });
const system = (slice: string, over: Partial<ElementNode>) => node({ id: `Patient.identifier:${slice}.system`, path: 'Patient.identifier.system', name: 'system', extName: '_system', min: 1, max: 1, array: false, types: [{ code: 'uri' }], ...over });

const cf = node({ id: 'Patient.identifier:codiceFiscale', sliceName: 'codiceFiscale', children: [system('codiceFiscale', { fixed: 'http://hl7.it/sid/codiceFiscale' })] });
const stp = node({ id: 'Patient.identifier:codiceSTP', sliceName: 'codiceSTP', children: [system('codiceSTP', { binding: { strength: 'required', valueSet: 'http://terminology.hl7.it/ValueSet/uri-idStp' } })] });
const example = node({ id: 'Patient.identifier:example', sliceName: 'example', children: [system('example', { binding: { strength: 'extensible', valueSet: 'http://terminology.hl7.it/ValueSet/uri-idStp' } })] });
const base = node({ slicing: { discriminator: [{ type: 'value', path: '$this.system' }], rules: 'open', ordered: false }, slices: [cf, example, stp] });

const STP = new Set(['http://hl7.it/sid/stp', 'urn:oid:2.16.840.1.113883.2.9.2.50.4.1.1']);
const ctx: SliceContext = {
  profile: { url: 'http://hl7.it/fhir/StructureDefinition/Patient-it-base', byId: new Map() } as unknown as CompiledProfile,
  conformsTo: () => false,
  typeOf: () => 'Identifier',
  resolve: () => undefined,
  profileType: () => undefined,
  inValueSet: (vs, v) => vs === 'http://terminology.hl7.it/ValueSet/uri-idStp' && STP.has(v as string),
};

t.test('$this.system names the slice child that holds the fixed value', async (t) => {
  const a = assignSlices([{ system: 'http://hl7.it/sid/codiceFiscale', value: 'RSSMRA71E01F205E' }], ['identifier'], base, ctx);
  t.equal(a.slices[0], cf);
});

t.test('a required binding selects the slice; another binding strength does not', async (t) => {
  const a = assignSlices([{ system: 'urn:oid:2.16.840.1.113883.2.9.2.50.4.1.1', value: 'STP0500000000001' }, { system: 'http://hl7.it/sid/eni', value: 'ENI1' }], ['identifier', 'identifier'], base, ctx);
  t.equal(a.slices[0], stp, 'a regional STP system is in uri-idStp (the extensible binding before it selects nothing)');
  t.equal(a.slices[1], undefined, 'an ENI system is in no slice (open slicing: no problem)');
  t.same(a.problems, []);
  const { inValueSet: _, ...without } = ctx;
  void _;
  t.equal(assignSlices([{ system: 'http://hl7.it/sid/stp' }], ['identifier'], base, without).slices[0], undefined, 'without a terminology the binding selects nothing');
});
