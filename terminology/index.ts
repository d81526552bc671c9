// Every terminology resource of the IG, as the build script publishes them.
import type { CodeSystem, ConceptMap, NamingSystem, ValueSet } from 'fhir/r4.js';
import { codeSystems, codeSystemValueSets } from './code-systems.ts';
import { conceptMaps } from './concept-maps.ts';
import { countryValueSet } from './countries.ts';
import { languageValueSet } from './languages.ts';
import { namingSystems } from './naming-systems.ts';

export function terminologyResources(): (CodeSystem | ValueSet | ConceptMap | NamingSystem)[] {
  return [...codeSystems, ...codeSystemValueSets, countryValueSet(), languageValueSet(), ...conceptMaps, ...namingSystems];
}
