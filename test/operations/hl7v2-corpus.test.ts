// A corpus of ADT messages as hospitals send them (after HL7 v2.5 chapter 3 and IHE PAM
// examples and the conventions of Greek, Italian, German, Swedish and Polish hospitals): local
// codes, guardians of unaccompanied minors, Z-segments, merges of unknown records, sender URIs
// and OIDs, several character sets. Each message states the FHIR facts it must produce; the
// test prints the fraction of facts found and requires at least 95%.
import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';
import { encode } from '../mapping/hl7v2/fixtures.ts';
import type { FastifyInstance } from 'fastify';

interface Fact {
  /** a search that finds the resource, e.g. Patient?identifier=… */
  find: string;
  /** dotted path; [n] picks an element, [url=…] an extension */
  path: string;
  value: unknown;
}
interface CorpusMessage {
  name: string;
  charset: string;
  segments: string[];
  facts: Fact[];
}

const AMKA = 'https://migfhir.org/fhir/sid/gr-amka';
const LOCAL = (f: string, table: string) => `https://migfhir.org/fhir/CodeSystem/hl7v2-local/${f}/${table}`;
const MS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
const P = (system: string, value: string) => `Patient?identifier=${encodeURIComponent(`${system}|${value}`)}`;
const MRN = (f: string, v: string) => P(`https://migfhir.org/fhir/sid/hl7v2-authority/${f}`, v);
const E = (f: string, v: string) => `Encounter?identifier=${encodeURIComponent(`https://migfhir.org/fhir/sid/hl7v2-authority/${f}|${v}`)}`;
/** A segment from its fields by number, so each value sits where HL7 v2.5 puts it. */
const seg = (name: string, fields: Record<number, string>) => [name, ...Array.from({ length: Math.max(...Object.keys(fields).map(Number)) }, (_, i) => fields[i + 1] ?? '')].join('|');
const MSH = (facility: string, event: string, id: string, charset: string, structure = 'ADT_A01') => `MSH|^~\\&|HIS|${facility}|MIGFHIR|EU|20240402093000+0200||ADT^${event}^${structure}|${id}|P|2.5|||AL|NE||${charset}`;

const CORPUS: CorpusMessage[] = [
  { name: 'GR A01 emergency admission, ISO-8859-7, local service EMR', charset: 'iso-8859-7', segments: [
    MSH('ATTIKON', 'A01', 'C-GR-1', '8859/7'), 'EVN|A01|20240402092500+0200',
    'PID|1||GR-100^^^ATTIKON^MR~01010512345^^^AMKA||Καραμανλή^Ελένη^^^^^L||20050101|F|||Λεωφ. Αλεξάνδρας 12^^Αθήνα^^11521^GRC^H||+302101234567^PRN^PH|||S',
    'PV1|1|E|ER^1^1^ATTIKON|||||||EMR^Emergency dept|||||||||GR-V100^^^ATTIKON',
  ], facts: [
    { find: P(AMKA, '01010512345'), path: 'name.0.given.0', value: 'Ελένη' },
    { find: P(AMKA, '01010512345'), path: 'birthDate', value: '2005-01-01' },
    { find: P(AMKA, '01010512345'), path: 'gender', value: 'female' },
    { find: P(AMKA, '01010512345'), path: 'address.0.city', value: 'Αθήνα' },
    { find: P(AMKA, '01010512345'), path: 'telecom.0.value', value: '+302101234567' },
    { find: E('ATTIKON', 'GR-V100'), path: 'class.code', value: 'EMER' },
    { find: E('ATTIKON', 'GR-V100'), path: 'serviceType.coding.0.system', value: LOCAL('ATTIKON', '0069') },
    { find: E('ATTIKON', 'GR-V100'), path: 'serviceType.coding.0.code', value: 'EMR' },
  ] },
  { name: 'GR A04 unaccompanied minor, guardian organisation, ZMI status and interpreter', charset: 'utf-8', segments: [
    MSH('ATTIKON', 'A04', 'C-GR-2', 'UNICODE UTF-8'), 'EVN|A04|20240402093000+0200',
    'PID|1||GR-200^^^ATTIKON^MR||Ahmadi^Reza||20090315|M|||||||||||||||||AFG^Afghanistan^ISO3166',
    'NK1|1||GRD^Guardian^HL70063||||O^Other^HL70131||||||Ελληνικό Συμβούλιο για τους Πρόσφυγες|||||||||||||||||Nikolaou^Maria|+302103800990^WPN^PH',
    'PV1|1|O|PED^^^ATTIKON|||||||PED^Paediatrics|||||||||GR-V200^^^ATTIKON',
    'ZMI|1|ASY|Y|prs',
  ], facts: [
    { find: MRN('ATTIKON', 'GR-200'), path: 'contact.0.organization.display', value: 'Ελληνικό Συμβούλιο για τους Πρόσφυγες' },
    { find: MRN('ATTIKON', 'GR-200'), path: 'contact.0.name.family', value: 'Nikolaou' },
    { find: MRN('ATTIKON', 'GR-200'), path: 'contact.0.telecom.0.value', value: '+302103800990' },
    { find: MRN('ATTIKON', 'GR-200'), path: 'contact.0.relationship.1.coding.1.code', value: 'GUARD' },
    { find: MRN('ATTIKON', 'GR-200'), path: `extension.[url=${MS}].extension.0.valueCodeableConcept.coding.0.code`, value: 'asylum-applicant' },
    { find: MRN('ATTIKON', 'GR-200'), path: 'extension.[url=http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired].valueBoolean', value: true },
    { find: MRN('ATTIKON', 'GR-200'), path: 'communication.0.language.coding.0.code', value: 'prs' },
    { find: MRN('ATTIKON', 'GR-200'), path: 'meta.security.1.code', value: 'migration' },
    { find: E('ATTIKON', 'GR-V200'), path: 'serviceType.coding.0.code', value: 'PED' },
  ] },
  { name: 'IT A01 STP patient, sender OID for the hospital MRN, ISO-8859-1, local service OBS', charset: 'iso-8859-1', segments: [
    MSH('SANTORSOLA', 'A01', 'C-IT-1', '8859/1'), 'EVN|A01|20240402093000+0200',
    'PID|1||IT-77^^^SOSB&2.16.840.1.113883.2.9.2.80.3.1&ISO^PI~STP0300012345678^^^STP^JHN||Nwosu^Chiamaka||19970707|F|||Via Zamboni 33^^Bologna^BO^40126^ITA^H',
    'PV1|1|I|OST^12^2^SANTORSOLA|||||||OBS^Ostetricia|||||||||IT-V1^^^SANTORSOLA',
  ], facts: [
    { find: P('urn:oid:2.16.840.1.113883.2.9.2.80.3.1', 'IT-77'), path: 'name.0.family', value: 'Nwosu' },
    { find: P('http://hl7.it/sid/stp', 'STP0300012345678'), path: 'birthDate', value: '1997-07-07' },
    { find: P('http://hl7.it/sid/stp', 'STP0300012345678'), path: 'address.0.city', value: 'Bologna' },
    { find: E('SANTORSOLA', 'IT-V1'), path: 'serviceType.coding.0.system', value: LOCAL('SANTORSOLA', '0069') },
    { find: E('SANTORSOLA', 'IT-V1'), path: 'serviceType.coding.0.display', value: 'Ostetricia' },
    { find: E('SANTORSOLA', 'IT-V1'), path: 'class.code', value: 'IMP' },
  ] },
  { name: 'DE A04 KVNR, sender URI for its MRN, ISO-8859-1 umlauts, local marital code', charset: 'iso-8859-1', segments: [
    MSH('CHARITE', 'A04', 'C-DE-1', '8859/1'), 'EVN|A04|20240402093000+0200',
    'PID|1||DE-5^^^CHARITE&https://charite.de/sid/pid&URI^PI~A123456780^^^KVNR||Müller^Jürgen||19800229|M|||Straße des 17. Juni 1^^Berlin^^10623^DEU^H||||tur^Turkish^ISO639|V',
  ], facts: [
    { find: P('https://charite.de/sid/pid', 'DE-5'), path: 'name.0.family', value: 'Müller' },
    { find: P('http://fhir.de/sid/gkv/kvid-10', 'A123456780'), path: 'address.0.line.0', value: 'Straße des 17. Juni 1' },
    { find: P('http://fhir.de/sid/gkv/kvid-10', 'A123456780'), path: 'communication.0.language.coding.0.code', value: 'tr' },
    { find: P('http://fhir.de/sid/gkv/kvid-10', 'A123456780'), path: 'maritalStatus.coding.0.system', value: LOCAL('CHARITE', '0002') },
    { find: P('http://fhir.de/sid/gkv/kvid-10', 'A123456780'), path: 'birthDate', value: '1980-02-29' },
  ] },
  { name: 'SE A28 samordningsnummer and LMA card Z-segment, UTF-8', charset: 'utf-8', segments: [
    MSH('KAROLINSKA', 'A28', 'C-SE-1', 'UNICODE UTF-8', 'ADT_A05'), 'EVN|A28|20240402093000+0200',
    'PID|1||198803622391^^^SAMNR||Hassan^Amina||19880302|F|||Sveavägen 1^^Stockholm^^11157^SWE^H',
    'ZLM|87654321',
  ], facts: [
    { find: P('urn:oid:1.2.752.129.2.1.3.3', '198803622391'), path: 'name.0.family', value: 'Hassan' },
    { find: P('https://migfhir.org/fhir/sid/se-lma', '87654321'), path: 'address.0.city', value: 'Stockholm' },
    { find: P('https://migfhir.org/fhir/sid/se-lma', '87654321'), path: `extension.[url=${MS}].extension.0.valueCodeableConcept.coding.0.code`, value: 'asylum-applicant' },
    { find: P('https://migfhir.org/fhir/sid/se-lma', '87654321'), path: `extension.[url=${MS}].extension.1.valueCodeableConcept.coding.0.code`, value: 'SE' },
  ] },
  { name: 'PL A01 PESEL, ISO-8859-2, Ukrainian citizen, local admission type', charset: 'iso-8859-2', segments: [
    MSH('SZPITAL-LUBLIN', 'A01', 'C-PL-1', '8859/2'), 'EVN|A01|20240402093000+0200',
    seg('PID', { 1: '1', 3: '22222222222^^^PESEL', 5: 'Kowalczyk^Małgorzata', 7: '19750606', 8: 'F', 11: 'ul. Łąkowa 5^^Lublin^^20-001^POL^H', 26: 'UKR^Ukraine^ISO3166' }),
    seg('PV1', { 1: '1', 2: 'I', 3: 'INT^3^1^SZPITAL-LUBLIN', 4: 'PLN^Planowe', 10: 'INT^Interna', 19: 'PL-V1^^^SZPITAL-LUBLIN' }),
  ], facts: [
    { find: P('urn:oid:2.16.840.1.113883.3.4424.1.1.616', '22222222222'), path: 'name.0.family', value: 'Kowalczyk' },
    { find: P('urn:oid:2.16.840.1.113883.3.4424.1.1.616', '22222222222'), path: 'address.0.line.0', value: 'ul. Łąkowa 5' },
    { find: P('urn:oid:2.16.840.1.113883.3.4424.1.1.616', '22222222222'), path: 'extension.0.extension.0.valueCodeableConcept.coding.0.code', value: 'UKR' },
    { find: E('SZPITAL-LUBLIN', 'PL-V1'), path: 'type.0.coding.0.system', value: LOCAL('SZPITAL-LUBLIN', '0007') },
    { find: E('SZPITAL-LUBLIN', 'PL-V1'), path: 'serviceType.coding.0.code', value: 'INT' },
  ] },
  { name: 'PL A03 discharge of the same visit', charset: 'iso-8859-2', segments: [
    MSH('SZPITAL-LUBLIN', 'A03', 'C-PL-2', '8859/2', 'ADT_A03'), 'EVN|A03|20240405120000+0200',
    'PID|1||22222222222^^^PESEL||Kowalczyk^Małgorzata',
    seg('PV1', { 1: '1', 2: 'I', 3: 'INT^3^1^SZPITAL-LUBLIN', 19: 'PL-V1^^^SZPITAL-LUBLIN', 36: '01^Home', 44: '20240402090000+0200', 45: '20240405120000+0200' }),
  ], facts: [
    { find: E('SZPITAL-LUBLIN', 'PL-V1'), path: 'status', value: 'finished' },
    { find: E('SZPITAL-LUBLIN', 'PL-V1'), path: 'period.end', value: '2024-04-05T12:00:00+02:00' },
    { find: E('SZPITAL-LUBLIN', 'PL-V1'), path: 'hospitalization.dischargeDisposition.coding.0.code', value: '01' },
  ] },
  { name: 'GR A08 update keeps what it does not carry', charset: 'utf-8', segments: [
    MSH('ATTIKON', 'A08', 'C-GR-3', 'UNICODE UTF-8', 'ADT_A01'), 'EVN|A08|20240403093000+0200',
    'PID|1||01010512345^^^AMKA||Καραμανλή-Παππά^Ελένη^^^^^L',
  ], facts: [
    { find: P(AMKA, '01010512345'), path: 'name.0.family', value: 'Καραμανλή-Παππά' },
    { find: P(AMKA, '01010512345'), path: 'telecom.0.value', value: '+302101234567' },
  ] },
  { name: 'GR A40 merging a record this server never saw', charset: 'utf-8', segments: [
    MSH('ATTIKON', 'A40', 'C-GR-4', 'UNICODE UTF-8', 'ADT_A39'), 'EVN|A40|20240404093000+0200',
    'PID|1||GR-100^^^ATTIKON^MR||Καραμανλή-Παππά^Ελένη',
    'MRG|GR-OLD-9^^^ATTIKON^MR',
  ], facts: [
    { find: MRN('ATTIKON', 'GR-OLD-9'), path: 'active', value: false },
    { find: MRN('ATTIKON', 'GR-OLD-9'), path: 'link.0.type', value: 'replaced-by' },
    { find: P(AMKA, '01010512345'), path: 'link.0.type', value: 'replaces' },
  ] },
  { name: 'DE A31 person update with next of kin and local relationship code', charset: 'utf-8', segments: [
    MSH('CHARITE', 'A31', 'C-DE-2', 'UNICODE UTF-8', 'ADT_A05'), 'EVN|A31|20240404093000+0200',
    'PID|1||A123456780^^^KVNR||Müller^Jürgen',
    'NK1|1|Müller^Ayşe|EHE^Ehefrau|||+49301234^PRN^CP',
  ], facts: [
    { find: P('http://fhir.de/sid/gkv/kvid-10', 'A123456780'), path: 'contact.0.name.family', value: 'Müller' },
    { find: P('http://fhir.de/sid/gkv/kvid-10', 'A123456780'), path: 'contact.0.relationship.0.coding.0.system', value: LOCAL('CHARITE', '0063') },
    { find: P('http://fhir.de/sid/gkv/kvid-10', 'A123456780'), path: 'contact.0.telecom.0.use', value: 'mobile' },
  ] },
];

function at(value: unknown, path: string): unknown {
  let v: any = value;
  for (const step of path.split('.').reduce<string[]>((acc, s) => {
    // keep "[url=…]" whole although URLs contain dots
    if (acc.length && acc[acc.length - 1].startsWith('[') && !acc[acc.length - 1].endsWith(']')) acc[acc.length - 1] += `.${s}`;
    else acc.push(s);
    return acc;
  }, [])) {
    if (v === undefined || v === null) return undefined;
    const url = /^\[url=(.*)\]$/.exec(step);
    v = url ? (v as any[]).find((e) => e.url === url[1]) : v[/^\d+$/.test(step) ? Number(step) : step];
  }
  return v;
}

async function ingest(app: FastifyInstance, m: CorpusMessage) {
  const res = await app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': 'x-application/hl7-v2+er7', accept: 'x-application/hl7-v2+er7' }, payload: encode(`${m.segments.join('\r')}\r`, m.charset) });
  return /\rMSA\|([A-Z]{2})/.exec(res.body)?.[1];
}

t.test('the realistic-message corpus: every message accepted, at least 95% of the facts mapped', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  let found = 0;
  let total = 0;
  for (const m of CORPUS) {
    t.equal(await ingest(app, m), 'AA', `${m.name}: accepted`);
  }
  // facts are read after the whole corpus: later messages (A08, A03, A40) update earlier ones
  for (const m of CORPUS) {
    for (const f of m.facts) {
      total++;
      const bundle = (await fhir(app, 'GET', `/fhir/${f.find}`)).body;
      const got = at(bundle?.entry?.[0]?.resource, f.path);
      if (got === f.value) found++;
      else t.comment(`missing: ${m.name}: ${f.path} = ${JSON.stringify(got)}, expected ${JSON.stringify(f.value)}`);
    }
  }
  const fraction = found / total;
  t.comment(`HL7 v2 corpus: ${found}/${total} facts mapped (${(100 * fraction).toFixed(1)}%) over ${CORPUS.length} messages`);
  t.ok(fraction >= 0.95, `at least 95% of the facts mapped (${(100 * fraction).toFixed(1)}%)`);
});
