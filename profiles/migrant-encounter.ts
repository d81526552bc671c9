// MigrantEncounter: care along the route — where (setting, country), what for (type, reason),
// with which interpreter or cultural mediator, following which referral.
import { sd, vs } from '../src/ig/canonical.ts';
import { el, ext, extensible, profile, ref } from './define.ts';

export const migrantEncounter = profile('migrant-encounter', 'MigrantEncounter', 'Migrant health encounter', 'Encounter',
  'An encounter of a migrant with a care provider: the setting along the route (reception centre, hotspot, detention, community clinic, mobile unit, hospital, telehealth), the country it took place in, its type and reason, the interpreter or cultural mediator who took part (type, modality, language), and the referral it follows.', [
    el('Encounter.extension:setting', { min: 1, max: '1', type: ext(sd('encounter-setting')), mustSupport: true }),
    el('Encounter.extension:country', { min: 1, max: '1', type: ext(sd('encounter-country')), mustSupport: true }),
    el('Encounter.type', { min: 1, binding: extensible(vs('encounter-type')), mustSupport: true }),
    el('Encounter.subject', { min: 1, type: ref(sd('migrant-patient')) }),
    el('Encounter.basedOn', { type: ref(sd('referral-service-request')), short: 'The referral this encounter follows' }),
    el('Encounter.participant', { slicing: { discriminator: [{ type: 'pattern', path: 'type' }], ordered: false, rules: 'open' } }),
    el('Encounter.participant:interpreter', { short: 'Interpreter or cultural mediator' }),
    el('Encounter.participant:interpreter.extension:interpretation', { min: 1, max: '1', type: ext(sd('interpretation')) }),
    el('Encounter.participant:interpreter.type', { min: 1, patternCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/participant-type', code: 'translator' }] } }),
    el('Encounter.period', { min: 1, constraint: [{ key: 'mig-enc-1', severity: 'error', human: 'The encounter has a start', expression: 'start.exists()', source: sd('migrant-encounter') }] }),
  ]);
