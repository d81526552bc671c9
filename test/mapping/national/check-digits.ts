// Test data generators: the check digit (or letter) that completes a national number. Found by
// trying each candidate against the server's own rule (src/mapping/national/checks.ts), so
// a fixture is valid exactly when the adapter accepts it; the Luhn digit (personnummer, AMKA) is
// computed here directly, an independent oracle for the rule that checks it.
import { codiceFiscale, kvnr, oib, pesel, type Check } from '../../../src/mapping/national/checks.ts';

function completeWith(check: Check, prefix: string, candidates: string, what: string): string {
  for (const c of candidates) if (!check(prefix + c)) return prefix + c;
  throw new Error(`no ${what} check character completes ${prefix}`);
}

const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export const complete = {
  kvnr: (prefix9: string) => completeWith(kvnr, prefix9, DIGITS, 'KVNR'),
  pesel: (prefix10: string) => completeWith(pesel, prefix10, DIGITS, 'PESEL'),
  oib: (prefix10: string) => completeWith(oib, prefix10, DIGITS, 'OIB'),
  codiceFiscale: (prefix15: string) => completeWith(codiceFiscale, prefix15, LETTERS, 'codice fiscale'),
  /** the Luhn digit computed forwards (the server's rule verifies it backwards) */
  luhn(prefix: string): string {
    const sum = [...prefix].reverse().reduce((s, c, i) => {
      const d = Number(c) * (i % 2 === 0 ? 2 : 1);
      return s + (d > 9 ? d - 9 : d);
    }, 0);
    return prefix + ((10 - (sum % 10)) % 10);
  },
};
