// ConceptMaps from our migration-status codes to the HL7 v3 RoleCode citizen-role codes and to
// SNOMED CT person concepts (referenced by code only: SNOMED content is licensed and is not
// shipped), and from national status vocabularies to ours. Every mapping states its equivalence,
// read as "the target is <equivalence> the source" (R4 ConceptMap semantics).
import type { ConceptMap, ConceptMapGroupElement } from 'fhir/r4.js';
import { meta } from '../src/ig/canonical.ts';
import { migrationStatus } from './code-systems.ts';

type Eq = 'equivalent' | 'equal' | 'wider' | 'narrower' | 'inexact' | 'unmatched';
/** [source code, target code or undefined, equivalence, comment?] */
type Row = [string, string | undefined, Eq, string?];

function elements(rows: Row[], displays: Record<string, string>): ConceptMapGroupElement[] {
  const by = new Map<string, ConceptMapGroupElement>();
  for (const [code, target, equivalence, comment] of rows) {
    const e = by.get(code) ?? { code, target: [] };
    e.target!.push({ ...(target ? { code: target, ...(displays[target] ? { display: displays[target] } : {}) } : {}), equivalence, ...(comment ? { comment } : {}) });
    by.set(code, e);
  }
  return [...by.values()];
}

function conceptMap(id: string, name: string, title: string, description: string, source: string, target: string, rows: Row[], displays: Record<string, string> = {}): ConceptMap {
  return {
    ...meta('ConceptMap', id, name, description, title),
    sourceUri: source,
    targetUri: target,
    group: [{ source: source.includes('/ValueSet/') ? migrationStatus.url : source, target: target.includes('/ValueSet/') ? undefined : target, element: elements(rows, displays) }],
  } as ConceptMap;
}

const ROLE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const SCT = 'http://snomed.info/sct';

const toRoleCode = conceptMap('migration-status-to-v3-rolecode', 'MigrationStatusToV3RoleCode', 'Migration status to HL7 v3 RoleCode (citizen roles)',
  'Maps migration statuses to the _CitizenRoleType codes of HL7 v3 RoleCode, the only HL7 vocabulary with legal-status codes. It has no codes for the kinds of protection, so most maps are wider.',
  migrationStatus.url!, ROLE, [
    ['asylum-applicant', 'CAS', 'equivalent', 'For an unaccompanied minor applicant CASM is narrower and more precise.'],
    ['asylum-applicant', 'CASM', 'narrower', 'Only when the applicant is also an unaccompanied minor (vulnerability flag).'],
    ['international-protection', 'CRP', 'wider'],
    ['refugee', 'CRP', 'wider'],
    ['subsidiary-protection', 'CRP', 'wider'],
    ['temporary-protection', 'CRP', 'wider'],
    ['humanitarian-status', 'CRP', 'wider'],
    ['resettled', 'CRP', 'wider'],
    ['regular-migrant', 'CRP', 'wider'],
    ['eu-mobile', 'CRP', 'wider', 'EU citizens residing under Directive 2004/38/EC have a right of residence rather than a permit.'],
    ['irregular', 'CNRP', 'equivalent'],
    ['rejected-return', 'CNRP', 'wider', 'Persons whose removal is postponed may hold a toleration document but no residence permit.'],
    ['stateless', undefined, 'unmatched', 'Statelessness is not a residence status.'],
    ['idp', undefined, 'unmatched', 'Internally displaced persons are usually nationals of the country they are in.'],
    ['returnee', undefined, 'unmatched'],
    ['unknown', undefined, 'unmatched'],
  ], { CAS: 'asylum seeker', CASM: 'single minor asylum seeker', CRP: 'non-country member with residence permit', CNRP: 'non-country member without residence permit' });

const toSnomed = conceptMap('migration-status-to-snomed', 'MigrationStatusToSNOMEDCT', 'Migration status to SNOMED CT person concepts',
  'Maps migration statuses to SNOMED CT person concepts by code only (SNOMED CT content is licensed and not shipped). Codes as used by the NHS England Digital Maternity "Asylum Status" observation; statuses without a SNOMED CT person concept are unmatched.',
  migrationStatus.url!, SCT, [
    ['asylum-applicant', '390790000', 'equivalent'],
    ['refugee', '446654005', 'equivalent'],
    ['international-protection', '446654005', 'narrower', 'Only refugees have a SNOMED CT person concept.'],
    ['resettled', '446654005', 'wider'],
    ['subsidiary-protection', undefined, 'unmatched'],
    ['temporary-protection', undefined, 'unmatched'],
    ['humanitarian-status', undefined, 'unmatched'],
    ['unknown', undefined, 'unmatched'],
  ], { '390790000': 'Asylum seeker (person)', '446654005': 'Refugee (person)' });

const fromRoleCode = conceptMap('v3-rolecode-to-migration-status', 'V3RoleCodeToMigrationStatus', 'HL7 v3 RoleCode (citizen roles) to migration status',
  'Maps incoming HL7 v3 _CitizenRoleType codes (for example from CDA documents) to migration statuses.',
  ROLE, migrationStatus.url!, [
    ['CAS', 'asylum-applicant', 'equivalent'],
    ['CASM', 'asylum-applicant', 'wider', 'Also record the unaccompanied-minor vulnerability flag.'],
    ['CNRP', 'irregular', 'equivalent'],
    ['CNRPM', 'irregular', 'wider', 'Also record the unaccompanied-minor vulnerability flag.'],
    ['CRP', 'regular-migrant', 'inexact', 'A residence permit may also be held by beneficiaries of protection; check the permit.'],
    ['CN', undefined, 'unmatched', 'A national has no migration status in that country.'],
  ]);

const fromKbv = conceptMap('kbv-personengruppe-to-migration-status', 'KBVPersonengruppeToMigrationStatus', 'German KBV special person group to migration status',
  'Maps the German eGK/Coverage special person group (KBV_CS_SFHIR_KBV_PERSONENGRUPPE) to migration statuses: code 09 marks recipients of health benefits under §§ 4 and 6 AsylbLG (Asylum Seekers Benefits Act), who are applicants, tolerated persons or persons obliged to leave.',
  'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_PERSONENGRUPPE', migrationStatus.url!, [
    ['09', 'asylum-applicant', 'narrower'],
    ['09', 'rejected-return', 'narrower'],
  ]);

export const conceptMaps: ConceptMap[] = [toRoleCode, toSnomed, fromRoleCode, fromKbv];
