// Test data generators: the check digit (or letter) that completes a national number. Found by
// trying each candidate against the server's own rule (src/mapping/national/checks.ts), so
// a fixture is valid exactly when the adapter accepts it; Luhn is written out here, as an
// independent oracle for the personnummer and AMKA rules that use it.
import { codiceFiscale, kvnr, oib, pesel, type Check } from '../../../src/mapping/national/checks.ts';

function completeWith(check: Check, prefix: string, candidates: string, what: string): string {
  for (const c of candidates) if (!check(prefix + c)) return prefix + c;
  throw new Error(`no ${what} check character completes ${prefix}`);
}

const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function luhnValid(s: string): boolean {
  let sum = 0;
  [...s].reverse().forEach((c, i) => {
    let d = Number(c) * (i % 2 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  });
  return sum % 10 === 0;
}

export const complete = {
  kvnr: (prefix9: string) => completeWith(kvnr, prefix9, DIGITS, 'KVNR'),
  pesel: (prefix10: string) => completeWith(pesel, prefix10, DIGITS, 'PESEL'),
  oib: (prefix10: string) => completeWith(oib, prefix10, DIGITS, 'OIB'),
  codiceFiscale: (prefix15: string) => completeWith(codiceFiscale, prefix15, LETTERS, 'codice fiscale'),
  luhn(prefix: string): string {
    for (const d of DIGITS) if (luhnValid(prefix + d)) return prefix + d;
    throw new Error('no Luhn digit');
  },
};
