// Countries: every current ISO 3166-1 code, alpha-2 and alpha-3, generated (never typed in) from
// the pinned npm package i18n-iso-countries (the code list and the alpha-2/alpha-3 pairs, kept
// up to date with the ISO 3166 Maintenance Agency's changes), with the ISO English short name as
// display and CLDR names in the designation languages. Both code forms belong to the one system
// urn:iso:std:iso:3166 (FHIR R4 terminologies: ISO 3166). The ISO content is referenced, not
// redefined: the value set enumerates codes; no CodeSystem for urn:iso:std:iso:3166 is shipped.
import { createRequire } from 'node:module';
import type { ValueSet, ValueSetComposeIncludeConcept } from 'fhir/r4.js';
import { meta } from '../src/ig/canonical.ts';
import { CLDR_VERSION, DESIGNATION_LANGUAGES, designations } from './cldr.ts';

const require = createRequire(import.meta.url);
const countries = require('i18n-iso-countries') as typeof import('i18n-iso-countries');
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));
const VERSION: string = require('i18n-iso-countries/package.json').version;

export const ISO3166 = 'urn:iso:std:iso:3166';
/** user-assigned codes the package carries that are not ISO 3166-1 codes (XK: Kosovo) */
const NOT_ISO = new Set(['XK']);

export function countryValueSet(): ValueSet {
  const alpha2 = Object.keys(countries.getAlpha2Codes()).filter((c) => !NOT_ISO.has(c)).sort();
  const names = designations('territories', alpha2);
  const concepts: ValueSetComposeIncludeConcept[] = [];
  for (const code of alpha2) {
    const display = countries.getName(code, 'en', { select: 'official' })!;
    const designation = names.get(code)!;
    concepts.push({ code, display, ...(designation.length ? { designation } : {}) });
  }
  for (const code of alpha2) {
    const a3 = countries.alpha2ToAlpha3(code)!;
    const designation = names.get(code)!;
    concepts.push({ code: a3, display: countries.getName(code, 'en', { select: 'official' })!, ...(designation.length ? { designation } : {}) });
  }
  return {
    ...meta('ValueSet', 'countries', 'Countries', `All current ISO 3166-1 country codes, alpha-2 and alpha-3 (${alpha2.length} countries), with names in ${DESIGNATION_LANGUAGES.length} other languages. Generated from i18n-iso-countries ${VERSION} (codes, English names) and Unicode CLDR ${CLDR_VERSION} (designations); Kosovo's user-assigned XK is not an ISO 3166-1 code and is not included.`, 'Countries (ISO 3166-1 alpha-2 and alpha-3)'),
    copyright: 'ISO 3166-1 codes are used under ISO\'s terms for the use of country codes. Country names in other languages: Unicode CLDR, Unicode License v3.',
    compose: { include: [{ system: ISO3166, concept: concepts }] },
  } as ValueSet;
}
