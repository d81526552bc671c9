// The International Patient Summary package (hl7.fhir.uv.ips 2.0.0, a devDependency) loaded
// into a validator of its own, the way `migfhir validate --ig` loads a package: profiles into a
// ProfileRegistry, value sets into a Terminology. Profiles published without a snapshot get one
// generated from their differential, so every IPS profile can be checked.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { StructureDefinition } from 'fhir/r4.js';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { Terminology } from '../../src/terminology/service.ts';
import { BindingChecker } from '../../src/validation/bindings.ts';
import { loadPackage, type LoadedPackage } from '../../src/validation/package-loader.ts';
import { ProfileRegistry } from '../../src/validation/profiles.ts';
import { generateSnapshot } from '../../src/validation/snapshot.ts';
import { Validator } from '../../src/validation/validator.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const IPS = 'http://hl7.org/fhir/uv/ips/StructureDefinition/';
export const IPS_PACKAGE_DIR = dirname(createRequire(import.meta.url).resolve('hl7.fhir.uv.ips/package.json'));

export interface IpsValidator {
  validator: Validator;
  loaded: LoadedPackage;
  /** urls of the profiles whose snapshot was generated here */
  generated: string[];
}

let cached: IpsValidator | undefined;

export function ipsValidator(): IpsValidator {
  if (cached) return cached;
  const registry = new ProfileRegistry();
  const terminology = new Terminology();
  const loaded = loadPackage(IPS_PACKAGE_DIR, registry, terminology);
  const generated: string[] = [];
  if (loaded.withoutSnapshot.length) {
    const byUrl = new Map<string, StructureDefinition>();
    for (const f of readdirSync(IPS_PACKAGE_DIR).filter((f) => f.startsWith('StructureDefinition-') && f.endsWith('.json'))) {
      const sd = JSON.parse(readFileSync(join(IPS_PACKAGE_DIR, f), 'utf8')) as StructureDefinition;
      byUrl.set(sd.url, sd);
    }
    const resolve = (url: string): StructureDefinition | undefined => registry.definition(url) ?? byUrl.get(url);
    for (const url of loaded.withoutSnapshot) {
      registry.add(url, generateSnapshot(byUrl.get(url)!, resolve));
      generated.push(url);
    }
  }
  const validator = new Validator(registry, new BindingChecker(terminology), loadDefinitions().resourceTypes);
  cached = { validator, loaded, generated };
  return cached;
}
