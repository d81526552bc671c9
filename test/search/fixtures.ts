// Fixtures for the search case table (cases.ts): engine-neutral data only. A fixture set is a
// list of resources PUT in order onto an empty server; the case table's expected ids were worked
// out by hand from these resources (and from the official R4 examples named below), so a change
// here means re-checking every case that touches the changed resource.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Resource } from 'fhir/r4.js';
import { ucumFixtures } from './fixtures-ucum.ts';

/** Official R4 examples (node_modules/hl7.fhir.r4.examples), by file name, in load order. */
export const OFFICIAL_EXAMPLES = [
  'Organization-1.json',
  'Organization-f001.json',
  'Organization-f201.json',
  'Organization-hl7.json',
  'Organization-2.16.840.1.113883.19.5.json',
  'Practitioner-example.json',
  'Practitioner-f001.json',
  'Practitioner-f201.json',
  'Patient-example.json',
  'Patient-f001.json',
  'Patient-f201.json',
  'Patient-pat1.json',
  'Patient-pat2.json',
  'Patient-xcda.json',
  'Encounter-example.json',
  'Encounter-f001.json',
  'Encounter-f201.json',
  'Encounter-home.json',
  'Condition-example.json',
  'Condition-f201.json',
  'Condition-stroke.json',
  'Observation-example.json',
  'Observation-f001.json',
  'Observation-blood-pressure.json',
  'Observation-body-temperature.json',
  'Observation-f202.json',
  'Observation-bmi.json',
  'Observation-satO2.json',
  'MedicationRequest-medrx0302.json',
  'MedicationRequest-medrx0310.json',
  'QuestionnaireResponse-f201.json',
  'ServiceRequest-example.json',
  'ServiceRequest-lipid.json',
] as const;

let examplesDir: string | undefined;

export function officialExample(file: string): Resource {
  if (!examplesDir) {
    const require = createRequire(import.meta.url);
    examplesDir = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
  }
  return JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as Resource;
}

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const CF = 'http://hl7.it/sid/codiceFiscale';
const OID_616 = 'urn:oid:2.16.840.1.113883.3.4424.1.1.616';
const TAGS = 'http://example.org/fhir/tags';
const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';
const MIGRANT_PROFILE = 'http://example.org/fhir/StructureDefinition/migrant-patient';
const vitalSigns = [{ coding: [{ system: OBS_CAT, code: 'vital-signs', display: 'Vital Signs' }] }];
const laboratory = [{ coding: [{ system: OBS_CAT, code: 'laboratory', display: 'Laboratory' }] }];

/** The project's own resources: migrants' records with names in several scripts, partial dates,
 * time zones, open and closed Periods, quantities with units and identifiers with systems. */
export const MIGRANT_FIXTURES: Resource[] = [
  // Organizations: lampedusa → unhcr-it → unhcr (partOf chain, for _include:iterate)
  { resourceType: 'Organization', id: 'unhcr', active: true, name: 'UNHCR' },
  { resourceType: 'Organization', id: 'unhcr-it', active: true, name: 'UNHCR Italia', partOf: { reference: 'Organization/unhcr' } },
  {
    resourceType: 'Organization',
    id: 'lampedusa',
    active: true,
    name: 'Centro di Accoglienza Lampedusa',
    address: [{ city: 'Lampedusa', country: 'IT' }],
    partOf: { reference: 'Organization/unhcr-it' },
  },
  {
    resourceType: 'Organization',
    id: 'klinikum',
    active: true,
    identifier: [{ system: 'urn:oid:1.2.276.0.76.4.5', value: '260914050' }],
    name: 'Städtisches Klinikum München',
    address: [{ city: 'München', country: 'DE' }],
  },
  // Values full of search syntax and SQL/LIKE metacharacters
  {
    resourceType: 'Organization',
    id: 'escape-corp',
    name: 'Ärzte, Hilfe & Partner',
    alias: ['100% Care_Team', 'Back\\Slash Clinic'],
    identifier: [
      { system: 'urn:example:esc', value: 'A|B' },
      { system: 'urn:example:esc', value: 'X$Y' },
      { system: 'urn:example:esc', value: 'C\\D' },
      { system: 'urn:example:esc', value: 'E,F' },
    ],
  },
  {
    resourceType: 'Practitioner',
    id: 'alkhatib',
    active: true,
    identifier: [{ system: 'http://example.org/fhir/sid/medical-license', value: 'ML-1' }],
    name: [{ family: 'Al-Khatib', given: ['Fatima'], prefix: ['Dr.'] }],
    gender: 'female',
    address: [{ city: 'Lampedusa', country: 'IT' }],
  },
  {
    resourceType: 'Location',
    id: 'hotspot',
    status: 'active',
    name: 'Hotspot Contrada Imbriacola',
    address: { city: 'Lampedusa', country: 'IT' },
    position: { longitude: 12.6003, latitude: 35.5133 },
    managingOrganization: { reference: 'Organization/lampedusa' },
  },
  // Patients
  {
    resourceType: 'Patient',
    id: 'mueller',
    meta: {
      tag: [{ system: TAGS, code: 'migrant-intake' }],
      security: [{ system: CONF, code: 'R' }],
      profile: [MIGRANT_PROFILE],
      source: 'http://example.org/fhir/source/lampedusa#intake-7',
    },
    identifier: [
      { type: { coding: [{ system: V2_0203, code: 'NI' }] }, system: CF, value: 'MLLJRG85A01Z112X' },
      { system: OID_616, value: 'DE-123456' },
    ],
    active: true,
    name: [{ use: 'official', family: 'Müller', given: ['Jürgen', 'Karl'] }],
    telecom: [
      { system: 'email', value: 'juergen.mueller@example.org' },
      { system: 'phone', value: '+49 89 1234567' },
    ],
    gender: 'male',
    birthDate: '1985',
    address: [{ line: ['Marienplatz 1'], city: 'München', postalCode: '80331', country: 'DE' }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'de' }] } }],
    managingOrganization: { reference: 'Organization/klinikum' },
    generalPractitioner: [{ reference: 'Practitioner/alkhatib' }],
  },
  {
    resourceType: 'Patient',
    id: 'elkina',
    meta: {
      tag: [{ system: TAGS, code: 'migrant-intake' }],
      profile: [MIGRANT_PROFILE],
      source: 'http://example.org/fhir/source/lampedusa#intake-9',
    },
    identifier: [{ system: OID_616, value: 'UA-778899' }],
    active: true,
    name: [{ family: 'Ёлкина', given: ['Анна'] }],
    gender: 'female',
    birthDate: '1990-07',
    address: [{ city: 'Berlin', country: 'DE' }],
    communication: [
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'uk' }] } },
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ru' }] } },
    ],
    managingOrganization: { reference: 'Organization/lampedusa' },
  },
  {
    resourceType: 'Patient',
    id: 'ozdemir',
    meta: {
      tag: [{ system: TAGS, code: 'follow-up' }],
      security: [{ system: CONF, code: 'V' }],
      profile: [MIGRANT_PROFILE],
      source: 'http://example.org/fhir/source/palermo',
    },
    identifier: [{ system: CF, value: 'ZDMYSA78C55Z243K' }],
    active: false,
    name: [{ family: 'Özdemir', given: ['Ayşe'] }],
    gender: 'female',
    birthDate: '1978-03-15',
    address: [{ city: 'Palermo', country: 'IT' }],
    managingOrganization: { reference: 'Organization/lampedusa' },
  },
  {
    resourceType: 'Patient',
    id: 'nguyen',
    meta: { profile: [MIGRANT_PROFILE] },
    identifier: [{ system: OID_616, value: 'VN-445566' }],
    name: [{ family: 'Nguyễn', given: ['Văn', 'An'] }],
    gender: 'male',
    birthDate: '2000-02-29',
    deceasedDateTime: '2021-06-01T10:00:00+07:00',
    address: [{ city: 'Lampedusa', country: 'IT' }],
  },
  {
    resourceType: 'Patient',
    id: 'mohammed',
    meta: {
      tag: [{ system: TAGS, code: 'migrant-intake' }],
      security: [{ system: CONF, code: 'R' }],
      profile: [MIGRANT_PROFILE],
    },
    identifier: [{ type: { coding: [{ system: V2_0203, code: 'PPN' }], text: 'Passport' }, system: OID_616, value: 'SY-0001' }],
    active: true,
    name: [
      { use: 'official', text: 'أحمد محمد', family: 'محمد', given: ['أحمد'] },
      { use: 'usual', family: 'Mohammed', given: ['Ahmad'] },
    ],
    gender: 'male',
    managingOrganization: { reference: 'Organization/lampedusa' },
  },
  {
    resourceType: 'Patient',
    id: 'papadopoulos',
    meta: { profile: [MIGRANT_PROFILE] },
    active: true,
    name: [{ family: 'Παπαδόπουλος', given: ['Γιώργος'] }],
    gender: 'male',
    birthDate: '1969-11-30',
    address: [{ city: 'Αθήνα', country: 'GR' }],
  },
  // Encounters: closed, open-ended, open-started Periods
  {
    resourceType: 'Encounter',
    id: 'enc-mueller',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: 'Patient/mueller' },
    participant: [{ individual: { reference: 'Practitioner/alkhatib' } }],
    period: { start: '2023-05-10T08:00:00+02:00', end: '2023-05-12T16:00:00+02:00' },
    serviceProvider: { reference: 'Organization/klinikum' },
  },
  {
    resourceType: 'Encounter',
    id: 'enc-elkina',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: 'Patient/elkina' },
    period: { start: '2023-06-01T09:00:00+03:00' },
    serviceProvider: { reference: 'Organization/lampedusa' },
  },
  {
    resourceType: 'Encounter',
    id: 'enc-ozdemir',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
    subject: { reference: 'Patient/ozdemir' },
    period: { end: '2022-12-31T23:59:59+01:00' },
  },
  {
    resourceType: 'Encounter',
    id: 'enc-nguyen',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
    subject: { reference: 'Patient/nguyen' },
    period: { start: '2021-05-30T22:00:00Z', end: '2021-06-01T03:00:00Z' },
  },
  // Observations
  {
    resourceType: 'Observation',
    id: 'obs-weight-mueller',
    status: 'final',
    category: vitalSigns,
    code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body weight' }] },
    subject: { reference: 'Patient/mueller' },
    encounter: { reference: 'Encounter/enc-mueller' },
    performer: [{ reference: 'Practitioner/alkhatib' }],
    effectiveDateTime: '2023-05-10T08:30:00+02:00',
    valueQuantity: { value: 72.5, unit: 'kg', system: UCUM, code: 'kg' },
  },
  {
    resourceType: 'Observation',
    id: 'obs-height-elkina',
    status: 'final',
    category: vitalSigns,
    code: { coding: [{ system: LOINC, code: '8302-2', display: 'Body height' }] },
    subject: { reference: 'Patient/elkina' },
    encounter: { reference: 'Encounter/enc-elkina' },
    effectivePeriod: { start: '2023-01-01', end: '2023-01-31' },
    valueQuantity: { value: 165, unit: 'cm', system: UCUM, code: 'cm' },
  },
  {
    resourceType: 'Observation',
    id: 'obs-glucose-ozdemir',
    status: 'final',
    category: laboratory,
    code: { coding: [{ system: LOINC, code: '15074-8', display: 'Glucose [Moles/volume] in Blood' }] },
    subject: { reference: 'Patient/ozdemir' },
    effectivePeriod: { start: '2022-06-01T10:00:00Z' },
    valueQuantity: { value: 5.4, unit: 'mmol/l', system: UCUM, code: 'mmol/L' },
  },
  {
    resourceType: 'Observation',
    id: 'obs-temp-nguyen',
    status: 'preliminary',
    category: vitalSigns,
    code: { coding: [{ system: LOINC, code: '8310-5', display: 'Body temperature' }] },
    subject: { reference: 'Patient/nguyen' },
    encounter: { reference: 'Encounter/enc-nguyen' },
    effectiveDateTime: '2021-05-31T23:30:00-05:00',
    valueQuantity: { value: 38.5, unit: 'Cel', system: UCUM, code: 'Cel' },
  },
  {
    resourceType: 'Observation',
    id: 'obs-hb-mohammed',
    status: 'final',
    category: laboratory,
    code: { coding: [{ system: LOINC, code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood' }] },
    subject: { reference: 'Patient/mohammed' },
    effectiveDateTime: '2024-01-15T12:00:00Z',
    valueQuantity: { value: 100, unit: 'g/L', system: UCUM, code: 'g/L' },
  },
  {
    resourceType: 'Observation',
    id: 'obs-lang-mohammed',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '54899-0', display: 'Preferred language' }] },
    subject: { reference: 'Patient/mohammed' },
    effectiveDateTime: '2024-01-15',
    valueCodeableConcept: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ar', display: 'Arabic' }], text: 'العربية' },
  },
  {
    resourceType: 'Observation',
    id: 'obs-job-papadopoulos',
    status: 'final',
    category: [{ coding: [{ system: OBS_CAT, code: 'social-history' }] }],
    code: { coding: [{ system: LOINC, code: '11341-5', display: 'History of Occupation' }] },
    subject: { reference: 'Patient/papadopoulos' },
    effectiveDateTime: '2021',
    valueString: 'Fisherman, Piraeus port',
  },
  // Conditions
  {
    resourceType: 'Condition',
    id: 'cond-tb-mueller',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: SCT, code: '56717001', display: 'Tuberculosis' }], text: 'Lungentuberkulose' },
    subject: { reference: 'Patient/mueller' },
    encounter: { reference: 'Encounter/enc-mueller' },
    onsetDateTime: '2022',
    recordedDate: '2023-05-10',
    asserter: { reference: 'Practitioner/alkhatib' },
  },
  {
    resourceType: 'Condition',
    id: 'cond-htn-elkina',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: SCT, code: '38341003', display: 'Hypertensive disorder' }] },
    subject: { reference: 'Patient/elkina' },
    onsetPeriod: { start: '2019-01' },
    recordedDate: '2023-06-01T09:30:00+03:00',
  },
  {
    resourceType: 'Condition',
    id: 'cond-hepb-nguyen',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] },
    code: { coding: [{ system: SCT, code: '66071002', display: 'Viral hepatitis type B' }] },
    subject: { reference: 'Patient/nguyen' },
    onsetDateTime: '2010-03-01T00:00:00+07:00',
    abatementDateTime: '2015-08',
  },
  {
    resourceType: 'Condition',
    id: 'cond-ptsd-mohammed',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: SCT, code: '47505003', display: 'Posttraumatic stress disorder' }] },
    subject: { reference: 'Patient/mohammed' },
    onsetString: 'since the crossing of the Mediterranean',
    recordedDate: '2024-01-15',
  },
  // Medication requests
  {
    resourceType: 'MedicationRequest',
    id: 'medrx-mueller',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J04AB02', display: 'rifampicin' }] },
    subject: { reference: 'Patient/mueller' },
    encounter: { reference: 'Encounter/enc-mueller' },
    authoredOn: '2023-05-11T10:00:00+02:00',
    requester: { reference: 'Practitioner/alkhatib' },
  },
  {
    resourceType: 'MedicationRequest',
    id: 'medrx-nguyen',
    status: 'completed',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J05AF10', display: 'entecavir' }] },
    subject: { reference: 'Patient/nguyen' },
    authoredOn: '2012-04',
    requester: { reference: 'Practitioner/alkhatib' },
    performer: { identifier: { system: 'http://example.org/fhir/sid/pharmacy', value: 'PH-42' }, display: 'Farmacia Lampedusa' },
  },
  // Questionnaire responses (canonical references with versions)
  {
    resourceType: 'QuestionnaireResponse',
    id: 'qr-elkina',
    status: 'completed',
    questionnaire: 'http://example.org/fhir/Questionnaire/migrant-intake|1.0',
    subject: { reference: 'Patient/elkina' },
    encounter: { reference: 'Encounter/enc-elkina' },
    author: { reference: 'Practitioner/alkhatib' },
    authored: '2023-06-01T10:15:00+03:00',
  },
  {
    resourceType: 'QuestionnaireResponse',
    id: 'qr-mohammed',
    status: 'in-progress',
    questionnaire: 'http://example.org/fhir/Questionnaire/migrant-intake|2.0',
    subject: { reference: 'Patient/mohammed' },
    source: { reference: 'Patient/mohammed' },
    authored: '2024-01-15T14:00:00+01:00',
  },
  {
    resourceType: 'ServiceRequest',
    id: 'sr-xray-mueller',
    status: 'active',
    intent: 'order',
    code: { coding: [{ system: SCT, code: '399208008', display: 'Plain chest X-ray' }] },
    subject: { reference: 'Patient/mueller' },
    encounter: { reference: 'Encounter/enc-mueller' },
    requester: { reference: 'Practitioner/alkhatib' },
    occurrenceDateTime: '2023-05-11',
    authoredOn: '2023-05-10',
  },
  // Risk assessments: number parameter `probability`
  {
    resourceType: 'RiskAssessment',
    id: 'ra-mueller',
    status: 'final',
    subject: { reference: 'Patient/mueller' },
    occurrenceDateTime: '2023-05-12',
    prediction: [
      { outcome: { text: 'Active tuberculosis' }, probabilityDecimal: 0.35 },
      { outcome: { text: 'Latent tuberculosis' }, probabilityDecimal: 0.6 },
    ],
  },
  {
    resourceType: 'RiskAssessment',
    id: 'ra-elkina',
    status: 'final',
    subject: { reference: 'Patient/elkina' },
    occurrenceDateTime: '2023-06-01',
    prediction: [{ outcome: { text: 'Stroke within 10 years' }, probabilityDecimal: 0.08 }],
  },
  {
    resourceType: 'RiskAssessment',
    id: 'ra-nguyen',
    status: 'final',
    subject: { reference: 'Patient/nguyen' },
    occurrenceDateTime: '2012-04-01',
    prediction: [{ outcome: { text: 'Cirrhosis' }, probabilityDecimal: 0.5 }],
  },
  // Value sets: uri parameters (url, reference)
  {
    resourceType: 'ValueSet',
    id: 'vs-lang',
    url: 'http://example.org/fhir/ValueSet/migrant-languages',
    name: 'MigrantLanguages',
    status: 'active',
    compose: { include: [{ system: 'urn:ietf:bcp:47' }] },
  },
  {
    resourceType: 'ValueSet',
    id: 'vs-arabic',
    url: 'http://example.org/fhir/ValueSet/migrant-languages/arabic-dialects',
    name: 'ArabicDialects',
    status: 'draft',
    compose: { include: [{ system: 'urn:ietf:bcp:47', concept: [{ code: 'apc' }, { code: 'arz' }] }] },
  },
  {
    resourceType: 'ValueSet',
    id: 'vs-triage',
    url: 'urn:oid:2.16.840.1.113883.3.4424.1.1.999',
    name: 'TriageFindings',
    status: 'active',
    compose: { include: [{ system: 'http://snomed.info/sct' }] },
  },
] as unknown as Resource[];

/** A roster of look-alike patients for paging: 23 with the family name Rostova, birth dates in
 * three groups (ties for _sort), ids rostova-01 … rostova-23. */
export function rosterFixtures(): Resource[] {
  const dates = ['1991-01-01', '1992-02-02', '1993-03-03'];
  return Array.from({ length: 23 }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return {
      resourceType: 'Patient',
      id: `rostova-${n}`,
      name: [{ family: 'Rostova', given: [`Irina-${n}`] }],
      gender: 'female',
      birthDate: dates[i % 3],
    } as Resource;
  });
}

/** Fixture sets by name: `core` (the default), `roster` and `ucum` (fixtures-ucum.ts). */
export function fixtureSet(name: string): Resource[] {
  switch (name) {
    case 'core':
      return [...OFFICIAL_EXAMPLES.map(officialExample), ...MIGRANT_FIXTURES];
    case 'roster':
      return rosterFixtures();
    case 'ucum':
      return ucumFixtures();
    default:
      throw new Error(`unknown fixture set '${name}'`);
  }
}
