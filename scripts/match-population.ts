// A cross-border test population for Patient/$match: the same people registered in two or
// three countries with the variation real records show — transliteration variants
// (Mohammed/Muhammad/Mohamad, Olha/Olga/Ольга), registration in Greek or Cyrillic script at
// arrival, Arabic-script names from documents, swapped or missing birth-date parts, 1 January
// defaults, different national identifiers — plus distinct people with similar names.
// Deterministic (seeded). Used by scripts/bench/match.ts and test/mpi/match.test.ts.
import type { Patient } from 'fhir/r4.js';

export interface Registration {
  person: number;
  patient: Patient;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// name → spelling variants (Latin), with original-script forms where the origin writes them
const MALE: [string[], string?][] = [
  [['Mohammed', 'Muhammad', 'Mohamad', 'Mohamed', 'Muhammed'], 'محمد'], [['Ahmed', 'Ahmad', 'Achmed'], 'أحمد'], [['Hussein', 'Husain', 'Hussain'], 'حسين'],
  [['Ali'], 'علي'], [['Omar', 'Umar'], 'عمر'], [['Khaled', 'Khalid', 'Chaled'], 'خالد'], [['Youssef', 'Yusuf', 'Yousef', 'Josef'], 'يوسف'], [['Abdullah', 'Abdallah'], 'عبدالله'],
  [['Mustafa', 'Mostafa'], 'مصطفى'], [['Ibrahim', 'Ebrahim'], 'إبراهيم'], [['Hassan', 'Hasan'], 'حسن'], [['Karim', 'Kareem'], 'كريم'], [['Tesfaye', 'Tesfay'], 'ተስፋዬ'],
  [['Yonas', 'Yohannes', 'Jonas'], 'ዮናስ'], [['Abdi', 'Abdy'], undefined], [['Farid', 'Fareed'], 'فرید'], [['Reza', 'Rheza'], 'رضا'], [['Dmytro', 'Dmitry', 'Dmitri'], 'Дмитро'],
  [['Oleksandr', 'Aleksandr', 'Alexander'], 'Олександр'], [['Andriy', 'Andrii', 'Andrei'], 'Андрій'], [['Serhiy', 'Sergei', 'Serhii'], 'Сергій'],
];
const FEMALE: [string[], string?][] = [
  [['Fatima', 'Fatma', 'Fatemeh'], 'فاطمة'], [['Aisha', 'Aishah', 'Ayesha'], 'عائشة'], [['Maryam', 'Mariam', 'Meryem'], 'مريم'], [['Zainab', 'Zeinab', 'Zaynab'], 'زينب'],
  [['Amina', 'Aminah'], 'أمينة'], [['Nour', 'Noor', 'Nur'], 'نور'], [['Layla', 'Leila', 'Laila'], 'ليلى'], [['Hawa', 'Hava'], undefined], [['Selam', 'Salam'], 'ሰላም'],
  [['Olha', 'Olga'], 'Ольга'], [['Oksana', 'Oxana'], 'Оксана'], [['Yuliia', 'Yulia', 'Julia'], 'Юлія'], [['Kateryna', 'Ekaterina', 'Katerina'], 'Катерина'],
  [['Halima', 'Halimo'], undefined], [['Parisa', 'Parissa'], 'پریسا'], [['Samira', 'Sameera'], 'سميرة'],
];
const FAMILY: [string[], string?][] = [
  [['Al-Hassan', 'Alhassan', 'Al Hasan'], 'الحسن'], [['Haddad', 'Hadad'], 'حداد'], [['Khalil', 'Chalil'], 'خليل'], [['Mansour', 'Mansur'], 'منصور'], [['Nasser', 'Naser'], 'ناصر'],
  [['Ahmadi', 'Ahmady'], 'احمدی'], [['Hosseini', 'Husseini', 'Hoseini'], 'حسینی'], [['Rahimi', 'Rahimy'], 'رحیمی'], [['Karimi', 'Karimy'], 'کریمی'], [['Mohammadi', 'Muhammadi'], 'محمدی'],
  [['Tekle', 'Teklé'], 'ተክሌ'], [['Gebremariam', 'Gebre Mariam', 'Ghebremariam'], 'ገብረማርያም'], [['Haile', 'Hayle'], 'ኃይሌ'], [['Mohamud', 'Mohamoud'], undefined], [['Warsame', 'Warsama'], undefined],
  [['Shevchenko', 'Schewtschenko', 'Szewczenko'], 'Шевченко'], [['Kovalenko', 'Kowalenko'], 'Коваленко'], [['Bondarenko', 'Bondarenco'], 'Бондаренко'], [['Tkachenko', 'Tkaczenko'], 'Ткаченко'],
  [['Yilmaz', 'Yılmaz'], undefined], [['Özdemir', 'Ozdemir', 'Oezdemir'], undefined], [['Nguyễn', 'Nguyen'], undefined], [['Rahman', 'Rehman'], 'رحمان'], [['Saleh', 'Salih'], 'صالح'],
  [['Darwish', 'Darwich', 'Derwisch'], 'درويش'], [['Jaber', 'Jabir', 'Djaber'], 'جابر'], [['Sultani', 'Soltani'], 'سلطانی'], [['Omar', 'Umar'], 'عمر'],
];
const GREEK: [RegExp, string][] = [[/ch|kh/g, 'χ'], [/th/g, 'θ'], [/ph/g, 'φ'], [/sh/g, 'σ'], [/ou|oo/g, 'ου'], [/b/g, 'μπ'], [/d/g, 'ντ'], [/a/g, 'α'], [/e/g, 'ε'], [/i|y/g, 'ι'], [/o/g, 'ο'], [/u/g, 'ου'], [/h/g, 'χ'], [/k|c|q/g, 'κ'], [/g/g, 'γ'], [/l/g, 'λ'], [/m/g, 'μ'], [/n/g, 'ν'], [/p/g, 'π'], [/r/g, 'ρ'], [/s|z/g, 'σ'], [/t/g, 'τ'], [/f|v|w/g, 'φ'], [/j/g, 'τζ'], [/x/g, 'ξ']];

/** A Greek-script registration of a Latin name, as written at a Greek hotspot. */
export function greek(name: string): string {
  let s = name.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z -]/g, '');
  for (const [re, to] of GREEK) s = s.replace(re, to);
  return s.replace(/σ(\s|$)/g, 'ς$1').replace(/(^|\s)(.)/g, (_m, a: string, b: string) => a + b.toUpperCase());
}

const COUNTRIES = ['SY', 'AF', 'ER', 'SO', 'UA', 'IQ', 'IR', 'NG', 'TR', 'VN'];
const REGISTERS = [
  { country: 'GR', system: 'https://migfhir.org/fhir/sid/gr-paaypa', script: 'greek' },
  { country: 'IT', system: 'http://hl7.it/sid/stp', script: 'latin' },
  { country: 'DE', system: 'http://fhir.de/sid/gkv/kvid-10', script: 'latin' },
  { country: 'SE', system: 'urn:oid:1.2.752.129.2.1.3.3', script: 'latin' },
  { country: 'PL', system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', script: 'latin' },
  { country: 'HR', system: 'http://fhir.cezih.hr/specifikacije/identifikatori/MBO', script: 'latin' },
];

export function population(people: number, seed = 42): Registration[] {
  const r = rng(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  const out: Registration[] = [];
  for (let person = 0; person < people; person++) {
    const female = r() < 0.45;
    const given = pick(female ? FEMALE : MALE);
    const family = pick(FAMILY);
    const second = r() < 0.3 ? pick(MALE) : undefined; // father's name as a second given name
    const y = 1950 + Math.floor(r() * 60);
    const m = 1 + Math.floor(r() * 12);
    const d = 1 + Math.floor(r() * 28);
    const origin = pick(COUNTRIES);
    const passport = r() < 0.5 ? `P${Math.floor(r() * 1e8).toString().padStart(8, '0')}` : undefined;
    const n = 2 + (r() < 0.35 ? 1 : 0);
    const registers = [...REGISTERS].sort(() => r() - 0.5).slice(0, n);
    for (const reg of registers) {
      const variant = (v: [string[], string?]) => (r() < 0.6 ? v[0][0] : pick(v[0]));
      let g = variant(given);
      let f = variant(family);
      const name: Patient['name'] = [];
      if (reg.script === 'greek' && r() < 0.7) {
        g = greek(g);
        f = greek(f);
      }
      name.push({ family: f, given: second && r() < 0.7 ? [g, variant(second)] : [g] });
      if (r() < 0.25 && (given[1] || family[1])) name.push({ use: 'official', family: family[1] ?? f, given: [given[1] ?? g] }); // as on the document
      let birthDate = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
      const e = r();
      if (e < 0.1 && d <= 12) birthDate = `${y}-${String(d).padStart(2, '0')}-${String(m).padStart(2, '0')}`;
      else if (e < 0.2) birthDate = `${y}`;
      else if (e < 0.3) birthDate = `${y}-01-01`;
      else if (e < 0.33) birthDate = `${y + (r() < 0.5 ? 1 : -1)}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
      const identifier: Patient['identifier'] = [{ system: reg.system, value: `${reg.country}${person}-${Math.floor(r() * 1e6)}` }];
      if (passport && r() < 0.6) identifier.push({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] }, system: `urn:iso:std:iso:3166:-1:${origin}:passport`, value: passport });
      out.push({
        person,
        patient: {
          resourceType: 'Patient',
          id: `${reg.country.toLowerCase()}-${person}`,
          identifier,
          name,
          gender: r() < 0.01 ? (female ? 'male' : 'female') : female ? 'female' : 'male',
          birthDate,
          ...(r() < 0.6 ? { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { country: origin } }] } : {}),
        },
      });
    }
  }
  return out;
}

export interface MatchEvaluation {
  people: number;
  records: number;
  byGrade: Record<string, { returned: number; correct: number; precision: number }>;
  truePairs: number;
  recallCertainProbable: number;
  recallAny: number;
}

/** Precision per grade and recall, from $match answers: for each record, the ids returned with grades. */
export function evaluate(regs: Registration[], answers: Map<string, { id: string; grade: string }[]>): MatchEvaluation {
  const personOf = new Map(regs.map((x) => [x.patient.id!, x.person]));
  const byGrade: MatchEvaluation['byGrade'] = {};
  let truePairs = 0;
  let foundCP = 0;
  let foundAny = 0;
  const sizes = new Map<number, number>();
  for (const x of regs) sizes.set(x.person, (sizes.get(x.person) ?? 0) + 1);
  for (const x of regs) {
    const others = sizes.get(x.person)! - 1;
    truePairs += others;
    const got = answers.get(x.patient.id!) ?? [];
    const correct = new Set<string>();
    const correctCP = new Set<string>();
    for (const a of got) {
      const ok = personOf.get(a.id) === x.person;
      const g = (byGrade[a.grade] ??= { returned: 0, correct: 0, precision: 0 });
      g.returned++;
      if (ok) {
        g.correct++;
        correct.add(a.id);
        if (a.grade === 'certain' || a.grade === 'probable') correctCP.add(a.id);
      }
    }
    foundCP += correctCP.size;
    foundAny += correct.size;
  }
  for (const g of Object.values(byGrade)) g.precision = g.returned ? g.correct / g.returned : 1;
  return { people: sizes.size, records: regs.length, byGrade, truePairs, recallCertainProbable: foundCP / truePairs, recallAny: foundAny / truePairs };
}
