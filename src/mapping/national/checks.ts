// Format and check-digit rules of national identifiers. A national adapter refuses an
// identifier that fails its rule (422 naming the element) instead of storing a mistyped number
// under a national system, where it would match the wrong person or nobody. Each rule is the
// issuing authority's published algorithm; the message never echoes the value.

export type Check = (value: string) => string | undefined;

const digits = (s: string) => [...s].map(Number);

/** Luhn (mod 10, weights 2-1 from the right), as personnummer and AMKA use it. */
function luhnValid(s: string): boolean {
  let sum = 0;
  [...s].reverse().forEach((c, i) => {
    let d = Number(c) * (i % 2 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  });
  return sum % 10 === 0;
}

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** KVNR: a letter and 9 digits; the letter as 01-26, weights 1-2-1-2…, cross sums, mod 10. */
export const kvnr: Check = (v) => {
  if (!/^[A-Z]\d{9}$/.test(v)) return 'a KVNR is one capital letter and 9 digits';
  const ds = digits(String(v.charCodeAt(0) - 64).padStart(2, '0') + v.slice(1, 9));
  const sum = ds.reduce((s, d, i) => {
    const p = d * (i % 2 ? 2 : 1);
    return s + (p > 9 ? p - 9 : p);
  }, 0);
  return sum % 10 === Number(v[9]) ? undefined : 'the KVNR check digit does not match';
};

/** PESEL: 11 digits, birth date with the century in the month (+80 1800s, +20 2000s…), weights 1-3-7-9. */
export const pesel: Check = (v) => {
  if (!/^\d{11}$/.test(v)) return 'a PESEL is 11 digits';
  const d = digits(v);
  const sum = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3].reduce((s, w, i) => s + w * d[i], 0);
  if ((10 - (sum % 10)) % 10 !== d[10]) return 'the PESEL check digit does not match';
  const mm = d[2] * 10 + d[3];
  const century = [1900, 2000, 2100, 2200, 1800][Math.floor(mm / 20)];
  return validDate(century + d[0] * 10 + d[1], mm % 20, d[4] * 10 + d[5]) ? undefined : 'the PESEL does not begin with a valid birth date';
};

/** Personnummer and samordningsnummer (12 digits YYYYMMDDNNNC; day + 60 for a samordningsnummer). */
function swedish(v: string, coordination: boolean): string | undefined {
  const what = coordination ? 'samordningsnummer' : 'personnummer';
  if (!/^\d{12}$/.test(v)) return `a ${what} is 12 digits (YYYYMMDDNNNC)`;
  const day = Number(v.slice(6, 8));
  if (coordination !== day > 60) return coordination ? 'a samordningsnummer has the birth day + 60' : 'a personnummer with the birth day + 60 is a samordningsnummer';
  if (!validDate(Number(v.slice(0, 4)), Number(v.slice(4, 6)), coordination ? day - 60 : day)) return `the ${what} does not begin with a valid birth date`;
  return luhnValid(v.slice(2)) ? undefined : `the ${what} check digit does not match`;
}
export const personnummer: Check = (v) => swedish(v, false);
export const samordningsnummer: Check = (v) => swedish(v, true);

/** OIB: 11 digits, ISO 7064 MOD 11,10. */
export const oib: Check = (v) => {
  if (!/^\d{11}$/.test(v)) return 'an OIB is 11 digits';
  let a = 10;
  for (const d of digits(v.slice(0, 10))) {
    a = (a + d) % 10 || 10;
    a = (a * 2) % 11;
  }
  return (11 - a) % 10 === Number(v[10]) ? undefined : 'the OIB check digit does not match';
};

export const mbo: Check = (v) => (/^\d{9}$/.test(v) ? undefined : 'an MBO is 9 digits');
export const ehic: Check = (v) => (/^\d{20}$/.test(v) ? undefined : 'a European Health Insurance Card number is 20 digits');

/** AMKA: 11 digits, birth date DDMMYY first, Luhn check digit last. */
export const amka: Check = (v) => {
  if (!/^\d{11}$/.test(v)) return 'an AMKA is 11 digits';
  const dd = Number(v.slice(0, 2));
  const mm = Number(v.slice(2, 4));
  if (!validDate(2000, mm, dd)) return 'the AMKA does not begin with a valid birth date (DDMMYY)';
  return luhnValid(v) ? undefined : 'the AMKA check digit does not match';
};

// codice fiscale: characters in odd positions (1st, 3rd…) weigh by this table, even ones by their rank
const CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
const cfRank = (c: string) => (/\d/.test(c) ? Number(c) : c.charCodeAt(0) - 65);
export const codiceFiscale: Check = (v) => {
  if (!/^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/.test(v)) return 'a codice fiscale is 16 characters (6 letters, birth year, month letter, day, place code, check letter)';
  let sum = 0;
  for (let i = 0; i < 15; i++) sum += i % 2 ? cfRank(v[i]) : CF_ODD[cfRank(v[i])];
  return String.fromCharCode(65 + (sum % 26)) === v[15] ? undefined : 'the codice fiscale check letter does not match';
};

/** STP and ENI: the prefix, the 3-character ISTAT region, the 3-character ASL, a 7-digit sequence. */
export const stp: Check = (v) => (/^STP[0-9A-Z]{6}\d{7}$/.test(v) ? undefined : 'an STP code is STP, the region and ASL codes (6 characters) and 7 digits');
export const eni: Check = (v) => (/^ENI[0-9A-Z]{6}\d{7}$/.test(v) ? undefined : 'an ENI code is ENI, the region and ASL codes (6 characters) and 7 digits');

export const CHECKS = { kvnr, pesel, personnummer, samordningsnummer, oib, mbo, ehic, amka, codiceFiscale, stp, eni } as const;
export type CheckName = keyof typeof CHECKS;
