// MigrantPatient: a Patient as met along migration routes. Aligned with the HL7 Europe base
// Patient (birthPlace, nationality, citizenship, data-absent-reason on names) without depending
// on its package; adds the identifiers of the routes, names in the original script, estimated
// birth dates, the (sensitive) migration status, journey and vulnerabilities, languages with
// proficiency and interpreter need, temporary addresses with a residence type, guardians for
// minors and links between temporary and permanent records.
import type { ElementDefinition } from 'fhir/r4.js';
import { cs, sd, sid, vs } from '../src/ig/canonical.ts';
import { el, ext, extensible, profile, sensitive } from './define.ts';

const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const ROLE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';

/** [slice name, system, temporary, short] */
const IDENTIFIERS: [string, string, boolean, string][] = [
  ['amka', sid('gr-amka'), false, 'Greece: AMKA social security number'],
  ['paaypa', sid('gr-paaypa'), true, 'Greece: PAAYPA provisional number of applicants (becomes AMKA)'],
  ['codiceFiscale', 'http://hl7.it/sid/codiceFiscale', false, 'Italy: codice fiscale'],
  ['stp', 'http://hl7.it/sid/stp', true, 'Italy: STP code of foreigners temporarily present (6 months, renewable)'],
  ['eni', 'http://hl7.it/sid/eni', true, 'Italy: ENI code of EU citizens not registered with the SSN'],
  ['kvnr', 'http://fhir.de/sid/gkv/kvid-10', false, 'Germany: KVNR health insurance number'],
  ['personnummer', 'urn:oid:1.2.752.129.2.1.3.1', false, 'Sweden: personnummer'],
  ['samordningsnummer', 'urn:oid:1.2.752.129.2.1.3.3', false, 'Sweden: samordningsnummer (coordination number)'],
  ['lma', sid('se-lma'), true, 'Sweden: LMA card number of asylum seekers'],
  ['pesel', 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', false, 'Poland: PESEL (also with UKR status)'],
  ['ssin', 'https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin', false, 'Belgium: INSZ/NISS national number or BIS number'],
  ['mbo', 'http://fhir.cezih.hr/specifikacije/identifikatori/MBO', false, 'Croatia: MBO health insurance number'],
  ['cipSns', sid('es-cip-sns'), false, 'Spain: CIP-SNS'],
  ['unhcr', sid('unhcr-progres'), false, 'UNHCR proGres individual identifier'],
  ['iom', sid('iom-case'), false, 'IOM case number'],
];

const identifierSlices: ElementDefinition[] = IDENTIFIERS.flatMap(([name, system, temporary, short]) => [
  el(`Patient.identifier:${name}`, { short, min: 0, max: temporary ? '*' : '1', patternIdentifier: { system } }),
  ...(temporary
    ? [
        el(`Patient.identifier:${name}.use`, { min: 1, fixedCode: 'temp', short: 'Temporary identifiers are use=temp' }),
        el(`Patient.identifier:${name}.period`, { min: 1, short: 'Validity of the temporary identifier' }),
      ]
    : []),
  el(`Patient.identifier:${name}.value`, { min: 1 }),
]);

const WHEN_GUARDIAN = "extension('" + sd('vulnerability') + "').where(extension('flag').value.coding.where(system = '" + cs('vulnerability') + "' and (code = 'unaccompanied-minor' or code = 'separated-child')).exists() and extension('period').value.end.empty()).exists() implies contact.where(relationship.coding.where(system = '" + ROLE + "' and code = 'GUARD').exists()).exists()";

export const migrantPatient = profile('migrant-patient', 'MigrantPatient', 'Migrant patient', 'Patient',
  'A migrant, refugee or asylum seeker as a patient: identifiers of the countries and organisations along the routes (temporary ones with use=temp and a period), names in the original script and in Latin script, partial or estimated birth dates, sensitive migration status, journey and vulnerabilities, languages with proficiency and interpreter need, temporary addresses with a residence type, guardians of unaccompanied minors, and links from temporary to permanent records.', [
    el('Patient', { constraint: [{ key: 'mig-pat-2', severity: 'error', human: 'An unaccompanied or separated minor has a guardian contact (v3 RoleCode GUARD)', expression: WHEN_GUARDIAN, source: sd('migrant-patient') }] }),
    el('Patient.extension:nationality', { type: ext('patient-nationality'), short: 'Nationality (ISO 3166-1), over time' }),
    el('Patient.extension:citizenship', { type: ext('patient-citizenship'), short: 'Citizenship (ISO 3166-1), over time' }),
    el('Patient.extension:birthPlace', { max: '1', type: ext('patient-birthPlace'), short: 'Country and place of birth' }),
    el('Patient.extension:interpreterRequired', { max: '1', type: ext('patient-interpreterRequired'), mustSupport: true }),
    el('Patient.extension:migrationStatus', { type: ext(sd('migration-status')), mustSupport: true, ...sensitive }),
    el('Patient.extension:migrationJourney', { max: '1', type: ext(sd('migration-journey')), ...sensitive }),
    el('Patient.extension:vulnerability', { type: ext(sd('vulnerability')), mustSupport: true, ...sensitive }),
    el('Patient.identifier', { min: 1, mustSupport: true, slicing: { discriminator: [{ type: 'pattern', path: '$this' }], ordered: false, rules: 'open' } }),
    ...identifierSlices,
    el('Patient.identifier:passport', { short: 'Passport number (issuing country in assigner)', patternIdentifier: { type: { coding: [{ system: V2, code: 'PPN' }] } } }),
    el('Patient.identifier:passport.value', { min: 1 }),
    el('Patient.identifier:ehic', { short: 'European Health Insurance Card personal identification number', patternIdentifier: { type: { coding: [{ system: cs('identifier-type'), code: 'ehic' }] } } }),
    el('Patient.identifier:ehic.value', { min: 1 }),
    el('Patient.name', {
      min: 1, mustSupport: true,
      comment: 'Several names: as written in the original script (extension iso21090-EN-representation IDE or SYL) and in Latin transliteration (ABC); an unknown name is a name with only a data-absent-reason.',
      constraint: [{ key: 'mig-pat-1', severity: 'error', human: 'A name has a family name, a given name, a text or a data-absent-reason', expression: "family.exists() or given.exists() or text.exists() or extension('http://hl7.org/fhir/StructureDefinition/data-absent-reason').exists()", source: sd('migrant-patient') }],
    }),
    el('Patient.name.extension:dataAbsentReason', { max: '1', type: ext('data-absent-reason'), short: 'Why the name is not known' }),
    el('Patient.name.extension:representation', { max: '1', type: ext('iso21090-EN-representation'), short: 'ABC (alphabetic/Latin), IDE (ideographic), SYL (syllabic)' }),
    el('Patient.birthDate', { min: 1, mustSupport: true, comment: 'May be partial (year, or year and month). When unknown, carries only a data-absent-reason.' }),
    el('Patient.birthDate.extension:estimated', { max: '1', type: ext(sd('birth-date-estimated')) }),
    el('Patient.birthDate.extension:dataAbsentReason', { max: '1', type: ext('data-absent-reason') }),
    el('Patient.address', { mustSupport: true, constraint: [{ key: 'mig-pat-3', severity: 'error', human: 'A temporary address has a period', expression: "use = 'temp' implies period.exists()", source: sd('migrant-patient') }] }),
    el('Patient.address.extension:residenceType', { max: '1', type: ext(sd('residence-type')) }),
    el('Patient.contact', { slicing: { discriminator: [{ type: 'pattern', path: 'relationship' }], ordered: false, rules: 'open' } }),
    el('Patient.contact:guardian', { short: 'Legal guardian (of a minor)' }),
    el('Patient.contact:guardian.relationship', { min: 1, patternCodeableConcept: { coding: [{ system: ROLE, code: 'GUARD' }] } }),
    el('Patient.communication', { mustSupport: true }),
    el('Patient.communication.extension:proficiency', { type: ext('patient-proficiency') }),
    el('Patient.communication.language', { binding: extensible(vs('languages')), short: 'BCP-47 language tag' }),
    el('Patient.link', { comment: 'A temporary record (PAAYPA, STP, LMA) is linked to the permanent one when protection or registration is granted: replaced-by on the temporary, replaces on the permanent.' }),
  ]);
