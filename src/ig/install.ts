// Installs the migrant-health IG's conformance resources (profiles, extensions, code systems,
// value sets, concept maps, naming systems, questionnaires, the ImplementationGuide) into the
// store at start-up, as HAPI and Firely install packages: clients can then read and search them
// (`GET StructureDefinition/migrant-patient`, `ValueSet?url=…`). A resource is written when its
// id is free, or when the stored one is the IG's own (same url) with other content (a newer IG
// build); a resource the user deleted stays deleted, and one of the user's with the same id but
// another url is left alone.
import type { Resource } from 'fhir/r4.js';
import { FhirError } from '../fhir/errors.ts';
import type { Repository } from '../store/repository.ts';
import type { IgPackage } from './package.ts';

export interface InstallReport {
  written: number;
  unchanged: number;
  skipped: string[];
}

class Skip extends Error {}

export function igResources(ig: IgPackage): Resource[] {
  return [
    ...(ig.guide ? [ig.guide] : []),
    ...ig.structureDefinitions.values(),
    ...ig.codeSystems,
    ...ig.valueSets,
    ...ig.conceptMaps,
    ...ig.namingSystems,
    ...ig.questionnaires,
  ].filter((r) => typeof r.id === 'string');
}

export function installIg(repo: Repository, ig: IgPackage): Promise<InstallReport> {
  return installResources(repo, igResources(ig));
}

/** Installs conformance resources (each with an id and a url) as described above: the IG's,
 * and the server's own OperationDefinitions (src/operations/definition.ts). */
export async function installResources(repo: Repository, resources: Resource[]): Promise<InstallReport> {
  const report: InstallReport = { written: 0, unchanged: 0, skipped: [] };
  for (const resource of resources) {
    const url = (resource as { url?: string }).url;
    const existing = await repo.store.current(resource.resourceType, resource.id!);
    if (existing?.deleted) {
      report.skipped.push(`${resource.resourceType}/${resource.id} (deleted on this server)`);
      continue;
    }
    if (existing && (JSON.parse(existing.json!) as { url?: string }).url !== url) {
      report.skipped.push(`${resource.resourceType}/${resource.id} (a different resource has this id)`);
      continue;
    }
    try {
      const result = await repo.update(structuredClone(resource), {
        ifMatch: existing?.versionId,
        origin: 'package',
        check: async (_r, tx) => {
          // the id was taken in the meantime by something else: leave it
          const now = await tx.current(resource.resourceType, resource.id!);
          if (now && (now.deleted || (now.json && (JSON.parse(now.json) as { url?: string }).url !== url))) throw new Skip();
        },
      });
      if (result.unchanged) report.unchanged++;
      else report.written++;
    } catch (err) {
      if (err instanceof Skip || (err instanceof FhirError && err.status === 412)) report.skipped.push(`${resource.resourceType}/${resource.id} (changed while installing)`);
      else throw err;
    }
  }
  return report;
}
