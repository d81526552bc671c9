// One migrant patient's clinical record, generated for the International Patient Summary:
// - 'empty': a patient registered at arrival and nothing else (no birth date documented);
// - 'all': something for every section — active and resolved problems, an allergy, medications
//   (one without a start date, one prescribed by reference to a Medication), immunizations,
//   laboratory results (one with a performer that is not on the server, one in a report),
//   an imaging result, vital signs, a procedure with an unknown date, pregnancy status with an
//   expected delivery date and outcomes, a pending cross-border referral, a PHQ-9 — plus the
//   practitioners and organizations these refer to;
// - 'many': a long record of `size` resources in the same shapes (a patient followed for years).
// Deterministic (seeded). Used by test/operations/summary-ips.test.ts and scripts/bench/summary.ts.
import type { Resource } from 'fhir/r4.js';
import { prng } from './lib/prng.ts';

export type RecordMix = 'empty' | 'all' | 'many';

const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';
const cc = (system: string, code: string, display: string) => ({ coding: [{ system, code, display }], text: display });
const cat = (code: string) => [{ coding: [{ system: OBS_CAT, code }] }];
const clinical = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });

function patient(id: string, mix: RecordMix): Resource {
  const base = { resourceType: 'Patient', id, identifier: [{ system: 'https://migfhir.org/fhir/sid/gr-paaypa', value: `PA-${id}` }], name: [{ family: 'Haddad', given: ['Amal'] }], gender: 'female' };
  if (mix === 'empty') return base as Resource;
  return {
    ...base,
    birthDate: '1990-04-07',
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ar' }], text: 'Arabic' }, preferred: true }, { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en' }], text: 'English' } }],
    extension: [
      { url: 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired', valueBoolean: true },
      {
        url: 'https://migfhir.org/fhir/StructureDefinition/migration-journey',
        extension: [
          { url: 'countryOfOrigin', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'SY' }] } },
          { url: 'transit', extension: [{ url: 'country', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'TR' }] } }, { url: 'period', valuePeriod: { start: '2025-11-20', end: '2026-02-25' } }] },
          { url: 'arrivalDate', valueDate: '2026-02-27' },
        ],
      },
    ],
    managingOrganization: { reference: `Organization/${id}-org` },
  } as Resource;
}

/** The resources of one patient's record, the Patient first. */
export function clinicalRecord(id: string, mix: RecordMix, size = 500, seed = 1): Resource[] {
  const out: Resource[] = [patient(id, mix)];
  if (mix === 'empty') return out;
  const subject = { reference: `Patient/${id}` };
  const add = (r: Record<string, unknown>) => out.push(r as unknown as Resource);
  add({ resourceType: 'Organization', id: `${id}-org`, name: 'Reception centre clinic, Lesvos' });
  add({ resourceType: 'Practitioner', id: `${id}-gp`, name: [{ family: 'Papadopoulou', given: ['Eleni'], prefix: ['Dr'] }] });
  add({ resourceType: 'Medication', id: `${id}-med`, code: cc('http://www.whocc.no/atc', 'J04AB02', 'rifampicin') });
  const random = prng(seed);
  const day = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 86400000).toISOString().slice(0, 10);
  const each = (n: number, i: number) => {
    const k = `${id}-${n}-${i}`;
    const when = day(Math.floor(random() * 900));
    switch (n) {
      case 0: return add({ resourceType: 'Condition', id: k, clinicalStatus: clinical('active'), code: cc(SCT, '44054006', 'Diabetes mellitus type 2'), subject, onsetDateTime: when });
      case 1: return add({ resourceType: 'Condition', id: k, clinicalStatus: clinical('resolved'), code: cc(SCT, '56717001', 'Tuberculosis'), subject, abatementDateTime: when });
      case 2: return add({ resourceType: 'AllergyIntolerance', id: k, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: cc(SCT, '91936005', 'Allergy to penicillin'), patient: subject, reaction: [{ manifestation: [cc(SCT, '271807003', 'Skin rash')] }] });
      case 3: return add({ resourceType: 'MedicationStatement', id: k, status: 'active', medicationCodeableConcept: cc('http://www.whocc.no/atc', 'A10BA02', 'metformin'), subject, dosage: [{ text: '500 mg twice daily' }] });
      case 4: return add({ resourceType: 'MedicationRequest', id: k, status: 'active', intent: 'order', medicationReference: { reference: `Medication/${id}-med` }, subject, authoredOn: when, requester: { reference: `Practitioner/${id}-gp` }, dosageInstruction: [{ text: '600 mg once daily' }] });
      case 5: return add({ resourceType: 'Immunization', id: k, status: 'completed', vaccineCode: cc('http://hl7.org/fhir/sid/cvx', '03', 'MMR'), patient: subject, occurrenceDateTime: when });
      case 6: return add({ resourceType: 'Observation', id: k, status: 'final', category: cat('laboratory'), code: cc(LOINC, '4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood'), subject, effectiveDateTime: when, valueQuantity: { value: Math.round(60 + random() * 40) / 10, unit: '%', system: UCUM, code: '%' }, performer: [{ reference: `Practitioner/${id}-gp` }] });
      case 7: return add({ resourceType: 'Observation', id: k, status: 'final', category: cat('laboratory'), code: cc(LOINC, '718-7', 'Hemoglobin [Mass/volume] in Blood'), subject, effectiveDateTime: when, valueQuantity: { value: 12.1, unit: 'g/dL', system: UCUM, code: 'g/dL' }, performer: [{ reference: 'Practitioner/left-behind' }] });
      case 8: {
        const obs = `${k}-r`;
        add({ resourceType: 'Observation', id: obs, status: 'final', category: cat('laboratory'), code: cc(LOINC, '2345-7', 'Glucose [Mass/volume] in Serum or Plasma'), subject, effectiveDateTime: when, valueQuantity: { value: 131, unit: 'mg/dL', system: UCUM, code: 'mg/dL' } });
        return add({ resourceType: 'DiagnosticReport', id: k, status: 'final', category: cat('laboratory'), code: cc(LOINC, '24323-8', 'Comprehensive metabolic panel'), subject, effectiveDateTime: when, result: [{ reference: `Observation/${obs}` }], performer: [{ reference: `Organization/${id}-org` }] });
      }
      case 9: return add({ resourceType: 'Observation', id: k, status: 'final', category: cat('imaging'), code: cc(LOINC, '36643-5', 'XR Chest 2 Views'), subject, effectiveDateTime: when, valueString: 'No active pulmonary disease', performer: [{ reference: `Organization/${id}-org` }] });
      case 10: return add({ resourceType: 'Observation', id: k, status: 'final', category: cat('vital-signs'), code: cc(LOINC, '85354-9', 'Blood pressure panel'), subject, effectiveDateTime: when, component: [{ code: cc(LOINC, '8480-6', 'Systolic blood pressure'), valueQuantity: { value: 120 + Math.floor(random() * 30), unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } }, { code: cc(LOINC, '8462-4', 'Diastolic blood pressure'), valueQuantity: { value: 80, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } }] });
      case 11: return add({ resourceType: 'Procedure', id: k, status: 'completed', code: cc(SCT, '80146002', 'Appendectomy'), subject });
      case 12: {
        const edd = `${k}-edd`;
        add({ resourceType: 'Observation', id: edd, status: 'final', code: cc(LOINC, '11778-8', 'Delivery date Estimated'), subject, effectiveDateTime: when, valueDateTime: day(1000) });
        return add({ resourceType: 'Observation', id: k, status: 'final', code: cc(LOINC, '82810-3', 'Pregnancy status'), subject, effectiveDateTime: when, valueCodeableConcept: cc(SCT, '77386006', 'Pregnant'), hasMember: [{ reference: `Observation/${edd}` }] });
      }
      case 13: return add({ resourceType: 'Observation', id: k, status: 'final', code: cc(LOINC, '11636-8', '[#] Births.live'), subject, effectiveDateTime: when, valueQuantity: { value: 2, system: UCUM, code: '{#}' } });
      case 14: return add({ resourceType: 'ServiceRequest', id: k, status: 'active', intent: 'order', category: [{ text: 'Mental health and psychosocial support' }], code: { text: 'Trauma-focused psychotherapy' }, subject, authoredOn: when, requester: { reference: `Practitioner/${id}-gp` } });
      default: return add({ resourceType: 'QuestionnaireResponse', id: k, status: 'completed', questionnaire: 'https://migfhir.org/fhir/Questionnaire/phq-9', subject, authored: when, item: [{ linkId: 'phq9-total', answer: [{ valueInteger: 11 }] }] });
    }
  };
  const KINDS = 16;
  if (mix === 'all') for (let n = 0; n < KINDS; n++) each(n, 0);
  else for (let i = 0; out.length < size; i++) each(i % KINDS, Math.floor(i / KINDS));
  return out.slice(0, mix === 'many' ? size : undefined);
}

/** The record as one transaction Bundle (PUT with the given ids). */
export function recordTransaction(resources: Resource[]) {
  return { resourceType: 'Bundle', type: 'transaction', entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })) };
}
