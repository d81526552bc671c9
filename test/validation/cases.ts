// Negative validation cases: official R4 examples each broken in one way, with the issue the
// validator must report (severity and FHIRPath location). Hand-written cases cover every rule of
// the validator; generated families (cases.test.ts) add missing required elements and unknown
// elements across every resource type that has an example.

export type Op =
  | { op: 'set'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export interface NegativeCase {
  name: string;
  /** example file of hl7.fhir.r4.examples */
  base: string;
  ops: Op[];
  /** validate against this profile too */
  profile?: string;
  severity: 'error' | 'warning' | 'information';
  expression: string;
  /** a fragment of the expected message */
  message?: string;
}

const P = 'Patient-example.json';
const BP = 'Observation-blood-pressure.json';
const OBS = 'Observation-example.json';
const Q = 'Questionnaire-f201.json';
const ENC = 'Encounter-example.json';
const SR = 'ServiceRequest-example.json';
const TX = 'Bundle-bundle-transaction.json';
const VITALS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const set = (path: string, value: unknown): Op => ({ op: 'set', path, value });
const QR = 'QuestionnaireResponse-f201.json';
/** a response answering a contained Questionnaire of these items */
const qrWith = (item: object[]): Op[] => [set('/contained', [{ resourceType: 'Questionnaire', id: 'q', status: 'active', item }]), set('/questionnaire', '#q')];
const remove = (path: string): Op => ({ op: 'remove', path });

/** primitive formats: [type, path in Patient/Observation example, bad value] */
const FORMATS: [string, string, string, unknown][] = [
  ['date', P, '/birthDate', '1974-13-25'],
  ['date', P, '/birthDate', '1974-02-30'],
  ['date', P, '/birthDate', '74-12-25'],
  ['date', P, '/birthDate', '1974-12-25T10:00:00Z'],
  ['date', P, '/birthDate', 19741225],
  ['date', P, '/birthDate', '0000'],
  ['dateTime', OBS, '/effectiveDateTime', '2016-03-28T09:30'],
  ['dateTime', OBS, '/effectiveDateTime', '2016-03-28T09:30:00'],
  ['dateTime', OBS, '/effectiveDateTime', '2016-03-28 09:30:00Z'],
  ['dateTime', OBS, '/effectiveDateTime', '2016-3-28'],
  ['dateTime', OBS, '/effectiveDateTime', '2016-03-28T25:00:00Z'],
  ['dateTime', OBS, '/effectiveDateTime', '2016-03-28T09:30:00+15:00'],
  ['instant', OBS, '/issued', '2016-03-28'],
  ['instant', OBS, '/issued', '2016-03-28T09:30:00'],
  ['instant', OBS, '/issued', 'yesterday'],
  ['code', P, '/gender', 'male '],
  ['code', P, '/gender', ' male'],
  ['code', P, '/gender', 'ma  le'],
  ['code', P, '/gender', true],
  ['boolean', P, '/active', 'true'],
  ['boolean', P, '/active', 1],
  ['boolean', P, '/deceasedBoolean', 'false'],
  ['id', P, '/id', 'has space'],
  ['id', P, '/id', 'a'.repeat(65)],
  ['id', P, '/id', 'under_score'],
  ['string', P, '/name/0/family', 42],
  ['string', P, '/name/0/family', ''],
  ['string', P, '/name/0/given/0', { value: 'x' }],
  ['uri', P, '/identifier/0/system', 'urn:oid:1.2 .3'],
  ['uri', P, '/identifier/0/system', 7],
  ['decimal', OBS, '/valueQuantity/value', '185'],
  ['decimal', OBS, '/valueQuantity/value', true],
  ['positiveInt', P, '/telecom/0/rank', 0],
  ['positiveInt', P, '/telecom/0/rank', -3],
  ['positiveInt', P, '/telecom/0/rank', 1.5],
  ['positiveInt', P, '/telecom/0/rank', '1'],
  ['integer', 'Patient-example.json', '/multipleBirthInteger', 2.5],
  ['integer', 'Patient-example.json', '/multipleBirthInteger', 2147483648],
  ['xhtml', P, '/text/div', '<p>not a div</p>'],
  ['xhtml', P, '/text/div', '<div>no namespace</div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:alert(1)">x</a></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><form action="x"><input/></form></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><iframe src="https://evil.example"/></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><style>p{}</style></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><blink>x</blink></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml">a</div><div xmlns="http://www.w3.org/1999/xhtml">b</div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><p data-x="1" formaction="x">a</p></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><a href=" JavaScript:alert(1)">x</a></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml"><![CDATA[<script>]]></div>'],
  ['xhtml', P, '/text/div', '<div xmlns="http://www.w3.org/1999/xhtml">AT&T</div>'],
];

/** JSON pointer → the validator's FHIRPath location (`/name/0/given/1` → `Patient.name[0].given[1]`). */
export function fhirPath(type: string, pointer: string): string {
  let out = type;
  for (const seg of pointer.split('/').slice(1)) out += /^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`;
  return out;
}

const formatCases: NegativeCase[] = FORMATS.map(([type, base, path, value]) => ({
  name: `${type}: ${JSON.stringify(value).slice(0, 40)} at ${path}`,
  base,
  ops: [set(path, value)],
  severity: 'error',
  expression: fhirPath(base.split('-')[0], path),
}));

const handCases: NegativeCase[] = [
  // JSON structure
  { name: 'unknown element at the root', base: P, ops: [set('/nickname', 'Jim')], severity: 'error', expression: 'Patient.nickname', message: 'Unrecognized property' },
  { name: 'unknown element in a datatype', base: P, ops: [set('/name/0/middle', 'J')], severity: 'error', expression: 'Patient.name[0].middle' },
  { name: 'unknown element in a backbone element', base: P, ops: [set('/contact/0/priority', 1)], severity: 'error', expression: 'Patient.contact[0].priority' },
  { name: 'unknown element in a nested datatype', base: P, ops: [set('/identifier/0/period/middle', '2001')], severity: 'error', expression: 'Patient.identifier[0].period.middle' },
  { name: 'repeating element as an object', base: P, ops: [set('/name', { family: 'Chalmers' })], severity: 'error', expression: 'Patient.name', message: 'must be a JSON array' },
  { name: 'single element as an array', base: P, ops: [set('/gender', ['male'])], severity: 'error', expression: 'Patient.gender', message: 'must not be a JSON array' },
  { name: 'complex element as a string', base: P, ops: [set('/managingOrganization', 'Organization/1')], severity: 'error', expression: 'Patient.managingOrganization', message: 'Expected a JSON object' },
  { name: 'complex element as an array of strings', base: P, ops: [set('/name', ['Peter'])], severity: 'error', expression: 'Patient.name[0]', message: 'Expected a JSON object' },
  { name: 'empty object', base: P, ops: [set('/maritalStatus', {})], severity: 'error', expression: 'Patient.maritalStatus', message: 'ele-1' },
  { name: 'empty array', base: P, ops: [set('/telecom', [])], severity: 'error', expression: 'Patient.telecom', message: 'must not be empty' },
  { name: 'null value', base: P, ops: [set('/gender', null)], severity: 'error', expression: 'Patient.gender', message: 'null' },
  { name: 'null in an array without a twin', base: P, ops: [set('/name/0/given', ['Peter', null])], severity: 'error', expression: 'Patient.name[0].given[1]' },
  { name: 'object with only an id', base: P, ops: [set('/maritalStatus', { id: 'x' })], severity: 'error', expression: 'Patient.maritalStatus', message: 'ele-1' },
  { name: 'primitive extension on a complex element', base: P, ops: [set('/_managingOrganization', { extension: [{ url: 'http://example.org/x', valueString: 'y' }] })], severity: 'error', expression: 'Patient._managingOrganization', message: 'only allowed for primitive' },
  { name: 'primitive extension as a string', base: P, ops: [set('/_gender', 'x')], severity: 'error', expression: 'Patient.gender', message: 'must be a JSON object' },
  { name: 'two types of a choice element', base: P, ops: [set('/deceasedDateTime', '2015-01-01')], severity: 'error', expression: 'Patient.deceasedDateTime', message: 'Only one of' },
  { name: 'choice element with an unknown type', base: P, ops: [remove('/deceasedBoolean'), set('/deceasedString', 'yes')], severity: 'error', expression: 'Patient.deceasedString' },
  { name: 'choice element named without its type', base: P, ops: [set('/deceased', true)], severity: 'error', expression: 'Patient.deceased' },
  { name: 'resourceType inside a datatype', base: P, ops: [set('/name/0/resourceType', 'HumanName')], severity: 'error', expression: 'Patient.name[0].resourceType' },
  // cardinality
  { name: 'missing required element', base: OBS, ops: [remove('/status')], severity: 'error', expression: 'Observation', message: 'Observation.status: minimum required = 1' },
  { name: 'missing required element in a backbone element', base: P, ops: [set('/link', [{ type: 'seealso' }])], severity: 'error', expression: 'Patient.link[0]', message: 'Patient.link[0].other: minimum required = 1' },
  { name: 'missing required element in a datatype', base: OBS, ops: [set('/referenceRange', [{ low: { value: 1 }, appliesTo: [{ text: 'x' }] }]), set('/component', [{ valueString: 'x' }])], severity: 'error', expression: 'Observation.component[0]', message: 'code: minimum required = 1' },
  { name: 'missing required choice element', base: 'Condition-example.json', ops: [set('/stage', [{ assessment: [{ reference: 'Observation/1' }] }]), set('/evidence', [{ detail: [{ reference: 'Observation/1' }] }]), set('/abatementString', 'x')], severity: 'error', expression: 'Condition', message: 'con-4' },
  { name: 'missing required element in a nested Questionnaire item', base: Q, ops: [remove('/item/1/item/0/linkId')], severity: 'error', expression: 'Questionnaire.item[1].item[0]', message: 'linkId: minimum required = 1' },
  // contained resources and Bundles
  { name: 'contained resource with an unknown element', base: P, ops: [set('/contained', [{ resourceType: 'Organization', id: 'o1', name: 'X', colour: 'red' }]), set('/managingOrganization', { reference: '#o1' })], severity: 'error', expression: 'Patient.contained[0].colour' },
  { name: 'contained resource of an unknown type', base: P, ops: [set('/contained', [{ resourceType: 'Organisation', id: 'o1' }]), set('/managingOrganization', { reference: '#o1' })], severity: 'error', expression: 'Patient.contained[0]', message: 'Unknown resource type' },
  { name: 'contained resource without resourceType', base: P, ops: [set('/contained', [{ id: 'o1', name: 'X' }])], severity: 'error', expression: 'Patient.contained[0]', message: 'no resourceType' },
  { name: 'contained resource nobody refers to (dom-3)', base: P, ops: [set('/contained', [{ resourceType: 'Organization', id: 'o1', name: 'X' }])], severity: 'error', expression: 'Patient.contained[0]', message: 'dom-3' },
  { name: 'contained resource with its own narrative (dom-5/dom-4)', base: P, ops: [set('/contained', [{ resourceType: 'Organization', id: 'o1', name: 'X', meta: { versionId: '1' } }]), set('/managingOrganization', { reference: '#o1' })], severity: 'error', expression: 'Patient', message: 'dom-4' },
  { name: 'reference to a missing contained resource (ref-1)', base: P, ops: [set('/managingOrganization', { reference: '#nope' })], severity: 'error', expression: 'Patient.managingOrganization', message: 'ref-1' },
  { name: 'Bundle entry with an invalid resource', base: TX, ops: [set('/entry/0/resource/gender', 'unknown-gender')], severity: 'error', expression: 'Bundle.entry[0].resource.gender' },
  { name: 'Bundle entry with an unknown element', base: TX, ops: [set('/entry/0/resource/shoeSize', 44)], severity: 'error', expression: 'Bundle.entry[0].resource.shoeSize' },
  { name: 'Bundle entry request with a bad method', base: TX, ops: [set('/entry/0/request/method', 'FETCH')], severity: 'error', expression: 'Bundle.entry[0].request.method' },
  { name: 'Bundle entry fullUrl naming another resource', base: TX, ops: [set('/entry/2/fullUrl', 'http://example.org/fhir/Patient/somebody-else')], severity: 'error', expression: 'Bundle.entry[2]', message: 'must end with the correct type and id (/Patient/123)' },
  { name: 'Bundle without type', base: TX, ops: [remove('/type')], severity: 'error', expression: 'Bundle', message: 'Bundle.type: minimum required' },
  { name: 'transaction entry without request (bdl-3)', base: TX, ops: [remove('/entry/0/request')], severity: 'error', expression: 'Bundle', message: 'bdl-3' },
  // references
  { name: 'reference to a type the element does not allow', base: P, ops: [set('/managingOrganization', { reference: 'Practitioner/1' })], severity: 'error', expression: 'Patient.managingOrganization', message: 'not a valid target' },
  { name: 'absolute reference to a type the element does not allow', base: OBS, ops: [set('/subject', { reference: 'http://example.org/fhir/Medication/1' })], severity: 'error', expression: 'Observation.subject', message: 'not a valid target' },
  { name: 'contained reference to a type the element does not allow', base: P, ops: [set('/contained', [{ resourceType: 'Practitioner', id: 'p1', name: [{ family: 'X' }] }]), set('/managingOrganization', { reference: '#p1' })], severity: 'error', expression: 'Patient.managingOrganization', message: 'not a valid target' },
  { name: 'reference that is not a string', base: P, ops: [set('/managingOrganization', { reference: 12 })], severity: 'error', expression: 'Patient.managingOrganization.reference' },
  // bindings
  { name: 'required binding on code', base: P, ops: [set('/gender', 'M')], severity: 'error', expression: 'Patient.gender', message: 'not in the value set' },
  { name: 'required binding on code (case)', base: P, ops: [set('/gender', 'Male')], severity: 'error', expression: 'Patient.gender' },
  { name: 'required binding on a nested code', base: P, ops: [set('/telecom/0/system', 'fax-machine')], severity: 'error', expression: 'Patient.telecom[0].system' },
  { name: 'required binding on Observation.status', base: OBS, ops: [set('/status', 'done')], severity: 'error', expression: 'Observation.status' },
  { name: 'required binding on Encounter.status', base: ENC, ops: [set('/status', 'open')], severity: 'error', expression: 'Encounter.status' },
  { name: 'required binding on ServiceRequest.intent', base: SR, ops: [set('/intent', 'wish')], severity: 'error', expression: 'ServiceRequest.intent' },
  { name: 'extensible binding on Coding (Encounter.class)', base: ENC, ops: [set('/class', { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'NOPE' })], severity: 'warning', expression: 'Encounter.class' },
  { name: 'required binding on Coding (Bundle.entry.request.method is code; Meta.tag is not bound: use Identifier.use)', base: P, ops: [set('/identifier/0/use', 'primary')], severity: 'error', expression: 'Patient.identifier[0].use' },
  { name: 'required binding on CodeableConcept with text only', base: 'AllergyIntolerance-example.json', ops: [set('/clinicalStatus', { text: 'active' })], severity: 'error', expression: 'AllergyIntolerance.clinicalStatus', message: 'No code provided' },
  { name: 'required binding on CodeableConcept with a wrong code', base: 'AllergyIntolerance-example.json', ops: [set('/clinicalStatus', { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'cured' }] })], severity: 'error', expression: 'AllergyIntolerance.clinicalStatus', message: 'not in the value set' },
  { name: 'required binding on CodeableConcept with a wrong system', base: 'AllergyIntolerance-example.json', ops: [set('/clinicalStatus', { coding: [{ system: 'http://example.org/status', code: 'active' }] })], severity: 'error', expression: 'AllergyIntolerance.clinicalStatus' },
  { name: 'extensible binding not met', base: P, ops: [set('/maritalStatus', { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'ZZ' }] })], severity: 'warning', expression: 'Patient.maritalStatus' },
  { name: 'unknown code in a code system the server holds', base: P, ops: [set('/maritalStatus', { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'ZZ' }] })], severity: 'error', expression: 'Patient.maritalStatus.coding[0].code', message: "Unknown code 'ZZ'" },
  { name: 'unknown code in an unbound coding', base: P, ops: [set('/identifier/0/type', { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NOPE' }] })], severity: 'error', expression: 'Patient.identifier[0].type.coding[0].code' },
  { name: 'wrong display for a code', base: P, ops: [set('/identifier/0/type', { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Passport' }] })], severity: 'warning', expression: 'Patient.identifier[0].type.coding[0].display', message: 'Wrong display' },
  { name: 'a SNOMED CT code is never called unknown; only the extensible binding warns', base: P, ops: [set('/maritalStatus', { coding: [{ system: 'http://snomed.info/sct', code: '87915002' }] })], severity: 'warning', expression: 'Patient.maritalStatus', message: 'not in the value set' },
  // extensions
  { name: 'unknown extension', base: P, ops: [set('/extension', [{ url: 'http://example.org/fhir/StructureDefinition/shoe-size', valueInteger: 44 }])], severity: 'warning', expression: 'Patient.extension[0]', message: 'Unknown extension' },
  { name: 'unknown modifier extension', base: P, ops: [set('/modifierExtension', [{ url: 'https://national.example/fhir/do-not-treat', valueBoolean: true }])], severity: 'error', expression: 'Patient.modifierExtension[0]', message: 'Unknown extension' },
  { name: 'unknown core-namespace extension (R5 / extensions pack)', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-shoeSize', valueInteger: 44 }])], severity: 'warning', expression: 'Patient.extension[0]', message: 'Unknown extension' },
  { name: 'unknown core-namespace modifier extension', base: P, ops: [set('/modifierExtension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-notReally', valueBoolean: true }])], severity: 'error', expression: 'Patient.modifierExtension[0]', message: 'Unknown extension' },
  { name: 'extension with value and nested extensions (ext-1)', base: P, ops: [set('/extension', [{ url: 'http://example.org/x', valueString: 'a', extension: [{ url: 'b', valueString: 'c' }] }])], severity: 'error', expression: 'Patient.extension[0]', message: 'ext-1' },
  { name: 'extension with neither value nor extensions (ext-1)', base: P, ops: [set('/extension', [{ url: 'http://example.org/x' }])], severity: 'error', expression: 'Patient.extension[0]', message: 'ext-1' },
  { name: 'extension without url', base: P, ops: [set('/extension', [{ valueString: 'a' }])], severity: 'error', expression: 'Patient.extension[0]', message: 'url: minimum required' },
  { name: 'extension value of a type its definition forbids', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueString: 'Aleppo' }])], severity: 'error', expression: 'Patient.extension[0].valueString' },
  { name: 'complex extension part repeated beyond its slice maximum', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueCodeableConcept: { text: 'SY' } }, { url: 'code', valueCodeableConcept: { text: 'IQ' } }] }])], severity: 'error', expression: 'Patient.extension[0]', message: "Slice 'code': maximum allowed = 1" },
  { name: 'complex extension part with a wrong value type', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueString: 'SY' }] }])], severity: 'error', expression: 'Patient.extension[0].extension[0].valueString' },
  { name: 'extension used outside its context', base: OBS, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueCodeableConcept: { text: 'SY' } }] }])], severity: 'error', expression: 'Observation.extension[0]', message: 'not allowed to be used at this point (allowed = e:Patient' },
  { name: 'primitive extension that is unknown', base: P, ops: [set('/_gender', { extension: [{ url: 'http://example.org/gender-detail', valueString: 'x' }] })], severity: 'warning', expression: 'Patient.gender.extension[0]', message: 'Unknown extension' },
  { name: 'extension with an invalid value', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: 'noon' }])], severity: 'error', expression: 'Patient.extension[0].valueDateTime' },
  { name: 'unknown extension outside hl7.org/fhir (the reference verdict)', base: P, ops: [set('/extension', [{ url: 'https://national.example/fhir/StructureDefinition/shoe-size', valueInteger: 44 }])], severity: 'error', expression: 'Patient.extension[0]', message: 'is unknown, and not allowed here' },
  { name: 'unknown extension on a primitive outside hl7.org/fhir', base: P, ops: [set('/_birthDate', { extension: [{ url: 'urn:oid:1.2.3.4', valueString: 'x' }] })], severity: 'error', expression: 'Patient.birthDate.extension[0]', message: 'is unknown, and not allowed here' },
  { name: 'extensions pack: value of a type its definition forbids', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-bornStatus', valueString: 'born' }])], severity: 'error', expression: 'Patient.extension[0].valueString' },
  { name: 'extensions pack: code outside its required binding', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-bornStatus', valueCode: 'hatched' }])], severity: 'error', expression: 'Patient.extension[0].valueCode' },
  { name: 'extensions pack: element context (Patient.contact) not met', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-contactPriority', valuePositiveInt: 1 }])], severity: 'error', expression: 'Patient.extension[0]', message: 'allowed = e:Patient.contact' },
  { name: 'extension context on a datatype path (HumanName.family) not met', base: P, ops: [set('/_gender', { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix', valueString: 'van' }] })], severity: 'error', expression: 'Patient.gender.extension[0]', message: 'allowed = e:HumanName.family' },
  { name: 'extension context of the extension kind (nested only) not met', base: P, ops: [set('/extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status-reason', valueMarkdown: 'x' }])], severity: 'error', expression: 'Patient.extension[0]', message: 'allowed = x:http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status' },
  // Bundle rules (the reference validator's BundleValidator)
  { name: 'bundle: relative fullUrl', base: 'Bundle-101.json', ops: [set('/entry/1/fullUrl', 'Observation/r1')], severity: 'error', expression: 'Bundle.entry[1]', message: "The fullUrl must be an absolute URL (not 'Observation/r1')" },
  { name: 'bundle: RESTful fullUrl naming another id', base: 'Bundle-101.json', ops: [set('/entry/1/fullUrl', 'https://example.com/base/Observation/r9')], severity: 'error', expression: 'Bundle.entry[1]', message: 'must end with the correct type and id (/Observation/r1)' },
  { name: 'bundle: RESTful fullUrl naming another type', base: 'Bundle-101.json', ops: [set('/entry/1/fullUrl', 'https://example.com/base/Patient/r1')], severity: 'error', expression: 'Bundle.entry[1]', message: 'must end with the correct type and id' },
  { name: 'bundle: malformed urn:uuid fullUrl', base: TX, ops: [set('/entry/0/fullUrl', 'urn:uuid:not-a-uuid')], severity: 'error', expression: 'Bundle.entry[0].fullUrl', message: 'not a valid urn:uuid' },
  { name: 'bundle: collection entry without fullUrl', base: 'Bundle-101.json', ops: [remove('/entry/1/fullUrl')], severity: 'error', expression: 'Bundle.entry[1]', message: 'must have a fullUrl' },
  { name: 'searchset: next link twice', base: 'Bundle-bundle-example.json', ops: [set('/link/2', { relation: 'next', url: 'https://example.com/base/MedicationRequest?patient=347&searchId=ff15fd40&page=3' })], severity: 'error', expression: 'Bundle.link[2]', message: "'next' appears more than once" },
  { name: 'searchset: entry without search mode', base: 'Bundle-bundle-example.json', ops: [remove('/entry/1/search')], severity: 'warning', expression: 'Bundle.entry[1]', message: 'search modes' },
  { name: 'searchset: match of a type the search did not ask for', base: 'Bundle-bundle-example.json', ops: [set('/entry/1/search/mode', 'match')], severity: 'error', expression: 'Bundle.entry[1].resource', message: 'Medication expecting MedicationRequest' },
  { name: 'searchset: outcome that is no OperationOutcome', base: 'Bundle-bundle-example.json', ops: [set('/entry/1/search/mode', 'outcome')], severity: 'error', expression: 'Bundle.entry[1].resource', message: "search mode 'outcome' must be an OperationOutcome" },
  { name: 'searchset: no self link', base: 'Bundle-bundle-example.json', ops: [remove('/link/0')], severity: 'warning', expression: 'Bundle', message: 'self link' },
  { name: 'collection: paging link', base: 'Bundle-101.json', ops: [set('/link', [{ relation: 'next', url: 'https://example.com/base/x?page=2' }])], severity: 'error', expression: 'Bundle.link[0]', message: "'next' is only allowed in searchset and history" },
  { name: 'document: Composition not first', base: 'Bundle-father.json', ops: [set('/entry/0', { fullUrl: 'http://fhir.healthintersections.com.au/open/Patient/x1', resource: { resourceType: 'Patient', id: 'x1' } })], severity: 'error', expression: 'Bundle.entry[0]', message: 'first entry in a document must be a Composition' },
  { name: 'document: Composition subject not in the Bundle', base: 'Bundle-father.json', ops: [set('/entry/0/resource/subject', { reference: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0' })], severity: 'error', expression: 'Bundle.entry[0].resource.subject', message: "Can't find 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0' in the bundle" },
  { name: 'document: entry nothing links to', base: 'Bundle-father.json', ops: [set('/entry/8', { fullUrl: 'urn:uuid:5d3e2f9a-8c3b-4b7e-9a51-0f6a2d1c3b4e', resource: { resourceType: 'Basic', code: { text: 'stray' } } })], severity: 'error', expression: 'Bundle.entry[8]', message: "isn't reachable" },
  { name: 'message: MessageHeader not first', base: 'Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json', ops: [set('/entry/0', { fullUrl: 'urn:uuid:5d3e2f9a-8c3b-4b7e-9a51-0f6a2d1c3b4f', resource: { resourceType: 'Basic', code: { text: 'x' } } })], severity: 'error', expression: 'Bundle.entry[0]', message: 'first entry in a message must be a MessageHeader' },
  { name: 'bundle: duplicate fullUrl (bdl-7)', base: 'Bundle-101.json', ops: [set('/entry/2/fullUrl', 'https://example.com/base/Observation/r1'), set('/entry/2/resource/id', 'r1')], severity: 'error', expression: 'Bundle', message: 'bdl-7' },
  { name: 'bundle: document without identifier (bdl-9)', base: 'Bundle-father.json', ops: [remove('/identifier')], severity: 'error', expression: 'Bundle', message: 'bdl-9' },
  { name: 'bundle: search on a non-searchset entry (bdl-2)', base: 'Bundle-101.json', ops: [set('/entry/0/search', { mode: 'match' })], severity: 'error', expression: 'Bundle', message: 'bdl-2' },
  { name: 'bundle: total outside a search or history (bdl-1)', base: 'Bundle-101.json', ops: [set('/total', 3)], severity: 'error', expression: 'Bundle', message: 'bdl-1' },
  { name: 'bundle: transaction entry without request (bdl-3)', base: TX, ops: [remove('/entry/0/request')], severity: 'error', expression: 'Bundle', message: 'bdl-3' },
  // datatypes (datatypes.html type-level rules)
  { name: 'attachment size not that of its data', base: P, ops: [set('/photo', [{ contentType: 'image/png', data: 'AAAA', size: 4 }])], severity: 'error', expression: 'Patient.photo[0].size', message: 'Stated Attachment Size 4 does not match actual attachment size 3' },
  { name: 'coding system that is not absolute', base: P, ops: [set('/maritalStatus', { coding: [{ system: 'v3-MaritalStatus', code: 'M' }] })], severity: 'error', expression: 'Patient.maritalStatus.coding[0].system', message: 'Coding.system must be an absolute reference' },
  { name: 'coding system that is a value set', base: P, ops: [set('/maritalStatus', { coding: [{ system: 'http://hl7.org/fhir/ValueSet/marital-status', code: 'M' }] })], severity: 'error', expression: 'Patient.maritalStatus.coding[0].system', message: 'references a value set, not a code system' },
  { name: 'identifier system that is not absolute', base: P, ops: [set('/identifier/0/system', 'passport-numbers')], severity: 'error', expression: 'Patient.identifier[0].system', message: 'Identifier.system must be an absolute reference' },
  { name: 'quantity system that is not absolute', base: OBS, ops: [set('/valueQuantity/system', 'ucum')], severity: 'error', expression: 'Observation.valueQuantity.system', message: 'Quantity.system must be an absolute reference' },
  { name: 'reference in no allowed form', base: OBS, ops: [set('/subject', { reference: 'patient 123' })], severity: 'error', expression: 'Observation.subject.reference', message: 'Invalid reference format' },
  { name: 'reference to a malformed urn:uuid', base: OBS, ops: [set('/subject', { reference: 'urn:uuid:123' })], severity: 'error', expression: 'Observation.subject.reference', message: 'not a valid urn:uuid' },
  { name: 'reference whose type disagrees with its url', base: OBS, ops: [set('/subject', { reference: 'Patient/example', type: 'Group' })], severity: 'error', expression: 'Observation.subject', message: 'names a Patient, but its type says Group' },
  { name: 'string with trailing whitespace', base: P, ops: [set('/name/0/family', 'Chalmers ')], severity: 'warning', expression: 'Patient.name[0].family', message: 'should not start or finish with whitespace' },
  { name: 'base64 that is not', base: P, ops: [set('/photo', [{ contentType: 'image/png', data: 'AAA' }])], severity: 'error', expression: 'Patient.photo[0].data', message: 'not valid base64Binary' },
  // invariants
  { name: 'contact with no details (pat-1)', base: P, ops: [set('/contact/0', { relationship: [{ text: 'friend' }] })], severity: 'error', expression: 'Patient.contact[0]', message: 'pat-1' },
  { name: 'period ending before it starts (per-1)', base: P, ops: [set('/identifier/0/period', { start: '2010-01-01', end: '2001-01-01' })], severity: 'error', expression: 'Patient.identifier[0].period', message: 'per-1' },
  { name: 'contact point value without system (cpt-2)', base: P, ops: [set('/telecom/0', { value: '555-1234' })], severity: 'error', expression: 'Patient.telecom[0]', message: 'cpt-2' },
  { name: 'quantity code without system (qty-3)', base: OBS, ops: [set('/valueQuantity', { value: 1, code: 'kg' })], severity: 'error', expression: 'Observation.valueQuantity', message: 'qty-3' },
  { name: 'dataAbsentReason with a value (obs-6)', base: OBS, ops: [set('/dataAbsentReason', { text: 'unknown' })], severity: 'error', expression: 'Observation', message: 'obs-6' },
  { name: 'range low above high (rng-2)', base: OBS, ops: [remove('/valueQuantity'), set('/valueRange', { low: { value: 5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' }, high: { value: 1, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } })], severity: 'error', expression: 'Observation.valueRange', message: 'rng-2' },
  { name: 'attachment data without contentType (att-1)', base: P, ops: [set('/photo', [{ data: 'AAAA' }])], severity: 'error', expression: 'Patient.photo[0]', message: 'att-1' },
  { name: 'narrative missing (dom-6 best practice)', base: P, ops: [remove('/text')], severity: 'warning', expression: 'Patient', message: 'dom-6' },
  { name: 'questionnaire item display with children (que-1)', base: Q, ops: [set('/item/1/type', 'display')], severity: 'error', expression: 'Questionnaire.item[1]', message: 'que-1' },
  { name: 'enableWhen exists with a non-boolean answer (que-7)', base: Q, ops: [set('/item/1/item/1/enableWhen', [{ question: '1', operator: 'exists', answerString: 'x' }])], severity: 'error', expression: 'Questionnaire.item[1].item[1].enableWhen[0]', message: 'que-7' },
  { name: 'two enableWhen without enableBehavior (que-12, corrected)', base: Q, ops: [set('/item/1/item/1/enableWhen', [{ question: '1', operator: 'exists', answerBoolean: true }, { question: '1', operator: 'exists', answerBoolean: false }])], severity: 'error', expression: 'Questionnaire.item[1].item[1]', message: 'que-12' },
  { name: 'period whose date start is after its dateTime end (per-1, precision)', base: P, ops: [set('/identifier/0/period', { start: '2010-01-02', end: '2010-01-01T10:00:00Z' })], severity: 'error', expression: 'Patient.identifier[0].period', message: 'per-1' },
  // Questionnaire and QuestionnaireResponse rules
  { name: 'enableWhen naming a question not in the Questionnaire', base: Q, ops: [set('/item/1/item/1/enableWhen', [{ question: '9', operator: 'exists', answerBoolean: true }])], severity: 'error', expression: 'Questionnaire.item[1].item[1].enableWhen[0]', message: "the question '9', which is not in the Questionnaire" },
  { name: 'enableWhen answer of another type than its question', base: Q, ops: [set('/item/1/item/1/enableWhen', [{ question: '1', operator: '=', answerString: 'yes' }])], severity: 'error', expression: 'Questionnaire.item[1].item[1].enableWhen[0]', message: 'is of type boolean' },
  { name: 'enableWhen ordering a boolean question', base: Q, ops: [set('/item/1/item/1/enableWhen', [{ question: '1', operator: '>', answerBoolean: true }])], severity: 'error', expression: 'Questionnaire.item[1].item[1].enableWhen[0]', message: 'cannot compare answers of a boolean question' },
  { name: 'initial value of another type than its item', base: Q, ops: [set('/item/0/initial', [{ valueString: 'yes' }])], severity: 'error', expression: 'Questionnaire.item[0].initial[0]', message: 'does not fit an item of type boolean' },
  { name: 'answer option of another type than its item', base: Q, ops: [set('/item/1/item/1/answerOption', [{ valueString: 'yesterday' }])], severity: 'error', expression: 'Questionnaire.item[1].item[1].answerOption[0]', message: 'does not fit an item of type date' },
  { name: 'response answer of another type than its item', base: QR, ops: [...qrWith([{ linkId: 'a', type: 'boolean' }]), set('/item', [{ linkId: 'a', answer: [{ valueString: 'yes' }] }])], severity: 'error', expression: 'QuestionnaireResponse.item[0].answer[0]', message: 'must be of type Boolean' },
  { name: 'response item the Questionnaire does not have', base: QR, ops: [...qrWith([{ linkId: 'a', type: 'boolean' }]), set('/item', [{ linkId: 'a', answer: [{ valueBoolean: true }] }, { linkId: 'zz', answer: [{ valueBoolean: true }] }])], severity: 'error', expression: 'QuestionnaireResponse.item[1]', message: "LinkId 'zz' not found" },
  { name: 'completed response without a required answer', base: QR, ops: [...qrWith([{ linkId: 'a', type: 'boolean' }, { linkId: 'b', type: 'string', required: true }]), set('/item', [{ linkId: 'a', answer: [{ valueBoolean: true }] }])], severity: 'error', expression: 'QuestionnaireResponse', message: "required item 'b'" },
  { name: 'response answering a display item', base: QR, ops: [...qrWith([{ linkId: 'a', type: 'display', text: 'Read this' }]), set('/item', [{ linkId: 'a', answer: [{ valueString: 'read' }] }])], severity: 'error', expression: 'QuestionnaireResponse.item[0]', message: 'display item' },
  { name: 'response with several answers to a non-repeating item', base: QR, ops: [...qrWith([{ linkId: 'a', type: 'boolean' }]), set('/item', [{ linkId: 'a', answer: [{ valueBoolean: true }, { valueBoolean: false }] }])], severity: 'error', expression: 'QuestionnaireResponse.item[0]', message: 'does not repeat' },
  // profiles
  { name: 'declared profile that is unknown', base: P, ops: [set('/meta', { profile: ['https://nowhere.example/StructureDefinition/x'] })], severity: 'warning', expression: 'Patient', message: 'unknown' },
  { name: 'declared profile for another type', base: P, ops: [set('/meta', { profile: [VITALS] })], severity: 'error', expression: 'Patient', message: 'is for Observation' },
  { name: 'vital signs without category (profile cardinality)', base: BP, ops: [remove('/category')], severity: 'error', expression: 'Observation', message: 'Observation.category: minimum required = 1' },
  { name: 'vital signs category slice not matched', base: BP, ops: [set('/category', [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }])], severity: 'error', expression: 'Observation', message: "Slice 'VSCat'" },
  { name: 'vital signs without subject', base: BP, ops: [remove('/subject')], severity: 'error', expression: 'Observation', message: 'Observation.subject: minimum required = 1' },
  { name: 'vital signs without effective[x] (vs-1/cardinality)', base: BP, ops: [remove('/effectiveDateTime')], severity: 'error', expression: 'Observation', message: 'effective' },
  { name: 'vital signs subject of a type the profile forbids', base: BP, ops: [set('/subject', { reference: 'Group/1' })], severity: 'error', expression: 'Observation.subject', message: 'not a valid target' },
  { name: 'vital signs dated to the year only (vs-1, an invariant on a primitive)', base: BP, ops: [set('/effectiveDateTime', '2012')], severity: 'error', expression: 'Observation.effectiveDateTime', message: 'vs-1' },
  { name: 'requested profile checked too (--profile)', base: OBS, ops: [remove('/category')], profile: VITALS, severity: 'error', expression: 'Observation', message: 'category: minimum required' },
  { name: 'blood pressure profile: systolic component missing', base: BP, ops: [set('/meta', { profile: ['http://hl7.org/fhir/StructureDefinition/bp'] }), set('/component', [{ code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 44, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } }])], severity: 'error', expression: 'Observation', message: "Slice 'SystolicBP'" },
  { name: 'blood pressure profile: wrong panel code (pattern)', base: BP, ops: [set('/meta', { profile: ['http://hl7.org/fhir/StructureDefinition/bp'] }), set('/code', { coding: [{ system: 'http://loinc.org', code: '1234-5' }] })], severity: 'error', expression: 'Observation.code', message: "Slice 'BPCode'" },
  { name: 'blood pressure profile: systolic value in the wrong unit (fixed)', base: BP, ops: [set('/meta', { profile: ['http://hl7.org/fhir/StructureDefinition/bp'] }), set('/component/0/valueQuantity/code', 'kPa')], severity: 'error', expression: 'Observation.component[0].valueQuantity.code', message: 'mm[Hg]' },
  { name: 'blood pressure profile: systolic value without a value (slice child cardinality)', base: BP, ops: [set('/meta', { profile: ['http://hl7.org/fhir/StructureDefinition/bp'] }), remove('/component/0/valueQuantity/value')], severity: 'error', expression: 'Observation.component[0].valueQuantity', message: 'value: minimum required = 1' },
  { name: 'blood pressure profile: the official example conforms', base: BP, ops: [set('/meta', { profile: ['http://hl7.org/fhir/StructureDefinition/bp'] }), set('/status', 'finalised')], severity: 'error', expression: 'Observation.status' },
];

export const NEGATIVE_CASES: NegativeCase[] = [...formatCases, ...handCases];
