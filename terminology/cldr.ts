// Names of countries and languages in other languages, from the Unicode CLDR locale display
// names (npm cldr-localenames-full, pinned): the translations browsers and ICU use. Read at
// build time only; the server loads the generated package.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(require.resolve('cldr-localenames-full/package.json')), 'main');

/** The languages designations are given in: those of the receiving countries along the routes
 * and those of the main migrant groups (BCP-47 tags, as CLDR names its locales). */
export const DESIGNATION_LANGUAGES = ['de', 'fr', 'it', 'es', 'pt', 'nl', 'el', 'sv', 'pl', 'hr', 'sq', 'tr', 'uk', 'ru', 'ar', 'fa', 'fa-AF', 'ps', 'ur', 'bn', 'ku', 'ckb', 'ti', 'am', 'so'];

function names(locale: string, kind: 'languages' | 'territories'): Record<string, string> {
  const json = JSON.parse(readFileSync(join(root, locale, `${kind}.json`), 'utf8'));
  return json.main[locale].localeDisplayNames[kind];
}

/** code → [{language, value}] for every designation language that names the code. */
export function designations(kind: 'languages' | 'territories', codes: string[]): Map<string, { language: string; value: string }[]> {
  const out = new Map<string, { language: string; value: string }[]>(codes.map((c) => [c, []]));
  for (const locale of DESIGNATION_LANGUAGES) {
    const table = names(locale, kind);
    for (const code of codes) {
      const value = table[code];
      if (value) out.get(code)!.push({ language: locale, value });
    }
  }
  return out;
}

export function englishName(kind: 'languages' | 'territories', code: string): string | undefined {
  return names('en', kind)[code];
}

export const CLDR_VERSION: string = JSON.parse(readFileSync(join(root, '..', 'package.json'), 'utf8')).version;
