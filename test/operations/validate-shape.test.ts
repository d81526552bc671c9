// $validate walks a resource once when it is valid: the write path's shape check (its own
// wording of structural errors, first in the OperationOutcome) runs only when the validator found
// an error, or when the body is long enough to hold a string over the shape check's 1 MB. That
// is the same OperationOutcome as running both every time only if every structural error the
// shape check finds is also an error for the validator: held here over malformed resources of
// every kind the shape check knows and the whole validation corpus.
import t from 'tap';
import type { IssueInput } from '../../src/fhir/errors.ts';
import { loadDefinitions, ResourceTypes } from '../../src/fhir/definitions.ts';
import { offlineValidator } from '../../src/validation/offline.ts';
import { checkShape } from '../../src/validation/shape.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { instanceOf, NEGATIVE, POSITIVE } from '../validation/corpus/corpus.ts';

const base = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }] };

/** One instance per rule of src/validation/shape.ts. */
const MALFORMED: [string, unknown][] = [
  ['null at the top', { ...base, gender: null }],
  ['null nested', { ...base, name: [{ family: null }] }],
  ['null in an array', { ...base, name: [null] }],
  ['empty string', { ...base, gender: '' }],
  ['empty nested string', { ...base, name: [{ family: '' }] }],
  ['empty array', { ...base, name: [] }],
  ['empty nested array', { ...base, name: [{ given: [] }] }],
  ['empty object', { ...base, maritalStatus: {} }],
  ['a key that is no element name', { ...base, name: [{ 'fam$ily': 'x' }] }],
  ['an operator key at the top', { ...base, $where: 1 }],
  ['unknown element', { ...base, foo: 1 }],
  ['a repeating element not in an array', { ...base, name: { family: 'x' } }],
  ['a single element in an array', { ...base, gender: ['male'] }],
  ['boolean as a string', { ...base, active: 'true' }],
  ['boolean as a number', { ...base, active: 1 }],
  ['integer as a string', { ...base, multipleBirthInteger: '2' }],
  ['a repeating primitive of the wrong JSON type', { ...base, name: [{ given: [1] }] }],
  ['a primitive as an object', { ...base, birthDate: { a: 1 } }],
  ['a complex type as a string', { ...base, maritalStatus: 'x' }],
  ['an id with a space', { ...base, id: 'a b' }],
  ['an id as a number', { ...base, id: 5 }],
  ['an unknown choice type', { ...base, deceasedFoo: true }],
  ['a choice in lower case', { ...base, deceasedboolean: true }],
  ['two types of one choice', { ...base, deceasedBoolean: true, deceasedDateTime: '2020' }],
  ['a primitive extension as an array for a single element', { ...base, _gender: [{}] }],
  ['a missing required element', { resourceType: 'Observation', id: 'o', code: { text: 'x' } }],
  ['a contained resource with an unknown element', { ...base, contained: [{ resourceType: 'Patient', id: 'c', foo: 1 }] }],
  ['a contained resource with a null', { ...base, contained: [{ resourceType: 'Patient', id: 'c', gender: null }] }],
  ['a contained resource without resourceType', { ...base, contained: [{ id: 'c' }] }],
  ['a contained resource of no R4 type', { ...base, contained: [{ resourceType: 'Nope', id: 'c' }] }],
];

const isError = (i: IssueInput) => i.severity === 'error' || i.severity === 'fatal';

t.test('whatever the shape check finds, the validator finds an error too', async (t) => {
  const { validator } = offlineValidator();
  const types = new ResourceTypes(loadDefinitions());
  const cases: [string, unknown][] = [...MALFORMED, ...[...NEGATIVE, ...POSITIVE].map((c): [string, unknown] => ['name' in c ? String(c.name) : String(c.example ?? 'instance'), instanceOf(c)])];
  let shaped = 0;
  for (const [name, resource] of cases) {
    const shape = checkShape(resource, types);
    if (!shape.length) continue;
    shaped++;
    // as $validate runs it (src/validation/service.ts: StructureDefinitions checked as profiles too)
    const errors = validator.validate(resource, { definitions: true }).filter(isError);
    t.ok(errors.length > 0, `${name}: ${shape[0].diagnostics}`);
  }
  t.ok(shaped >= MALFORMED.length, `${shaped} of ${cases.length} instances break a shape rule`);
});

t.test('$validate of a malformed resource says each fault once, in the validator\'s words', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const r = await fhir(app, 'POST', '/fhir/Patient/$validate', { ...base, gender: null, foo: 1, name: { family: 'x' }, active: 'yes', birthDate: '' });
  t.equal(r.status, 200);
  const errors = r.body.issue.filter((i: any) => i.severity === 'error');
  const at = errors.map((i: any) => i.expression[0]);
  t.same([...new Set(at)].sort(), ['Patient.active', 'Patient.birthDate', 'Patient.foo', 'Patient.gender', 'Patient.name'], 'every fault');
  t.equal(at.length, new Set(at).size, `one issue an element: ${errors.map((i: any) => i.diagnostics).join(' / ')}`);
  t.ok(errors.some((i: any) => i.diagnostics === "Unrecognized property 'foo'"), 'as the HL7 reference validator words it');
});

t.test('a string over 1 MB in an otherwise valid resource gets the shape error', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const long = 'x'.repeat(1024 * 1024 + 1);
  const r = await fhir(app, 'POST', '/fhir/Patient/$validate', { ...base, name: [{ family: long }] });
  t.equal(r.status, 200);
  const errors = r.body.issue.filter((i: any) => i.severity === 'error');
  t.ok(errors.some((i: any) => i.diagnostics === 'Patient.name[0].family: strings are limited to 1 MB' && i.expression?.[0] === 'Patient.name[0].family'), 'too long');
  const ok = await fhir(app, 'POST', '/fhir/Patient/$validate', base);
  t.same(ok.body.issue.filter((i: any) => i.severity === 'error'), [], 'the same resource with a short name: no error');
});
