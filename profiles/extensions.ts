// The IG's own extensions, each for something no standard R4 extension covers (the standard
// ones — patient-nationality, patient-citizenship, patient-birthPlace, patient-interpreterRequired,
// patient-proficiency, translation, iso21090-EN-representation, data-absent-reason,
// ordinalValue — are used as they are). Migration status, journey and vulnerability are
// sensitive: marked with the element-security-label extension, labelled and redacted by the
// server (src/auth/sensitive.ts matches them by URL).
import type { StructureDefinition } from 'fhir/r4.js';
import { vs } from '../src/ig/canonical.ts';
import { extension, ref, required, extensible } from './define.ts';

const CC = [{ code: 'CodeableConcept' }];
const countries = required(vs('countries'));

export const elementSecurityLabel = extension({
  id: 'element-security-label', name: 'ElementSecurityLabel', title: 'Element security label',
  description: 'On an element definition: the security label a resource gets when it holds this element (for example migration data, restricted), so that servers label and redact it.',
  context: ['ElementDefinition'], value: { type: [{ code: 'Coding' }] },
});

export const migrationStatus = extension({
  id: 'migration-status', name: 'MigrationStatus', title: 'Migration status',
  description: 'A legal or administrative migration status with its period, the country that granted it and the document it is known from. Repeat it to keep the history: the current status is the one whose period has no end. Sensitive: never to be disclosed for immigration enforcement.',
  context: ['Patient'], sensitive: true,
  parts: [
    { name: 'status', min: 1, max: '1', type: CC, short: 'The status (migration-status code system)', binding: required(vs('migration-status')) },
    { name: 'period', min: 0, max: '1', type: [{ code: 'Period' }], short: 'When the status held' },
    { name: 'grantingCountry', min: 0, max: '1', type: CC, short: 'The country that granted or registered the status (ISO 3166-1)', binding: countries },
    { name: 'sourceDocument', min: 0, max: '1', type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/DocumentReference'] }, { code: 'Identifier' }], short: 'The document the status is known from (asylum-seeker card, residence permit, decision)' },
  ],
});

export const migrationJourney = extension({
  id: 'migration-journey', name: 'MigrationJourney', title: 'Migration journey',
  description: 'Where the person comes from, the countries crossed with dates, and the arrival date: the exposure history clinicians need (infectious diseases, trauma, interrupted care). Sensitive.',
  context: ['Patient'], max: '1', sensitive: true,
  parts: [
    { name: 'countryOfOrigin', min: 0, max: '1', type: CC, short: 'Country of origin (ISO 3166-1)', binding: countries },
    { name: 'departureDate', min: 0, max: '1', type: [{ code: 'date' }], short: 'When the person left the country of origin' },
    { name: 'transit', min: 0, max: '*', type: [], short: 'A country crossed or stayed in on the way', parts: [
      { name: 'country', min: 1, max: '1', type: CC, short: 'The transit country (ISO 3166-1)', binding: countries },
      { name: 'period', min: 0, max: '1', type: [{ code: 'Period' }], short: 'When the person was there' },
    ] },
    { name: 'arrivalDate', min: 0, max: '1', type: [{ code: 'date' }], short: 'Arrival in the country where this record is kept' },
  ],
});

export const vulnerability = extension({
  id: 'vulnerability', name: 'Vulnerability', title: 'Vulnerability',
  description: 'A special reception or care need (Directive 2013/33/EU Art. 21): unaccompanied or separated minor, survivor of trafficking or torture, and others. Separate from the migration status. Sensitive.',
  context: ['Patient'], sensitive: true,
  parts: [
    { name: 'flag', min: 1, max: '1', type: CC, short: 'The vulnerability (vulnerability code system)', binding: required(vs('vulnerability')) },
    { name: 'period', min: 0, max: '1', type: [{ code: 'Period' }], short: 'Since when (and until when) it applies' },
  ],
});

export const birthDateEstimated = extension({
  id: 'birth-date-estimated', name: 'BirthDateEstimated', title: 'Birth date estimated',
  description: 'True when the birth date is estimated (age assessment, registration default such as 1 January) rather than documented.',
  context: ['Patient.birthDate'], max: '1', value: { type: [{ code: 'boolean' }] },
});

export const residenceType = extension({
  id: 'residence-type', name: 'ResidenceType', title: 'Residence type',
  description: 'The kind of place the address is: reception centre, camp, detention, shelter, private accommodation (cf. IHE PCC AlternativeResidence).',
  context: ['Address'], max: '1', value: { type: CC, binding: extensible(vs('residence-type')) },
});

export const encounterSetting = extension({
  id: 'encounter-setting', name: 'EncounterSetting', title: 'Encounter setting',
  description: 'The kind of site along the migration route where the encounter took place.',
  context: ['Encounter'], max: '1', value: { type: CC, binding: extensible(vs('encounter-setting')) },
});

export const encounterCountry = extension({
  id: 'encounter-country', name: 'EncounterCountry', title: 'Country of the encounter',
  description: 'The country where the encounter took place (ISO 3166-1), so that records moved across borders keep it.',
  context: ['Encounter'], max: '1', value: { type: CC, binding: countries },
});

export const interpretation = extension({
  id: 'interpretation', name: 'Interpretation', title: 'Interpretation',
  description: 'How an interpreter or cultural mediator took part: who (professional, mediator, ad-hoc), how (in person, telephone, video) and in which language.',
  context: ['Encounter.participant'], max: '1',
  parts: [
    { name: 'type', min: 1, max: '1', type: CC, short: 'Who interpreted', binding: required(vs('interpreter-type')) },
    { name: 'modality', min: 0, max: '1', type: CC, short: 'How', binding: required(vs('interpretation-modality')) },
    { name: 'language', min: 1, max: '1', type: [{ code: 'code' }], short: 'The language interpreted to and from (BCP-47)', binding: extensible(vs('languages')) },
  ],
});

export const interpreterNeed = extension({
  id: 'interpreter-need', name: 'InterpreterNeed', title: 'Interpreter need',
  description: 'Whether the service requested needs an interpreter, and for which language.',
  context: ['ServiceRequest'], max: '1',
  constraint: [{ key: 'mig-int-1', severity: 'error', human: 'When an interpreter is needed, the language is given', expression: "extension('needed').value = true implies extension('language').exists()" }],
  parts: [
    { name: 'needed', min: 1, max: '1', type: [{ code: 'boolean' }], short: 'An interpreter is needed' },
    { name: 'language', min: 0, max: '1', type: [{ code: 'code' }], short: 'The language (BCP-47)', binding: extensible(vs('languages')) },
  ],
});

export const crossBorder = extension({
  id: 'cross-border-referral', name: 'CrossBorderReferral', title: 'Cross-border referral',
  description: 'The countries a referral goes from and to, when the person moves on before the care is given.',
  context: ['ServiceRequest'], max: '1',
  parts: [
    { name: 'originCountry', min: 1, max: '1', type: CC, short: 'Country of the requester (ISO 3166-1)', binding: countries },
    { name: 'destinationCountry', min: 1, max: '1', type: CC, short: 'Country where the care is to be given (ISO 3166-1)', binding: countries },
  ],
});

export const scoreInterpretation = extension({
  id: 'score-interpretation', name: 'ScoreInterpretation', title: 'Score interpretation (cut-off)',
  description: 'A band of an instrument\'s total score: from min to max (inclusive) the total means this interpretation and suggests this referral category. Repeat for each band.',
  context: ['Questionnaire'],
  constraint: [{ key: 'mig-cut-1', severity: 'error', human: 'max is not below min', expression: "extension('max').empty() or extension('max').value >= extension('min').value" }],
  parts: [
    { name: 'item', min: 1, max: '1', type: [{ code: 'string' }], short: 'linkId of the total item the band applies to' },
    { name: 'min', min: 1, max: '1', type: [{ code: 'decimal' }], short: 'Lowest total of the band' },
    { name: 'max', min: 0, max: '1', type: [{ code: 'decimal' }], short: 'Highest total of the band (none: no upper limit)' },
    { name: 'interpretation', min: 1, max: '1', type: CC, short: 'What the band means', binding: extensible(vs('score-interpretation')) },
    { name: 'referral', min: 0, max: '1', type: CC, short: 'The referral category suggested', binding: required(vs('referral-category')) },
  ],
});

export const itemAlert = extension({
  id: 'item-alert', name: 'ItemAlert', title: 'Item alert (safety flag)',
  description: 'An answer to this item that scores at least min needs attention whatever the total: e.g. PHQ-9 item 9 (thoughts of self-harm) above "Not at all" calls for same-day clinical follow-up. Scoring ($score) reports it in the Observation.',
  context: ['Questionnaire.item'],
  parts: [
    { name: 'min', min: 1, max: '1', type: [{ code: 'decimal' }], short: 'Lowest answer score that raises the alert' },
    { name: 'alert', min: 1, max: '1', type: CC, short: 'What the alert means', binding: extensible(vs('score-interpretation')) },
    { name: 'referral', min: 0, max: '1', type: CC, short: 'The referral category suggested', binding: required(vs('referral-category')) },
  ],
});

void ref;
export const extensions: StructureDefinition[] = [elementSecurityLabel, migrationStatus, migrationJourney, vulnerability, birthDateEstimated, residenceType, encounterSetting, encounterCountry, interpretation, interpreterNeed, crossBorder, scoreInterpretation, itemAlert];
