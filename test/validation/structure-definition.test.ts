// $validate on a StructureDefinition reports what the reference validator reports on a profile:
// a differential that cannot be applied (a path that is no element, with its element id; a base
// the server does not hold, with its url), element ids that do not spell their paths, a snapshot
// that disagrees with its differential, a slicing with neither discriminator nor description
// (eld-1), a value discriminator that leaves a slice without the value selecting it. A consistent
// profile, with or without its snapshot, has no error.
import t from 'tap';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';

const profile: StructureDefinition = {
  resourceType: 'StructureDefinition', url: 'https://example.org/fhir/StructureDefinition/refugee', name: 'Refugee', status: 'draft', fhirVersion: '4.0.1',
  kind: 'resource', abstract: false, type: 'Patient', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient', derivation: 'constraint',
  differential: { element: [
    { id: 'Patient.identifier', path: 'Patient.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' }, min: 1 },
    { id: 'Patient.identifier:unhcr', path: 'Patient.identifier', sliceName: 'unhcr', max: '1' },
    { id: 'Patient.identifier:unhcr.system', path: 'Patient.identifier.system', min: 1, fixedUri: 'http://unhcr.org/fhir/sid/progres' },
    { id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 },
  ] },
};
const withDiff = (element: ElementDefinition[]): StructureDefinition => ({ ...profile, differential: { element } });
const issuesOf = (oo: any, severity = 'error'): string[] => oo.issue.filter((i: any) => i.severity === severity).map((i: any) => `${i.expression?.[0]}: ${i.diagnostics}`);

t.test('$validate on StructureDefinitions', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const validate = async (sd: unknown) => {
    const r = await fhir(app, 'POST', '/fhir/StructureDefinition/$validate', sd);
    t.equal(r.status, 200);
    return r.body;
  };
  t.same(issuesOf(await validate(profile)), [], 'a consistent differential');
  const generated = (await fhir(app, 'POST', '/fhir/StructureDefinition/$snapshot', profile)).body;
  t.same(issuesOf(await validate(generated)), [], 'with the snapshot it generates');

  let errors = issuesOf(await validate(withDiff([...profile.differential!.element, { id: 'Patient.nationality', path: 'Patient.nationality', min: 1 }])));
  t.match(errors.join('\n'), /StructureDefinition.differential.element\[4\]: The snapshot cannot be generated: .*Patient.nationality is not an element of the base/, 'a bad path, at its element, by id');

  errors = issuesOf(await validate({ ...profile, baseDefinition: 'https://example.org/fhir/StructureDefinition/absent' }));
  t.match(errors.join('\n'), /cannot resolve the base https:\/\/example.org\/fhir\/StructureDefinition\/absent/, 'a base not held, by url');

  errors = issuesOf(await validate(withDiff([{ id: 'Patient.birthdate', path: 'Patient.birthDate', min: 1 }])));
  t.match(errors.join('\n'), /StructureDefinition.differential.element\[0\].id: The element id 'Patient.birthdate' does not match its path 'Patient.birthDate'/);

  errors = issuesOf(await validate(withDiff([{ id: 'Observation.status', path: 'Observation.status', min: 1 }])));
  t.match(errors.join('\n'), /The path 'Observation.status' is not in a definition of Patient/);

  // a snapshot that says what its differential does not
  const edited = structuredClone(generated);
  edited.snapshot.element.find((e: any) => e.id === 'Patient.gender').min = 1;
  errors = issuesOf(await validate(edited));
  t.match(errors.join('\n'), /StructureDefinition.snapshot.element\[\d+\]: The snapshot element 'Patient.gender' \(1..1 code .*\) differs from what the differential and the base generate \(0..1 code/);
  const shorter = structuredClone(generated);
  shorter.snapshot.element = shorter.snapshot.element.filter((e: any) => e.id !== 'Patient.photo');
  t.match(issuesOf(await validate(shorter)).join('\n'), /The snapshot has \d+ elements, but the differential applied to the base generates \d+/);

  // slicing: no discriminator and no description (eld-1), a slice the discriminator cannot select
  errors = issuesOf(await validate(withDiff([
    { id: 'Patient.identifier', path: 'Patient.identifier', slicing: { rules: 'open' } },
    { id: 'Patient.identifier:unhcr', path: 'Patient.identifier', sliceName: 'unhcr' },
  ])));
  t.match(errors.join('\n'), /eld-1/, 'no discriminator needs a description');
  errors = issuesOf(await validate(withDiff([
    profile.differential!.element[0],
    { id: 'Patient.identifier:local', path: 'Patient.identifier', sliceName: 'local', max: '1' },
    { id: 'Patient.identifier:local.value', path: 'Patient.identifier.value', min: 1 },
  ])));
  t.match(errors.join('\n'), /StructureDefinition.differential.element\[1\]: The slice 'Patient.identifier:local' has no fixed value, pattern or required binding at the discriminator value:system of Patient.identifier/);
  t.notMatch(issuesOf(await validate(profile)).join('\n'), /no fixed value/, 'a slice with the fixed system is selected');

  // what the snapshot is made without is a warning
  const ext = withDiff([{ id: 'Patient.extension:x', path: 'Patient.extension', sliceName: 'x', type: [{ code: 'Extension', profile: ['https://example.org/fhir/StructureDefinition/not-here'] }] }]);
  const oo = await validate(ext);
  t.same(issuesOf(oo), []);
  t.match(issuesOf(oo, 'warning').join('\n'), /the type profile https:\/\/example.org\/fhir\/StructureDefinition\/not-here of Patient.extension:x is not known/);

  // the R4 specification's own definitions are taken as published
  const bmi = (await fhir(app, 'GET', '/fhir/StructureDefinition/$snapshot?url=http://hl7.org/fhir/StructureDefinition/bmi')).body;
  t.same(issuesOf(await validate(bmi)), []);
});
