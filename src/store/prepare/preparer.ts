// The write pipeline's steps that need no store, for one resource given as text: read the line
// (src/bulk/ndjson-line.ts), the checks (shape, validation, SearchParameter cost), the labels,
// the stored JSON and the search index rows. A prepare thread (worker.ts) runs it ahead of the
// single writer, which then only reads the current version, numbers the new one and inserts
// (Repository.updatePrepared). What it returns is plain data (strings and index rows), cheap to
// pass between threads: never a parsed resource.
// A resource whose preparation needs the store is left to the writer whole ('inline'):
// QuestionnaireResponse (its sensitive answers are marked from the stored Questionnaire,
// src/questionnaire/sensitive-items.ts) and a type with a custom SearchParameter that reads the
// version's own meta (versionId, lastUpdated: known only to the writer).
import type { Resource } from 'fhir/r4.js';
import { labelSensitive } from '../../auth/sensitive.ts';
import { lineResource, type LineRules } from '../../bulk/ndjson-line.ts';
import { loadDefinitions, ResourceTypes } from '../../fhir/definitions.ts';
import { FhirError, type IssueInput } from '../../fhir/errors.ts';
import { loadIgPackage } from '../../ig/package.ts';
import { applySearchParameterWrites } from '../../search/custom.ts';
import { extractIndex } from '../../search/extract.ts';
import type { IndexRows } from '../../search/index-rows.ts';
import { SearchParamRegistry } from '../../search/registry.ts';
import { Terminology } from '../../terminology/service.ts';
import { applyTerminologyWrites } from '../../terminology/stored.ts';
import { ValidationService, type ValidationPolicy } from '../../validation/service.ts';
import { withMeta } from '../repository.ts';
import type { StoreTransaction, VersionWrite } from '../types.ts';
import { PLACEHOLDER_TIME, VERSION_MARK, type PreparedWrite } from './prepared.ts';
import { storeFreeChecks, type WriteHook, type WriteInfo } from '../write-pipeline.ts';

/** The stored resources the server's caches are built from (search parameters, terminology,
 * profiles: CACHED_TYPES in src/app.ts): a prepare thread builds its own from them. */
export const CONFORMANCE_TYPES = ['SearchParameter', 'StructureDefinition', 'CodeSystem', 'ValueSet', 'ConceptMap'];

/** Types whose labels need the store (the write pipeline's marker in src/app.ts). */
const STORE_LABELLED = new Set(['QuestionnaireResponse']);

/** The server's settings a prepare thread needs to prepare as the writer would. */
export interface PrepareSettings {
  policy: ValidationPolicy;
  /** the server's own base URLs (absolute references to them are local) */
  bases: string[];
  /** false: the server stores no search index rows (AppOptions.searchIndex) */
  indexing: boolean;
}

/** A stored conformance resource, as a prepare thread receives it. */
export interface Conformance {
  resourceType: string;
  id: string;
  json: string;
}

/** A refusal's status and issues (a FhirError's), or absent for another error. */
export interface Refusal {
  status?: number;
  issues?: IssueInput[];
}

export type PreparedLine =
  /** the line is not a resource to store (lineResource): refused before authorization */
  | ({ kind: 'unreadable' } & Refusal)
  /** the write pipeline refuses it: refused after authorization, as the writer's update would */
  | ({ kind: 'refused'; resourceType: string } & Refusal)
  | PreparedWrite
  /** the writer prepares it itself (see above) */
  | { kind: 'inline' };

/** The error a refusal stands for: the FhirError it was, or an Error. */
export function refusalError(r: Refusal): Error {
  return r.status !== undefined && r.issues ? new FhirError(r.status, r.issues) : new Error('the resource could not be prepared');
}

function refusal(err: unknown): Refusal {
  return err instanceof FhirError ? { status: err.status, issues: err.outcome.issue.map((i) => ({ severity: i.severity, code: i.code, diagnostics: i.diagnostics ?? '', ...(i.expression ? { expression: i.expression } : {}) })) } : {};
}

/** The store-free checks get no store: one that asked for it would fail loudly, not silently. */
const NO_STORE = new Proxy({} as StoreTransaction, {
  get() {
    throw new Error('a store-free write check used the store');
  },
});

export class Preparer {
  private readonly types: ResourceTypes;
  private readonly search: SearchParamRegistry;
  private readonly checks: WriteHook[];
  private readonly settings: PrepareSettings;
  /** type → whether an indexed parameter reads the version's meta */
  private readonly readsVersion = new Map<string, boolean>();

  constructor(parts: { types: ResourceTypes; search: SearchParamRegistry; validation: ValidationService }, settings: PrepareSettings) {
    this.types = parts.types;
    this.search = parts.search;
    this.checks = storeFreeChecks(parts);
    this.settings = settings;
  }

  /** The server's definitions, the IG's package and the stored conformance resources, as the
   * server loads them at start-up (src/app.ts). */
  static build(settings: PrepareSettings, conformance: Conformance[]): Preparer {
    const defs = loadDefinitions();
    const types = new ResourceTypes(defs);
    const search = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
    const terminology = new Terminology();
    const ig = loadIgPackage();
    if (ig) terminology.addPackage(ig);
    const validation = new ValidationService(terminology, defs.resourceTypes, settings.policy);
    if (ig) validation.addPackage(ig.structureDefinitions.values());
    const written: VersionWrite[] = conformance.map((c) => ({ ...c, versionId: 1, lastUpdated: '', method: 'PUT' }));
    applySearchParameterWrites(search, written, new Map());
    applyTerminologyWrites(terminology, written, new Map());
    validation.applyWrites(written);
    return new Preparer({ types, search, validation }, settings);
  }

  private needsVersion(type: string): boolean {
    let reads = this.readsVersion.get(type);
    if (reads === undefined) {
      const mentions = (e: string | undefined) => !!e && /versionId|lastUpdated/.test(e);
      reads = this.search.indexed(type).some((p) => mentions(p.expression) || (p.components ?? []).some((c) => mentions(c.expression)));
      this.readsVersion.set(type, reads);
    }
    return reads;
  }

  async prepare(text: string, rules: LineRules): Promise<PreparedLine> {
    let resource: Resource;
    try {
      resource = lineResource(text, this.types, rules);
    } catch (err) {
      return { kind: 'unreadable', ...refusal(err) };
    }
    const type = resource.resourceType;
    if (STORE_LABELLED.has(type) || (this.settings.indexing && this.needsVersion(type))) return { kind: 'inline' };
    // an import's line, as Repository.update would take it: 422 for a shape the server did not get as a body
    const info: WriteInfo = { shapeStatus: 422 };
    try {
      for (const check of this.checks) await check(resource, NO_STORE, info);
      labelSensitive(resource);
    } catch (err) {
      return { kind: 'refused', resourceType: type, ...refusal(err) };
    }
    const stored = withMeta(resource, 1, PLACEHOLDER_TIME);
    const json = JSON.stringify(stored);
    return {
      kind: 'ready',
      resourceType: type,
      id: resource.id!,
      json,
      versionAt: json.indexOf(VERSION_MARK),
      ...(this.settings.indexing ? { index: extractIndex(stored, this.search, this.settings.bases) } : {}),
    };
  }
}
