// National inputs for the national profile adapters: hand-written fixtures (one or more per
// country, in each country's canonical national form) and a seeded generator of random ones
// with Arabic, Cyrillic, Greek and accented Latin names and valid national numbers.
import type { Bundle, Coverage, Identifier, Patient, Resource } from 'fhir/r4.js';
import { complete } from './check-digits.ts';
import { prng } from '../../../scripts/lib/prng.ts';

const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const type = (system: string, code: string) => ({ coding: [{ system, code }] });
const KVZ10 = type('http://fhir.de/CodeSystem/identifier-type-de-basis', 'KVZ10');
const OWN = 'http://hl7.org/fhir/StructureDefinition/humanname-own-name';
const STREET = 'http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName';
const HOUSE = 'http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber';
export const PAAYPA = 'https://migfhir.org/fhir/sid/gr-paaypa';
/** the AMKA as HL7 Hellas writes it (migfhir stores it under https://migfhir.org/fhir/sid/gr-amka) */
export const AMKA = 'urn:oid:2.16.840.1.113883.2.25.3.4.1.1.2';
export const STORED_AMKA = 'https://migfhir.org/fhir/sid/gr-amka';
const NIIP = type(V2, 'NIIP');
const ITT = 'http://terminology.hl7.it/CodeSystem/it-identifier-type';
export const SE = {
  personnummer: 'http://electronichealth.se/identifier/personnummer',
  samordningsnummer: 'http://electronichealth.se/identifier/samordningsnummer',
  lma: 'http://electronichealth.se/identifier/LMA-nummer',
};
export const PROFILE = {
  it: 'http://hl7.it/fhir/StructureDefinition/Patient-it-base',
  pl: 'http://hl7.org.pl/fhir/ig/pl-base/StructureDefinition/pl-base-patient',
  se: 'http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePatient',
  de: 'https://gematik.de/fhir/isik/StructureDefinition/ISiKPatient',
};
/** ISiK Patientennummer of the sending hospital */
export const MR = (value: string): Identifier => ({ type: type(V2, 'MR'), system: 'https://fhir.krankenhaus.example/sid/PID', value });

/** What a server does with the transaction: ids for the entries, references rewritten. */
export function stored(bundle: Bundle): Resource[] {
  const entries = (bundle.entry ?? []).filter((e) => e.resource?.resourceType !== 'Provenance');
  let text = JSON.stringify(entries.map((e) => e.resource));
  entries.forEach((e, i) => {
    text = text.split(`"${e.fullUrl}"`).join(`"${e.resource!.resourceType}/s${i}"`);
  });
  return (JSON.parse(text) as Resource[]).map((r, i) => ({ ...r, id: `s${i}` }) as Resource);
}

export interface Fixture {
  name: string;
  adapter: string;
  body: Resource;
}

const collection = (...resources: Resource[]): Bundle => ({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ fullUrl: `http://national.example/fhir/${resource.resourceType}/${resource.id}`, resource })) });

export const dePatient: Patient = {
  resourceType: 'Patient', id: 'de1',
  meta: { profile: ['https://gematik.de/fhir/isik/StructureDefinition/ISiKPatient'] },
  identifier: [{ system: 'http://fhir.de/sid/gkv/kvid-10', value: 'A123456780', type: KVZ10 }, MR('P-0001')],
  name: [{ use: 'official', family: 'Al-Hassan', _family: { extension: [{ url: OWN, valueString: 'Al-Hassan' }] }, given: ['Omar'] }],
  gender: 'male', birthDate: '1994-07-01',
  address: [{ type: 'both', line: ['Hauptstraße 12a'], _line: [{ extension: [{ url: STREET, valueString: 'Hauptstraße' }, { url: HOUSE, valueString: '12a' }] }], city: 'Berlin', postalCode: '10115', country: 'DE' }],
  communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ar' }] }, preferred: true }],
};
export const deCoverage: Coverage = {
  resourceType: 'Coverage', id: 'c1',
  meta: { profile: ['https://gematik.de/fhir/isik/StructureDefinition/ISiKVersicherungsverhaeltnisGesetzlich'] },
  extension: [{ url: 'http://fhir.de/StructureDefinition/gkv/besondere-personengruppe', valueCoding: { system: 'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_PERSONENGRUPPE', code: '09' } }],
  status: 'active',
  type: type('http://fhir.de/CodeSystem/versicherungsart-de-basis', 'GKV'),
  beneficiary: { reference: 'Patient/de1' },
  payor: [{ identifier: { system: 'http://fhir.de/sid/arge-ik/iknr', value: '108416214' }, display: 'AOK Nordost' }],
};

export const FIXTURES: Fixture[] = [
  { name: 'DE ISiK patient with KVNR and GKV coverage, person group 09 (AsylbLG)', adapter: 'de', body: collection(dePatient, deCoverage) },
  { name: 'DE patient alone', adapter: 'de', body: { ...dePatient, id: 'de2', identifier: [{ system: 'http://fhir.de/sid/gkv/kvid-10', value: complete.kvnr('B98765432'), type: KVZ10 }, MR('P-0002')] } as Patient },
  { name: 'IT patient with codice fiscale', adapter: 'it', body: collection({ resourceType: 'Patient', id: 'it1', meta: { profile: [PROFILE.it] }, identifier: [{ system: 'http://hl7.it/sid/codiceFiscale', value: 'RSSMRA71E01F205E', type: type(V2, 'NI') }], name: [{ family: 'Rossi', given: ['Maria'] }], gender: 'female', birthDate: '1971-05-01', extension: [{ url: 'http://hl7.it/fhir/StructureDefinition/patient-codeableBirthPlace', valueCodeableConcept: { coding: [{ system: 'https://www.istat.it/stati', code: '100' }] } }] } as Patient) },
  { name: 'IT STP foreigner (Bangladesh), Bengali and Latin names', adapter: 'it', body: { resourceType: 'Patient', id: 'it2', meta: { profile: [PROFILE.it] }, identifier: [{ use: 'temp', system: 'http://hl7.it/sid/stp', value: 'STP1201090000123', type: type(ITT, 'STP'), period: { start: '2026-01-10', end: '2026-07-10' } }], name: [{ family: 'Rahman', given: ['Abdul'] }, { family: 'রহমান', given: ['আব্দুল'] }], gender: 'male', birthDate: '1999', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-citizenship', extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'BD' }] } }] }] } as Patient },
  { name: 'IT ENI (Romanian citizen)', adapter: 'it', body: { resourceType: 'Patient', id: 'it3', meta: { profile: [PROFILE.it] }, identifier: [{ use: 'temp', system: 'http://hl7.it/sid/eni', value: 'ENI1201090000042', type: type(ITT, 'ENI'), period: { start: '2026-02-01', end: '2026-08-01' } }], name: [{ family: 'Popescu', given: ['Ionuț'] }], gender: 'male', birthDate: '1985-03-04' } as Patient },
  { name: 'SE personnummer', adapter: 'se', body: { resourceType: 'Patient', id: 'se1', meta: { profile: [PROFILE.se] }, identifier: [{ system: SE.personnummer, value: '198112189876', type: type(V2, 'NI') }], name: [{ family: 'Yusuf', given: ['Amina'] }], gender: 'female', birthDate: '1981-12-18' } as Patient },
  { name: 'SE samordningsnummer and LMA card of an asylum seeker', adapter: 'se', body: { resourceType: 'Patient', id: 'se2', meta: { profile: [PROFILE.se] }, identifier: [{ system: SE.samordningsnummer, value: `19${complete.luhn('900371123')}`, type: type(V2, 'NI') }, { use: 'temp', system: SE.lma, value: '12-345678', type: type(V2, 'PRC'), period: { start: '2026-01-05' } }], name: [{ family: 'Akhmedov', given: ['Ruslan'] }], gender: 'male', birthDate: '1990-03-11' } as Patient },
  { name: 'PL PESEL with UKR status (Ukrainian refugee), Cyrillic name', adapter: 'pl', body: { resourceType: 'Patient', id: 'pl1', meta: { profile: [PROFILE.pl] }, identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: complete.pesel('8503120123'), type: type(V2, 'NI'), period: { start: '2022-03-20' }, extension: [{ url: 'https://migfhir.org/fhir/StructureDefinition/pesel-status', valueCode: 'UKR' }] }], name: [{ family: 'Shevchenko', given: ['Olena'] }], gender: 'female', birthDate: '1985-03-12' } as Patient },
  { name: 'PL unknown person (NN)', adapter: 'pl', body: { resourceType: 'Patient', id: 'pl2', meta: { profile: [PROFILE.pl] }, identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: complete.pesel('0222010456'), type: type(V2, 'NI') }], name: [{ use: 'anonymous', text: 'NN', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] }], gender: 'unknown', birthDate: '2002-02-01' } as Patient },
  {
    name: 'HR CEZIH PMIR registration of a foreigner by passport and EHIC', adapter: 'hr',
    body: { resourceType: 'Bundle', type: 'message', identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:4b8f4f0e-0d1c-4a52-9a55-0a7f1c1d2e3f' }, entry: [
      { fullUrl: 'urn:uuid:0c4d3a1e-2b7f-4a36-8e0e-1f2a3b4c5d6e', resource: { resourceType: 'MessageHeader', id: '0c4d3a1e-2b7f-4a36-8e0e-1f2a3b4c5d6e', eventUri: 'urn:ihe:iti:pmir:2019:patient-feed', source: { name: 'Dom zdravlja Zagreb', endpoint: 'https://cezih.example/pmir' }, focus: [{ reference: 'urn:uuid:5a6b7c8d-0000-4000-8000-000000000001' }] } },
      { fullUrl: 'urn:uuid:5a6b7c8d-0000-4000-8000-000000000001', resource: { resourceType: 'Bundle', type: 'history', entry: [{ fullUrl: 'urn:uuid:5a6b7c8d-0000-4000-8000-000000000002', resource: { resourceType: 'Patient', identifier: [{ system: 'http://fhir.cezih.hr/specifikacije/identifikatori/putovnica', value: 'N01234567', type: type(V2, 'PPN') }, { system: 'http://fhir.cezih.hr/specifikacije/identifikatori/europska-kartica', value: '80276001230000012345', type: type(V2, 'HC') }], name: [{ family: 'Nowak', given: ['Zofia'] }], gender: 'female', birthDate: '1978-09-30' }, request: { method: 'POST', url: 'Patient' }, response: { status: '201' } }] } },
    ] } as unknown as Bundle,
  },
  { name: 'HR insured with MBO and OIB', adapter: 'hr', body: { resourceType: 'Patient', id: 'hr2', identifier: [{ system: 'http://fhir.cezih.hr/specifikacije/identifikatori/MBO', value: '123456789', type: type(V2, 'NH') }, { system: 'http://fhir.cezih.hr/specifikacije/identifikatori/OIB', value: '69435151530', type: type(V2, 'NI') }], name: [{ family: 'Horvat', given: ['Ivan'] }], gender: 'male', birthDate: '1960-01-15' } as Patient },
  { name: 'GR asylum applicant with PAAYPA, Arabic and Latin names', adapter: 'gr', body: { resourceType: 'Patient', id: 'gr1', identifier: [{ use: 'temp', system: PAAYPA, value: 'PA-0048213', type: type(V2, 'SS'), period: { start: '2026-03-02' } }], name: [{ family: 'Haddad', given: ['Fatima'] }, { family: 'حداد', given: ['فاطمة'] }], gender: 'female', birthDate: '1990' } as Patient },
  { name: 'GR AMKA granted, replacing the PAAYPA (link by identifier)', adapter: 'gr', body: { resourceType: 'Patient', id: 'gr2', identifier: [{ use: 'official', system: AMKA, value: complete.luhn('0103901234'), type: NIIP, period: { start: '2026-09-15' } }], name: [{ family: 'Haddad', given: ['Fatima'] }, { family: 'حداد', given: ['فاطمة'] }], gender: 'female', birthDate: '1990', link: [{ type: 'replaces', other: { type: 'Patient', identifier: { use: 'temp', system: PAAYPA, value: 'PA-0048213', type: type(V2, 'SS'), period: { start: '2026-03-02', end: '2026-09-15' } } } }] } as Patient },
  { name: 'GR AMKA, Greek name', adapter: 'gr', body: { resourceType: 'Patient', id: 'gr3', identifier: [{ use: 'official', system: AMKA, value: complete.luhn('1507851234'), type: NIIP }], name: [{ family: 'Παπαδοπούλου', given: ['Ελένη'] }, { family: 'Papadopoulou', given: ['Eleni'] }], gender: 'female', birthDate: '1985-07-15' } as Patient },
];

// ---- generated inputs -----------------------------------------------------------------------

const NAMES: [string, string][] = [
  ['حداد', 'فاطمة'], ['الأحمد', 'محمد'], ['Шевченко', 'Олена'], ['Иванова', 'Мария'], ['Παπαδόπουλος', 'Γιώργος'], ['Οικονόμου', 'Ελένη'],
  ['Müller', 'Jürgen'], ['Nguyễn', 'Thị Hồng'], ['Özdemir', 'Ayşe'], ['Dvořák', 'Tomáš'], ['Ahmadzai', 'Gul'], ['Kovačević', 'Ivana'],
];
const LANGS = ['ar', 'uk', 'ru', 'el', 'fa', 'ps', 'ti', 'so', 'fr', 'en', 'tr', 'ku'];
const COUNTRIES = ['SY', 'AF', 'UA', 'ER', 'SO', 'IQ', 'TR', 'NG'];

export function generate(adapter: string, seed: number): Resource {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const y = 1940 + Math.floor(r() * 80);
  const m = 1 + Math.floor(r() * 12);
  const d = 1 + Math.floor(r() * 28);
  const pad = (x: number) => String(x).padStart(2, '0');
  const birthDate = r() < 0.15 ? String(y) : `${y}-${pad(m)}-${pad(d)}`;
  const [family, given] = pick(NAMES);
  const p: Patient = { resourceType: 'Patient', id: `g${seed}`, name: [{ use: 'official', family, given: [given] }], gender: pick(['male', 'female', 'other', 'unknown'] as const), birthDate };
  // SEBasePatient and pl-base-patient allow one name
  if (r() < 0.5 && adapter !== 'se' && adapter !== 'pl') p.name!.push({ use: 'usual', family: `Latin${digits(3)}`, given: ['Transliterated'] });
  if (r() < 0.7) p.communication = [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: pick(LANGS) }] }, preferred: true }];
  if (r() < 0.5) p.extension = [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: pick(COUNTRIES) }] } }] }];
  if (r() < 0.4) p.telecom = [{ system: 'phone', value: `+${digits(11)}`, use: 'mobile' }];
  const ids: Identifier[] = [];
  const street = pick(['Hauptstraße', 'Via Roma', 'Ulica Marszałkowska', 'Οδός Ερμού', 'Ilica']);
  const house = String(1 + Math.floor(r() * 200));
  switch (adapter) {
    case 'de': {
      ids.push({ system: 'http://fhir.de/sid/gkv/kvid-10', value: complete.kvnr(String.fromCharCode(65 + Math.floor(r() * 26)) + digits(8)), type: KVZ10 }, MR(`P-${digits(6)}`));
      // isik-pat-1: gender other carries the official German differentiation
      if (p.gender === 'other') p._gender = { extension: [{ url: 'http://fhir.de/StructureDefinition/gender-amtlich-de', valueCoding: { system: 'http://fhir.de/CodeSystem/gender-amtlich-de', code: pick(['D', 'X']) } }] };
      p.name = p.name!.map((n) => ({ ...n, _family: { extension: [{ url: OWN, valueString: n.family! }] } }));
      if (r() < 0.6) p.address = [{ type: 'both', line: [`${street} ${house}`], _line: [{ extension: [{ url: STREET, valueString: street }, { url: HOUSE, valueString: house }] }], city: 'Köln', postalCode: digits(5), country: 'DE' }];
      p.meta = { profile: ['https://gematik.de/fhir/isik/StructureDefinition/ISiKPatient'] };
      break;
    }
    case 'it': {
      if (r() < 0.5) ids.push({ system: 'http://hl7.it/sid/codiceFiscale', value: complete.codiceFiscale(`RSSMRA${pad(y % 100)}A${pad(d)}Z${digits(3)}`), type: type(V2, 'NI') });
      else ids.push({ use: 'temp', system: pick(['http://hl7.it/sid/stp', 'http://hl7.it/sid/eni']) === 'http://hl7.it/sid/stp' ? 'http://hl7.it/sid/stp' : 'http://hl7.it/sid/eni', value: '', period: { start: '2026-01-01', end: '2026-07-01' } });
      if (!ids[0].value) {
        const kind = ids[0].system!.endsWith('stp') ? 'STP' : 'ENI';
        ids[0].value = `${kind}120109${digits(7)}`;
        ids[0].type = type(ITT, kind);
      }
      p.meta = { profile: [PROFILE.it] };
      break;
    }
    case 'se': {
      const coord = r() < 0.4;
      // the Luhn digit is computed over the last 10 digits (YYMMDDNNN)
      const value = String(y).slice(0, 2) + complete.luhn(`${pad(y % 100)}${pad(m)}${pad(coord ? d + 60 : d)}${digits(3)}`);
      ids.push({ system: coord ? SE.samordningsnummer : SE.personnummer, value, type: type(V2, 'NI') });
      p.meta = { profile: [PROFILE.se] };
      if (r() < 0.3) ids.push({ use: 'temp', system: SE.lma, value: `${digits(2)}-${digits(6)}`, type: type(V2, 'PRC'), period: { start: '2026-02-01' } });
      break;
    }
    case 'pl': {
      const century = y >= 2000 ? 20 : 0;
      const pesel: Identifier = { system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: complete.pesel(`${pad(y % 100)}${pad(m + century)}${pad(d)}${digits(4)}`), type: type(V2, 'NI') };
      if (r() < 0.5) Object.assign(pesel, { period: { start: '2022-04-01' }, extension: [{ url: 'https://migfhir.org/fhir/StructureDefinition/pesel-status', valueCode: 'UKR' }] });
      ids.push(pesel);
      p.meta = { profile: [PROFILE.pl] };
      if (r() < 0.1) p.name = [{ use: 'anonymous', text: 'NN', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] }];
      break;
    }
    case 'hr': {
      if (r() < 0.5) ids.push({ system: 'http://fhir.cezih.hr/specifikacije/identifikatori/MBO', value: digits(9), type: type(V2, 'NH') }, { system: 'http://fhir.cezih.hr/specifikacije/identifikatori/OIB', value: complete.oib(digits(10)), type: type(V2, 'NI') });
      else ids.push({ system: 'http://fhir.cezih.hr/specifikacije/identifikatori/putovnica', value: `P${digits(8)}`, type: type(V2, 'PPN') }, ...(r() < 0.5 ? [{ system: 'http://fhir.cezih.hr/specifikacije/identifikatori/europska-kartica', value: digits(20), type: type(V2, 'HC') }] : []));
      delete p.id;
      break;
    }
    case 'gr': {
      const paaypa: Identifier = { use: 'temp', system: PAAYPA, value: `PA-${digits(7)}`, type: type(V2, 'SS'), period: { start: '2025-05-01' } };
      if (r() < 0.4) ids.push(paaypa);
      else {
        ids.push({ use: 'official', system: AMKA, value: complete.luhn(`${pad(d)}${pad(m)}${pad(y % 100)}${digits(4)}`), type: NIIP, period: { start: '2026-06-01' } });
        if (r() < 0.6) p.link = [{ type: 'replaces', other: { type: 'Patient', identifier: { ...paaypa, period: { start: '2025-05-01', end: '2026-06-01' } } } }];
      }
      break;
    }
  }
  p.identifier = ids;
  if (adapter === 'hr') return { resourceType: 'Bundle', type: 'message', entry: [
    { fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(seed).padStart(12, '0')}`, resource: { resourceType: 'MessageHeader', id: `00000000-0000-4000-8000-${String(seed).padStart(12, '0')}`, eventUri: 'urn:ihe:iti:pmir:2019:patient-feed', source: { endpoint: 'https://cezih.example/pmir' }, focus: [{ reference: 'urn:uuid:11111111-0000-4000-8000-000000000000' }] } },
    { fullUrl: 'urn:uuid:11111111-0000-4000-8000-000000000000', resource: { resourceType: 'Bundle', type: 'history', entry: [{ fullUrl: 'urn:uuid:22222222-0000-4000-8000-000000000000', resource: p, request: { method: 'POST', url: 'Patient' }, response: { status: '201' } }] } },
  ] } as unknown as Bundle;
  if (adapter === 'de' && r() < 0.5) {
    return collection(p, { ...deCoverage, id: `c${seed}`, beneficiary: { reference: `Patient/${p.id}` }, extension: r() < 0.5 ? deCoverage.extension : [{ url: 'http://fhir.de/StructureDefinition/gkv/besondere-personengruppe', valueCoding: { system: 'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_PERSONENGRUPPE', code: '04' } }] } as Coverage);
  }
  return p;
}
