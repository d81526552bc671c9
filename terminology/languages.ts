// Languages: the BCP-47 tags of the main migrant groups in Europe (the choice of tags is ours,
// following the arrival statistics: Syria, Afghanistan, Eritrea, Somalia, Iraq, Ukraine,
// Pakistan, Bangladesh, West and Central Africa) plus the languages of the receiving countries;
// names are generated from Unicode CLDR (English display, designations in the designation
// languages) and every tag is checked against the IANA Language Subtag Registry
// (npm language-subtag-registry), so nothing here is typed in but the list of tags.
import { createRequire } from 'node:module';
import type { ValueSet, ValueSetComposeIncludeConcept } from 'fhir/r4.js';
import { meta } from '../src/ig/canonical.ts';
import { CLDR_VERSION, designations, englishName } from './cldr.ts';

const require = createRequire(import.meta.url);

export const BCP47 = 'urn:ietf:bcp:47';

/** Dari is tagged fa-AF, the form CLDR, interpreting services and most software use. */
export const MIGRANT_LANGUAGES = [
  'ar', 'fa', 'fa-AF', 'ps', 'ur', 'pa', 'bn', 'ku', 'ckb', 'tr', 'ti', 'am', 'so', 'sw', 'ha', 'ff', 'wo', 'bm', 'ln',
  'uk', 'ru', 'be', 'ka', 'hy', 'sq', 'rom', 'vi', 'zh', 'en', 'fr', 'es', 'pt', 'de', 'it', 'el', 'nl', 'sv', 'pl', 'hr',
];

function registry(kind: string): Record<string, number> {
  return require(`language-subtag-registry/data/json/${kind}.json`);
}

function checkTag(tag: string): void {
  const [language, region, ...rest] = tag.split('-');
  const languages = registry('language');
  if (!(language.toLowerCase() in languages)) throw new Error(`${language} is not an IANA language subtag`);
  if (region && !(region.toLowerCase() in registry('region'))) throw new Error(`${region} is not an IANA region subtag`);
  if (rest.length) throw new Error(`${tag}: only language-region tags are expected`);
}

export function languageValueSet(): ValueSet {
  const names = designations('languages', MIGRANT_LANGUAGES);
  const concept: ValueSetComposeIncludeConcept[] = MIGRANT_LANGUAGES.map((code) => {
    checkTag(code);
    const display = englishName('languages', code);
    if (!display) throw new Error(`CLDR has no English name for ${code}`);
    const designation = names.get(code)!;
    return { code, display, ...(designation.length ? { designation } : {}) };
  });
  const registryVersion: string = require('language-subtag-registry/package.json').version;
  return {
    ...meta('ValueSet', 'languages', 'MigrantLanguages', `BCP-47 language tags of the main migrant groups in Europe and of the receiving countries, with names in several languages. Tags checked against the IANA Language Subtag Registry (language-subtag-registry ${registryVersion}); names from Unicode CLDR ${CLDR_VERSION}.`, 'Languages of migrants and receiving countries'),
    copyright: 'Language names: Unicode CLDR, Unicode License v3. IANA Language Subtag Registry: public.',
    compose: { include: [{ system: BCP47, concept }] },
  } as ValueSet;
}
