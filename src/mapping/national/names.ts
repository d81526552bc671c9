// Patient.name as a national Patient profile constrains it (table.ts: minNames, maxNames,
// maxGiven, nameParts, officialName). migfhir keeps every name a person is known by, often the
// name in the script of the country of origin beside its Latin transliteration; several national
// profiles allow one name (SEBasePatient name 0..1, pl-base-patient name 1..1) or require one
// official name (ISiKPatient name[Name] use official). The exported name is the official one:
// the name marked use=official, else the first written in Latin script (the script the Swedish,
// Polish and German population registers hold), else the first. The other names are not
// exported where the profile has no room for them: a documented loss (README, National
// adapters), never an export that fails the country's profile. A patient the profile cannot
// name (no name, or one without the parts it requires) is refused, naming the rule.
import type { HumanName, Patient } from 'fhir/r4.js';
import { FhirError } from '../../fhir/errors.ts';
import type { NationalTable } from './table.ts';

const LATIN = /^[\p{Script=Latin}\p{Script=Common}\p{M}]*$/u;

const parts = (n: HumanName) => [n.family ?? '', ...(n.given ?? []), n.text ?? ''].join(' ');
const named = (n: HumanName) => !!(n.family || n.given?.length);

/** The name a single-name profile gets: use=official, else the first in Latin script, else the first. */
export function officialName(names: HumanName[]): HumanName | undefined {
  return names.find((n) => n.use === 'official' && named(n)) ?? names.find((n) => named(n) && LATIN.test(parts(n))) ?? names.find(named) ?? names[0];
}

function refuse(table: NationalTable, rule: string): never {
  throw new FhirError(422, { code: 'business-rule', diagnostics: `Patient.name: ${rule}; the patient cannot be exported in the ${table.id} national profile (${table.profiles.Patient ?? table.title})`, expression: ['Patient.name'] });
}

/** Applies the table's name rules to an outbound national Patient (after the country's hook). */
export function nationalNames(table: NationalTable, out: Patient): void {
  let names = out.name ?? [];
  if (table.nameParts === 'family-or-given') names = names.filter(named);
  const official = officialName(names);
  if (table.maxNames === 1 && official) names = [official];
  if (table.officialName && official) {
    if (!official.family || !official.given?.length) refuse(table, 'the profile requires an official name with a family and a given name');
    names = names.map((n) => (n === official ? { ...n, use: 'official' as const } : n.use === 'official' ? withoutUse(n) : n));
  }
  if (table.nameParts === 'family-and-given' && official && !(official.use === 'anonymous' && !named(official)) && (!official.family || !official.given?.length)) {
    refuse(table, 'the profile requires a family and a given name');
  }
  if (table.maxGiven) names = names.map((n) => joinGiven(n, table.maxGiven!));
  if (names.length < (table.minNames ?? 0)) refuse(table, `the profile requires ${table.minNames} name(s) with a family or given name`);
  if (names.length) out.name = names;
  else delete out.name;
}

function withoutUse(n: HumanName): HumanName {
  const { use: _use, ...rest } = n;
  void _use;
  return rest;
}

/** Given names beyond the profile's maximum join the last allowed one (nothing is dropped). */
function joinGiven(n: HumanName, max: number): HumanName {
  if (!n.given || n.given.length <= max) return n;
  const { _given: _g, ...rest } = n;
  void _g;
  return { ...rest, given: [...n.given.slice(0, max - 1), n.given.slice(max - 1).join(' ')] };
}
