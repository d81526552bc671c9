// PHQ-9 and GAD-7 as MigrantHealthQuestionnaires. Both are free to reproduce, translate, display
// and distribute (Pfizer; see terminology/LICENSES.md); item and answer codes are LOINC (used
// under the LOINC licence). Only the English original is shipped: translations must be the
// validated ones, never ad-hoc, so none are invented here.
import type { Questionnaire, QuestionnaireItem } from 'fhir/r4.js';
import { cs, meta, sd } from '../../src/ig/canonical.ts';

const LOINC = 'http://loinc.org';
const PFIZER = 'Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. No permission required to reproduce, translate, display or distribute. This material contains content from LOINC (http://loinc.org), copyright © 1995-2024 Regenstrief Institute, Inc. and the LOINC Committee, available at no cost under the license at http://loinc.org/license.';
const CALCULATED = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression';

const FREQUENCY: [string, string, number][] = [
  ['LA6568-5', 'Not at all', 0],
  ['LA6569-3', 'Several days', 1],
  ['LA6570-1', 'More than half the days', 2],
  ['LA6571-9', 'Nearly every day', 3],
];

function scored(prefix: string, n: number, code: string, text: string): QuestionnaireItem {
  return {
    linkId: `${prefix}-${n}`, prefix: String(n), code: [{ system: LOINC, code }], text, type: 'choice', required: true,
    answerOption: FREQUENCY.map(([c, display, score]) => ({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/ordinalValue', valueDecimal: score }], valueCoding: { system: LOINC, code: c, display } })),
  };
}

function total(prefix: string, code: string, text: string, items: string[]): QuestionnaireItem {
  const list = items.map((i) => `'${i}'`).join(' | ');
  return {
    linkId: `${prefix}-total`, code: [{ system: LOINC, code }], text, type: 'integer', readOnly: true,
    extension: [{ url: CALCULATED, valueExpression: { language: 'text/fhirpath', expression: `%resource.item.where(linkId in (${list})).answer.value.weight().sum()` } }],
  };
}

type Band = [number, number | undefined, string, string | undefined];

function bands(item: string, list: Band[]) {
  return list.map(([min, max, interpretation, referral]) => ({
    url: sd('score-interpretation'),
    extension: [
      { url: 'item', valueString: item },
      { url: 'min', valueDecimal: min },
      ...(max !== undefined ? [{ url: 'max', valueDecimal: max }] : []),
      { url: 'interpretation', valueCodeableConcept: { coding: [{ system: cs('score-interpretation'), code: interpretation }] } },
      ...(referral ? [{ url: 'referral', valueCodeableConcept: { coding: [{ system: cs('referral-category'), code: referral }] } }] : []),
    ],
  }));
}

function instrument(id: string, name: string, title: string, description: string, panel: string, items: QuestionnaireItem[], bandList: Band[]): Questionnaire {
  const totalItem = items[items.length - 1].linkId;
  return {
    ...meta('Questionnaire', id, name, description, title),
    meta: { profile: [sd('migrant-health-questionnaire')] },
    language: 'en',
    extension: bands(totalItem, bandList),
    copyright: PFIZER,
    subjectType: ['Patient'],
    code: [{ system: LOINC, code: panel, display: title }],
    item: items,
  } as Questionnaire;
}

const PHQ9_ITEMS: [string, string][] = [
  ['44250-9', 'Little interest or pleasure in doing things'],
  ['44255-8', 'Feeling down, depressed, or hopeless'],
  ['44259-0', 'Trouble falling or staying asleep, or sleeping too much'],
  ['44254-1', 'Feeling tired or having little energy'],
  ['44251-7', 'Poor appetite or overeating'],
  ['44258-2', 'Feeling bad about yourself - or that you are a failure or have let yourself or your family down'],
  ['44252-5', 'Trouble concentrating on things, such as reading the newspaper or watching television'],
  ['44253-3', 'Moving or speaking so slowly that other people could have noticed? Or the opposite - being so fidgety or restless that you have been moving around a lot more than usual'],
  ['44260-8', 'Thoughts that you would be better off dead or of hurting yourself in some way'],
];

const GAD7_ITEMS: [string, string][] = [
  ['69725-0', 'Feeling nervous, anxious or on edge'],
  ['68509-9', 'Not being able to stop or control worrying'],
  ['69733-4', 'Worrying too much about different things'],
  ['69734-2', 'Trouble relaxing'],
  ['69735-9', 'Being so restless that it is hard to sit still'],
  ['69689-8', 'Becoming easily annoyed or irritable'],
  ['69736-7', 'Feeling afraid as if something awful might happen'],
];

const phq9Items = PHQ9_ITEMS.map(([code, text], i) => scored('phq9', i + 1, code, text));
// item 9 (thoughts of self-harm): any answer above "Not at all" needs same-day follow-up
phq9Items[8].extension = [{
  url: sd('item-alert'),
  extension: [
    { url: 'min', valueDecimal: 1 },
    { url: 'alert', valueCodeableConcept: { coding: [{ system: cs('score-interpretation'), code: 'self-harm-risk' }] } },
    { url: 'referral', valueCodeableConcept: { coding: [{ system: cs('referral-category'), code: 'mhpss' }] } },
  ],
}];
export const phq9 = instrument('phq-9', 'PHQ9', 'Patient Health Questionnaire-9 (PHQ-9)',
  'PHQ-9 depression screening: over the last 2 weeks, how often have you been bothered by any of the following problems? Severity bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe (Kroenke, Spitzer & Williams 2001); 10 or more suggests referral to mental health and psychosocial support. Item 9 (thoughts of self-harm) answered above "Not at all" needs clinical follow-up whatever the total.',
  '44249-1', [...phq9Items, total('phq9', '44261-6', 'PHQ-9 total score', phq9Items.map((i) => i.linkId))],
  [[0, 4, 'minimal', undefined], [5, 9, 'mild', undefined], [10, 14, 'moderate', 'mhpss'], [15, 19, 'moderately-severe', 'mhpss'], [20, 27, 'severe', 'mhpss']]);

const gad7Items = GAD7_ITEMS.map(([code, text], i) => scored('gad7', i + 1, code, text));
export const gad7 = instrument('gad-7', 'GAD7', 'Generalized Anxiety Disorder 7-item scale (GAD-7)',
  'GAD-7 anxiety screening: over the last 2 weeks, how often have you been bothered by the following problems? Severity bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe (Spitzer et al. 2006); 10 or more suggests referral to mental health and psychosocial support.',
  '69737-5', [...gad7Items, total('gad7', '70274-6', 'GAD-7 total score', gad7Items.map((i) => i.linkId))],
  [[0, 4, 'minimal', undefined], [5, 9, 'mild', undefined], [10, 14, 'moderate', 'mhpss'], [15, 21, 'severe', 'mhpss']]);
