// National Patient ↔ MigrantPatient, driven by a country's table (table.ts). National FHIR
// profiles constrain the same R4 Patient, so elements pass through unchanged; what differs is
// mapped here: identifier systems and types (with check digits), extension URLs, the declared
// profile, and migfhir's conventions for absent names and birth dates (data-absent-reason, as
// MigrantPatient requires a name and a birth date). Sensitive migfhir extensions (migration
// status, journey, vulnerability) never leave through a national profile unless the country
// maps them itself: national systems have no element for them and the WHO asks that they not
// reach non-health authorities. Nor do identifiers that reveal a migration status
// (identifier-systems.json `revealsStatus`: an LMA card, a PAAYPA, an STP, a UNHCR registration) unless the
// country's own profile has a place for them.
import type { Coding, Extension, Identifier, Patient } from 'fhir/r4.js';
import { FhirError } from '../../fhir/errors.ts';
import { sd } from '../../ig/canonical.ts';
import { IDENTIFIER_SYSTEMS, type IdentifierSystem } from '../identifiers.ts';
import { CHECKS } from './checks.ts';
import { statusRevealingEntry } from '../../auth/sensitive-identifiers.ts';
import { KNOWN_EXTENSION_PREFIXES, type IdentifierRule, type NationalTable } from './table.ts';

export interface MappingWarning {
  location: string;
  message: string;
}

export const MIGRANT_PATIENT = sd('migrant-patient');
export const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
export const SENSITIVE = [sd('migration-status'), sd('migration-journey'), sd('vulnerability')];
const unknownReason: Extension = { url: DATA_ABSENT, valueCode: 'unknown' };

interface Resolved {
  rule: IdentifierRule;
  entry: IdentifierSystem;
}

function entryOf(rule: IdentifierRule): IdentifierSystem {
  const entry = IDENTIFIER_SYSTEMS.find((s) => s.id === rule.id);
  if (!entry) throw new Error(`identifier-systems.json has no entry ${rule.id}`);
  return entry;
}

/** migfhir's system for an entry of identifier-systems.json, by its id (e.g. 'gr-amka'). */
export const systemOf = (id: string): string => entryOf({ id }).system;

/** Whether identifier-systems.json marks the entry's identifiers as temporary (use=temp). */
export const isTemporary = (id: string): boolean => entryOf({ id }).use === 'temp';

const sameCoding = (a: Coding | undefined, b: Coding | undefined) => !!a && !!b && a.system === b.system && a.code === b.code;

export class IdentifierTable {
  private readonly byNational = new Map<string, Resolved>();
  private readonly byMigfhir = new Map<string, Resolved>();

  constructor(rules: IdentifierRule[]) {
    for (const rule of rules) {
      const r = { rule, entry: entryOf(rule) };
      this.byNational.set(rule.nationalSystem ?? r.entry.system, r);
      for (const older of rule.accept ?? []) this.byNational.set(older, r);
      this.byMigfhir.set(r.entry.system, r);
    }
  }

  /** The migfhir system of a national identifier system (unchanged when the table has none). */
  migfhirSystem(nationalSystem: string): string {
    return this.byNational.get(nationalSystem)?.entry.system ?? nationalSystem;
  }

  nationalSystem(migfhirSystem: string): string {
    const r = this.byMigfhir.get(migfhirSystem);
    return r ? (r.rule.nationalSystem ?? r.entry.system) : migfhirSystem;
  }

  toFhir(id: Identifier, path: string): Identifier {
    const r = id.system ? this.byNational.get(id.system) : undefined;
    if (!r) return id;
    const { rule, entry } = r;
    if (rule.normalize === 'digits' && id.value) id = { ...id, value: id.value.replace(/[\s+-]/g, '') };
    if (rule.check && id.value !== undefined) {
      const problem = CHECKS[rule.check](id.value);
      if (problem) throw new FhirError(422, { code: 'value', diagnostics: `${path}.value: ${problem} (${entry.label})`, expression: [`${path}.value`] });
    }
    const out: Identifier = { ...id, system: entry.system };
    const national = rule.nationalType ?? entry.type;
    const given = id.type?.coding ?? [];
    const coding: Coding[] = !id.type || (given.length === 1 && sameCoding(given[0], national)) ? [{ ...entry.type }] : given.map((c) => ({ ...c }));
    if (rule.migfhirType && !coding.some((c) => sameCoding(c, rule.migfhirType))) coding.push({ ...rule.migfhirType });
    out.type = { ...(id.type ?? {}), coding };
    if (entry.use === 'temp' && !id.use) out.use = 'temp';
    return out;
  }

  fromFhir(id: Identifier): Identifier {
    const r = id.system ? this.byMigfhir.get(id.system) : undefined;
    if (!r) return id;
    const { rule, entry } = r;
    const out: Identifier = { ...id, system: rule.nationalSystem ?? entry.system };
    const coding = (id.type?.coding ?? []).filter((c) => !sameCoding(c, rule.migfhirType));
    if (!coding.length || (coding.length === 1 && sameCoding(coding[0], entry.type))) {
      const { coding: _c, ...rest } = id.type ?? {};
      void _c;
      out.type = { ...rest, coding: [{ ...(rule.nationalType ?? entry.type) }] };
    } else out.type = { ...id.type, coding };
    if (rule.nationalUse && !out.use) out.use = rule.nationalUse;
    return out;
  }
}

function renameExtensions(list: Extension[] | undefined, from: 'national' | 'migfhir', table: NationalTable): Extension[] {
  const to = from === 'national' ? 'migfhir' : 'national';
  return (list ?? []).map((e) => {
    const rule = table.extensions?.find((r) => r[from] === e.url);
    return rule ? { ...e, url: rule[to] } : e;
  });
}

const onlyUnknown = (exts: Extension[] | undefined) => exts?.length === 1 && exts[0].url === DATA_ABSENT;

/** A national Patient as MigrantPatient. `path` names the Patient in the caller's input. */
export function patientToFhir(table: NationalTable, ids: IdentifierTable, national: Patient, path: string, warnings: MappingWarning[]): Patient {
  const { id: _id, meta, text: _text, ...rest } = national;
  void _id;
  void _text;
  const p: Patient = { ...structuredClone(rest), resourceType: 'Patient' };
  p.meta = { ...(meta?.security ? { security: meta.security } : {}), ...(meta?.tag ? { tag: meta.tag } : {}), profile: [MIGRANT_PATIENT] };
  if (!national.identifier?.some((i) => i.system && i.value)) {
    throw new FhirError(422, { code: 'required', diagnostics: `${path}.identifier: a patient needs an identifier with a system and a value, the key records are matched on`, expression: [`${path}.identifier`] });
  }
  p.identifier = national.identifier.map((i, n) => ids.toFhir(i, `${path}.identifier[${n}]`));
  const extension = renameExtensions(national.extension, 'national', table);
  extension.forEach((e, n) => {
    const known = KNOWN_EXTENSION_PREFIXES.some((x) => e.url.startsWith(x)) || table.extensions?.some((r) => r.migfhir === e.url) || table.keep?.includes(e.url);
    if (!known) warnings.push({ location: `${path}.extension[${n}]`, message: `extension ${e.url} is not mapped by the ${table.id} adapter; kept as it is` });
  });
  if (extension.length) p.extension = extension;
  else delete p.extension;
  if (!p.name?.length) p.name = [{ extension: [{ ...unknownReason }] }];
  if (!p.birthDate && !p._birthDate) p._birthDate = { extension: [{ ...unknownReason }] };
  return p;
}

/** A MigrantPatient as the national profile's Patient. */
export function patientFromFhir(table: NationalTable, ids: IdentifierTable, stored: Patient): Patient {
  const { meta, text: _text, ...rest } = structuredClone(stored);
  void _text;
  const p: Patient = { ...rest, resourceType: 'Patient' };
  const profile = table.profiles.Patient;
  const kept = { ...(meta?.security ? { security: meta.security } : {}), ...(meta?.tag ? { tag: meta.tag } : {}), ...(profile ? { profile: [profile] } : {}) };
  if (Object.keys(kept).length) p.meta = kept;
  else delete p.meta;
  if (p.identifier) {
    const own = new Set(table.identifiers.map((r) => r.id));
    // a status-revealing identifier leaves only through its own country's profile
    p.identifier = p.identifier.filter((i) => {
      const entry = statusRevealingEntry(i.system);
      return !entry || own.has(entry.id);
    }).map((i) => ids.fromFhir(i));
    if (!p.identifier.length) delete p.identifier;
  }
  const extension = renameExtensions(p.extension, 'migfhir', table).filter((e) => !SENSITIVE.includes(e.url));
  if (extension.length) p.extension = extension;
  else delete p.extension;
  const names = (p.name ?? []).filter((n) => !(onlyUnknown(n.extension) && !n.family && !n.given && !n.text));
  if (names.length) p.name = names;
  else delete p.name;
  if (!p.birthDate && onlyUnknown(p._birthDate?.extension)) delete p._birthDate;
  return p;
}
