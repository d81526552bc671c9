// HL7 v2 tables ↔ FHIR codes, as tables. Where v2 has several codes for one FHIR code, the
// first entry of a FHIR code is what outbound messages write, so Patient → v2 → Patient keeps
// every value (after the HL7 v2-to-FHIR IG's ConceptMaps: sex, name type, address type,
// telecom use and equipment, patient class).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const V2 = (table: string) => `http://terminology.hl7.org/CodeSystem/v2-${table}`;
export const ISO3166 = 'urn:iso:std:iso:3166';
export const BCP47 = 'urn:ietf:bcp:47';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const MARITAL = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus';
export const ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';

export const EXT = {
  nationality: 'http://hl7.org/fhir/StructureDefinition/patient-nationality',
  citizenship: 'http://hl7.org/fhir/StructureDefinition/patient-citizenship',
  birthPlace: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
  birthTime: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime',
  mothersMaidenName: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName',
  representation: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation',
} as const;

/** Pairs [v2, fhir]; lookups in either direction take the first match. */
type Pairs = readonly (readonly [string, string])[];
export function toFhirCode(pairs: Pairs, v2: string): string | undefined {
  return pairs.find(([a]) => a === v2)?.[1];
}
export function toV2Code(pairs: Pairs, fhir: string): string | undefined {
  return pairs.find(([, b]) => b === fhir)?.[0];
}

/** Table 0001 administrative sex → AdministrativeGender. */
export const SEX: Pairs = [['F', 'female'], ['M', 'male'], ['O', 'other'], ['U', 'unknown'], ['A', 'other'], ['N', 'unknown']];

/** Table 0200 name type → HumanName.use (BAD and TEMP are v2.7 codes: v2.5 has none for them). */
export const NAME_TYPE: Pairs = [
  ['L', 'official'], ['D', 'usual'], ['M', 'maiden'], ['N', 'nickname'], ['S', 'anonymous'], ['TEMP', 'temp'], ['BAD', 'old'],
  ['C', 'official'], ['R', 'official'], ['A', 'usual'], ['B', 'official'], ['NAV', 'temp'], ['NB', 'temp'], ['T', 'usual'],
];

/** Table 4000 name representation → iso21090-EN-representation. */
export const REPRESENTATION: Pairs = [['A', 'ABC'], ['I', 'IDE'], ['P', 'SYL']];

/** Table 0190 address type → Address.use (or type, for mailing addresses). */
export const ADDRESS_USE: Pairs = [['H', 'home'], ['O', 'work'], ['C', 'temp'], ['BA', 'old'], ['B', 'work'], ['P', 'home'], ['L', 'home'], ['RH', 'home']];
/** Address types that are the place of birth (→ patient-birthPlace), not an address. */
export const BIRTH_PLACE_TYPES = new Set(['N', 'BDL', 'BR']);

/** Table 0201 telecom use → ContactPoint.use. */
export const TELECOM_USE: Pairs = [['PRN', 'home'], ['WPN', 'work'], ['ORN', 'temp'], ['VHN', 'temp'], ['EMR', 'home'], ['ASN', 'home'], ['NET', 'home']];
/** Table 0202 equipment → ContactPoint.system. */
export const TELECOM_EQUIPMENT: Pairs = [['PH', 'phone'], ['CP', 'phone'], ['FX', 'fax'], ['Internet', 'email'], ['BP', 'pager'], ['X.400', 'email'], ['TDD', 'phone'], ['TTY', 'phone']];

/** Table 0004 patient class → v3 ActCode encounter class. */
export const PATIENT_CLASS: Pairs = [['E', 'EMER'], ['I', 'IMP'], ['O', 'AMB'], ['P', 'PRENC'], ['R', 'AMB'], ['B', 'IMP']];

/** v3 MaritalStatus codes; table 0002 codes outside it keep the v2 system. */
export const MARITAL_V3 = new Set(['A', 'D', 'I', 'L', 'M', 'P', 'S', 'T', 'U', 'W']);

/** v2 coding-system names (table 0396) → FHIR system URIs. */
const CODING_SYSTEMS: Record<string, string> = {
  ISO3166: ISO3166, 'ISO3166-1': ISO3166, ISO3166_1: ISO3166, HL70171: ISO3166, HL70212: ISO3166,
  ISO639: BCP47, 'ISO639-1': BCP47, 'ISO639-2': BCP47, HL70296: BCP47, IETF: BCP47,
  SCT: 'http://snomed.info/sct', SNM: 'http://snomed.info/sct', LN: 'http://loinc.org',
  I10: 'http://hl7.org/fhir/sid/icd-10', I9C: 'http://hl7.org/fhir/sid/icd-9-cm',
};
export function codingSystemUri(name: string): string | undefined {
  const n = name.trim();
  if (!n) return undefined;
  if (CODING_SYSTEMS[n.toUpperCase()]) return CODING_SYSTEMS[n.toUpperCase()];
  const table = /^HL7(\d{4})$/i.exec(n);
  if (table) return V2(table[1]);
  return undefined;
}
export function codingSystemName(uri: string | undefined): string {
  if (!uri) return '';
  if (uri === ISO3166) return 'ISO3166';
  if (uri === BCP47) return 'ISO639';
  const v2 = /^http:\/\/terminology\.hl7\.org\/CodeSystem\/v2-(\d{4})$/.exec(uri);
  if (v2) return `HL7${v2[1]}`;
  const name = Object.entries(CODING_SYSTEMS).find(([, u]) => u === uri)?.[0];
  return name ?? '';
}

/** ISO 639-2 (as v2 feeds send languages) → the shortest BCP 47 tag (ISO 639-1 where one exists). */
export const ISO639_2_TO_1: Record<string, string> = {
  ara: 'ar', ell: 'el', gre: 'el', rus: 'ru', ukr: 'uk', fas: 'fa', per: 'fa', pus: 'ps', tir: 'ti', som: 'so', amh: 'am',
  kur: 'ku', urd: 'ur', ben: 'bn', fra: 'fr', fre: 'fr', eng: 'en', deu: 'de', ger: 'de', ita: 'it', spa: 'es', tur: 'tr',
  pol: 'pl', hrv: 'hr', swe: 'sv', nld: 'nl', dut: 'nl', por: 'pt', sqi: 'sq', alb: 'sq', srp: 'sr', bos: 'bs', ron: 'ro',
  rum: 'ro', bul: 'bg', hun: 'hu', ces: 'cs', cze: 'cs', slk: 'sk', slo: 'sk', slv: 'sl', mkd: 'mk', mac: 'mk', heb: 'he',
  hin: 'hi', pan: 'pa', tam: 'ta', zho: 'zh', chi: 'zh', vie: 'vi', hau: 'ha', yor: 'yo', ibo: 'ig', swa: 'sw', lin: 'ln',
  wol: 'wo', ful: 'ff', kin: 'rw', aze: 'az', kat: 'ka', geo: 'ka', hye: 'hy', arm: 'hy', uzb: 'uz', tgk: 'tg', tuk: 'tk',
};

// ---- user-defined tables ------------------------------------------------------------------

/**
 * HL7 v2.5 user-defined tables this adapter reads (sex, marital status, patient class, admission
 * type, admit source, relationship, hospital service, discharge disposition, contact role,
 * identifier type): HL7 only suggests their values, each site may add its own. A code outside
 * the suggested values is the sender's local code, never an error (see localCoding).
 */
export const USER_DEFINED_TABLES = new Set(['0001', '0002', '0004', '0007', '0023', '0063', '0069', '0112', '0131', '0203']);

/** Where a sender's local codes of a user-defined table live: one system per sender and table. */
export function localCodeSystem(sender: string, table: string): string {
  return `https://migfhir.org/fhir/CodeSystem/hl7v2-local/${encodeURIComponent(sender || '-')}/${table}`;
}

/** Whether a coding system is v2 table `table`, HL7's or a sender's local one. */
export function isTableSystem(system: string | undefined, table: string): boolean {
  return !!system && (system === V2(table) || (system.startsWith('https://migfhir.org/fhir/CodeSystem/hl7v2-local/') && system.endsWith(`/${table}`)));
}

const require = createRequire(import.meta.url);
const heldTables = new Map<string, Set<string> | null>();

/**
 * The codes of v2 table `table` as the R4 terminology package defines them (the same CodeSystem
 * the validator holds whole, so a code kept under v2-XXXX here never fails validation on write);
 * null when the package has no such table.
 */
export function v2TableCodes(table: string): Set<string> | null {
  let codes = heldTables.get(table);
  if (codes !== undefined) return codes;
  try {
    const file = join(dirname(require.resolve('hl7.fhir.r4.examples/package.json')), `CodeSystem-v2-${table}.json`);
    const cs = JSON.parse(readFileSync(file, 'utf8')) as { concept?: Concept[] };
    codes = new Set();
    const walk = (cs2: Concept[] | undefined) => cs2?.forEach((c) => { codes!.add(c.code); walk(c.concept); });
    walk(cs.concept);
  } catch {
    codes = null;
  }
  heldTables.set(table, codes);
  return codes;
}
interface Concept { code: string; concept?: Concept[] }
