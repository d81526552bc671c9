// One consultation row of an NGO clinic register → a transaction Bundle: the Patient (keyed on
// the row's identifiers, MigrantPatient), the Encounter (keyed on the register's consultation
// number, MigrantEncounter), a ServiceRequest when the row records a referral
// (ReferralServiceRequest), and a Provenance naming the register and the row. Pure and
// deterministic: fullUrls and the Provenance's source derive from the row's content, so
// re-importing an unchanged row writes nothing and an edited row updates the same resources.
// Every value that cannot be mapped is a row error naming its column; a row with errors is
// not imported at all (half a consultation is worse than none, and the NGO can fix the cell).
import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, Encounter, Extension, HumanName, Identifier, Patient, Provenance, ServiceRequest } from 'fhir/r4.js';
import { cs, sd } from '../../ig/canonical.ts';
import { WRITE_MODE } from '../conventions.ts';
import { IDENTIFIER_SYSTEMS } from '../identifiers.ts';
import { identifierQuery } from '../hl7v2/to-fhir.ts';
import { derivedUrl } from '../national/bundle.ts';
import { REFERRAL_CATEGORIES, type ColumnMapping, type Field } from './mapping.ts';
import type { CsvRow, CsvRowError } from './parse.ts';

export const CSV_ADAPTER_ID = 'ngo-csv';
export const CSV_ADAPTER_VERSION = '1.0.0';
export const CSV_SOURCE_PREFIX = 'urn:migfhir:csv:';
const ISO3166 = 'urn:iso:std:iso:3166';
const BCP47 = 'urn:ietf:bcp:47';
const DAR = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const GENDERS = new Set(['male', 'female', 'other', 'unknown']);
const PRIORITIES = new Set(['routine', 'urgent', 'asap', 'stat']);
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export interface MappedRow {
  row: number;
  line: number;
  bundle: Bundle;
  source: string;
}

/** A date cell in the mapping's format; a year ("1990") or year-month ("1990-05") is kept partial. */
export function parseDate(value: string, format: ColumnMapping['dateFormat'] = 'YYYY-MM-DD'): string | undefined {
  if (/^\d{4}(-\d{2})?$/.test(value)) return value;
  const parts = value.split(/[-/.]/);
  if (parts.length !== 3) return undefined;
  const order = format!.split(/[-/.]/);
  const get = (k: string) => parts[order.indexOf(k)];
  const [y, m, d] = [get('YYYY'), get('MM'), get('DD')];
  if (!/^\d{4}$/.test(y) || !/^\d{1,2}$/.test(m) || !/^\d{1,2}$/.test(d)) return undefined;
  const iso = `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
  const t = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(iso) ? iso : undefined;
}

class RowErrors {
  readonly list: CsvRowError[] = [];
  private readonly row: CsvRow;
  constructor(row: CsvRow) {
    this.row = row;
  }
  add(column: string | undefined, message: string): undefined {
    this.list.push({ row: this.row.row, line: this.row.line, ...(column ? { column } : {}), message });
    return undefined;
  }
}

function identifiers(m: ColumnMapping, row: CsvRow, date: string | undefined, errors: RowErrors): Identifier[] {
  const out: Identifier[] = [];
  for (const col of m.identifiers) {
    const value = row.values[col.column];
    if (!value) continue;
    if (col.system === 'passport') {
      const issuer = (row.values[col.issuerColumn!] ?? '').toUpperCase();
      if (!/^[A-Z]{3}$/.test(issuer)) {
        errors.add(col.issuerColumn, 'the passport\'s issuing country is an ISO 3166-1 alpha-3 code (SYR, AFG…)');
        continue;
      }
      out.push({ system: `https://migfhir.org/fhir/sid/passport/${issuer}`, value, type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] } });
      continue;
    }
    const known = IDENTIFIER_SYSTEMS.find((s) => s.id === col.system);
    const id: Identifier = { system: known?.system ?? col.system, value, ...(known ? { type: { coding: [{ ...known.type }] } } : {}) };
    // a temporary number was valid at least on the day it was seen; MigrantPatient wants a period
    if (known?.use === 'temp') Object.assign(id, { use: 'temp', ...(date ? { period: { start: date } } : {}) });
    out.push(id);
  }
  if (!out.length && !errors.list.length) errors.add(m.identifiers.map((i) => i.column).join(' / '), 'the row has no identifier: patients are matched on identifiers, so a row without one cannot be imported');
  return out;
}

function coded(m: ColumnMapping, field: 'sex' | 'countryOfOrigin' | 'languages' | 'referralCategory' | 'priority', value: string): string {
  const map = m.values?.[field];
  return map?.[value] ?? map?.[value.toLowerCase()] ?? value;
}

const urlFor = (seed: string, n: number) => derivedUrl(seed, n);

export function mapRow(m: ColumnMapping, row: CsvRow, received: string): MappedRow | CsvRowError[] {
  const errors = new RowErrors(row);
  const col = (f: Field) => m.columns[f];
  const cell = (f: Field) => (col(f) ? (row.values[col(f)!] ?? '') : '');
  const date = cell('date') ? parseDate(cell('date'), m.dateFormat) : undefined;
  if (!cell('date')) errors.add(col('date'), 'the consultation date is required');
  else if (!date || date.length !== 10) errors.add(col('date'), `not a full date in the format ${m.dateFormat ?? 'YYYY-MM-DD'}`);
  const ids = identifiers(m, row, date, errors);

  const patient: Patient = { resourceType: 'Patient', meta: { profile: [sd('migrant-patient')] }, identifier: ids };
  const names: HumanName[] = [];
  if (cell('family') || cell('given')) names.push({ use: 'official', ...(cell('family') ? { family: cell('family') } : {}), ...(cell('given') ? { given: cell('given').split(/\s+/) } : {}) });
  if (cell('nameOriginal')) names.push({ use: 'usual', text: cell('nameOriginal') });
  patient.name = names.length ? names : [{ extension: [{ url: DAR, valueCode: 'unknown' }] }];
  const dobCell = cell('birthDate');
  const estimated = /^(~|ca\.?\s*|approx\.?\s*)/i.test(dobCell);
  const dob = dobCell ? parseDate(dobCell.replace(/^(~|ca\.?\s*|approx\.?\s*)/i, ''), m.dateFormat) : undefined;
  if (dobCell && !dob) errors.add(col('birthDate'), `not a date in the format ${m.dateFormat ?? 'YYYY-MM-DD'} (a year alone, or ~year when estimated, is accepted)`);
  if (dob) {
    patient.birthDate = dob;
    if (estimated) patient._birthDate = { extension: [{ url: sd('birth-date-estimated'), valueBoolean: true }] };
  } else patient._birthDate = { extension: [{ url: DAR, valueCode: 'unknown' }] };
  if (cell('sex')) {
    const g = coded(m, 'sex', cell('sex'));
    if (GENDERS.has(g)) patient.gender = g as Patient['gender'];
    else errors.add(col('sex'), 'not a value of values.sex nor male, female, other, unknown');
  }
  const extension: Extension[] = [];
  if (cell('countryOfOrigin')) {
    const c = coded(m, 'countryOfOrigin', cell('countryOfOrigin'));
    if (/^[A-Z]{2}$/.test(c)) extension.push({ url: sd('migration-journey'), extension: [{ url: 'countryOfOrigin', valueCodeableConcept: { coding: [{ system: ISO3166, code: c }] } }] });
    else errors.add(col('countryOfOrigin'), 'not a value of values.countryOfOrigin nor an ISO 3166-1 alpha-2 code');
  }
  if (extension.length) patient.extension = extension;
  if (cell('languages')) {
    const langs = cell('languages').split(/[;,/|+]/).map((s) => s.trim()).filter(Boolean).map((l) => coded(m, 'languages', l));
    const bad = langs.filter((l) => !LANGUAGE.test(l));
    if (bad.length) errors.add(col('languages'), 'a language is not a value of values.languages nor a BCP-47 tag (ar, fa, prs, uk…)');
    else patient.communication = [...new Set(langs)].map((code, i) => ({ language: { coding: [{ system: BCP47, code }] }, ...(i === 0 ? { preferred: true } : {}) }));
  }

  const referral = cell('referral');
  const category = referral ? coded(m, 'referralCategory', cell('referralCategory') || m.defaults.referralCategory || '') : '';
  if (referral && !REFERRAL_CATEGORIES.has(category)) errors.add(col('referralCategory'), `not a value of values.referralCategory nor a referral category (${[...REFERRAL_CATEGORIES].join(', ')})`);
  if (referral && !cell('reason')) errors.add(col('reason'), 'a referral gives its reason');
  const priority = cell('priority') ? coded(m, 'priority', cell('priority')) : (m.defaults.priority ?? 'routine');
  if (referral && !PRIORITIES.has(priority)) errors.add(col('priority'), 'not a value of values.priority nor routine, urgent, asap, stat');
  if (errors.list.length) return errors.list;

  const consultation = cell('consultationId') || `derived-${createHash('sha1').update(JSON.stringify([ids.map((i) => `${i.system}|${i.value}`).sort(), date])).digest('hex').slice(0, 16)}`;
  const source = `${CSV_SOURCE_PREFIX}${createHash('sha256').update(JSON.stringify([m.register.system, consultation, row.values])).digest('hex')}`;
  const [patientUrl, encounterUrl, requestUrl, provenanceUrl] = [0, 1, 2, 3].map((n) => urlFor(source, n));
  const encounter: Encounter = {
    resourceType: 'Encounter',
    meta: { profile: [sd('migrant-encounter')] },
    extension: [
      { url: sd('encounter-setting'), valueCodeableConcept: { coding: [{ system: cs('encounter-setting'), code: m.defaults.setting }] } },
      { url: sd('encounter-country'), valueCodeableConcept: { coding: [{ system: ISO3166, code: m.defaults.country }] } },
    ],
    identifier: [{ system: m.register.system, value: consultation }],
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [{ coding: [{ system: cs('encounter-type'), code: m.defaults.encounterType }] }],
    subject: { reference: patientUrl },
    period: { start: date! },
    ...(cell('reason') ? { reasonCode: [{ text: cell('reason') }] } : {}),
    ...(m.register.organization ? { serviceProvider: { type: 'Organization', identifier: { system: m.register.organization.system, value: m.register.organization.value }, display: m.register.organization.display ?? m.register.name } } : {}),
  };
  const merge = (url: string, resource: Patient | Encounter | ServiceRequest, key: Identifier[]): BundleEntry =>
    ({ fullUrl: url, extension: [{ url: WRITE_MODE, valueCode: 'merge' }], resource, request: { method: 'PUT', url: identifierQuery(resource.resourceType, key) } }) as BundleEntry;
  const entries: BundleEntry[] = [merge(patientUrl, patient, ids), merge(encounterUrl, encounter, encounter.identifier!)];
  if (referral) {
    const org = m.register.organization!;
    const request: ServiceRequest = {
      resourceType: 'ServiceRequest',
      meta: { profile: [sd('referral-service-request')] },
      identifier: [{ system: m.register.system, value: `${consultation}/referral` }],
      status: 'active',
      intent: 'order',
      category: [{ coding: [{ system: cs('referral-category'), code: category }] }],
      priority: priority as ServiceRequest['priority'],
      subject: { reference: patientUrl },
      encounter: { reference: encounterUrl },
      authoredOn: date!,
      requester: { type: 'Organization', identifier: { system: org.system, value: org.value }, display: org.display ?? m.register.name },
      performer: [{ type: 'Organization', display: referral }],
      reasonCode: [{ text: cell('reason') }],
    };
    entries.push(merge(requestUrl, request, request.identifier!));
  }
  const provenance: Provenance = {
    resourceType: 'Provenance',
    meta: { source },
    target: entries.map((e) => ({ reference: e.fullUrl! })),
    recorded: received,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }] },
    agent: [
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }] }, who: m.register.organization ? { identifier: { system: m.register.organization.system, value: m.register.organization.value }, display: m.register.name } : { display: m.register.name } },
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler' }] }, who: { identifier: { system: 'https://migfhir.org/fhir/sid/adapter', value: CSV_ADAPTER_ID }, display: `migfhir adapter ${CSV_ADAPTER_ID} ${CSV_ADAPTER_VERSION}` } },
    ],
    entity: [{ role: 'source', what: { identifier: { system: m.register.system, value: consultation }, display: `${m.register.name}, register row ${row.row}` } }],
  };
  entries.push({ fullUrl: provenanceUrl, resource: provenance, request: { method: 'POST', url: 'Provenance', ifNoneExist: `_source=${encodeURIComponent(source)}` } });
  return { row: row.row, line: row.line, bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries }, source };
}
