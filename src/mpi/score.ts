// Patient record linkage for Patient/$match: compares an input Patient with a candidate on
// identifiers, names across scripts, birth date (with the errors common in migrant records:
// day and month swapped, only the year known, 1 January used as a default), sex, country of
// birth and nationality, summing log-likelihood weights (src/mpi/match-config.json, reasoning
// in docs/match.md) into a score and a match grade.
import type { Patient } from 'fhir/r4.js';
import config from './match-config.json' with { type: 'json' };
import { jaroWinkler, latinize, skeleton } from './names.ts';

export type MatchGrade = 'certain' | 'probable' | 'possible' | 'certainly-not';
type Weights = typeof config.weights;
const W: Weights = config.weights;
const UNIQUE = new Set(config.uniqueIdentifierSystems);
const BIRTH_PLACE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
const NATIONALITY = 'http://hl7.org/fhir/StructureDefinition/patient-nationality';

export interface MatchResult {
  score: number;
  weight: number;
  grade: MatchGrade;
  /** which comparisons contributed, for explanation */
  reasons: string[];
}

interface Words {
  family: string[];
  given: string[];
}

function words(p: Patient): Words {
  const family: string[] = [];
  const given: string[] = [];
  for (const n of p.name ?? []) {
    const add = (list: string[], v?: string) => {
      if (v) for (const w of latinize(v).split(' ')) if (w.length > 1) list.push(w);
    };
    add(family, n.family);
    // "Al-Hassan", "Al Hasan" and "Alhassan" are one name: the joined form is compared too
    if (n.family && latinize(n.family).includes(' ')) family.push(latinize(n.family).replace(/ /g, ''));
    for (const g of n.given ?? []) add(given, g);
    if (!n.family && !n.given?.length && n.text) {
      const parts = latinize(n.text).split(' ');
      add(family, parts.pop());
      for (const g of parts) add(given, g);
    }
  }
  return { family: [...new Set(family)], given: [...new Set(given)] };
}

/** The best agreement between two word lists: exact, skeleton, similar, or different. */
function compareWords(a: string[], b: string[]): 'exact' | 'skeleton' | 'similar' | 'different' | 'missing' {
  if (!a.length || !b.length) return 'missing';
  let best: 'exact' | 'skeleton' | 'similar' | 'different' = 'different';
  for (const x of a) {
    for (const y of b) {
      if (x === y) return 'exact';
      const sk = skeleton(x);
      // a one-consonant skeleton (Aisha / Ayesha: "s") counts only for words of some length
      if (sk === skeleton(y) && (sk.length >= 2 || (sk.length === 1 && x.length >= 3 && y.length >= 3))) best = 'skeleton';
      else if (best === 'different' && jaroWinkler(x, y) >= config.similarity.similarJaroWinkler) best = 'similar';
    }
  }
  return best;
}

function dateParts(d?: string): { y?: number; m?: number; day?: number } {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(d ?? '');
  return m ? { y: Number(m[1]), m: m[2] ? Number(m[2]) : undefined, day: m[3] ? Number(m[3]) : undefined } : {};
}

function compareBirthDate(a?: string, b?: string): keyof Weights | undefined {
  const x = dateParts(a);
  const y = dateParts(b);
  if (!x.y || !y.y) return undefined;
  const full = (d: typeof x) => d.m !== undefined && d.day !== undefined;
  const defaulted = (d: typeof x) => d.m === 1 && d.day === 1;
  if (full(x) && full(y)) {
    if (x.y === y.y && x.m === y.m && x.day === y.day) return 'birthDateExact';
    if (x.y === y.y && x.m === y.day && x.day === y.m) return 'birthDateSwapped';
    if (x.y === y.y && (defaulted(x) || defaulted(y))) return 'birthDateDefaulted';
    if (Math.abs(x.y - y.y) <= 1 && x.m === y.m && x.day === y.day) return 'birthDateNear';
    // a 1 January default a year away is as likely an estimate as a different person
    if (Math.abs(x.y - y.y) <= 1 && (defaulted(x) || defaulted(y))) return 'birthDateNear';
    return x.y === y.y ? 'birthDateNear' : 'birthDateDifferent';
  }
  if (x.y === y.y) return 'birthDateYearOnly';
  return Math.abs(x.y - y.y) <= 1 ? 'birthDateNear' : 'birthDateDifferent';
}

function extCode(p: Patient, url: string): string | undefined {
  const e = p.extension?.find((x) => x.url === url);
  if (!e) return undefined;
  return (
    e.valueAddress?.country ??
    e.valueCodeableConcept?.coding?.[0]?.code ??
    e.extension?.find((x) => x.url === 'code')?.valueCodeableConcept?.coding?.[0]?.code
  )?.toUpperCase();
}

export function gradeOf(weight: number): MatchGrade {
  const g = config.grades;
  return weight >= g.certain ? 'certain' : weight >= g.probable ? 'probable' : weight >= g.possible ? 'possible' : 'certainly-not';
}

export function compare(input: Patient, candidate: Patient): MatchResult {
  let weight = 0;
  const reasons: string[] = [];
  const add = (k: keyof Weights) => {
    weight += W[k];
    reasons.push(k);
  };
  let idMatch = false;
  let idConflict = false;
  for (const a of input.identifier ?? []) {
    for (const b of candidate.identifier ?? []) {
      if (!a.system || a.system !== b.system || !a.value || !b.value) continue;
      if (a.value === b.value) idMatch = true;
      else if (UNIQUE.has(a.system) && a.use !== 'temp' && b.use !== 'temp' && a.use !== 'old' && b.use !== 'old') idConflict = true;
    }
  }
  if (idMatch) add('identifierMatch');
  if (idConflict && !idMatch) add('identifierConflict');
  const wa = words(input);
  const wb = words(candidate);
  // names are often recorded in the other order: family and given compared both ways
  let family = compareWords(wa.family, wb.family);
  let given = compareWords(wa.given, wb.given);
  const rank = { exact: 4, skeleton: 3, similar: 2, different: 1, missing: 0 };
  const fx = compareWords(wa.family, wb.given);
  const gx = compareWords(wa.given, wb.family);
  if (rank[fx] + rank[gx] > rank[family] + rank[given]) {
    family = fx;
    given = gx;
  }
  const nameWeight = (part: 'family' | 'given', r: typeof family) => {
    if (r === 'missing') return;
    add(`${part}${r[0].toUpperCase()}${r.slice(1)}` as keyof Weights);
  };
  nameWeight('family', family);
  nameWeight('given', given);
  const bd = compareBirthDate(input.birthDate, candidate.birthDate);
  if (bd) add(bd);
  if (input.gender && candidate.gender && input.gender !== 'unknown' && candidate.gender !== 'unknown') {
    add(input.gender === candidate.gender ? 'genderAgree' : 'genderDisagree');
  }
  const bpA = extCode(input, BIRTH_PLACE);
  const bpB = extCode(candidate, BIRTH_PLACE);
  if (bpA && bpB) add(bpA === bpB ? 'birthCountryAgree' : 'birthCountryDisagree');
  const nA = extCode(input, NATIONALITY);
  const nB = extCode(candidate, NATIONALITY);
  if (nA && nB) add(nA === nB ? 'nationalityAgree' : 'nationalityDisagree');
  let grade = gradeOf(weight);
  // "certain" needs more than names: an identifier, or a full birth date that agrees
  if (grade === 'certain' && !idMatch && bd !== 'birthDateExact') grade = 'probable';
  if (idConflict && !idMatch && grade !== 'certainly-not') grade = grade === 'certain' ? 'probable' : grade;
  const score = Math.round((1 / (1 + Math.exp(-(weight - config.grades.probable) / 2))) * 1000) / 1000;
  return { score, weight, grade, reasons };
}
