// Loads the conformance resources of a FHIR NPM package — a folder (`package/` or its parent) or
// a .tgz as published — into the validator's profiles and the terminology service, so that the
// CLI (`migfhir validate --ig`) checks instances against an implementation guide.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import type { StructureDefinition } from 'fhir/r4.js';
import type { Terminology } from '../terminology/service.ts';
import type { ProfileRegistry } from './profiles.ts';
import { generateSnapshot } from './snapshot.ts';

export interface LoadedPackage {
  profiles: number;
  terminology: number;
  /** StructureDefinitions whose snapshot could not be generated, which cannot be used to validate */
  withoutSnapshot: string[];
}

function jsonFilesOf(dir: string): { name: string; text: string }[] {
  const root = statSync(join(dir, 'package'), { throwIfNoEntry: false })?.isDirectory() ? join(dir, 'package') : dir;
  return readdirSync(root)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.') && f !== 'package.json')
    .map((f) => ({ name: f, text: readFileSync(join(root, f), 'utf8') }));
}

function jsonFilesOfTarball(file: string): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  tar.t({
    file,
    sync: true,
    onReadEntry: (entry) => {
      const name = entry.path.replace(/^package\//, '');
      if (!name.endsWith('.json') || name.includes('/') || name.startsWith('.') || name === 'package.json') {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => out.push({ name, text: Buffer.concat(chunks).toString('utf8') }));
    },
  });
  return out;
}

export function loadPackage(path: string, profiles: ProfileRegistry, terminology: Terminology): LoadedPackage {
  const files = path.endsWith('.tgz') || path.endsWith('.tar.gz') ? jsonFilesOfTarball(path) : jsonFilesOf(path);
  const loaded: LoadedPackage = { profiles: 0, terminology: 0, withoutSnapshot: [] };
  for (const f of files) {
    let r: { resourceType?: string; url?: string };
    try {
      r = JSON.parse(f.text);
    } catch {
      continue;
    }
    if (!r.url) continue;
    if (r.resourceType === 'StructureDefinition') {
      let sd = r as StructureDefinition;
      if (!sd.snapshot?.element?.length) {
        // differential-only profiles (as many IG sources ship) get their snapshot generated;
        // profiles of the same package that they build on are resolved as they are added
        try {
          sd = generateSnapshot(sd, (url) => profiles.definition(url));
        } catch {
          loaded.withoutSnapshot.push(sd.url);
          continue;
        }
      }
      profiles.add(sd.url, sd);
      loaded.profiles++;
    } else if (r.resourceType === 'ValueSet' || r.resourceType === 'CodeSystem' || r.resourceType === 'ConceptMap') {
      terminology.track(r.resourceType, undefined, r);
      loaded.terminology++;
    }
  }
  return loaded;
}
