// The HL7 v2 benches' feed (scripts/bench/hl7v2.ts over MLLP, scripts/bench/hl7v2-writes.ts in
// process): ADT messages from one hospital, 60 % A04 registrations (patient + encounter), 30 %
// A08 updates and 10 % A03 discharges of a patient registered 104 messages earlier. The first
// 100 are registrations, so that every update finds its patient.

const FAMILIES = ['Παπαδοπούλου', 'الحسن', 'Шевченко', 'Özdemir', 'Nguyễn', 'Đurđević', 'Haidari', 'Diallo'];
const GIVENS = ['Ελένη', 'محمد', 'Олена', 'Ayşe', 'Thị', 'Šime', 'Ali', 'Mamadou'];

/** Whether message n registers a patient (an A04). */
export function isRegistration(n: number): boolean {
  return n % 10 < 6 || n < 100;
}

/** Message n of the feed, as ER7 text (segments separated by \r). */
export function message(n: number): string {
  const kind = isRegistration(n) ? 'A04' : n % 10 < 9 ? 'A08' : 'A03';
  // updates and discharges refer to a registration 104 messages earlier (an A04: n - 104 ends in
  // 2 to 5), sent on the same connection when there are 4 (so applied before), else long before
  const person = kind === 'A04' ? n : n - 104;
  const ts = `202403${String(10 + (n % 18)).padStart(2, '0')}101500+0200`;
  const pid = `PID|1||MRN${person}^^^ATTIKON^MR~PA-${person}^^^PAAYPA||${FAMILIES[person % 8]}^${GIVENS[person % 8]}^^^^^L||19${50 + (person % 50)}0${1 + (person % 9)}15|${person % 2 ? 'F' : 'M'}|||Οδός ${person}^^Αθήνα^^10551^GRC^H||+30691${String(person).padStart(7, '0')}^PRN^CP||ara^Arabic^ISO639|||||||||SYR^Syria^ISO3166`;
  const pv1 = `PV1|1|O|CLINIC^${person % 20}^^ATTIKON||||||||||||||||V${person}^^^ATTIKON^VN|||||||||||||||||||||||||${ts}${kind === 'A03' ? `|${ts}` : ''}`;
  return [`MSH|^~\\&|HIS|ATTIKON|MIGFHIR|EU|${ts}||ADT^${kind}^ADT_A01|B${n}|P|2.5|||AL|NE||UNICODE UTF-8`, `EVN|${kind}|${ts}`, pid, pv1].join('\r');
}
