import t from 'tap';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';
import { generateSnapshot } from '../../src/validation/snapshot.ts';
import { r4Structure } from '../../src/ig/r4-structures.ts';
import { IPS_PACKAGE_DIR, ipsValidator } from '../helpers/ips.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const read = (id: string) => JSON.parse(readFileSync(join(dir, `StructureDefinition-${id}.json`), 'utf8')) as StructureDefinition;

/** what the comparison looks at: ids, paths, cardinality, types with profiles and target
 * profiles, fixed/pattern values, bindings, invariant keys, slicing */
function signature(e: ElementDefinition): string {
  const types = (e.type ?? []).map((t) => `${t.code}${t.profile ? `(${t.profile})` : ''}${t.targetProfile ? `->${t.targetProfile}` : ''}`).join('|');
  const values = Object.entries(e).filter(([k]) => k.startsWith('fixed') || k.startsWith('pattern'));
  const slicing = e.slicing ? `sliced(${(e.slicing.discriminator ?? []).map((d) => `${d.type}:${d.path}`)} ordered=${e.slicing.ordered} ${e.slicing.rules})` : '';
  return `${e.id} ${e.path} ${e.min}..${e.max} ${types} ${JSON.stringify(values)} ${e.binding?.strength}:${e.binding?.valueSet} ${(e.constraint ?? []).map((c) => c.key).sort()} ${slicing}`;
}

// R4 definitions whose published snapshots the R4 generator made differently from the profiling
// rules, or which break them (the R4 generator tolerated it; the reference validator reports it):
const KNOWN = {
  'elementdefinition-de': 'its published snapshot expands the children of its two extension slices from the extension definitions, which the R4 snapshots do nowhere else',
  'provenance-relevant-history': 'the R4 generator started the children of the slice agent:Author from the base Provenance.agent, losing the binding the differential puts on agent.type; the current generator (IPS 2.0, compared below) starts them from the constrained element',
  catalog: 'slices Composition.date, which does not repeat and declares no slicing',
  'familymemberhistory-genetic': 'slices FamilyMemberHistory.relationship, which does not repeat and declares no slicing',
} as Record<string, string>;

t.test('every R4 profile shipping a differential and a snapshot is regenerated exactly', async (t) => {
  let compared = 0;
  let equal = 0;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('StructureDefinition-')) continue;
    const sd = JSON.parse(readFileSync(join(dir, f), 'utf8')) as StructureDefinition;
    if (sd.derivation !== 'constraint' || !sd.differential || !sd.snapshot || KNOWN[sd.id!]) continue;
    const ours = generateSnapshot({ ...sd, snapshot: undefined }, r4Structure).snapshot!.element.map(signature);
    const theirs = sd.snapshot.element.map(signature);
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) t.same(ours, theirs, sd.id ?? f);
    else equal++;
    compared++;
  }
  t.comment(`${equal} of ${compared + Object.keys(KNOWN).length} R4 constraint profiles regenerated exactly; ${Object.keys(KNOWN).length} known differences`);
  t.ok(compared >= 435, `${compared} profiles compared`);
});

t.test('every IPS 2.0 profile (snapshots by the current reference generator) is regenerated exactly', async (t) => {
  // canonicals compared without |version: the IPS pins versions the R4 bases do not carry
  const unversioned = (e: ElementDefinition): ElementDefinition => ({
    ...e,
    type: e.type?.map((x) => ({ ...x, ...(x.profile ? { profile: x.profile.map((u) => u.split('|')[0]) } : {}), ...(x.targetProfile ? { targetProfile: x.targetProfile.map((u) => u.split('|')[0]) } : {}) })),
    ...(e.binding ? { binding: { ...e.binding, valueSet: e.binding.valueSet?.split('|')[0] } } : {}),
  });
  const { validator } = ipsValidator();
  let equal = 0;
  for (const f of readdirSync(IPS_PACKAGE_DIR)) {
    if (!f.startsWith('StructureDefinition-')) continue;
    const sd = JSON.parse(readFileSync(join(IPS_PACKAGE_DIR, f), 'utf8')) as StructureDefinition;
    if (sd.derivation !== 'constraint') continue;
    const ours = validator.profiles.generate(sd).sd.snapshot!.element.map((e) => signature(unversioned(e)));
    const theirs = sd.snapshot!.element.map((e) => signature(unversioned(e)));
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) t.same(ours, theirs, sd.id ?? f);
    else equal++;
  }
  t.comment(`${equal} IPS profiles regenerated exactly`);
  t.ok(equal >= 29);
});

t.test('the known differences are still differences (remove them from KNOWN when they match)', async (t) => {
  for (const [id, why] of Object.entries(KNOWN)) {
    const sd = read(id);
    let same = false;
    try {
      same = JSON.stringify(generateSnapshot({ ...sd, snapshot: undefined }, r4Structure).snapshot!.element.map(signature)) === JSON.stringify(sd.snapshot!.element.map(signature));
    } catch (err) {
      t.equal((err as Error).name, 'SnapshotError', `${id}: ${(err as Error).message}`);
    }
    t.notOk(same, `${id}: ${why}`);
  }
});

t.test('a renamed choice inside a slice narrows the choice (bp component:SystolicBP.valueQuantity)', async (t) => {
  const out = generateSnapshot({ ...read('bp'), snapshot: undefined }, r4Structure).snapshot!.element;
  const at = (id: string) => out.find((e) => e.id === id);
  t.same(at('Observation.component:SystolicBP.value[x]')!.type!.map((x) => x.code), ['Quantity']);
  t.equal(at('Observation.component:SystolicBP.value[x].unit')!.min, 1);
  t.notOk(at('Observation.component:SystolicBP.value[x]:valueQuantity'));
  t.equal(at('Observation.value[x]:valueQuantity')!.max, '0', 'at the top level it is a type slice');
});

t.test('renamed choice types, slices and their children (bodyweight)', async (t) => {
  const sd = read('bodyweight');
  const out = generateSnapshot({ ...sd, snapshot: undefined }, r4Structure).snapshot!.element;
  const byId = new Map(out.map((e) => [e.id, e]));
  const value = byId.get('Observation.value[x]')!;
  t.same(value.slicing?.discriminator, [{ type: 'type', path: '$this' }]);
  t.same(value.type!.map((x) => x.code), ['Quantity']);
  t.equal(byId.get('Observation.value[x]:valueQuantity')!.path, 'Observation.value[x]');
  t.equal(byId.get('Observation.value[x]:valueQuantity.unit')!.min, 1);
  t.equal(byId.get('Observation.code.coding:BodyWeightCode.code')!.fixedCode, '29463-7');
  t.ok(out.findIndex((e) => e.id === 'Observation.code.coding:BodyWeightCode') > out.findIndex((e) => e.id === 'Observation.code.coding.userSelected') || !byId.has('Observation.code.coding.userSelected'), 'slices come after the sliced element');
});

t.test('extension profiles: complex extension with url fixed and value types', async (t) => {
  const ext: StructureDefinition = {
    resourceType: 'StructureDefinition', url: 'https://example.org/StructureDefinition/journey', name: 'Journey', status: 'draft', kind: 'complex-type', abstract: false, type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension', derivation: 'constraint',
    differential: { element: [
      { id: 'Extension', path: 'Extension', max: '1' },
      { id: 'Extension.extension:transit', path: 'Extension.extension', sliceName: 'transit', min: 0, max: '*' },
      { id: 'Extension.extension:transit.extension:country', path: 'Extension.extension.extension', sliceName: 'country', min: 1, max: '1' },
      { id: 'Extension.extension:transit.extension:country.url', path: 'Extension.extension.extension.url', fixedUri: 'country' },
      { id: 'Extension.extension:transit.extension:country.value[x]', path: 'Extension.extension.extension.value[x]', type: [{ code: 'CodeableConcept' }], binding: { strength: 'required', valueSet: 'https://example.org/ValueSet/c' } },
      { id: 'Extension.extension:transit.url', path: 'Extension.extension.url', fixedUri: 'transit' },
      { id: 'Extension.extension:transit.value[x]', path: 'Extension.extension.value[x]', max: '0' },
      { id: 'Extension.url', path: 'Extension.url', fixedUri: 'https://example.org/StructureDefinition/journey' },
      { id: 'Extension.value[x]', path: 'Extension.value[x]', max: '0' },
    ] },
  };
  const out = generateSnapshot(ext, r4Structure).snapshot!.element;
  const ids = out.map((e) => e.id);
  const at = (id: string) => out.find((e) => e.id === id)!;
  t.equal(at('Extension.url').fixedUri, 'https://example.org/StructureDefinition/journey');
  t.equal(at('Extension.extension:transit.extension:country.url').fixedUri, 'country');
  t.same(at('Extension.extension:transit.extension:country.value[x]').type, [{ code: 'CodeableConcept' }]);
  t.equal(at('Extension.extension:transit.extension:country.value[x]').path, 'Extension.extension.extension.value[x]');
  t.equal(at('Extension.extension:transit.extension:country').min, 1);
  t.equal(at('Extension.value[x]').max, '0');
  t.ok(ids.indexOf('Extension.extension:transit.url') > ids.indexOf('Extension.extension:transit.extension:country.value[x]'), 'a slice\'s children stay inside its subtree');

  // a profile using it: extension slice typed with the profile, documented from its root
  const patient: StructureDefinition = {
    resourceType: 'StructureDefinition', url: 'https://example.org/StructureDefinition/p', name: 'P', status: 'draft', kind: 'resource', abstract: false, type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient', derivation: 'constraint',
    differential: { element: [
      { id: 'Patient.extension:journey', path: 'Patient.extension', sliceName: 'journey', max: '1', type: [{ code: 'Extension', profile: [ext.url] }] },
      { id: 'Patient.identifier', path: 'Patient.identifier', min: 1, slicing: { discriminator: [{ type: 'pattern', path: '$this' }], rules: 'open' } },
      { id: 'Patient.identifier:stp', path: 'Patient.identifier', sliceName: 'stp', max: '1', patternIdentifier: { system: 'http://hl7.it/sid/stp' } },
      { id: 'Patient.identifier:stp.use', path: 'Patient.identifier.use', min: 1, fixedCode: 'temp' },
      { id: 'Patient.generalPractitioner', path: 'Patient.generalPractitioner', type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Practitioner'] }] },
    ] },
  };
  const ps = generateSnapshot(patient, (u) => (u === ext.url ? ext : r4Structure(u))).snapshot!.element;
  const p = (id: string) => ps.find((e) => e.id === id)!;
  t.equal(p('Patient.extension').slicing?.discriminator?.[0].path, 'url', 'resource extensions are sliced by url');
  t.same(p('Patient.extension:journey').type![0].profile, [ext.url]);
  t.equal(p('Patient.identifier').min, 1);
  t.equal(p('Patient.identifier:stp').min, 0, 'a slice\'s minimum is its own');
  t.equal(p('Patient.identifier:stp.use').fixedCode, 'temp');
  t.equal(p('Patient.identifier:stp.use').path, 'Patient.identifier.use');
  t.same(p('Patient.generalPractitioner').type![0].targetProfile, ['http://hl7.org/fhir/StructureDefinition/Practitioner']);
});

t.test('differentials that break the base are refused', async (t) => {
  const base = { resourceType: 'StructureDefinition', url: 'https://example.org/x', name: 'X', status: 'draft', kind: 'resource', abstract: false, type: 'Patient', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient', derivation: 'constraint' } as StructureDefinition;
  const bad = (element: ElementDefinition[]) => () => generateSnapshot({ ...base, differential: { element } }, r4Structure);
  t.throws(bad([{ id: 'Patient.gender', path: 'Patient.gender', max: '2' }]), { name: 'SnapshotError' }, 'max above the base');
  t.throws(bad([{ id: 'Patient.birthDate', path: 'Patient.birthDate', type: [{ code: 'dateTime' }] }]), { name: 'SnapshotError' }, 'type not in the base');
  t.throws(bad([{ id: 'Patient.nickname', path: 'Patient.nickname' }]), { name: 'SnapshotError' }, 'unknown element');
  t.throws(bad([{ id: 'Patient.name:x', path: 'Patient.name', sliceName: 'x' }]), { name: 'SnapshotError' }, 'slice without slicing');
  t.throws(bad([{ id: 'Patient.gender', path: 'Patient.gender', binding: { strength: 'preferred', valueSet: 'https://example.org/vs' } }]), { name: 'SnapshotError' }, 'weakened required binding');
  t.throws(() => generateSnapshot({ ...base, baseDefinition: 'https://example.org/none' }, r4Structure), { name: 'SnapshotError', message: /cannot resolve the base https:\/\/example.org\/none/ }, 'unresolvable base');
  // the slicing of a base profile (vitalsigns: category sliced by coding.code and coding.system)
  const onVitals = (element: ElementDefinition[]) => () => generateSnapshot({ ...base, type: 'Observation', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/vitalsigns', differential: { element } }, r4Structure);
  t.throws(onVitals([{ id: 'Observation.category', path: 'Observation.category', slicing: { discriminator: [{ type: 'pattern', path: '$this' }], rules: 'open' } }]), { name: 'SnapshotError', message: /Observation.category: the slicing pattern:\$this .* changes the base's discriminators/ }, 'changed discriminators');
  t.throws(onVitals([{ id: 'Observation.category', path: 'Observation.category', slicing: { ordered: true, rules: 'open' } }]), { name: 'SnapshotError', message: /changes the base's order/ }, 'changed order');
  t.doesNotThrow(onVitals([{ id: 'Observation.category', path: 'Observation.category', slicing: { discriminator: [{ type: 'value', path: 'coding.code' }, { type: 'value', path: 'coding.system' }], rules: 'closed' } }, { id: 'Observation.category:VSCat', path: 'Observation.category', sliceName: 'VSCat', min: 1 }]), 'restated slicing, closed, an existing slice constrained');
  t.throws(() => generateSnapshot({ ...base, type: 'Observation', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/vitalsigns', differential: { element: [{ id: 'Observation.component:x', path: 'Observation.component', sliceName: 'x' }] } }, r4Structure), { name: 'SnapshotError', message: /Observation.component:x slices Observation.component, which has no slicing/ }, 'a slice needs slicing');
  const closed = generateSnapshot({ ...base, url: 'https://example.org/closed', differential: { element: [{ id: 'Patient.identifier', path: 'Patient.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'closed' } }, { id: 'Patient.identifier:a', path: 'Patient.identifier', sliceName: 'a' }] } }, r4Structure);
  t.throws(() => generateSnapshot({ ...base, baseDefinition: closed.url, differential: { element: [{ id: 'Patient.identifier:b', path: 'Patient.identifier', sliceName: 'b' }] } }, (u) => (u === closed.url ? closed : r4Structure(u))), { name: 'SnapshotError', message: /the base closes the slicing of Patient.identifier/ }, 'no new slice on a closed slicing');
  t.throws(() => generateSnapshot({ ...base, url: 'https://example.org/loop', baseDefinition: 'https://example.org/loop2' }, (u) => (u === 'https://example.org/loop2' ? { ...base, url: u, baseDefinition: 'https://example.org/loop' } : u === 'https://example.org/loop' ? { ...base, url: u, baseDefinition: 'https://example.org/loop2' } : r4Structure(u))), { name: 'SnapshotError', message: /depends on itself/ }, 'a base chain that loops');
});
