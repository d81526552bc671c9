// The International Patient Summary's sections (hl7.fhir.uv.ips 2.0.0, Composition-uv-ips):
// which resources of the patient go where, and a migration-context section of our own that a
// receiving clinician in another country needs (languages, interpreter need, countries of
// transit, pending referrals, questionnaire results).
import type { Resource } from 'fhir/r4.js';
import { PREGNANCY_SECTION_CODES } from './profiles.ts';

export interface SectionSpec {
  key: string;
  title: string;
  code: { system: string; code: string; display: string };
  required: boolean;
  /** resource types gathered from the patient's compartment, with an optional filter */
  sources: { type: string; keep?: (r: any) => boolean }[];
}

const LOINC = 'http://loinc.org';
const category = (r: any, code: string) => (r.category ?? []).some((c: any) => (c.coding ?? []).some((x: any) => x.code === code));
const notEnteredInError = (r: any) => r.status !== 'entered-in-error' && r.verificationStatus?.coding?.[0]?.code !== 'entered-in-error';
const PAST = ['resolved', 'inactive', 'remission'];
const activeProblem = (r: any) => notEnteredInError(r) && !PAST.includes(r.clinicalStatus?.coding?.[0]?.code);
const pastProblem = (r: any) => notEnteredInError(r) && PAST.includes(r.clinicalStatus?.coding?.[0]?.code);

export const SECTIONS: SectionSpec[] = [
  { key: 'problems', title: 'Active Problems', code: { system: LOINC, code: '11450-4', display: 'Problem list - Reported' }, required: true, sources: [{ type: 'Condition', keep: activeProblem }] },
  { key: 'allergies', title: 'Allergies and Intolerances', code: { system: LOINC, code: '48765-2', display: 'Allergies and adverse reactions Document' }, required: true, sources: [{ type: 'AllergyIntolerance', keep: notEnteredInError }] },
  {
    key: 'medications', title: 'Medication Summary', code: { system: LOINC, code: '10160-0', display: 'History of Medication use Narrative' }, required: true,
    sources: [{ type: 'MedicationStatement', keep: notEnteredInError }, { type: 'MedicationRequest', keep: (r) => ['active', 'on-hold', 'completed'].includes(r.status) && r.doNotPerform !== true }],
  },
  { key: 'immunizations', title: 'Immunizations', code: { system: LOINC, code: '11369-6', display: 'History of Immunization Narrative' }, required: false, sources: [{ type: 'Immunization', keep: notEnteredInError }] },
  {
    key: 'results', title: 'Results', code: { system: LOINC, code: '30954-2', display: 'Relevant diagnostic tests/laboratory data Narrative' }, required: false,
    sources: [{ type: 'Observation', keep: (r) => notEnteredInError(r) && (category(r, 'laboratory') || category(r, 'imaging')) }, { type: 'DiagnosticReport', keep: notEnteredInError }],
  },
  { key: 'procedures', title: 'History of Procedures', code: { system: LOINC, code: '47519-4', display: 'History of Procedures Document' }, required: false, sources: [{ type: 'Procedure', keep: notEnteredInError }] },
  { key: 'vitalSigns', title: 'Vital Signs', code: { system: LOINC, code: '8716-3', display: 'Vital signs' }, required: false, sources: [{ type: 'Observation', keep: (r) => notEnteredInError(r) && category(r, 'vital-signs') }] },
  {
    key: 'pregnancy', title: 'History of Pregnancy', code: { system: LOINC, code: '10162-6', display: 'History of pregnancies Narrative' }, required: false,
    sources: [{ type: 'Observation', keep: (r) => notEnteredInError(r) && (r.code?.coding ?? []).some((c: any) => c.system === LOINC && PREGNANCY_SECTION_CODES.has(c.code)) }],
  },
  // resolved problems matter across borders too (tuberculosis treated on the way, a past fracture)
  { key: 'pastProblems', title: 'History of Past Problems', code: { system: LOINC, code: '11348-0', display: 'History of Past illness note' }, required: false, sources: [{ type: 'Condition', keep: pastProblem }] },
];

export const MIGRATION_SECTION: SectionSpec = {
  key: 'migration',
  title: 'Migration context for care',
  code: { system: 'https://migfhir.org/fhir/CodeSystem/ips-section', code: 'migration-context', display: 'Migration context for care' },
  required: false,
  sources: [
    { type: 'ServiceRequest', keep: (r) => ['active', 'draft', 'on-hold'].includes(r.status) },
    { type: 'QuestionnaireResponse', keep: (r) => r.status === 'completed' || r.status === 'amended' },
  ],
};

export type { Resource };
