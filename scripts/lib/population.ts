// The synthetic migrant-health population of the search and indexing benchmarks: patients with
// names in several scripts and national/humanitarian identifiers, and per patient three
// encounters with four vital-sign observations each, a PHQ-9 questionnaire response and a
// referral. Deterministic (a fixed-seed generator), so runs compare.
import type { Resource } from 'fhir/r4.js';

let seed = 1;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
const FAMILY = ['Haddad', 'Al-Hassan', 'Mansour', 'Ahmadi', 'Hosseini', 'Rahimi', 'Tekle', 'Gebremariam', 'Mohamud', 'Warsame', 'Shevchenko', 'Kovalenko', 'Müller', 'Özdemir', 'Nguyễn', 'Ёлкина', 'Παπαδόπουλος', 'حداد', 'Yılmaz', 'Darwish', 'Saleh', 'Rahman', 'Karimi', 'Sultani', 'Bondarenko', 'Tkachenko', 'Omar', 'Jaber', 'Nasser', 'Khalil'];
const GIVEN = ['Mohammed', 'Ahmed', 'Fatima', 'Amal', 'Olha', 'Oksana', 'Yonas', 'Selam', 'Hawa', 'Abdi', 'Maryam', 'Ali', 'Zainab', 'Reza', 'Parisa', 'Dmytro', 'Andriy', 'Layla', 'Nour', 'Karim', 'Ayşe', 'Lan', 'Ольга', 'Γιώργος', 'علي'];
const SYSTEMS = ['http://hl7.it/sid/stp', 'http://hl7.it/sid/codiceFiscale', 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', 'urn:oid:1.2.752.129.2.1.3.1', 'https://migfhir.org/fhir/sid/gr-paaypa', 'http://fhir.de/sid/gkv/kvid-10'];
const VITALS: [string, string, string, number][] = [['8867-4', 'Heart rate', '/min', 75], ['8480-6', 'Systolic blood pressure', 'mm[Hg]', 125], ['8462-4', 'Diastolic blood pressure', 'mm[Hg]', 80], ['29463-7', 'Body weight', 'kg', 70], ['8310-5', 'Body temperature', 'Cel', 37]];
const day = (y: number) => `${y}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;

export function* population(): Generator<Resource> {
  yield { resourceType: 'Organization', id: 'org-1', name: 'Reception and Identification Centre, Lesbos', address: [{ country: 'GR' }] } as Resource;
  yield { resourceType: 'Organization', id: 'org-2', name: 'Community health centre Berlin', address: [{ country: 'DE' }] } as Resource;
  for (let p = 0; ; p++) {
    const pid = `pat-${p}`;
    const system = pick(SYSTEMS);
    yield {
      resourceType: 'Patient', id: pid,
      identifier: [{ system, value: `ID${p}` }, ...(rnd() < 0.5 ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] }, system: 'urn:iso:std:iso:3166:-1:SY:passport', value: `N${1000000 + p}` }] : [])],
      name: [{ family: pick(FAMILY), given: [pick(GIVEN)] }], gender: rnd() < 0.5 ? 'female' : 'male',
      birthDate: rnd() < 0.2 ? String(1950 + Math.floor(rnd() * 60)) : day(1950 + Math.floor(rnd() * 60)),
      address: [{ use: 'temp', city: pick(['Mytilene', 'Lampedusa', 'Berlin', 'Malmö', 'Warsaw', 'Zagreb']), country: pick(['GR', 'IT', 'DE', 'SE', 'PL', 'HR']) }],
      communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: pick(['ar', 'fa', 'ps', 'ti', 'so', 'uk', 'ru', 'ku']) }] }, preferred: true }],
      managingOrganization: { reference: pick(['Organization/org-1', 'Organization/org-2']) },
    } as Resource;
    for (let e = 0; e < 3; e++) {
      const eid = `enc-${p}-${e}`;
      const date = day(2020 + Math.floor(rnd() * 6));
      yield { resourceType: 'Encounter', id: eid, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: pick(['AMB', 'FLD', 'EMER']) }, subject: { reference: `Patient/${pid}` }, period: { start: `${date}T09:00:00Z`, end: `${date}T10:00:00Z` }, serviceProvider: { reference: 'Organization/org-1' } } as Resource;
      for (let o = 0; o < 4; o++) {
        const [code, display, unit, base] = pick(VITALS);
        yield { resourceType: 'Observation', id: `obs-${p}-${e}-${o}`, status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }], code: { coding: [{ system: 'http://loinc.org', code, display }] }, subject: { reference: `Patient/${pid}` }, encounter: { reference: `Encounter/${eid}` }, effectiveDateTime: `${date}T09:30:00Z`, valueQuantity: { value: Math.round(base * (0.8 + rnd() * 0.4)), unit, system: 'http://unitsofmeasure.org', code: unit } } as Resource;
      }
    }
    yield { resourceType: 'QuestionnaireResponse', id: `qr-${p}`, status: 'completed', questionnaire: 'https://migfhir.org/fhir/Questionnaire/phq-9', subject: { reference: `Patient/${pid}` }, authored: `${day(2024)}T10:00:00Z`, item: [{ linkId: 'total', answer: [{ valueInteger: Math.floor(rnd() * 27) }] }] } as Resource;
    yield { resourceType: 'ServiceRequest', id: `sr-${p}`, status: pick(['active', 'completed']), intent: 'order', category: [{ coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/referral-category', code: pick(['mhpss', 'primary-care', 'tb-follow-up', 'vaccination']) }] }], subject: { reference: `Patient/${pid}` }, requester: { reference: 'Organization/org-1' }, performer: [{ reference: 'Organization/org-2' }], authoredOn: day(2024) } as Resource;
  }
}

