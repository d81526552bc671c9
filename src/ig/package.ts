// The migrant-health IG as the server uses it: the FHIR package built by `npm run build:ig`
// (ig/package, committed) read once at start-up — its terminology joins the terminology
// service (between stored resources and the R4 packages), its StructureDefinitions (with
// snapshots) are there for validation and for the CapabilityStatement's supportedProfile.
import type { CodeSystem, ConceptMap, ImplementationGuide, NamingSystem, Questionnaire, Resource, StructureDefinition, ValueSet } from 'fhir/r4.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const IG_PACKAGE_DIR = join(import.meta.dirname, '..', '..', 'ig', 'package');

export interface IgPackage {
  name: string;
  version: string;
  guide?: ImplementationGuide;
  structureDefinitions: Map<string, StructureDefinition>;
  codeSystems: CodeSystem[];
  valueSets: ValueSet[];
  conceptMaps: ConceptMap[];
  namingSystems: NamingSystem[];
  questionnaires: Questionnaire[];
}

interface IndexEntry {
  filename: string;
  resourceType: string;
}

/** Reads the package the index lists (examples are not loaded). */
export function loadIgPackage(dir = IG_PACKAGE_DIR): IgPackage | undefined {
  if (!existsSync(join(dir, '.index.json'))) return undefined;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
  const index = JSON.parse(readFileSync(join(dir, '.index.json'), 'utf8')) as { files: IndexEntry[] };
  const ig: IgPackage = { name: manifest.name, version: manifest.version, structureDefinitions: new Map(), codeSystems: [], valueSets: [], conceptMaps: [], namingSystems: [], questionnaires: [] };
  for (const entry of index.files) {
    const r = JSON.parse(readFileSync(join(dir, entry.filename), 'utf8')) as Resource;
    switch (r.resourceType) {
      case 'StructureDefinition': ig.structureDefinitions.set((r as StructureDefinition).url, r as StructureDefinition); break;
      case 'CodeSystem': ig.codeSystems.push(r as CodeSystem); break;
      case 'ValueSet': ig.valueSets.push(r as ValueSet); break;
      case 'ConceptMap': ig.conceptMaps.push(r as ConceptMap); break;
      case 'NamingSystem': ig.namingSystems.push(r as NamingSystem); break;
      case 'Questionnaire': ig.questionnaires.push(r as Questionnaire); break;
      case 'ImplementationGuide': ig.guide = r as ImplementationGuide; break;
    }
  }
  return ig;
}

/** resource type → the canonical URLs of the IG's profiles on it (not its extensions) */
export function supportedProfiles(ig: IgPackage | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const sd of ig?.structureDefinitions.values() ?? []) {
    if (sd.kind !== 'resource' || sd.derivation !== 'constraint') continue;
    out.set(sd.type, [...(out.get(sd.type) ?? []), sd.url]);
  }
  return out;
}
