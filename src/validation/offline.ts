// A validator outside the server (the CLI, benchmarks, tests): the R4 definitions, the
// migrant-health IG (always known, as on the server) and its terminology.
import { loadDefinitions } from '../fhir/definitions.ts';
import { loadIgPackage } from '../ig/package.ts';
import { Terminology } from '../terminology/service.ts';
import { BindingChecker } from './bindings.ts';
import { ProfileRegistry } from './profiles.ts';
import { Validator } from './validator.ts';

export interface OfflineValidation {
  validator: Validator;
  registry: ProfileRegistry;
  terminology: Terminology;
}

export function offlineValidator(): OfflineValidation {
  const terminology = new Terminology();
  const registry = new ProfileRegistry();
  const ig = loadIgPackage();
  if (ig) {
    terminology.addPackage(ig);
    for (const sd of ig.structureDefinitions.values()) registry.add(sd.url, sd);
  }
  return { validator: new Validator(registry, new BindingChecker(terminology), loadDefinitions().resourceTypes), registry, terminology };
}
