// The server's validation: one Validator over the R4 definitions, the profiles the server holds
// (StructureDefinitions stored on it, kept in step through the repository's commit listener;
// those stored as differentials get their snapshots generated)
// and the terminology service; the write-path policy (off | base | profiles per type, mandatory
// profiles) lives here so create, update, patch and Bundles apply it the same way.
import type { Resource, StructureDefinition } from 'fhir/r4.js';
import type { ValidationMode, ValidationModes } from '../config.ts';
import { FhirError, type IssueInput } from '../fhir/errors.ts';
import type { ResourceStore, VersionWrite } from '../store/types.ts';
import type { Terminology } from '../terminology/service.ts';
import { BindingChecker } from './bindings.ts';
import { ProfileRegistry, type Unusable } from './profiles.ts';
import { Validator, type UnknownExtensions, type ValidateOptions } from './validator.ts';

export interface ValidationPolicy {
  modes: ValidationModes;
  mandatoryProfiles: Record<string, string[]>;
  /** on write (default warning: data from other systems keeps its extensions); $validate
   * always gives the reference validator's verdict, an error */
  unknownExtensions?: UnknownExtensions;
}

export class ValidationService {
  readonly profiles = new ProfileRegistry();
  readonly bindings: BindingChecker;
  readonly validator: Validator;
  private readonly policy: ValidationPolicy;
  /** stored StructureDefinitions: resource id → url, to forget the old url on update/delete */
  private readonly storedUrls = new Map<string, string>();
  /** profiles of built-in packages (the IG): what a url falls back to when a stored one goes */
  private readonly packaged = new Map<string, StructureDefinition>();

  constructor(terminology: Terminology, resourceTypes: Iterable<string>, policy: ValidationPolicy) {
    this.bindings = new BindingChecker(terminology);
    this.validator = new Validator(this.profiles, this.bindings, resourceTypes);
    this.policy = policy;
  }

  mode(type: string): ValidationMode {
    return this.policy.modes.types[type] ?? this.policy.modes.default;
  }

  /** $validate: every issue, StructureDefinitions also checked as profiles. */
  validate(resource: unknown, options?: ValidateOptions): IssueInput[] {
    return this.validator.validate(resource, { definitions: true, ...options });
  }

  /** The write policy: 422 with every issue when the resource has errors. */
  assertWritable(resource: Resource): void {
    const mode = this.mode(resource.resourceType);
    if (mode === 'off') return;
    const issues = this.validator.validate(resource, {
      declaredProfiles: mode === 'profiles',
      profiles: mode === 'profiles' ? this.policy.mandatoryProfiles[resource.resourceType] ?? [] : [],
      unknownExtensions: this.policy.unknownExtensions ?? 'warning',
    });
    if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) {
      throw new FhirError(422, issues.filter((i) => i.severity !== 'information'));
    }
  }

  /** Keeps stored StructureDefinitions (and terminology-dependent caches) in step with writes. */
  applyWrites(written: VersionWrite[]): void {
    for (const w of written) {
      if (w.resourceType === 'ValueSet' || w.resourceType === 'CodeSystem') this.bindings.reset();
      if (w.resourceType !== 'StructureDefinition') continue;
      const previous = this.storedUrls.get(w.id);
      if (previous) this.profiles.add(previous, this.packaged.get(previous) ?? null);
      this.storedUrls.delete(w.id);
      if (!w.json) continue;
      const sd = JSON.parse(w.json) as StructureDefinition;
      // with a snapshot or only a differential (generated on first use, once its bases are here);
      // R4's own definitions stay R4's: a stored copy of Patient cannot change what a Patient is
      if (typeof sd.url === 'string' && !this.profiles.isR4(sd.url) && (sd.snapshot?.element?.length || sd.differential?.element?.length)) {
        this.profiles.add(sd.url, sd);
        this.storedUrls.set(w.id, sd.url);
      }
    }
  }

  /** Registers a built-in package's profiles (the IG); stored ones with the same url win. */
  addPackage(sds: Iterable<StructureDefinition>): void {
    for (const sd of sds) {
      this.packaged.set(sd.url, sd);
      this.profiles.add(sd.url, sd);
    }
  }

  /** Loads the StructureDefinitions already stored (at start-up), generating the snapshots of
   * those stored without one; answers the ones that cannot be used, with the reason. */
  async loadStored(store: ResourceStore): Promise<Unusable[]> {
    let position = 0;
    for (;;) {
      const page = await store.scan(['StructureDefinition'], position, 500);
      if (!page.length) break;
      this.applyWrites(page.map((r) => ({ resourceType: r.resourceType, id: r.id, json: r.json, versionId: 0, lastUpdated: '', method: 'PUT' })));
      position = page[page.length - 1].position;
    }
    return this.profiles.unusable();
  }
}
