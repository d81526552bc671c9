// Where the R4 packages keep each conformance resource: url → file, for CodeSystems,
// ValueSets, ConceptMaps and StructureDefinitions of hl7.fhir.r4.examples and the pre-computed expansions of
// hl7.fhir.r4.expansions, and the HL7 extensions pack (hl7.fhir.uv.extensions.r4: the global
// extensions with their value sets and code systems; R4's own definitions win where both have a
// url). Built once (reading ~2,500 files) and cached next to the
// definitions tables; resources are then read on demand.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PackageIndex {
  codeSystems: Record<string, string>;
  valueSets: Record<string, string>;
  conceptMaps: Record<string, string>;
  expansions: Record<string, string>;
  /** StructureDefinitions (base types, profiles, extensions) of hl7.fhir.r4.examples */
  structureDefinitions: Record<string, string>;
  /** StructureDefinitions of the HL7 extensions pack not already in R4 (extensions, with snapshots) */
  extensionPack: Record<string, string>;
}

const require = createRequire(import.meta.url);
const VERSION = 3;

function dirOf(pkg: string): string {
  return dirname(require.resolve(`${pkg}/package.json`));
}

function scan(dir: string, prefix: string, into: Record<string, string>): void {
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.json')) continue;
    try {
      const url = JSON.parse(readFileSync(join(dir, f), 'utf8')).url;
      if (typeof url === 'string' && !(url in into)) into[url] = join(dir, f);
    } catch {
      // not JSON: not a resource
    }
  }
}

let index: PackageIndex | undefined;

export function packageIndex(): PackageIndex {
  if (index) return index;
  const examples = dirOf('hl7.fhir.r4.examples');
  const modules = examples.slice(0, examples.lastIndexOf('node_modules') + 'node_modules'.length);
  const cache = join(modules, '.cache', 'migfhir', `r4-terminology-index-v${VERSION}.json`);
  if (existsSync(cache)) {
    index = JSON.parse(readFileSync(cache, 'utf8')) as PackageIndex;
    if (Object.values(index.codeSystems).every((f) => existsSync(f))) return index;
  }
  const built: PackageIndex = { codeSystems: {}, valueSets: {}, conceptMaps: {}, expansions: {}, structureDefinitions: {}, extensionPack: {} };
  scan(examples, 'CodeSystem-', built.codeSystems);
  scan(examples, 'ValueSet-', built.valueSets);
  scan(examples, 'ConceptMap-', built.conceptMaps);
  scan(examples, 'StructureDefinition-', built.structureDefinitions);
  scan(dirOf('hl7.fhir.r4.expansions'), 'ValueSet-', built.expansions);
  const pack = dirOf('hl7.fhir.uv.extensions');
  scan(pack, 'CodeSystem-', built.codeSystems);
  scan(pack, 'ValueSet-', built.valueSets);
  const extensions: Record<string, string> = {};
  scan(pack, 'StructureDefinition-', extensions);
  for (const [url, file] of Object.entries(extensions)) if (!(url in built.structureDefinitions)) built.extensionPack[url] = file;
  try {
    mkdirSync(dirname(cache), { recursive: true });
    writeFileSync(`${cache}.${process.pid}`, JSON.stringify(built));
    renameSync(`${cache}.${process.pid}`, cache);
  } catch {
    // read-only install: rebuilt next time
  }
  index = built;
  return built;
}

export function readResource<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
