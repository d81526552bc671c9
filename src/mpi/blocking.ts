// Blocking keys for Patient/$match, indexed at write time with the patient's other search
// values (as tokens under the internal key MATCH_KEY): compound keys are selective even for the
// commonest names, so finding candidates is a few exact index lookups, never a scan or a join of
// two large sets. Keys are built from every phonetic key of every candidate Latin form of each
// name word (src/mpi/names.ts), so a record stored only in Arabic or Greek script meets a Latin
// query and the reverse. Keys: the unordered pair of a family and a given name key (so swapped
// family/given fields meet), family key with birth year, any name key with the full birth date
// (so a typo or a swap in one name is still found through the other name and the date).
// One-consonant keys (Ali, Leila, Aisha) take part: compounded with another key or a date
// they are selective enough.
import type { Patient } from 'fhir/r4.js';
import { nameWord, splitName } from './names.ts';
import { matchConfig } from './match-settings.ts';

export const MATCH_KEY = 'Patient._match';
const { maxKeysPerWord, maxStoredKeys } = matchConfig.blocking;

/** Blocking keys of one name field: each word's keys, the commonest readings first. */
function keysOf(values: (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (!v) continue;
    const words = splitName(v).map(nameWord);
    for (const w of words) for (const k of w.keys.filter(Boolean).slice(0, maxKeysPerWord)) out.add(k);
    // "Gebre Mariam" is also "Gebremariam"
    if (words.length > 1) for (const k of nameWord(words.map((w) => w.plain).join('')).keys.slice(0, 1)) out.add(k);
  }
  return [...out];
}

function parts(p: Patient): { family: string[]; given: string[]; year?: number; date?: string } {
  // a name only as text: its last word as the family name (the pairs are unordered, so the other order meets too)
  const names = (p.name ?? []).map((n) => (n.family || n.given?.length || !n.text ? n : { family: n.text.trim().split(/\s+/).pop(), given: n.text.trim().split(/\s+/).slice(0, -1) }));
  const family = keysOf(names.map((n) => n.family));
  const given = keysOf(names.flatMap((n) => n.given ?? []));
  const y = /^(\d{4})/.exec(p.birthDate ?? '');
  return { family, given, ...(y ? { year: Number(y[1]) } : {}), ...(p.birthDate?.length === 10 ? { date: p.birthDate } : {}) };
}

const pair = (a: string, b: string) => (a < b ? `n:${a}:${b}` : `n:${b}:${a}`);

/** The keys stored for a patient: the selective ones first, in case the cap is reached. */
export function storedKeys(p: Patient): string[] {
  const { family, given, year, date } = parts(p);
  const keys = new Set<string>();
  if (date) for (const k of new Set([...family, ...given])) keys.add(`d:${k}:${date}`);
  if (year) for (const f of family) keys.add(`y:${f}:${year}`);
  for (const f of family) for (const g of given) if (f !== g) keys.add(pair(f, g));
  return [...keys].slice(0, maxStoredKeys);
}

/** The keys to look up for an input patient: its pairs, its years ±1, its date and the date with day and month swapped. */
export function queryKeys(p: Patient): string[] {
  const { family, given, year, date } = parts(p);
  const keys = new Set<string>();
  for (const f of family) for (const g of given) if (f !== g) keys.add(pair(f, g));
  if (year) for (const f of family) for (const y of [year - 1, year, year + 1]) keys.add(`y:${f}:${y}`);
  if (date) {
    const [y, m, d] = date.split('-');
    const dates = Number(d) <= 12 && d !== m ? [date, `${y}-${d}-${m}`] : [date];
    for (const k of new Set([...family, ...given])) for (const x of dates) keys.add(`d:${k}:${x}`);
  }
  return [...keys];
}
