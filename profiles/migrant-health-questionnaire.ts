// MigrantHealthQuestionnaire: a questionnaire for migrant health screening in the spirit of SDC:
// coded items, answer options scored with ordinalValue, a calculated total, cut-off bands
// (score-interpretation) leading to a suggested referral, mandatory copyright, a language and
// translations of texts.
import { sd } from '../src/ig/canonical.ts';
import { el, ext, profile } from './define.ts';

const SCORED = `extension('${sd('score-interpretation')}').exists() implies repeat(item).where(type = 'choice' and answerOption.exists() and extension('http://hl7.org/fhir/StructureDefinition/questionnaire-hidden').empty()).answerOption.all(extension('http://hl7.org/fhir/StructureDefinition/ordinalValue').exists())`;
const BAND_ITEM = `extension('${sd('score-interpretation')}').all(extension('item').value in %resource.repeat(item).linkId)`;

export const migrantHealthQuestionnaire = profile('migrant-health-questionnaire', 'MigrantHealthQuestionnaire', 'Migrant health questionnaire', 'Questionnaire',
  'A screening or assessment questionnaire for migrant health: items coded (LOINC where the instrument has codes), answers scored with ordinalValue, the total calculated, cut-off bands mapping the total to an interpretation and a suggested referral, the instrument\'s copyright stated, the language given and texts translated with the translation extension.', [
    el('Questionnaire', { constraint: [
      { key: 'mig-q-1', severity: 'error', human: 'In a scored questionnaire every answer option of a choice item has an ordinalValue', expression: SCORED, source: sd('migrant-health-questionnaire') },
      { key: 'mig-q-2', severity: 'error', human: 'Every score band names an item of the questionnaire', expression: BAND_ITEM, source: sd('migrant-health-questionnaire') },
    ] }),
    el('Questionnaire.extension:scoreInterpretation', { type: ext(sd('score-interpretation')), short: 'Cut-off bands of the total' }),
    el('Questionnaire.url', { min: 1 }),
    el('Questionnaire.version', { min: 1 }),
    el('Questionnaire.name', { min: 1 }),
    el('Questionnaire.title', { min: 1 }),
    el('Questionnaire.title.extension:translation', { type: ext('translation') }),
    el('Questionnaire.copyright', { min: 1, short: 'The instrument\'s licence and attribution (mandatory)' }),
    el('Questionnaire.language', { min: 1 }),
    el('Questionnaire.subjectType', { min: 1, max: '1', fixedCode: 'Patient' } as never),
    el('Questionnaire.item', { min: 1 }),
    el('Questionnaire.item.text', { min: 1 }),
    el('Questionnaire.item.text.extension:translation', { type: ext('translation') }),
    el('Questionnaire.item.answerOption.extension:ordinalValue', { max: '1', type: ext('ordinalValue'), short: 'The score of the answer' }),
  ]);
