// Loads the conformance resources of a FHIR NPM package — a folder (`package/` or its parent) or
// a .tgz as published — into the validator's profiles and the terminology service, so that the
// CLI (`migfhir validate --ig`) checks instances against an implementation guide.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import type { StructureDefinition } from 'fhir/r4.js';
import type { Terminology } from '../terminology/service.ts';
import type { ProfileRegistry, Unusable } from './profiles.ts';

export interface LoadedPackage {
  profiles: number;
  terminology: number;
  /** urls of the package's StructureDefinitions */
  urls: string[];
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

/** Registers a package's definitions. Differential-only profiles (as many IG sources ship) get
 * their snapshots generated on first use, so that the profiles they build on may come from this
 * package or from another one loaded with it, in any order; `unusable` then says which cannot. */
export function loadPackage(path: string, profiles: ProfileRegistry, terminology: Terminology): LoadedPackage {
  const files = path.endsWith('.tgz') || path.endsWith('.tar.gz') ? jsonFilesOfTarball(path) : jsonFilesOf(path);
  const loaded: LoadedPackage = { profiles: 0, terminology: 0, urls: [] };
  for (const f of files) {
    let r: { resourceType?: string; url?: string };
    try {
      r = JSON.parse(f.text);
    } catch {
      continue;
    }
    if (typeof r.url !== 'string') continue;
    if (r.resourceType === 'StructureDefinition') {
      profiles.add(r.url, r as StructureDefinition);
      loaded.urls.push(r.url);
      loaded.profiles++;
    } else if (r.resourceType === 'ValueSet' || r.resourceType === 'CodeSystem' || r.resourceType === 'ConceptMap') {
      terminology.track(r.resourceType, undefined, r);
      loaded.terminology++;
    }
  }
  return loaded;
}

/** The given definitions that cannot be used to validate, each with the reason. */
export function unusable(profiles: ProfileRegistry, urls: string[]): Unusable[] {
  return urls.flatMap((url) => {
    const reason = profiles.problem(url);
    return reason ? [{ url, reason }] : [];
  });
}
