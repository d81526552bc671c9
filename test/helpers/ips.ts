// The International Patient Summary package (hl7.fhir.uv.ips 2.0.0, a devDependency) loaded
// into a validator of its own, the way `migfhir validate --ig` loads a package: profiles into a
// ProfileRegistry, value sets into a Terminology. Profiles published without a snapshot get one
// generated from their differential (by the registry), so every IPS profile can be checked. The
// migrant-health IG is loaded too, as the CLI always does: the server's summaries carry its
// extensions, which would otherwise be unknown (an error, as for the reference validator).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { loadIgPackage } from '../../src/ig/package.ts';
import { Terminology } from '../../src/terminology/service.ts';
import { BindingChecker } from '../../src/validation/bindings.ts';
import { loadPackage, unusable, type LoadedPackage } from '../../src/validation/package-loader.ts';
import { ProfileRegistry, type Unusable } from '../../src/validation/profiles.ts';
import { Validator } from '../../src/validation/validator.ts';

export const IPS = 'http://hl7.org/fhir/uv/ips/StructureDefinition/';
export const IPS_PACKAGE_DIR = dirname(createRequire(import.meta.url).resolve('hl7.fhir.uv.ips/package.json'));

export interface IpsValidator {
  validator: Validator;
  loaded: LoadedPackage;
  /** the package's profiles that cannot be used, with the reason */
  unusable: Unusable[];
}

let cached: IpsValidator | undefined;

export function ipsValidator(): IpsValidator {
  if (cached) return cached;
  const registry = new ProfileRegistry();
  const terminology = new Terminology();
  const ig = loadIgPackage();
  if (ig) {
    terminology.addPackage(ig);
    for (const sd of ig.structureDefinitions.values()) registry.add(sd.url, sd);
  }
  const loaded = loadPackage(IPS_PACKAGE_DIR, registry, terminology);
  const validator = new Validator(registry, new BindingChecker(terminology), loadDefinitions().resourceTypes);
  cached = { validator, loaded, unusable: unusable(registry, loaded.urls) };
  return cached;
}
