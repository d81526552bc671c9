// Realistic HL7 v2 ADT fixtures: reception centres, hospitals and clinics along the routes,
// with Greek, Arabic, Cyrillic and accented Latin names in the character sets such feeds use
// (MSH-18: UNICODE UTF-8, 8859/1, /2, /5, /6, /7, /9, /15, ISO IR names, or none). Segments are
// assembled by field number so each field sits where HL7 v2.5 puts it; each fixture states what
// the mapping must produce (or the ACK code a broken one gets).
import { TextDecoder } from 'node:util';

/** Text → bytes in a single-byte character set (reverse of the WHATWG decoder). */
export function encode(text: string, label: string): Buffer {
  if (label === 'utf-8') return Buffer.from(text, 'utf8');
  const dec = new TextDecoder(label);
  const map = new Map<string, number>();
  for (let b = 0; b < 256; b++) {
    const ch = dec.decode(Uint8Array.of(b));
    if (ch !== '\uFFFD' && !map.has(ch)) map.set(ch, b);
  }
  return Buffer.from([...text].map((ch) => {
    const b = map.get(ch);
    if (b === undefined) throw new Error(`'${ch}' is not in ${label}`);
    return b;
  }));
}

function seg(name: string, fields: Record<number, string>): string {
  const max = Math.max(0, ...Object.keys(fields).map(Number));
  const out = [name];
  for (let i = 1; i <= max; i++) out.push(fields[i] ?? '');
  return out.join('|');
}

export function msh(event: string, id: string, o: { charset?: string; version?: string; facility?: string; app?: string; ts?: string; structure?: string } = {}): string {
  const structure = o.structure ?? (event === 'A40' ? 'ADT_A39' : ['A34', 'A36'].includes(event) ? 'ADT_A30' : ['A28', 'A31', 'A08'].includes(event) ? 'ADT_A05' : event === 'A03' ? 'ADT_A03' : 'ADT_A01');
  return `MSH|^~\\&|${o.app ?? 'HIS'}|${o.facility ?? 'ATTIKON'}|MIGFHIR|EU|${o.ts ?? '20240312101500+0200'}||ADT^${event}^${structure}|${id}|P|${o.version ?? '2.5'}|||AL|NE||${o.charset ?? 'UNICODE UTF-8'}`;
}
export const evn = (event: string, ts = '20240312101500+0200') => seg('EVN', { 1: event, 2: ts, 6: ts });
export function pid(f: {
  ids: string; names: string; dob?: string; sex?: string; address?: string; phone?: string; work?: string; lang?: string;
  marital?: string; birthPlace?: string; citizenship?: string; nationality?: string; mother?: string; death?: string; multiple?: string; order?: string;
}): string {
  return seg('PID', { 1: '1', 3: f.ids, 5: f.names, 6: f.mother ?? '', 7: f.dob ?? '', 8: f.sex ?? '', 11: f.address ?? '', 13: f.phone ?? '', 14: f.work ?? '', 15: f.lang ?? '', 16: f.marital ?? '', 23: f.birthPlace ?? '', 24: f.multiple ?? '', 25: f.order ?? '', 26: f.citizenship ?? '', 28: f.nationality ?? '', 29: f.death ?? '' });
}
export function pv1(f: { cls: string; loc?: string; attending?: string; service?: string; visit?: string; admit?: string; discharge?: string; disposition?: string }): string {
  return seg('PV1', { 1: '1', 2: f.cls, 3: f.loc ?? '', 7: f.attending ?? '', 10: f.service ?? '', 19: f.visit ?? '', 36: f.disposition ?? '', 44: f.admit ?? '', 45: f.discharge ?? '' });
}
export const nk1 = (n: number, name: string, rel: string, phone = '', role = '') => seg('NK1', { 1: String(n), 2: name, 3: rel, 5: phone, 7: role });
export const mrg = (ids: string, account = '') => seg('MRG', { 1: ids, 3: account });

export interface Fixture {
  name: string;
  charset: string; // TextDecoder label of the bytes
  segments: string[];
  separator?: string;
  expect: {
    ack?: 'AR' | 'AE';
    errorAt?: string;
    families?: string[];
    given?: string;
    identifiers?: string[];
    birthDate?: string;
    gender?: string;
    encounter?: { status: string; class: string; visit?: string };
    language?: string;
    citizenship?: string;
    nationality?: string;
    birthPlace?: string;
    representation?: string[];
    contacts?: number;
    warnings?: string[];
    merge?: boolean;
    /** Patient elements that must not be there (a field dropped with a warning) */
    absent?: string[];
    /** Encounter.period the mapping must give ({} when no date survives) */
    period?: { start?: string; end?: string };
  };
}

const AMKA = 'https://migfhir.org/fhir/sid/gr-amka';
const PAAYPA = 'https://migfhir.org/fhir/sid/gr-paaypa';
const MRN = (f: string) => `https://migfhir.org/fhir/sid/hl7v2-authority/${f}`;
const PASSPORT = (c: string) => `https://migfhir.org/fhir/sid/passport/${c}`;

export const FIXTURES: Fixture[] = [
  // ---- Greek ----
  { name: 'A01 Greek inpatient, Greek and Latin names, AMKA and PAAYPA', charset: 'utf-8', segments: [
    msh('A01', 'GR-0001'), evn('A01'),
    pid({ ids: '12038801234^^^AMKA^SS~PA-778-2023^^^PAAYPA^^^20230101^20251231~MRN42^^^ATTIKON^MR', names: 'Παπαδοπούλου^Ελένη^^^^^L^I~Papadopoulou^Eleni^^^^^L^A', dob: '19880312', sex: 'F', address: 'Οδός Αθηνάς 12^^Αθήνα^^10551^GRC^H', phone: '+306912345678^PRN^CP', lang: 'ell^Greek^ISO639', marital: 'M' }),
    pv1({ cls: 'I', loc: 'W3^12^2^ATTIKON', attending: '123^Georgiou^Nikos^^^Dr', service: 'MED', visit: 'V-2024-0001^^^ATTIKON^VN', admit: '20240312100000+0200' }),
  ], expect: { families: ['Παπαδοπούλου', 'Papadopoulou'], representation: ['IDE', 'ABC'], identifiers: [`${AMKA}|12038801234`, `${PAAYPA}|PA-778-2023`, `${MRN('ATTIKON')}|MRN42`], birthDate: '1988-03-12', gender: 'female', language: 'el', encounter: { status: 'in-progress', class: 'IMP', visit: 'V-2024-0001' } } },
  { name: 'A04 Greek outpatient in ISO-8859-7 (8859/7), asylum seeker with PAAYPA', charset: 'iso-8859-7', segments: [
    msh('A04', 'GR-0002', { charset: '8859/7', facility: 'LESVOS-RIC' }), evn('A04'),
    pid({ ids: 'PA-1001-2024^^^PAAYPA', names: 'Αλεξίου^Δημήτρης', dob: '1975', sex: 'M', address: '^^Μυτιλήνη^^81100^GRC^C' }),
    pv1({ cls: 'O', loc: 'CLINIC^^^LESVOS-RIC', visit: 'OP-55^^^LESVOS-RIC' }),
  ], expect: { families: ['Αλεξίου'], given: 'Δημήτρης', identifiers: [`${PAAYPA}|PA-1001-2024`], birthDate: '1975', encounter: { status: 'in-progress', class: 'AMB' } } },
  { name: 'A28 Greek person record declared ISO IR126', charset: 'iso-8859-7', segments: [
    msh('A28', 'GR-0003', { charset: 'ISO IR126' }), evn('A28'),
    pid({ ids: '01019012345^^^AMKA', names: 'Κωνσταντίνου^Σοφία^Μαρία', dob: '19900101', sex: 'F' }),
    pv1({ cls: 'N' }),
  ], expect: { families: ['Κωνσταντίνου'], given: 'Σοφία', identifiers: [`${AMKA}|01019012345`] } },
  { name: 'A08 Greek update with new address', charset: 'utf-8', segments: [
    msh('A08', 'GR-0004'), evn('A08'),
    pid({ ids: '12038801234^^^AMKA^SS', names: 'Παπαδοπούλου^Ελένη^^^^^L^I', dob: '19880312', sex: 'F', address: 'Λεωφόρος Συγγρού 5^^Αθήνα^^11743^GRC^H' }),
    pv1({ cls: 'I', visit: 'V-2024-0001^^^ATTIKON^VN' }),
  ], expect: { families: ['Παπαδοπούλου'], encounter: { status: 'in-progress', class: 'IMP', visit: 'V-2024-0001' } } },
  // ---- Arabic ----
  { name: 'A01 Syrian patient in Arabic (UTF-8), passport, citizenship and nationality', charset: 'utf-8', segments: [
    msh('A01', 'AR-0001', { facility: 'EVANGELISMOS' }), evn('A01'),
    pid({ ids: 'N012345678^^^SYR^PPN~EV-9981^^^EVANGELISMOS^MR', names: 'الحسن^محمد^^^^^L^I~Al-Hassan^Mohammed^^^^^L^A', dob: '19920704', sex: 'M', lang: 'ara^Arabic^ISO639', citizenship: 'SYR^Syria^ISO3166', nationality: 'SYR^Syria^ISO3166', birthPlace: 'حلب' }),
    pv1({ cls: 'E', visit: 'ER-2024-77^^^EVANGELISMOS' }),
  ], expect: { families: ['الحسن', 'Al-Hassan'], identifiers: [`${PASSPORT('SYR')}|N012345678`, `${MRN('EVANGELISMOS')}|EV-9981`], language: 'ar', citizenship: 'SYR', nationality: 'SYR', birthPlace: 'حلب', encounter: { status: 'in-progress', class: 'EMER' } } },
  { name: 'A04 Iraqi patient in ISO-8859-6 (8859/6)', charset: 'iso-8859-6', segments: [
    msh('A04', 'AR-0002', { charset: '8859/6' }), evn('A04'),
    pid({ ids: 'A7654321^^^IRQ^PPN', names: 'الربيعي^فاطمة', dob: '19850215', sex: 'F', lang: 'ar^Arabic^ISO639' }),
    pv1({ cls: 'O', visit: 'OP-2024-300^^^ATTIKON' }),
  ], expect: { families: ['الربيعي'], given: 'فاطمة', identifiers: [`${PASSPORT('IRQ')}|A7654321`], language: 'ar' } },
  { name: 'A28 Afghan person in Dari script (UTF-8) with Latin alternate and citizenship AFG', charset: 'utf-8', segments: [
    msh('A28', 'AR-0003', { facility: 'SAMOS-CCAC' }), evn('A28'),
    pid({ ids: 'PA-2024-5555^^^PAAYPA', names: 'احمدی^زهرا^^^^^L^I~Ahmadi^Zahra^^^^^L^A', dob: '2009', sex: 'F', lang: 'prs^Dari^ISO639', citizenship: 'AFG^Afghanistan^ISO3166' }),
    pv1({ cls: 'N' }),
  ], expect: { families: ['احمدی', 'Ahmadi'], language: 'prs', citizenship: 'AFG', birthDate: '2009' } },
  { name: 'A03 discharge of the Syrian patient', charset: 'utf-8', segments: [
    msh('A03', 'AR-0004', { facility: 'EVANGELISMOS' }), evn('A03'),
    pid({ ids: 'EV-9981^^^EVANGELISMOS^MR', names: 'الحسن^محمد' }),
    pv1({ cls: 'E', visit: 'ER-2024-77^^^EVANGELISMOS', discharge: '20240313090000+0200', disposition: '01' }),
  ], expect: { encounter: { status: 'finished', class: 'EMER', visit: 'ER-2024-77' } } },
  // ---- Cyrillic ----
  { name: 'A01 Ukrainian refugee in Poland (UTF-8), PESEL with UKR status', charset: 'utf-8', segments: [
    msh('A01', 'UA-0001', { facility: 'SZPITAL-RZESZOW' }), evn('A01'),
    pid({ ids: '82051512345^^^PESEL^NI', names: 'Шевченко^Олена^^^^^L^I~Shevchenko^Olena^^^^^L^A', dob: '19820515', sex: 'F', lang: 'ukr^Ukrainian^ISO639', citizenship: 'UKR^Ukraine^ISO3166' }),
    pv1({ cls: 'I', visit: 'HOSP-1^^^SZPITAL-RZESZOW' }),
  ], expect: { families: ['Шевченко', 'Shevchenko'], identifiers: ['urn:oid:2.16.840.1.113883.3.4424.1.1.616|82051512345'], language: 'uk', citizenship: 'UKR' } },
  { name: 'A04 Russian speaker in ISO-8859-5 (8859/5)', charset: 'iso-8859-5', segments: [
    msh('A04', 'UA-0002', { charset: '8859/5' }), evn('A04'),
    pid({ ids: 'MRN-7001^^^ATTIKON', names: 'Ёлкина^Наталья', dob: '19700303', sex: 'F', lang: 'rus^Russian^ISO639' }),
    pv1({ cls: 'O', visit: 'OP-7001^^^ATTIKON' }),
  ], expect: { families: ['Ёлкина'], given: 'Наталья', language: 'ru' } },
  { name: 'A28 Ukrainian person declared ISO IR144', charset: 'iso-8859-5', segments: [
    msh('A28', 'UA-0003', { charset: 'ISO IR144' }), evn('A28'),
    pid({ ids: 'MRN-7002^^^ATTIKON', names: 'Коваленко^Андрій', dob: '20100909', sex: 'M' }),
    pv1({ cls: 'N' }),
  ], expect: { families: ['Коваленко'], given: 'Андрій' } },
  { name: 'A31 update of a Cyrillic person with phone and email', charset: 'utf-8', segments: [
    msh('A31', 'UA-0004'), evn('A31'),
    pid({ ids: 'MRN-7002^^^ATTIKON', names: 'Коваленко^Андрій', dob: '20100909', sex: 'M', phone: '+380501234567^PRN^CP~andrii@example.org^NET^Internet^andrii@example.org' }),
    pv1({ cls: 'N' }),
  ], expect: { families: ['Коваленко'] } },
  // ---- accented Latin ----
  { name: 'A01 Italian STP in ISO-8859-1 (8859/1)', charset: 'iso-8859-1', segments: [
    msh('A01', 'IT-0001', { charset: '8859/1', facility: 'ASL-PALERMO' }), evn('A01'),
    pid({ ids: 'STP1900010000123^^^STP', names: 'Diallo^Mamadou José', dob: '19990101', sex: 'M', address: 'Via Maqueda 10^^Palermo^PA^90133^ITA^C' }),
    pv1({ cls: 'I', visit: 'RIC-1^^^ASL-PALERMO' }),
  ], expect: { families: ['Diallo'], given: 'Mamadou José', identifiers: ['http://hl7.it/sid/stp|STP1900010000123'] } },
  { name: 'A04 Turkish names in ISO-8859-9 (8859/9)', charset: 'iso-8859-9', segments: [
    msh('A04', 'TR-0001', { charset: '8859/9' }), evn('A04'),
    pid({ ids: 'MRN-8001^^^ATTIKON', names: 'Özdemir^Ayşe^Gül', dob: '19900415', sex: 'F', lang: 'tur^Turkish^ISO639' }),
    pv1({ cls: 'O', visit: 'OP-8001^^^ATTIKON' }),
  ], expect: { families: ['Özdemir'], given: 'Ayşe', language: 'tr' } },
  { name: 'A28 Polish names in ISO-8859-2 (8859/2), PESEL', charset: 'iso-8859-2', segments: [
    msh('A28', 'PL-0001', { charset: '8859/2', facility: 'SZPITAL-RZESZOW' }), evn('A28'),
    pid({ ids: '90010112345^^^PESEL', names: 'Wójcik^Zofia^Łucja', dob: '19900101', sex: 'F' }),
    pv1({ cls: 'N' }),
  ], expect: { families: ['Wójcik'], given: 'Zofia' } },
  { name: 'A08 Croatian names in ISO-8859-2, MBO', charset: 'iso-8859-2', segments: [
    msh('A08', 'HR-0001', { charset: '8859/2', facility: 'KBC-ZAGREB' }), evn('A08'),
    pid({ ids: '123456789^^^MBO', names: 'Đurđević^Šime', dob: '19651111', sex: 'M' }),
    pv1({ cls: 'N' }),
  ], expect: { families: ['Đurđević'], identifiers: ['http://fhir.cezih.hr/specifikacije/identifikatori/MBO|123456789'] } },
  { name: 'A01 Vietnamese name in UTF-8', charset: 'utf-8', segments: [
    msh('A01', 'VN-0001'), evn('A01'),
    pid({ ids: 'MRN-9001^^^ATTIKON', names: 'Nguyễn^Thị^Hương', dob: '19950707', sex: 'F', lang: 'vie^Vietnamese^ISO639' }),
    pv1({ cls: 'I', visit: 'V-9001^^^ATTIKON' }),
  ], expect: { families: ['Nguyễn'], given: 'Thị', language: 'vi' } },
  { name: 'A04 German clinic, KVNR, umlauts', charset: 'utf-8', segments: [
    msh('A04', 'DE-0001', { facility: 'CHARITE' }), evn('A04'),
    pid({ ids: 'A123456780^^^KVNR', names: 'Schröder^Jürgen', dob: '19800229', sex: 'M', address: 'Müllerstraße 3^^Berlin^^13353^DEU^H' }),
    pv1({ cls: 'O', visit: 'FALL-1^^^CHARITE' }),
  ], expect: { families: ['Schröder'], identifiers: ['http://fhir.de/sid/gkv/kvid-10|A123456780'], birthDate: '1980-02-29' } },
  { name: 'A28 Swedish personnummer in ISO-8859-15', charset: 'iso-8859-15', segments: [
    msh('A28', 'SE-0001', { charset: '8859/15', facility: 'KAROLINSKA' }), evn('A28'),
    pid({ ids: '199001011234^^^PERSONNUMMER', names: 'Öberg^Åsa', dob: '19900101', sex: 'F' }),
    pv1({ cls: 'N' }),
  ], expect: { families: ['Öberg'], identifiers: ['urn:oid:1.2.752.129.2.1.3.1|199001011234'] } },
  { name: 'A31 Swedish samordningsnummer by OID', charset: 'utf-8', segments: [
    msh('A31', 'SE-0002', { facility: 'KAROLINSKA' }), evn('A31'),
    pid({ ids: '199001611234^^^&1.2.752.129.2.1.3.3&ISO', names: 'Yusuf^Abdi', dob: '19900101', sex: 'M', lang: 'som^Somali^ISO639' }),
    pv1({ cls: 'N' }),
  ], expect: { identifiers: ['urn:oid:1.2.752.129.2.1.3.3|199001611234'], language: 'so' } },
  { name: 'A01 Belgian BIS number, French accents', charset: 'utf-8', segments: [
    msh('A01', 'BE-0001', { facility: 'CHU-LIEGE' }), evn('A01'),
    pid({ ids: '90410112345^^^BIS', names: 'Lefèvre^Hélène', dob: '19900101', sex: 'F' }),
    pv1({ cls: 'I', visit: 'SEJ-1^^^CHU-LIEGE' }),
  ], expect: { families: ['Lefèvre'], identifiers: ['https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin|90410112345'] } },
  { name: 'A04 codice fiscale by ISO OID authority', charset: 'utf-8', segments: [
    msh('A04', 'IT-0002', { facility: 'ASL-ROMA1' }), evn('A04'),
    pid({ ids: 'RSSMRA80A01H501U^^^&2.16.840.1.113883.2.9.4.3.2&ISO^NI', names: 'Rossi^Mario', dob: '19800101', sex: 'M' }),
    pv1({ cls: 'O', visit: 'AMB-1^^^ASL-ROMA1' }),
  ], expect: { identifiers: ['http://hl7.it/sid/codiceFiscale|RSSMRA80A01H501U'] } },
  { name: 'A28 Croatia: foreigner without MBO, EHIC and passport', charset: 'utf-8', segments: [
    msh('A28', 'HR-0002', { facility: 'KBC-ZAGREB' }), evn('A28'),
    pid({ ids: '80385000000000012345^^^HR-EHIC~P998877^^^HR-PASSPORT^PPN', names: 'Karimi^Reza', dob: '19870606', sex: 'M' }),
    pv1({ cls: 'N' }),
  ], expect: { identifiers: ['http://fhir.cezih.hr/specifikacije/identifikatori/europska-kartica|80385000000000012345', 'http://fhir.cezih.hr/specifikacije/identifikatori/putovnica|P998877'] } },
  // ---- escape sequences ----
  { name: 'A08 escape sequences: \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ and \\X..\\ (UTF-8 bytes)', charset: 'utf-8', segments: [
    msh('A08', 'ESC-0001'), evn('A08'),
    'PID|1||MRN-ESC1^^^ATTIKON||Caf\\XC3A9\\ \\T\\ Co^Ann\\S\\Marie^^^^^L||19800101|F|||Flat 2\\F\\3 \\E\\ stairs \\R\\ B^^Paris^^75001^FRA^H',
    pv1({ cls: 'N' }),
  ], expect: { families: ['Café & Co'], given: 'Ann^Marie' } },
  { name: 'A28 \\X..\\ decoded in the message charset (ISO-8859-7: D3 is Σ)', charset: 'iso-8859-7', segments: [
    msh('A28', 'ESC-0002', { charset: '8859/7' }), evn('A28'),
    'PID|1||MRN-ESC2^^^ATTIKON||\\XD3\\ωτηρίου^Νίκος||19700101|M',
    pv1({ cls: 'N' }),
  ], expect: { families: ['Σωτηρίου'] } },
  // ---- guardians ----
  { name: 'A04 unaccompanied minor with a guardian (NK1 GRD) and an emergency contact', charset: 'utf-8', segments: [
    msh('A04', 'MIN-0001', { facility: 'SAMOS-CCAC' }), evn('A04'),
    pid({ ids: 'PA-2024-9999^^^PAAYPA', names: 'Haidari^Ali', dob: '2008', sex: 'M', lang: 'fas^Persian^ISO639' }),
    nk1(1, 'Nikolaou^Maria', 'GRD^Guardian^HL70063', '+302100000000^WPN^PH', 'C^Emergency Contact^HL70131'),
    nk1(2, 'Haidari^Hassan', 'BRO^Brother^HL70063'),
    pv1({ cls: 'O', visit: 'OP-MIN-1^^^SAMOS-CCAC' }),
  ], expect: { families: ['Haidari'], contacts: 2, language: 'fa' } },
  // ---- merges ----
  { name: 'A40 PAAYPA record merged into the AMKA record when protection is granted', charset: 'utf-8', segments: [
    msh('A40', 'MRG-0001', { facility: 'SAMOS-CCAC' }), evn('A40'),
    pid({ ids: '01010812345^^^AMKA', names: 'Haidari^Ali', dob: '2008', sex: 'M' }),
    mrg('PA-2024-9999^^^PAAYPA'),
  ], expect: { merge: true, identifiers: [`${AMKA}|01010812345`] } },
  { name: 'A40 two hospital numbers of one person', charset: 'utf-8', segments: [
    msh('A40', 'MRG-0002'), evn('A40'),
    pid({ ids: 'MRN-8001^^^ATTIKON', names: 'Özdemir^Ayşe' }),
    mrg('MRN-7001^^^ATTIKON'),
  ], expect: { merge: true } },
  { name: 'A34 (v2.3-era merge of patient ID only) of a record this server may not know', charset: 'utf-8', segments: [
    msh('A34', 'MRG-0003', { version: '2.3' }), evn('A34'),
    pid({ ids: 'MRN-8101^^^ATTIKON', names: 'Nazari^Hamid' }),
    mrg('MRN-7101^^^ATTIKON'),
  ], expect: { merge: true } },
  { name: 'A36 merge of patient ID and account: identity merged, account number reported', charset: 'utf-8', segments: [
    msh('A36', 'MRG-0004', { version: '2.4' }), evn('A36'),
    pid({ ids: 'MRN-8201^^^ATTIKON', names: 'Rahimi^Laila' }),
    mrg('MRN-7201^^^ATTIKON', 'ACC-55'),
  ], expect: { merge: true, warnings: ['MRG-3'] } },
  // ---- tolerance ----
  { name: 'impossible birth date: the patient is stored without it, with a warning', charset: 'utf-8', segments: [
    msh('A28', 'DOB-1'), pid({ ids: 'X1^^^ATTIKON', names: 'Doe^Jane', dob: '19901345' }),
  ], expect: { families: ['Doe'], absent: ['birthDate'], warnings: ['PID-7'] } },
  { name: 'birth date with unknown month and day written 00 (registration without papers)', charset: 'utf-8', segments: [
    msh('A04', 'DOB-2', { facility: 'LESVOS-RIC' }), evn('A04'), pid({ ids: 'PA-3001-2024^^^PAAYPA', names: 'Karimi^Omid', dob: '20070000', sex: 'M' }),
  ], expect: { birthDate: '2007', warnings: ['PID-7'] } },
  { name: 'birth date with unknown day written 00', charset: 'utf-8', segments: [
    msh('A28', 'DOB-3'), pid({ ids: 'X3^^^ATTIKON', names: 'Sesay^Aminata', dob: '19990600', sex: 'F' }),
  ], expect: { birthDate: '1999-06', warnings: ['PID-7'] } },
  { name: 'impossible admission time and death date: the visit and patient are kept without them', charset: 'utf-8', segments: [
    msh('A01', 'ADM-1'), evn('A01'),
    pid({ ids: 'X4^^^ATTIKON', names: 'Diallo^Mamadou', dob: '19800101', death: '20241301' }),
    pv1({ cls: 'I', visit: 'V-ADM-1^^^ATTIKON', admit: '202402301000', discharge: '202403121000+0100' }),
  ], expect: { absent: ['deceasedDateTime'], warnings: ['PID-29', 'PV1-44'], encounter: { status: 'finished', class: 'IMP' }, period: { end: '2024-03-12T10:00:00+01:00' } } },
  { name: 'A01 without MSH-18 (UTF-8 assumed), Arabic names', charset: 'utf-8', segments: [
    msh('A01', 'NOCS-0001', { charset: '' }), evn('A01'),
    pid({ ids: 'MRN-NOCS^^^ATTIKON', names: 'عبدالله^مريم', dob: '20000202', sex: 'F' }),
    pv1({ cls: 'I', visit: 'V-NOCS^^^ATTIKON' }),
  ], expect: { families: ['عبدالله'] } },
  { name: 'A08 v2.3.1 with LF line endings', charset: 'utf-8', separator: '\n', segments: [
    msh('A08', 'LF-0001', { version: '2.3.1', structure: '' }), evn('A08'),
    pid({ ids: 'MRN-LF^^^ATTIKON', names: 'Ivanova^Maria', dob: '19600101', sex: 'F' }),
    pv1({ cls: 'N' }),
  ], expect: { families: ['Ivanova'] } },
  { name: 'A01 with unmapped OBX and Z segments, race: reported as warnings', charset: 'utf-8', segments: [
    msh('A01', 'WARN-0001'), evn('A01'),
    'PID|1||MRN-WARN^^^ATTIKON||Mensah^Kwame||19910101|M||2054-5^Black^CDCREC',
    pv1({ cls: 'I', visit: 'V-WARN^^^ATTIKON' }),
    'OBX|1|NM|8302-2^Body height^LN||180|cm',
    'ZCA|1|camp-B',
  ], expect: { warnings: ['PID-10', 'OBX', 'ZCA'] } },
  { name: 'A03 discharge time without offset takes MSH-7\'s offset', charset: 'utf-8', segments: [
    msh('A03', 'TZ-0001', { ts: '20240312101500+0100' }), evn('A03'),
    pid({ ids: 'MRN-TZ^^^ATTIKON', names: 'Ba^Oumar' }),
    pv1({ cls: 'I', visit: 'V-TZ^^^ATTIKON', admit: '202403100800', discharge: '202403121000' }),
  ], expect: { encounter: { status: 'finished', class: 'IMP' } } },
  // ---- broken ----
  { name: 'no MSH segment', charset: 'utf-8', segments: [pid({ ids: 'X^^^A', names: 'A^B' })], expect: { ack: 'AR', errorAt: 'MSH' } },
  { name: 'bad delimiters in MSH-2', charset: 'utf-8', segments: ['MSH|^^\\&|HIS|X|||20240101||ADT^A01|BAD-1|P|2.5', pid({ ids: 'X^^^A', names: 'A^B' })], expect: { ack: 'AR', errorAt: 'MSH-2' } },
  { name: 'unsupported trigger event A05', charset: 'utf-8', segments: [msh('A05', 'EV-1'), pid({ ids: 'X^^^A', names: 'A^B' })], expect: { ack: 'AR', errorAt: 'MSH-9' } },
  { name: 'unsupported version 2.1', charset: 'utf-8', segments: [msh('A01', 'VER-1', { version: '2.1' }), pid({ ids: 'X^^^A', names: 'A^B' })], expect: { ack: 'AR', errorAt: 'MSH-12' } },
  { name: 'no PID segment', charset: 'utf-8', segments: [msh('A01', 'NOPID-1'), evn('A01'), pv1({ cls: 'I', visit: 'V1^^^X' })], expect: { ack: 'AE', errorAt: 'PID' } },
  { name: 'PID without identifiers', charset: 'utf-8', segments: [msh('A28', 'NOID-1'), pid({ ids: '', names: 'Doe^Jane' })], expect: { ack: 'AE', errorAt: 'PID-3' } },
  { name: 'ISO-8859-7 bytes declared as UTF-8', charset: 'iso-8859-7', segments: [msh('A28', 'CS-1'), pid({ ids: 'X1^^^ATTIKON', names: 'Αλεξίου^Δημήτρης' })], expect: { ack: 'AR', errorAt: 'MSH-18' } },
  { name: 'A40 without MRG', charset: 'utf-8', segments: [msh('A40', 'NOMRG-1'), evn('A40'), pid({ ids: 'X1^^^ATTIKON', names: 'Doe^Jane' })], expect: { ack: 'AE', errorAt: 'MRG' } },
];

export function bytesOf(f: Fixture): Buffer {
  return encode(f.segments.join(f.separator ?? '\r') + (f.separator ?? '\r'), f.charset);
}
