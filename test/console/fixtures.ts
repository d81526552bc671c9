// What the console tests add to the demo population (src/cli/demo-population.json): people
// named in Persian and Urdu script, a duplicate record for the registrar to merge, and
// encounters of Patient/demo-amal in the countries of her journey, at clinics with an address.
import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4.js';

const put = (resource: FhirResource): BundleEntry => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } });

export const PERSIAN_NAME = 'زهرا احمدی';
export const URDU_NAME = 'عائشہ خان';

export const CONSOLE_FIXTURES: Bundle = {
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    put({ resourceType: 'Patient', id: 'console-zahra', name: [{ text: PERSIAN_NAME, family: 'احمدی', given: ['زهرا'] }, { family: 'Ahmadi', given: ['Zahra'] }], gender: 'female', birthDate: '1994-05-02' }),
    // the same woman registered again at another desk, with her name in Latin script only
    put({ resourceType: 'Patient', id: 'console-zahra-2', name: [{ family: 'Ahmadi', given: ['Zahra'] }], gender: 'female', birthDate: '1994-05-02' }),
    put({ resourceType: 'Patient', id: 'console-aisha', name: [{ text: URDU_NAME, family: 'خان', given: ['عائشہ'] }, { family: 'Khan', given: ['Aisha'] }], gender: 'female', birthDate: '1988-11-20' }),
    put({ resourceType: 'Organization', id: 'console-izmir', name: 'Migrant health centre, Izmir', address: [{ city: 'Izmir', country: 'TR' }] }),
    put({ resourceType: 'Organization', id: 'console-mytilene', name: 'General hospital, Mytilene', address: [{ city: 'Mytilene', country: 'GR' }] }),
    put({
      resourceType: 'Encounter', id: 'console-amal-tr', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      subject: { reference: 'Patient/demo-amal' }, period: { start: '2025-12-10T09:00:00Z', end: '2025-12-10T10:00:00Z' }, serviceProvider: { reference: 'Organization/console-izmir' },
    }),
    put({
      resourceType: 'Encounter', id: 'console-amal-gr', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER', display: 'emergency' },
      subject: { reference: 'Patient/demo-amal' }, period: { start: '2026-02-28T14:00:00Z', end: '2026-02-28T18:00:00Z' }, serviceProvider: { reference: 'Organization/console-mytilene' },
    }),
  ],
};

/** The seed's A01 of Mohammed Al-Hassan (src/cli/demo-population.json), as pasted by the engineer. */
export const AR_0001 = [
  'MSH|^~\\&|HIS|EVANGELISMOS|MIGFHIR|EU|20240312101500+0200||ADT^A01^ADT_A01|AR-0001|P|2.5|||AL|NE||UNICODE UTF-8',
  'EVN|A01|20240312101500+0200||||20240312101500+0200',
  'PID|1||N012345678^^^SYR^PPN~EV-9981^^^EVANGELISMOS^MR||الحسن^محمد^^^^^L^I~Al-Hassan^Mohammed^^^^^L^A||19920704|M|||||||ara^Arabic^ISO639||||||||حلب|||SYR^Syria^ISO3166||SYR^Syria^ISO3166|',
  'PV1|1|E|||||||||||||||||ER-2024-77^^^EVANGELISMOS||||||||||||||||||||||||||',
].join('\n');

/** A person registered at a reception centre (A28), and an update of her record (A08). */
export const DUPLICATE_A28 = [
  'MSH|^~\\&|HIS|SAMOS|MIGFHIR|EU|20260301090000+0200||ADT^A28^ADT_A05|DUP-0001|P|2.5|||AL|NE||UNICODE UTF-8',
  'EVN|A28|20260301090000+0200',
  'PID|1||SM-5120^^^SAMOS^MR||Haidari^Maryam||19970214|F',
].join('\r');
export const DUPLICATE_A08 = [
  'MSH|^~\\&|HIS|SAMOS|MIGFHIR|EU|20260302100000+0200||ADT^A08^ADT_A01|DUP-0002|P|2.5|||AL|NE||UNICODE UTF-8',
  'EVN|A08|20260302100000+0200',
  'PID|1||SM-5120^^^SAMOS^MR||Haidari^Maryam||19970214|F|||Vathy camp^^Samos^^83100^GRC^C',
].join('\r');
