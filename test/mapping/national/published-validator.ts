// A validator that holds a country's published profiles (published/, each with its licence and
// source in published/README.md) and a check that every export of that country's adapter
// validates against them with zero errors: the fixtures, 150 generated records, and the records
// given. Shared by the per-country tests.
import type { Test } from 'tap';
import type { CodeSystem, Resource, StructureDefinition, ValueSet } from 'fhir/r4.js';
import { loadDefinitions } from '../../../src/fhir/definitions.ts';
import type { NationalAdapter } from '../../../src/mapping/national/bundle.ts';
import { Terminology } from '../../../src/terminology/service.ts';
import { ValidationService } from '../../../src/validation/service.ts';
import { FIXTURES, generate, stored } from './fixtures.ts';

export const NOW = '2026-12-01T10:00:00Z';

export interface PublishedValidator {
  service: ValidationService;
  /** error and fatal issues, as `expression: diagnostics` */
  errors(r: Resource): string[];
}

/** A validator holding `resources` (StructureDefinitions with snapshots, ValueSets, CodeSystems). */
export function publishedValidator(resources: Resource[], prepare?: (service: ValidationService, sd: StructureDefinition) => StructureDefinition): PublishedValidator {
  const terminology = new Terminology();
  terminology.addPackage({
    codeSystems: resources.filter((r): r is CodeSystem => r.resourceType === 'CodeSystem'),
    valueSets: resources.filter((r): r is ValueSet => r.resourceType === 'ValueSet'),
    conceptMaps: [],
  });
  const service = new ValidationService(terminology, loadDefinitions().resourceTypes, { modes: { default: 'off', types: {} } as never, mandatoryProfiles: {} });
  for (const sd of resources.filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition')) service.profiles.add(sd.url, prepare ? prepare(service, sd) : sd);
  const errors = (r: Resource) => service.validate(r).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
  return { service, errors };
}

/** The Patients an adapter exports for `resources`. */
export function exportedPatients(adapter: NationalAdapter, resources: Resource[]): Resource[] {
  return (adapter.fromFhir!(resources, { now: NOW }).entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType === 'Patient');
}

/** Every export of `country`'s adapter (fixtures, 150 generated records, `records`) has no error. */
export function everyExportValid(t: Test, country: string, adapter: NationalAdapter, v: PublishedValidator, records: Resource[] = []): void {
  const imported = (body: Resource) => stored(adapter.map({ body, received: NOW }).bundle);
  for (const f of FIXTURES.filter((x) => x.adapter === country)) {
    for (const p of exportedPatients(adapter, imported(f.body))) t.same(v.errors(p), [], f.name);
  }
  let ok = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const failures = exportedPatients(adapter, imported(generate(country, seed * 7919 + 100))).flatMap(v.errors);
    if (failures.length) t.same(failures, [], `seed ${seed}`);
    else ok++;
  }
  t.equal(ok, 150, '150 of 150 generated exports');
  for (const r of records) for (const p of exportedPatients(adapter, [r])) t.same(v.errors(p), [], `stored record ${r.id}`);
}
