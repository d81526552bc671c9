// Our own initial health assessment, following the sections of the EU/IOM Personal Health Record
// for migrants (vaccination, TB symptom screen, chronic conditions, pregnancy, mental health,
// disability, medications, allergies, examination, referral). The wording is ours (Apache-2.0);
// it embeds no licensed instrument — PHQ-9 and GAD-7 are separate questionnaires.
import type { Questionnaire, QuestionnaireItem } from 'fhir/r4.js';
import { cs, meta, sd, vs } from '../../src/ig/canonical.ts';

const YES_NO = 'http://hl7.org/fhir/ValueSet/yesnodontknow';
let n = 0;
const q = (text: string, type: QuestionnaireItem['type'], extra: Partial<QuestionnaireItem> = {}): QuestionnaireItem => ({ linkId: `iha-${++n}`, text, type, ...extra });
const yn = (text: string, extra: Partial<QuestionnaireItem> = {}) => q(text, 'choice', { answerValueSet: YES_NO, ...extra });
const group = (id: string, text: string, item: QuestionnaireItem[], extra: Partial<QuestionnaireItem> = {}): QuestionnaireItem => ({ linkId: id, text, type: 'group', item, ...extra });
/** Marks a question whose answer reveals migration status (legal status, asylum, detention): the
 * server labels the answers on write and withholds them from clients without the
 * migration-data scope (src/questionnaire/sensitive-items.ts). */
const SENSITIVE = { code: [{ system: cs('sensitivity'), code: 'migration', display: 'Migration status, journey or vulnerability' }] };

function section(): QuestionnaireItem[] {
  const cough = yn('Cough for more than 2 weeks');
  return [
    group('vaccination', 'Vaccination status', [
      yn('Is there a vaccination record (card, certificate, digital record)?'),
      q('Vaccinations documented (vaccine and date)', 'text'),
      yn('Catch-up vaccination needed according to the national schedule?'),
    ]),
    group('tb', 'Tuberculosis symptom screen', [
      cough,
      yn('Coughing up blood'),
      yn('Fever or night sweats'),
      yn('Unintended weight loss'),
      yn('Close contact with a person with tuberculosis'),
      q('Further TB assessment arranged (chest X-ray, IGRA, sputum)', 'boolean', { enableWhen: [{ question: cough.linkId, operator: '=', answerCoding: { system: 'http://terminology.hl7.org/CodeSystem/v2-0136', code: 'Y' } }] }),
    ]),
    group('chronic', 'Chronic conditions', [
      yn('Diabetes'), yn('High blood pressure or heart disease'), yn('Asthma or chronic lung disease'), yn('Kidney or liver disease'), yn('HIV or viral hepatitis'),
      q('Other chronic conditions', 'text'),
      yn('Treatment interrupted by the journey?'),
    ]),
    group('pregnancy', 'Pregnancy', [
      yn('Currently pregnant?'),
      q('Expected date of delivery', 'date'),
      yn('Antenatal care received so far?'),
    ]),
    group('mental-health', 'Mental health', [
      yn('Sleep problems, nightmares or intrusive memories?'),
      yn('Feeling constantly sad, worried or hopeless?'),
      yn('Thoughts of harming yourself?'),
      q('Screening instrument used (PHQ-9, GAD-7) and result', 'text'),
    ]),
    group('disability', 'Disability', [
      yn('Difficulty seeing, hearing, walking, remembering, self-care or communicating (Washington Group short set domains)?'),
      q('Assistive devices needed or lost on the journey', 'text'),
    ]),
    group('medications', 'Medications', [q('Current medications (name, dose)', 'text'), yn('Medication ran out or was lost?')]),
    group('allergies', 'Allergies', [yn('Known allergies?'), q('Allergies and reactions', 'text')]),
    group('examination', 'Examination', [
      q('Weight (kg)', 'decimal'), q('Height (cm)', 'decimal'), q('Blood pressure (mmHg)', 'string'), q('Findings', 'text'),
    ]),
    group('referral', 'Referral', [
      q('Referral needed', 'choice', { repeats: true, answerValueSet: vs('referral-category') }),
      q('Interpreter language needed', 'choice', { answerValueSet: vs('languages') }),
    ]),
    // last, so the linkIds above stay as they were; asked only where it matters for care (which
    // services the person is entitled to, whether treatment can continue)
    group('legal-situation', 'Legal situation as it bears on care', [
      q('Residence or asylum procedure status', 'choice', { answerValueSet: vs('migration-status'), ...SENSITIVE }),
      yn('Held in immigration detention during the journey or since arrival?', SENSITIVE),
      q('Notes on the legal situation relevant to care (entitlements, pending decisions)', 'text', SENSITIVE),
    ], SENSITIVE),
  ];
}

export const initialHealthAssessment: Questionnaire = {
  ...meta('Questionnaire', 'initial-health-assessment', 'InitialHealthAssessment', 'The first health assessment of a newly arrived migrant, following the sections of the EU/IOM Personal Health Record: vaccination status, tuberculosis symptom screen, chronic conditions, pregnancy, mental health, disability, medications, allergies, examination and referral.', 'Initial health assessment of newly arrived migrants'),
  meta: { profile: [sd('migrant-health-questionnaire')] },
  language: 'en',
  copyright: 'migfhir project, Apache License 2.0. Section structure after the EU/IOM Personal Health Record; no text of the PHR or of licensed instruments is reproduced.',
  subjectType: ['Patient'],
  code: [{ system: cs('encounter-type'), code: 'initial-health-assessment', display: 'Initial health assessment' }],
  item: section(),
} as Questionnaire;
