// Blocking keys for Patient/$match, indexed at write time with the patient's other search
// values (as tokens under the internal key MATCH_KEY): compound keys are selective even for the
// commonest names, so finding candidates is a few exact index lookups, never a scan or a join of
// two large sets. Keys: the unordered pair of a family and a given name skeleton (so swapped
// family/given fields meet), family skeleton with birth year, given skeleton with full birth date.
import type { Patient } from 'fhir/r4.js';
import { nameKeys } from './names.ts';

export const MATCH_KEY = 'Patient._match';
const MAX_KEYS = 40;

function parts(p: Patient): { family: string[]; given: string[]; year?: number; date?: string } {
  const family = [...new Set((p.name ?? []).flatMap((n) => (n.family ? nameKeys(n.family) : [])))];
  const given = [...new Set((p.name ?? []).flatMap((n) => (n.given ?? []).flatMap(nameKeys)))];
  const y = /^(\d{4})/.exec(p.birthDate ?? '');
  return { family, given, ...(y ? { year: Number(y[1]) } : {}), ...(p.birthDate?.length === 10 ? { date: p.birthDate } : {}) };
}

const pair = (a: string, b: string) => (a < b ? `n:${a}:${b}` : `n:${b}:${a}`);

/** The keys stored for a patient. */
export function storedKeys(p: Patient): string[] {
  const { family, given, year, date } = parts(p);
  const keys = new Set<string>();
  const names = [...family, ...given];
  // every pair of name words: family/given order and field mix-ups all meet
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) if (names[i] !== names[j]) keys.add(pair(names[i], names[j]));
  if (year) for (const f of names) keys.add(`fy:${f}:${year}`);
  if (date) for (const g of names) keys.add(`gd:${g}:${date}`);
  return [...keys].slice(0, MAX_KEYS);
}

/** The keys to look up for an input patient: its pairs, and its years ±1. */
export function queryKeys(p: Patient): string[] {
  const { family, given, year, date } = parts(p);
  const keys = new Set<string>();
  for (const f of family) for (const g of given) if (f !== g) keys.add(pair(f, g));
  if (year) for (const f of family) for (const y of [year - 1, year, year + 1]) keys.add(`fy:${f}:${y}`);
  if (date) for (const g of given) keys.add(`gd:${g}:${date}`);
  return [...keys];
}
