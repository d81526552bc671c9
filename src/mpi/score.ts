// Patient record linkage for Patient/$match, Fellegi–Sunter style: each field is compared into an
// agreement level, each level carries a log-likelihood weight (src/mpi/match-config.json: the
// log2 of P(level | same person) / P(level | different people), estimated on the generated
// population and reasoned in docs/match.md), and the weights add up to a score and a grade.
// Disagreement is evidence too: another given name with the same family name and birth date is
// what twins and siblings look like, and the same name with another full birth date is what
// namesakes look like — unless the date is a known default (1 January, year only) or a
// day/month swap, or multipleBirth says the records are not twins.
import type { HumanName, Patient } from 'fhir/r4.js';
import { compareWord, nameWord, splitName, type NameWord, type WordAgreement } from './names.ts';
import { matchConfig } from './match-settings.ts';

export type MatchGrade = 'certain' | 'probable' | 'possible' | 'certainly-not';
export type Weights = typeof matchConfig.weights;
type Level = keyof Weights;
const BIRTH_PLACE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
const NATIONALITY = 'http://hl7.org/fhir/StructureDefinition/patient-nationality';

/** The fields compared, in the order the evidence lists them. */
export const FIELDS = ['identifier', 'family', 'given', 'secondGiven', 'birthDate', 'gender', 'birthCountry', 'nationality', 'multipleBirth'] as const;
export type Field = (typeof FIELDS)[number];
export type Agreement = 'agree' | 'partial' | 'disagree' | 'missing';

export interface FieldEvidence {
  field: Field;
  agreement: Agreement;
  /** the comparison's level, e.g. phonetic, swapped, defaulted */
  level: string;
  weight: number;
  /** the weight's name in match-config.json, when the level carries one */
  key?: Level;
}

export interface MatchResult {
  score: number;
  weight: number;
  grade: MatchGrade;
  /** one entry per field, for the registrar: which fields agreed, disagreed or were missing */
  evidence: FieldEvidence[];
}

interface Names {
  family: NameWord[][];
  given: NameWord[];
  second: NameWord[];
}

/** Family words per name, first given names, second given names — of every HumanName the patient has. */
function names(p: Patient): Names {
  const out: Names = { family: [], given: [], second: [] };
  const words = (s?: string) => (s ? splitName(s).map(nameWord) : []);
  for (const n of p.name ?? ([] as HumanName[])) {
    let family = words(n.family);
    let given = (n.given ?? []).flatMap((g) => words(g));
    if (!family.length && !given.length && n.text) {
      const all = words(n.text);
      family = all.slice(-1);
      given = all.slice(0, -1);
    }
    if (family.length) {
      // "Gebre Mariam" and "Gebremariam", "Haj Ahmad" and "Hajahmad" are one name
      if (family.length > 1) family.push(nameWord(family.map((w) => w.plain).join('')));
      out.family.push(family);
    }
    if (given[0]) out.given.push(given[0]);
    out.second.push(...given.slice(1));
  }
  return out;
}

const RANK: Record<WordAgreement | 'missing', number> = { exact: 4, phonetic: 3, similar: 2, different: 1, missing: 0 };

function bestOf(a: NameWord[], b: NameWord[]): WordAgreement | 'missing' {
  let bestLevel: WordAgreement | 'missing' = 'missing';
  for (const x of a) for (const y of b) {
    const l = compareWord(x, y);
    if (RANK[l] > RANK[bestLevel]) bestLevel = l;
    if (l === 'exact') return l;
  }
  return bestLevel;
}

function dateParts(d?: string): { y?: number; m?: number; day?: number } {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(d ?? '');
  return m ? { y: Number(m[1]), m: m[2] ? Number(m[2]) : undefined, day: m[3] ? Number(m[3]) : undefined } : {};
}

type DateLevel = 'exact' | 'swapped' | 'yearOnly' | 'defaulted' | 'yearOff' | 'nearYear' | 'sameYear' | 'different';

function compareBirthDate(a?: string, b?: string): DateLevel | undefined {
  const x = dateParts(a);
  const y = dateParts(b);
  if (!x.y || !y.y) return undefined;
  const full = (d: typeof x) => d.m !== undefined && d.day !== undefined;
  const defaulted = (d: typeof x) => d.m === 1 && d.day === 1;
  const near = Math.abs(x.y - y.y) <= 1;
  if (full(x) && full(y)) {
    // two 1 January defaults say only that the year agrees
    if (x.y === y.y && defaulted(x) && defaulted(y)) return 'defaulted';
    if (x.y === y.y && x.m === y.m && x.day === y.day) return 'exact';
    if (x.y === y.y && x.m === y.day && x.day === y.m) return 'swapped';
    // 1 January is what registration systems write for an unknown date: no evidence against
    if (x.y === y.y && (defaulted(x) || defaulted(y))) return 'defaulted';
    // the same day and month a year off: an age-based estimate or a slip in the year
    if (near && x.m === y.m && x.day === y.day) return 'yearOff';
    // a default a year off
    if (near && (defaulted(x) || defaulted(y))) return 'nearYear';
    return x.y === y.y ? 'sameYear' : 'different';
  }
  if (x.y === y.y) return 'yearOnly';
  return near ? 'nearYear' : 'different';
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

/** What multipleBirth says: the birth order (multipleBirthInteger), one of a multiple birth (true), or a single birth (false). */
function birthOrder(p: Patient): number | 'multiple' | 'single' | undefined {
  if (p.multipleBirthInteger !== undefined) return p.multipleBirthInteger;
  if (p.multipleBirthBoolean !== undefined) return p.multipleBirthBoolean ? 'multiple' : 'single';
  return undefined;
}

export function gradeOf(weight: number, thresholds = matchConfig.grades): MatchGrade {
  return weight >= thresholds.certain ? 'certain' : weight >= thresholds.probable ? 'probable' : weight >= thresholds.possible ? 'possible' : 'certainly-not';
}

const AGREEMENT: Record<string, Agreement> = {
  exact: 'agree', phonetic: 'agree', match: 'agree', swapped: 'partial', yearOff: 'partial', yearOnly: 'partial', defaulted: 'partial', nearYear: 'partial', similar: 'partial',
  sameYear: 'disagree', different: 'disagree', conflict: 'disagree', twins: 'disagree',
};

export function compare(input: Patient, candidate: Patient, settings = matchConfig): MatchResult {
  const W = settings.weights;
  const evidence: FieldEvidence[] = [];
  let weight = 0;
  const add = (field: Field, level: string, key?: Level, agreement?: Agreement) => {
    const w = key ? W[key] : 0;
    weight += w;
    evidence.push({ field, agreement: agreement ?? AGREEMENT[level] ?? 'missing', level, weight: w, ...(key ? { key } : {}) });
  };

  let idMatch = false;
  let idConflict = false;
  for (const a of input.identifier ?? []) {
    for (const b of candidate.identifier ?? []) {
      if (!a.system || a.system !== b.system || !a.value || !b.value) continue;
      if (a.value === b.value) idMatch = true;
      // temporary numbers (PAAYPA, STP) are replaced when the status changes: no conflict
      else if (settings.uniqueIdentifierSystems.includes(a.system) && a.use !== 'temp' && b.use !== 'temp' && a.use !== 'old' && b.use !== 'old') idConflict = true;
    }
  }
  if (idMatch) add('identifier', 'match', 'identifierMatch');
  else if (idConflict) add('identifier', 'conflict', 'identifierConflict');
  else add('identifier', 'missing');

  const na = names(input);
  const nb = names(candidate);
  const best = (a: NameWord[][] | NameWord[], b: NameWord[][] | NameWord[]) => bestOf((a as NameWord[][]).flat(), (b as NameWord[][]).flat());
  // names are often recorded in the other order between systems: family and given are also compared crosswise
  let family = best(na.family, nb.family);
  let given = best(na.given, nb.given);
  const familyX = best(na.family, nb.given);
  const givenX = best(na.given, nb.family);
  if (RANK[familyX] + RANK[givenX] > RANK[family] + RANK[given]) {
    family = familyX;
    given = givenX;
  }
  const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
  add('family', family, family === 'missing' ? undefined : (`family${cap(family)}` as Level));
  add('given', given, given === 'missing' ? undefined : (`given${cap(given)}` as Level));
  const second = na.second.length && nb.second.length ? best(na.second, nb.second) : 'missing';
  if (second === 'missing') add('secondGiven', 'missing');
  else add('secondGiven', second, RANK[second] >= RANK.phonetic ? 'secondGivenAgree' : second === 'similar' ? undefined : 'secondGivenDifferent');

  const bd = compareBirthDate(input.birthDate, candidate.birthDate);
  add('birthDate', bd ?? 'missing', bd ? (`birthDate${cap(bd)}` as Level) : undefined);

  if (input.gender && candidate.gender && input.gender !== 'unknown' && candidate.gender !== 'unknown') {
    add('gender', input.gender === candidate.gender ? 'exact' : 'different', input.gender === candidate.gender ? 'genderAgree' : 'genderDisagree');
  } else add('gender', 'missing');
  const bpA = extCode(input, BIRTH_PLACE);
  const bpB = extCode(candidate, BIRTH_PLACE);
  if (bpA && bpB) add('birthCountry', bpA === bpB ? 'exact' : 'different', bpA === bpB ? 'birthCountryAgree' : 'birthCountryDisagree');
  else add('birthCountry', 'missing');
  const nA = extCode(input, NATIONALITY);
  const nB = extCode(candidate, NATIONALITY);
  if (nA && nB) add('nationality', nA === nB ? 'exact' : 'different', nA === nB ? 'nationalityAgree' : 'nationalityDisagree');
  else add('nationality', 'missing');

  // twins and siblings: the same family name and full birth date with another given name. The
  // extra weight is what makes the given name's disagreement decisive; it does not apply when
  // either record says it is not a multiple birth.
  const oa = birthOrder(input);
  const ob = birthOrder(candidate);
  const single = oa === 'single' || ob === 'single';
  const familyAgrees = RANK[family] >= RANK.phonetic;
  if (typeof oa === 'number' && typeof ob === 'number' && oa !== ob) add('multipleBirth', 'different', 'multipleBirthDifferent');
  else if (familyAgrees && bd === 'exact' && (given === 'different' || given === 'similar') && !single) add('multipleBirth', 'twins', 'twins');
  else add('multipleBirth', oa !== undefined && ob !== undefined ? 'exact' : 'missing', undefined, oa !== undefined && ob !== undefined ? 'agree' : 'missing');

  let grade = gradeOf(weight, settings.grades);
  // "certain" needs more than names: an identifier, or a full birth date that agrees, and no name that disagrees
  if (grade === 'certain' && !idMatch && (bd !== 'exact' || RANK[given] < RANK.phonetic || RANK[family] < RANK.phonetic)) grade = 'probable';
  if (idConflict && !idMatch && grade === 'certain') grade = 'probable';
  const score = Math.round((1 / (1 + Math.exp(-(weight - settings.grades.probable) / 2))) * 1000) / 1000;
  return { score, weight, grade, evidence };
}
