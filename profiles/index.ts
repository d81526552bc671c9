// Every profile, extension and questionnaire of the IG (differentials: the build script adds
// snapshots), and the examples.
import type { Questionnaire, Resource, StructureDefinition } from 'fhir/r4.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extensions } from './extensions.ts';
import { migrantEncounter } from './migrant-encounter.ts';
import { migrantHealthQuestionnaire } from './migrant-health-questionnaire.ts';
import { migrantPatient } from './migrant-patient.ts';
import { initialHealthAssessment } from './questionnaires/initial-health-assessment.ts';
import { gad7, phq9 } from './questionnaires/instruments.ts';
import { referralServiceRequest } from './referral-service-request.ts';

export const profiles: StructureDefinition[] = [migrantPatient, migrantEncounter, referralServiceRequest, migrantHealthQuestionnaire];
export { extensions };
export const questionnaires: Questionnaire[] = [phq9, gad7, initialHealthAssessment];

const EXAMPLES = join(import.meta.dirname, 'examples');

/** The valid examples, by file name order. */
export function validExamples(): Resource[] {
  const dir = join(EXAMPLES, 'valid');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Resource);
}

export interface InvalidCase {
  id: string;
  base: string;
  rule: string;
  expression: string;
  patch: { op: string; path: string; value?: unknown }[];
}

/** profile url → the invalid cases for it */
export function invalidCases(): { profile: string; cases: InvalidCase[] }[] {
  const dir = join(EXAMPLES, 'invalid');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
}
