// The column-mapping file of an NGO clinic register (JSON, documented in README.md "CSV
// registers"): which column holds what, how its values are coded, and the constants a register
// does not repeat on each row (its own id namespace, the organisation, country and setting).
// Checked when it is read, so a mistake in the mapping is one 400 naming the mapping field,
// not the same error on every row.
import { encounterSetting, encounterType, referralCategory } from '../../../terminology/code-systems.ts';
import { badRequest } from '../../fhir/errors.ts';
import { IDENTIFIER_SYSTEMS } from '../identifiers.ts';

export const FIELDS = ['consultationId', 'date', 'family', 'given', 'nameOriginal', 'birthDate', 'sex', 'countryOfOrigin', 'languages', 'reason', 'referral', 'referralCategory', 'priority'] as const;
export type Field = (typeof FIELDS)[number];
export const DATE_FORMATS = ['YYYY-MM-DD', 'DD/MM/YYYY', 'DD.MM.YYYY', 'MM/DD/YYYY', 'DD-MM-YYYY'] as const;

export interface IdentifierColumn {
  column: string;
  /** an entry of src/mapping/identifier-systems.json (e.g. "unhcr-progres", "gr-paaypa"), "passport", or a system URI */
  system: string;
  /** for "passport": the column holding the issuing country (ISO 3166-1 alpha-3) */
  issuerColumn?: string;
}

export interface ColumnMapping {
  register: {
    /** namespace of the register's consultation numbers (Encounter and ServiceRequest identifiers) */
    system: string;
    name: string;
    /** the NGO as requester of referrals: a logical reference by identifier */
    organization?: { system: string; value: string; display?: string };
  };
  delimiter?: ',' | ';' | '\t' | 'auto';
  dateFormat?: (typeof DATE_FORMATS)[number];
  defaults: {
    /** ISO 3166-1 alpha-2 country where the consultations take place */
    country: string;
    /** encounter-setting code (mobile-unit, reception-centre, community-clinic…) */
    setting: string;
    /** encounter-type code */
    encounterType: string;
    /** referral-category code used when the row gives none */
    referralCategory?: string;
    /** ServiceRequest.priority when the row gives none */
    priority?: 'routine' | 'urgent' | 'asap' | 'stat';
  };
  columns: Partial<Record<Field, string>>;
  identifiers: IdentifierColumn[];
  /** per field: the register's value → the code (sex → FHIR gender, country → ISO 3166-1 alpha-2, languages → BCP-47, referralCategory → referral-category code) */
  values?: Partial<Record<'sex' | 'countryOfOrigin' | 'languages' | 'referralCategory' | 'priority', Record<string, string>>>;
}

const codesOf = (cs: { concept?: { code: string; concept?: unknown[] }[] }): Set<string> => {
  const out = new Set<string>();
  const walk = (list: { code: string; concept?: unknown[] }[] | undefined) => list?.forEach((c) => (out.add(c.code), walk(c.concept as never)));
  walk(cs.concept);
  return out;
};
export const REFERRAL_CATEGORIES = codesOf(referralCategory as never);
export const ENCOUNTER_TYPES = codesOf(encounterType as never);
export const ENCOUNTER_SETTINGS = codesOf(encounterSetting as never);
const URI = /^(https?:\/\/\S+|urn:(oid|uuid):\S+)$/;

function fail(path: string, message: string): never {
  throw badRequest(`mapping ${path}: ${message}`, 'invalid', [`mapping.${path}`]);
}

/** Reads and checks a mapping file's JSON. */
export function readMapping(json: unknown): ColumnMapping {
  let m = json as ColumnMapping;
  if (typeof json === 'string') {
    try {
      m = JSON.parse(json) as ColumnMapping;
    } catch {
      fail('', 'is not JSON');
    }
  }
  if (!m || typeof m !== 'object') fail('', 'is not a JSON object');
  if (!m.register || !URI.test(m.register.system ?? '')) fail('register.system', 'the register\'s id namespace must be a URI (https://… or urn:oid:…)');
  if (!m.register.name) fail('register.name', 'is required');
  if (m.delimiter && ![',', ';', '\t', 'auto'].includes(m.delimiter)) fail('delimiter', 'is one of "," ";" "\\t" "auto"');
  if (m.dateFormat && !DATE_FORMATS.includes(m.dateFormat)) fail('dateFormat', `is one of ${DATE_FORMATS.join(', ')}`);
  const d = m.defaults;
  if (!d) fail('defaults', 'is required (country, setting, encounterType)');
  if (!/^[A-Z]{2}$/.test(d.country ?? '')) fail('defaults.country', 'is an ISO 3166-1 alpha-2 code');
  if (!ENCOUNTER_SETTINGS.has(d.setting)) fail('defaults.setting', `is one of ${[...ENCOUNTER_SETTINGS].join(', ')}`);
  if (!ENCOUNTER_TYPES.has(d.encounterType)) fail('defaults.encounterType', `is one of ${[...ENCOUNTER_TYPES].join(', ')}`);
  if (d.referralCategory && !REFERRAL_CATEGORIES.has(d.referralCategory)) fail('defaults.referralCategory', `is one of ${[...REFERRAL_CATEGORIES].join(', ')}`);
  if (!m.columns || typeof m.columns !== 'object') fail('columns', 'is required');
  for (const k of Object.keys(m.columns)) if (!FIELDS.includes(k as Field)) fail(`columns.${k}`, `is not a field (fields: ${FIELDS.join(', ')})`);
  if (!m.columns.date) fail('columns.date', 'the consultation date column is required');
  if (!Array.isArray(m.identifiers) || !m.identifiers.length) fail('identifiers', 'at least one identifier column is required: patients are matched on identifiers');
  m.identifiers.forEach((i, n) => {
    if (!i.column) fail(`identifiers[${n}].column`, 'is required');
    if (i.system !== 'passport' && !IDENTIFIER_SYSTEMS.some((s) => s.id === i.system) && !URI.test(i.system ?? '')) fail(`identifiers[${n}].system`, 'is an entry of identifier-systems.json, "passport" or a URI');
    if (i.system === 'passport' && !i.issuerColumn) fail(`identifiers[${n}].issuerColumn`, 'a passport number is unique only with its issuing country');
  });
  if (m.columns.referral && !m.register.organization) fail('register.organization', 'referrals name the NGO as requester: give its identifier');
  if (m.columns.referral && !m.columns.referralCategory && !d.referralCategory) fail('defaults.referralCategory', 'is required when no referralCategory column is mapped');
  return m;
}
