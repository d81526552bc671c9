// The IG's own code systems. No EU, UNHCR or IOM code system exists for these concepts (see
// ../shared domain research §2.3), so they are defined here, each code with a definition that
// names the legal or professional source it follows. Each code system has a value set of all
// its codes, which the profiles bind to.
import type { CodeSystem, CodeSystemConcept, ValueSet } from 'fhir/r4.js';
import { cs, meta } from '../src/ig/canonical.ts';

/** [code, display, definition, children] */
type Def = [string, string, string, Def[]?];

function concepts(defs: Def[]): CodeSystemConcept[] {
  return defs.map(([code, display, definition, children]) => ({ code, display, definition, ...(children ? { concept: concepts(children) } : {}) }));
}

function count(defs: Def[]): number {
  return defs.reduce((n, d) => n + 1 + count(d[3] ?? []), 0);
}

function codeSystem(id: string, name: string, title: string, description: string, defs: Def[]): CodeSystem {
  return {
    ...meta('CodeSystem', id, name, description, title),
    caseSensitive: true,
    valueSet: cs(id).replace('/CodeSystem/', '/ValueSet/'),
    hierarchyMeaning: 'is-a',
    content: 'complete',
    count: count(defs),
    concept: concepts(defs),
  } as CodeSystem;
}

/** The value set of every code of a code system, under the same id. */
export function allCodes(system: CodeSystem): ValueSet {
  return {
    ...meta('ValueSet', system.id!, `${system.name}VS`, `All codes of the code system ${system.title}.`, system.title),
    immutable: false,
    compose: { include: [{ system: system.url }] },
  } as ValueSet;
}

const PROTECTION_DIRECTIVE = 'Directive 2011/95/EU (recast Qualification Directive), replaced in 2026 by Regulation (EU) 2024/1347 (Qualification Regulation)';

export const migrationStatus = codeSystem('migration-status', 'MigrationStatus', 'Migration status',
  'The legal or administrative migration status of a person, defined against EU law (asylum acquis, Temporary Protection Directive, Return Directive) and international law where EU law has no definition. Vulnerabilities (unaccompanied minor, survivor of trafficking or torture) are not statuses: see the vulnerability code system.', [
    ['asylum-applicant', 'Applicant for international protection', 'A third-country national or stateless person who has made an application for international protection in respect of which a final decision has not yet been taken (Directive 2013/32/EU Art. 2(c); from 2026 Regulation (EU) 2024/1348).'],
    ['international-protection', 'Beneficiary of international protection', `A person who has been granted refugee status or subsidiary protection status (${PROTECTION_DIRECTIVE}, Art. 2(b)). Use a more specific code when known.`, [
      ['refugee', 'Refugee', `A person granted refugee status: a third-country national who, owing to a well-founded fear of being persecuted for reasons of race, religion, nationality, political opinion or membership of a particular social group, is outside the country of nationality (or, if stateless, of former habitual residence) and is unable or, owing to such fear, unwilling to avail themself of its protection (1951 Geneva Convention Art. 1A; ${PROTECTION_DIRECTIVE}, Art. 2(d) and 2(e)).`],
      ['subsidiary-protection', 'Beneficiary of subsidiary protection', `A person who does not qualify as a refugee but who would face a real risk of suffering serious harm (death penalty, torture or inhuman treatment, serious threat from indiscriminate violence in armed conflict) if returned, and has been granted subsidiary protection status (${PROTECTION_DIRECTIVE}, Art. 2(f) and 2(g), Art. 15).`],
    ]],
    ['temporary-protection', 'Beneficiary of temporary protection', 'A displaced person enjoying immediate and temporary protection in a mass influx (Council Directive 2001/55/EC Art. 2(a) and 2(c)), notably persons displaced from Ukraine since 24 February 2022 (Council Implementing Decision (EU) 2022/382).'],
    ['humanitarian-status', 'National humanitarian status', 'A person authorised to stay under national law for humanitarian, compassionate or other reasons outside the scope of international protection (cf. Directive 2008/115/EC Art. 6(4); Directive 2011/95/EU recital 15).'],
    ['rejected-return', 'Rejected applicant or in return procedure', 'A person whose application for international protection was rejected by a final decision, or who is the subject of a return decision (Directive 2008/115/EC Art. 3(4)), including persons whose removal is postponed (tolerated stay, Art. 9).'],
    ['irregular', 'Irregularly staying', 'A third-country national present on the territory of a Member State who does not fulfil, or no longer fulfils, the conditions of entry, stay or residence ("illegal stay", Directive 2008/115/EC Art. 3(2)); often undocumented.'],
    ['stateless', 'Stateless person', 'A person who is not considered as a national by any State under the operation of its law (1954 Convention relating to the Status of Stateless Persons, Art. 1(1)). Recorded in addition to, not instead of, a protection status.'],
    ['idp', 'Internally displaced person', 'A person forced or obliged to flee or leave their home or place of habitual residence, in particular to avoid armed conflict, generalised violence, human-rights violations or disasters, who has not crossed an internationally recognised State border (UN Guiding Principles on Internal Displacement, 1998, Introduction §2).'],
    ['resettled', 'Resettled refugee', 'A third-country national or stateless person admitted from a third country to which they had been displaced, under a resettlement or humanitarian admission scheme, and granted protection (Regulation (EU) 2024/1350 establishing a Union Resettlement and Humanitarian Admission Framework).'],
    ['returnee', 'Returnee', 'A person who has returned, voluntarily or not, to the country of origin, transit or habitual residence after a stay abroad (EMN Asylum and Migration Glossary: return; Directive 2008/115/EC Art. 3(3)).'],
    ['regular-migrant', 'Regularly residing third-country national', 'A third-country national legally residing on a residence permit for work, study, family reunification or another reason other than protection (Regulation (EC) No 1030/2002 uniform residence permit; Directive 2003/109/EC long-term residents).'],
    ['eu-mobile', 'EU citizen exercising free movement', 'A Union citizen, or a family member of one, residing in or moving to a Member State other than that of nationality (Directive 2004/38/EC Art. 2 and 3).'],
    ['unknown', 'Unknown', 'The migration status is not known or has not been established.'],
  ]);

export const vulnerability = codeSystem('vulnerability', 'Vulnerability', 'Vulnerability',
  'Special reception or care needs of vulnerable persons, following the list of Directive 2013/33/EU (recast Reception Conditions Directive) Art. 21 and UN guidance. Recorded separately from the migration status and with their own period.', [
    ['minor', 'Minor', 'A third-country national or stateless person below the age of 18 years (Directive 2013/33/EU Art. 2(d)).', [
      ['unaccompanied-minor', 'Unaccompanied minor', 'A minor who arrives on the territory of the Member States unaccompanied by an adult responsible for them by law or practice, for as long as not effectively taken into the care of such a person, including a minor left unaccompanied after entry (Directive 2013/33/EU Art. 2(e)).'],
      ['separated-child', 'Separated child', 'A child separated from both parents or from their previous legal or customary primary caregiver, but not necessarily from other relatives; may be accompanied by other adult family members (UN CRC General Comment No. 6 (2005) §8).'],
    ]],
    ['trafficking-survivor', 'Survivor of trafficking in human beings', 'A person who has been subjected to trafficking in human beings: recruitment, transportation, transfer, harbouring or reception by means of threat, force, coercion, abduction, fraud, deception or abuse of power or vulnerability, for the purpose of exploitation (Directive 2011/36/EU Art. 2).'],
    ['torture-survivor', 'Survivor of torture or serious violence', 'A person who has been subjected to torture, rape or other serious forms of psychological, physical or sexual violence (Directive 2013/33/EU Art. 21; UN Convention against Torture Art. 1).', [
      ['fgm', 'Female genital mutilation', 'A person subjected to female genital mutilation, named by Directive 2013/33/EU Art. 21 as a form of serious violence.'],
    ]],
    ['disability', 'Person with a disability', 'A person with long-term physical, mental, intellectual or sensory impairments which may hinder full and effective participation in society (UN CRPD Art. 1; Directive 2013/33/EU Art. 21).'],
    ['elderly', 'Elderly person', 'An elderly person with special reception needs (Directive 2013/33/EU Art. 21).'],
    ['pregnant', 'Pregnant woman', 'A pregnant woman (Directive 2013/33/EU Art. 21).'],
    ['single-parent', 'Single parent with minor children', 'A single parent with minor children (Directive 2013/33/EU Art. 21).'],
    ['serious-illness', 'Person with a serious illness', 'A person with a serious physical illness (Directive 2013/33/EU Art. 21).'],
    ['mental-disorder', 'Person with a mental disorder', 'A person with a mental disorder (Directive 2013/33/EU Art. 21).'],
  ]);

export const encounterSetting = codeSystem('encounter-setting', 'EncounterSetting', 'Encounter setting',
  'The kind of site along the migration route where care is delivered.', [
    ['reception-centre', 'Reception or registration centre', 'A facility where applicants for international protection or newly arrived persons are registered and housed (Directive 2013/33/EU Art. 18), including first-reception and identification centres.'],
    ['hotspot', 'Hotspot', 'An EU hotspot: a section of the external border where the EU agencies support a Member State in identifying, registering and fingerprinting arrivals (European Agenda on Migration, COM(2015) 240).'],
    ['detention-facility', 'Detention facility', 'A facility where applicants or returnees are held in detention (Directive 2013/33/EU Art. 2(h) and 10; Directive 2008/115/EC Art. 16).'],
    ['community-clinic', 'Community clinic', 'A primary-care or community health facility open to the general population or run by a non-governmental organisation.'],
    ['mobile-unit', 'Mobile unit', 'A mobile clinic or outreach team providing care at informal settlements, border points or on the street.'],
    ['hospital', 'Hospital', 'A hospital, for inpatient, emergency or outpatient care.'],
    ['telehealth', 'Telehealth', 'Care delivered remotely by telephone or video.'],
  ]);

export const encounterType = codeSystem('encounter-type', 'EncounterType', 'Migrant-health encounter type',
  'The purpose of a migrant-health encounter.', [
    ['initial-health-assessment', 'Initial health assessment', 'The first health assessment after arrival or registration, following the EU/IOM Personal Health Record sections.'],
    ['follow-up', 'Follow-up', 'A follow-up of an earlier encounter, referral or treatment.'],
    ['mhpss-session', 'Mental health and psychosocial support session', 'A mental health or psychosocial support session (IASC Guidelines on MHPSS in Emergency Settings, 2007).'],
    ['vaccination', 'Vaccination', 'A visit to give or catch up vaccinations (ECDC guidance on catch-up vaccination of migrants, 2018).'],
    ['screening', 'Screening', 'Screening for infectious diseases (TB, HIV, hepatitis B and C) or for mental health conditions.'],
    ['pre-departure-assessment', 'Pre-departure or fitness-to-travel assessment', 'A health assessment before resettlement, relocation or return travel.'],
  ]);

export const interpreterType = codeSystem('interpreter-type', 'InterpreterType', 'Interpreter type',
  'Who interprets between the person and the care provider.', [
    ['professional', 'Professional interpreter', 'A trained interpreter bound by a professional code of conduct and confidentiality.'],
    ['cultural-mediator', 'Cultural mediator', 'A trained intercultural or linguistic-cultural mediator who interprets and bridges cultural understanding of health and care.'],
    ['ad-hoc', 'Ad-hoc interpreter', 'An untrained person who interprets: a family member, friend, fellow resident or staff member without interpreter training.', [
      ['ad-hoc-minor', 'Ad-hoc interpreter who is a minor', 'A child or adolescent interpreting for an adult; recorded because it should be avoided and calls for a professional interpreter.'],
    ]],
  ]);

export const interpretationModality = codeSystem('interpretation-modality', 'InterpretationModality', 'Interpretation modality',
  'How interpretation is delivered.', [
    ['in-person', 'In person', 'The interpreter is present in the same room.'],
    ['telephone', 'Telephone', 'The interpreter takes part by telephone.'],
    ['video', 'Video', 'The interpreter takes part by video call.'],
  ]);

export const referralCategory = codeSystem('referral-category', 'ReferralCategory', 'Referral category',
  'The kind of community-based care a migrant is referred to.', [
    ['primary-care', 'Primary care', 'Referral to a general practitioner or primary-care service, including registration with one.'],
    ['mhpss', 'Mental health and psychosocial support', 'Referral to mental health and psychosocial support services, from psychosocial support to specialist psychiatric care (IASC MHPSS intervention pyramid).'],
    ['maternal-child-health', 'Maternal and child health', 'Referral to antenatal, postnatal, family-planning or child-health services.'],
    ['vaccination', 'Vaccination', 'Referral for vaccination or catch-up vaccination.'],
    ['tb-follow-up', 'Tuberculosis follow-up', 'Referral for diagnosis, treatment or contact tracing of tuberculosis, including latent infection.'],
    ['chronic-disease', 'Chronic disease care', 'Referral for the continuing care of a chronic non-communicable disease (diabetes, hypertension, cardiovascular, respiratory, renal disease, cancer).'],
    ['social-services', 'Social services', 'Referral to social, legal, housing or child-protection services.'],
    ['interpreter-mediation', 'Interpreter or cultural mediation', 'Referral to an interpreting or cultural-mediation service.'],
  ]);

export const residenceType = codeSystem('residence-type', 'ResidenceType', 'Residence type',
  'Where a person lives for the time being (cf. IHE PCC AlternativeResidence).', [
    ['reception-centre', 'Reception centre', 'Accommodation in a reception or registration centre for applicants for international protection (Directive 2013/33/EU Art. 18(1)(b)).'],
    ['camp', 'Camp', 'A formal camp run by authorities or humanitarian organisations.'],
    ['informal-settlement', 'Informal settlement', 'An informal or self-settled camp, squat or makeshift shelter.'],
    ['detention', 'Detention', 'Held in a detention facility (Directive 2013/33/EU Art. 2(h)).'],
    ['shelter', 'Shelter', 'A shelter or supported accommodation, such as for unaccompanied minors or survivors of trafficking.'],
    ['private-accommodation', 'Private accommodation', 'Private housing, rented or with family or hosts.'],
    ['homeless', 'Homeless', 'No fixed accommodation; sleeping rough.'],
  ]);

export const identifierType = codeSystem('identifier-type', 'IdentifierType', 'Identifier type',
  'Identifier types met along migration routes that v2-0203 does not cover.', [
    ['ehic', 'European Health Insurance Card', 'The personal identification number printed on a European Health Insurance Card (Regulation (EC) No 883/2004; Decision No S2 of the Administrative Commission).'],
  ]);

export const scoreInterpretation = codeSystem('score-interpretation', 'ScoreInterpretation', 'Score interpretation',
  'Interpretations of screening-instrument totals, used by the score-interpretation extension of questionnaires.', [
    ['minimal', 'None or minimal', 'The total is below the threshold of mild symptoms.'],
    ['mild', 'Mild', 'The total is in the band of mild symptoms.'],
    ['moderate', 'Moderate', 'The total is in the band of moderate symptoms.'],
    ['moderately-severe', 'Moderately severe', 'The total is in the band of moderately severe symptoms.'],
    ['severe', 'Severe', 'The total is in the band of severe symptoms.'],
    ['self-harm-risk', 'Risk of self-harm', 'An answer indicates thoughts of self-harm or of being better off dead: clinical follow-up is needed the same day, whatever the total.'],
  ]);

export const sensitivity = codeSystem('sensitivity', 'Sensitivity', 'Sensitivity labels',
  'Security labels the server applies to migration-related data (WHO Europe: protect health data of migrants from use for non-health purposes).', [
    ['migration', 'Migration status, journey or vulnerability', 'The resource holds migration status, migration journey or vulnerability information, whose disclosure can harm the person.'],
    ['no-non-health-use', 'No disclosure for non-health purposes', 'The information is collected for care and is not to be disclosed for non-health purposes such as immigration enforcement.'],
  ]);

export const purposeOfUse = codeSystem('purpose-of-use', 'PurposeOfUse', 'Purpose of use',
  'Purposes of use that the server refuses (the firewall between health care and immigration enforcement).', [
    ['immigration-enforcement', 'Immigration enforcement', 'Use of the data to locate, detain or remove a person, or otherwise enforce immigration law.'],
  ]);

export const codeSystems: CodeSystem[] = [migrationStatus, vulnerability, encounterSetting, encounterType, interpreterType, interpretationModality, referralCategory, residenceType, identifierType, scoreInterpretation, sensitivity, purposeOfUse];
export const codeSystemValueSets: ValueSet[] = codeSystems.map(allCodes);
