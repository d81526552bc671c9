// Extensions as the HL7 reference validator judges them: the extensions pack resolves, contexts
// (element paths, datatype paths, types, enclosing extensions) hold, and an unknown extension is
// an error for $validate and the CLI while the write policy (--unknown-extensions) decides on
// write.
import t from 'tap';
import { offlineValidator } from '../../src/validation/offline.ts';
import { fhir, testApp } from '../helpers/app.ts';

const { validator } = offlineValidator();
const extensionIssues = (r: unknown, options = {}) =>
  validator.validate(r, options).filter((i) => /xtension/.test(i.diagnostics) && i.severity !== 'information').map((i) => `${i.severity} ${i.expression?.[0]}: ${i.diagnostics}`);
const UNKNOWN = { url: 'https://national.example/fhir/StructureDefinition/shoe-size', valueInteger: 44 };

t.test('extensions used where their contexts allow have no issue', async (t) => {
  const patient = {
    resourceType: 'Patient',
    // pack-only extensions (not in R4): a code bound to the pack's value set
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-bornStatus', valueCode: 'born' }],
    name: [{ family: 'Berg', _family: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix', valueString: 'van den' }] } }],
    // a context on a choice element (Patient.multipleBirth[x]) met by a primitive's twin
    multipleBirthInteger: 2,
    _multipleBirthInteger: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-multipleBirthTotal', valuePositiveInt: 3 }] },
    contact: [{ name: { text: 'Amal' }, extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-contactPriority', valuePositiveInt: 1 }] }],
  };
  t.same(extensionIssues(patient), []);
  // a type context (Quantity) met by a type derived from it (Age); a primitive type's (decimal)
  const uncertainty = { url: 'http://hl7.org/fhir/StructureDefinition/iso21090-uncertainty', valueDecimal: 0.5 };
  const precision = { url: 'http://hl7.org/fhir/StructureDefinition/quantity-precision', valueInteger: 0 };
  const condition = { resourceType: 'Condition', subject: { reference: 'Patient/1' }, onsetAge: { value: 3, _value: { extension: [precision] }, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a', extension: [uncertainty] } };
  t.same(extensionIssues(condition), []);
  // and the same extensions where their contexts do not hold
  const wrong = { ...condition, onsetAge: { value: 3, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a', extension: [precision] }, _recordedDate: { extension: [uncertainty] }, recordedDate: '2020-01-01' };
  t.match(extensionIssues(wrong), [/^error Condition.onsetAge.extension\[0\]: .*allowed = e:decimal/, /^error Condition.recordedDate.extension\[0\]: .*allowed = e:Quantity/]);
});

t.test('the unknown-extension policy: error by default, warning or accept when asked', async (t) => {
  const patient = { resourceType: 'Patient', extension: [UNKNOWN] };
  t.same(extensionIssues(patient), ['error Patient.extension[0]: The extension https://national.example/fhir/StructureDefinition/shoe-size is unknown, and not allowed here']);
  t.same(extensionIssues(patient, { unknownExtensions: 'warning' }), ['warning Patient.extension[0]: Unknown extension https://national.example/fhir/StructureDefinition/shoe-size']);
  t.same(extensionIssues(patient, { unknownExtensions: 'accept' }), []);
  // placeholders and HL7's namespace (published in packages the server may not hold) warn
  t.same(extensionIssues({ resourceType: 'Patient', extension: [{ url: 'http://example.org/x', valueString: 'y' }] }), ['warning Patient.extension[0]: Unknown extension http://example.org/x']);
  t.same(extensionIssues({ resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-x', valueString: 'y' }] }), ['warning Patient.extension[0]: Unknown extension http://hl7.org/fhir/us/core/StructureDefinition/us-core-x']);
  // a modifier extension that is not understood is refused whatever the policy
  const modifier = { resourceType: 'Patient', modifierExtension: [{ url: 'https://national.example/fhir/do-not-treat', valueBoolean: true }] };
  t.match(extensionIssues(modifier, { unknownExtensions: 'accept' }), [/^error Patient.modifierExtension\[0\]: Unknown extension/]);
});

t.test('on the server: $validate gives the reference verdict, writes follow --unknown-extensions', async (t) => {
  const patient = { resourceType: 'Patient', extension: [UNKNOWN] };
  const lenient = await testApp();
  t.teardown(() => lenient.close());
  const v = await fhir(lenient, 'POST', '/fhir/Patient/$validate', patient);
  t.ok(v.body.issue.some((i: any) => i.severity === 'error' && /is unknown, and not allowed here/.test(i.diagnostics)), '$validate: an error');
  t.equal((await fhir(lenient, 'POST', '/fhir/Patient', patient)).status, 201, 'stored under the default (warning)');
  const strict = await testApp({ unknownExtensions: 'error' });
  t.teardown(() => strict.close());
  const w = await fhir(strict, 'POST', '/fhir/Patient', patient);
  t.equal(w.status, 422, 'refused with --unknown-extensions error');
  t.match(w.body.issue[0], { severity: 'error', code: 'extension', expression: ['Patient.extension[0]'] });
  // an HL7 extension from the pack is known, so stored even by the strict server
  t.equal((await fhir(strict, 'POST', '/fhir/Patient', { resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-bornStatus', valueCode: 'born' }] })).status, 201);
  // an extension outside its context (R4's own CodeSystem-dicom-dcim puts valueset-concept-comments
  // on CodeSystem.concept): the reference verdict from $validate, the policy on write
  const misplaced = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueCodeableConcept: { text: 'SY' } }] }] };
  const mv = await fhir(lenient, 'POST', '/fhir/Observation/$validate', misplaced);
  t.ok(mv.body.issue.some((i: any) => i.severity === 'error' && /not allowed to be used at this point/.test(i.diagnostics)), '$validate: a context error');
  t.equal((await fhir(lenient, 'POST', '/fhir/Observation', misplaced)).status, 201, 'stored under the default policy (a warning)');
  t.equal((await fhir(strict, 'POST', '/fhir/Observation', misplaced)).status, 422, 'refused with --unknown-extensions error');
});
