// Patient → ADT^A28 → Patient keeps every mapped field: a table of hand-written patients, then
// a property test over generated ones (seeded, so a failure names a reproducible seed).
import t from 'tap';
import type { Address, ContactPoint, Extension, HumanName, Identifier, Patient, PatientContact } from 'fhir/r4.js';
import { fromFhir } from '../../../src/mapping/hl7v2/from-fhir.ts';
import { mapMessage } from '../../../src/mapping/hl7v2/to-fhir.ts';
import { IDENTIFIER_SYSTEMS } from '../../../src/mapping/identifiers.ts';
import { encode } from './fixtures.ts';
import { prng } from '../../../scripts/lib/prng.ts';

const V2 = (n: string) => `http://terminology.hl7.org/CodeSystem/v2-${n}`;
const EXT = (n: string) => `http://hl7.org/fhir/StructureDefinition/${n}`;

function roundTrip(p: Patient, event: 'A28' | 'A31' = 'A28'): Patient {
  const text = fromFhir([p], { event, controlId: 'RT1', now: '2024-05-01T12:00:00+02:00', sendingFacility: 'MIGFHIR' });
  const m = mapMessage({ bytes: encode(text, 'utf-8') });
  t.same(m.warnings, [], 'the outbound message has nothing the inbound side cannot map');
  return m.bundle.entry![0].resource as Patient;
}

const TABLE: [string, Patient][] = [
  ['Greek refugee with PAAYPA and AMKA, Greek and Latin names', {
    resourceType: 'Patient',
    identifier: [
      { type: { coding: [{ system: V2('0203'), code: 'SS' }] }, system: 'https://migfhir.org/fhir/sid/gr-amka', value: '12038801234' },
      { use: 'temp', type: { coding: [{ system: V2('0203'), code: 'SS' }] }, system: 'https://migfhir.org/fhir/sid/gr-paaypa', value: 'PA-778', period: { start: '2023-01-01', end: '2025-12-31' } },
    ],
    name: [
      { use: 'official', family: 'Παπαδοπούλου', given: ['Ελένη', 'Μαρία'], extension: [{ url: EXT('iso21090-EN-representation'), valueCode: 'IDE' }] },
      { use: 'official', family: 'Papadopoulou', given: ['Eleni', 'Maria'], extension: [{ url: EXT('iso21090-EN-representation'), valueCode: 'ABC' }] },
    ],
    gender: 'female', birthDate: '1988-03-12',
    address: [{ use: 'home', line: ['Οδός Αθηνάς 12'], city: 'Αθήνα', postalCode: '10551', country: 'GRC' }],
    telecom: [{ system: 'phone', value: '+306912345678', use: 'mobile' }, { system: 'email', value: 'eleni@example.org', use: 'work' }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'el', display: 'Greek' }] }, preferred: true }],
    maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] },
  }],
  ['Syrian minor: passport, birth place, citizenship, nationality, guardian', {
    resourceType: 'Patient',
    identifier: [{ type: { coding: [{ system: V2('0203'), code: 'PPN' }] }, system: 'https://migfhir.org/fhir/sid/passport/SYR', value: 'N0123456' }],
    name: [{ use: 'official', family: 'الحسن', given: ['محمد'] }, { use: 'usual', family: 'Al-Hassan', given: ['Mohammed'] }],
    gender: 'male', birthDate: '2009',
    extension: [
      { url: EXT('patient-mothersMaidenName'), valueString: 'خليل' },
      { url: EXT('patient-birthPlace'), valueAddress: { city: 'Aleppo', country: 'SYR', text: 'حلب' } },
      { url: EXT('patient-citizenship'), extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'SYR', display: 'Syria' }] } }] },
      { url: EXT('patient-nationality'), extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'SYR' }] } }] },
    ],
    contact: [{
      relationship: [
        { coding: [{ system: V2('0131'), code: 'C', display: 'Emergency Contact' }] },
        { coding: [{ system: V2('0063'), code: 'GRD', display: 'Guardian' }, { system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'GUARD', display: 'guardian' }] },
      ],
      name: { family: 'Nikolaou', given: ['Maria'] },
      telecom: [{ system: 'phone', value: '+302100000000', use: 'work' }],
      period: { start: '2024-01-15' },
    }],
  }],
  ['Ukrainian with PESEL, birth time, twins, deceased', {
    resourceType: 'Patient',
    identifier: [{ type: { coding: [{ system: V2('0203'), code: 'NI' }] }, system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: '82051512345' }],
    name: [{ use: 'official', family: 'Шевченко', given: ['Олена'], prefix: ['пані'], suffix: ['PhD'] }],
    gender: 'female', birthDate: '1982-05-15',
    _birthDate: { extension: [{ url: EXT('patient-birthTime'), valueDateTime: '1982-05-15T04:30:00+03:00' }] },
    multipleBirthInteger: 2,
    deceasedDateTime: '2024-02-01T10:00:00+01:00',
  }],
  ['escape-worthy text: delimiters inside values', {
    resourceType: 'Patient',
    identifier: [{ type: { coding: [{ system: V2('0203'), code: 'MR' }] }, system: 'https://migfhir.org/fhir/sid/hl7v2-authority/CAMP%20B%7C2', value: 'A|B^C~D&E\\F' }],
    name: [{ family: "O'Brien | Smith ^ & ~ \\", given: ['Ann'] }],
    address: [{ use: 'temp', line: ['Container 4 ^ row 2', 'Moria'], city: 'Lesvos', country: 'GRC', period: { start: '2020-01-01', end: '2020-09-09' } }],
  }],
];

for (const [name, p] of TABLE) {
  t.test(`round trip: ${name}`, async (t) => {
    t.strictSame(roundTrip(p), p);
    t.strictSame(roundTrip(p, 'A31'), p);
  });
}

// ---- generated patients ----------------------------------------------------------------------

/** seeded draws over scripts/lib/prng.ts, so every run generates the same patients */
function rng(seed: number) {
  const next = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const chance = (p: number) => next() < p;
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return { pick, chance, int };
}

const FAMILIES = ['Παπαδόπουλος', 'Μανσούρ', 'الحسن', 'احمدی', 'Шевченко', 'Ёлкина', 'Özdemir', 'Nguyễn', 'Đurđević', 'Wójcik', 'Müller', 'Öberg', 'Lefèvre', 'Haile', 'ሃይሌ', 'Diallo', "N'Diaye", 'van der Berg', 'a|b^c&d~e\\f'];
const GIVENS = ['Ελένη', 'Φατιμά', 'محمد', 'زهرا', 'Олена', 'Андрій', 'Ayşe', 'Thị', 'Šime', 'Zofia', 'Jürgen', 'Åsa', 'Hélène', 'Abdi', 'Mamadou', 'José'];
const LANGS = ['ar', 'el', 'uk', 'ru', 'fa', 'prs', 'ps', 'ti', 'so', 'tr', 'fr', 'en', 'ku', 'fa-AF'];
const COUNTRIES = ['SYR', 'AFG', 'IRQ', 'ERI', 'SOM', 'UKR', 'GRC', 'ITA', 'DEU', 'XXA', 'XXB'];
const NAME_USES = ['official', 'usual', 'maiden', 'nickname', 'anonymous', 'temp', 'old'] as const;

function date(r: ReturnType<typeof rng>, precision = r.int(1, 3)): string {
  const y = String(r.int(1930, 2024));
  const m = String(r.int(1, 12)).padStart(2, '0');
  const d = String(r.int(1, 28)).padStart(2, '0');
  return [y, m, d].slice(0, precision).join('-');
}
function dateTime(r: ReturnType<typeof rng>): string {
  const off = r.pick(['+01:00', '+02:00', '+03:00', '-05:00', '+04:30']);
  return `${date(r, 3)}T${String(r.int(0, 23)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}${off}`;
}
function period(r: ReturnType<typeof rng>) {
  return r.chance(0.5) ? undefined : { start: date(r, 3), ...(r.chance(0.5) ? { end: date(r, 3) } : {}) };
}
function name(r: ReturnType<typeof rng>, withUse = true): HumanName {
  const n: HumanName = {};
  if (withUse && r.chance(0.8)) n.use = r.pick(NAME_USES);
  n.family = r.pick(FAMILIES);
  n.given = Array.from({ length: r.int(1, 3) }, () => r.pick(GIVENS));
  if (r.chance(0.2)) n.prefix = [r.pick(['Dr', 'Mrs', 'κ.'])];
  if (r.chance(0.2)) n.suffix = r.chance(0.5) ? ['Jr'] : ['Jr', 'MD'];
  const p = period(r);
  if (p) n.period = p;
  if (r.chance(0.5)) n.extension = [{ url: EXT('iso21090-EN-representation'), valueCode: r.pick(['ABC', 'IDE', 'SYL']) }];
  return n;
}
function identifier(r: ReturnType<typeof rng>, i: number): Identifier {
  const s = r.pick(IDENTIFIER_SYSTEMS);
  const id: Identifier = r.chance(0.7)
    ? { ...(s.use ? { use: s.use } : {}), type: { coding: [{ ...s.type }] }, system: s.system, value: `${s.id.toUpperCase()}-${i}-${r.int(1, 1e6)}` }
    : { type: { coding: [{ system: V2('0203'), code: 'PPN' }] }, system: `https://migfhir.org/fhir/sid/passport/${r.pick(COUNTRIES)}`, value: `P${r.int(1e5, 1e7)}` };
  const p = period(r);
  if (p) id.period = p;
  return id;
}
function address(r: ReturnType<typeof rng>, forContact = false): Address {
  const a: Address = {};
  if (r.chance(0.8)) a.use = r.pick(['home', 'work', 'temp', 'old'] as const);
  else if (!forContact) a.type = 'postal';
  a.line = r.chance(0.5) ? ['Οδός Αθηνάς 12'] : ['Container 7', 'Sector B'];
  if (r.chance(0.8)) a.city = r.pick(['Αθήνα', 'Palermo', 'Київ', 'Berlin', 'Lesvos']);
  if (r.chance(0.3)) a.district = 'Attica';
  if (r.chance(0.3)) a.state = 'PA';
  if (r.chance(0.5)) a.postalCode = String(r.int(10000, 99999));
  if (r.chance(0.8)) a.country = r.pick(COUNTRIES);
  const p = period(r);
  if (p) a.period = p;
  return a;
}
function telecoms(r: ReturnType<typeof rng>): ContactPoint[] {
  const all: ContactPoint[] = Array.from({ length: r.int(0, 3) }, () => {
    const kind = r.pick(['mobile', 'home', 'work', 'temp', 'email-home', 'email-work', 'fax', 'pager']);
    if (kind.startsWith('email')) return { system: 'email', value: `x${r.int(1, 999)}@example.org`, use: kind === 'email-work' ? 'work' : 'home' };
    if (kind === 'fax') return { system: 'fax', value: `+30210${r.int(100000, 999999)}`, use: 'home' };
    if (kind === 'pager') return { system: 'pager', value: String(r.int(1000, 9999)), use: 'home' };
    return { system: 'phone', value: `+30${r.int(6900000000, 6999999999)}`, use: kind as ContactPoint['use'] };
  });
  // v2 has home-ish numbers in PID-13 and work numbers in PID-14
  return [...all.filter((c) => c.use !== 'work'), ...all.filter((c) => c.use === 'work')];
}
const cc = (system: string, code: string, display?: string) => ({ coding: [{ system, code, ...(display ? { display } : {}) }] });

function patient(seed: number): Patient {
  const r = rng(seed);
  const p: Patient = { resourceType: 'Patient' };
  p.identifier = Array.from({ length: r.int(1, 3) }, (_, i) => identifier(r, i));
  p.name = Array.from({ length: r.int(1, 3) }, () => name(r));
  if (r.chance(0.9)) p.gender = r.pick(['male', 'female', 'other', 'unknown'] as const);
  if (r.chance(0.9)) {
    p.birthDate = date(r);
    if (p.birthDate.length === 10 && r.chance(0.3)) {
      const t = dateTime(r).slice(10);
      p._birthDate = { extension: [{ url: EXT('patient-birthTime'), valueDateTime: `${p.birthDate}${t}` }] };
    }
  }
  if (r.chance(0.7)) p.address = Array.from({ length: r.int(1, 2) }, () => address(r));
  const tel = telecoms(r);
  if (tel.length) p.telecom = tel;
  if (r.chance(0.7)) p.communication = [{ language: cc('urn:ietf:bcp:47', r.pick(LANGS), r.chance(0.5) ? 'Language' : undefined), preferred: true }];
  if (r.chance(0.4)) p.maritalStatus = cc('http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', r.pick(['A', 'D', 'M', 'S', 'W', 'U']));
  if (r.chance(0.2)) p.multipleBirthBoolean = r.chance(0.5);
  else if (r.chance(0.1)) p.multipleBirthInteger = r.int(1, 3);
  const ext: Extension[] = [];
  if (r.chance(0.2)) ext.push({ url: EXT('patient-mothersMaidenName'), valueString: r.pick(FAMILIES) });
  if (r.chance(0.5)) ext.push({ url: EXT('patient-birthPlace'), valueAddress: r.chance(0.5) ? { city: 'Kabul', country: 'AFG' } : { text: r.pick(['حلب', 'Kandahar', 'Харків']) } });
  for (let i = r.int(0, 2); i > 0; i--) ext.push({ url: EXT('patient-citizenship'), extension: [{ url: 'code', valueCodeableConcept: cc('urn:iso:std:iso:3166', r.pick(COUNTRIES)) }] });
  if (r.chance(0.5)) ext.push({ url: EXT('patient-nationality'), extension: [{ url: 'code', valueCodeableConcept: cc('urn:iso:std:iso:3166', r.pick(COUNTRIES)) }] });
  if (ext.length) p.extension = ext;
  if (r.chance(0.1)) p.deceasedDateTime = dateTime(r);
  else if (r.chance(0.1)) p.deceasedBoolean = r.chance(0.5);
  if (r.chance(0.4)) {
    p.contact = Array.from({ length: r.int(1, 2) }, () => {
      const c: PatientContact = {};
      const rel = r.pick(['GRD', 'MTH', 'FTH', 'BRO', 'SIS', 'FND']);
      c.relationship = [cc(V2('0131'), r.pick(['C', 'N', 'O'])), rel === 'GRD'
        ? { coding: [{ system: V2('0063'), code: 'GRD' }, { system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'GUARD', display: 'guardian' }] }
        : cc(V2('0063'), rel)];
      c.name = name(r, false);
      delete c.name.period;
      const tel2 = telecoms(r);
      if (tel2.length) c.telecom = tel2;
      if (r.chance(0.5)) c.address = address(r, true);
      if (r.chance(0.5)) c.gender = r.pick(['male', 'female'] as const);
      if (r.chance(0.3)) c.period = { start: date(r, 3) };
      return c;
    });
  }
  return p;
}

t.test('round trip: 300 generated patients keep every mapped field', async (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const p = patient(seed);
    const back = roundTrip(p);
    if (!t.strictSame(back, p, `seed ${seed}`)) break;
  }
});
