// The R4 StructureDefinitions (with snapshots) of the hl7.fhir.r4.examples package, looked up by
// canonical URL: the bases that IG profiles are generated against. Files are named after the
// definition's id (StructureDefinition-<id>.json), so a lookup reads one file and keeps it.
import type { StructureDefinition } from 'fhir/r4.js';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalUrl } from '../fhir/reference.ts';

const require = createRequire(import.meta.url);
const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const cache = new Map<string, StructureDefinition | undefined>();
let dir: string | undefined;

export function r4Structure(url: string): StructureDefinition | undefined {
  const u = canonicalUrl(url);
  if (cache.has(u)) return cache.get(u);
  let sd: StructureDefinition | undefined;
  if (u.startsWith(CORE)) {
    dir ??= dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
    const file = join(dir, `StructureDefinition-${u.slice(CORE.length)}.json`);
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as StructureDefinition;
      if (json.url === u) sd = json;
    }
  }
  cache.set(u, sd);
  return sd;
}
