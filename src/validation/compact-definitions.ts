// The R4 packages' StructureDefinitions as the validator compiles them: only what
// compileProfile (profiles.ts) reads. The published files carry narratives, mappings and
// definitions text the validator never uses — 29 MB of JSON read and parsed for the ~200 types
// of the R4 examples, most of a cold start (the CLI, each of its threads, a server's first
// requests). Each compacted definition is kept in node_modules/.cache/migfhir next to the
// terminology index, rebuilt when its package file is newer; without a writable cache the
// compacting still saves the compile its walk over the unused parts, nothing more.
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';

const VERSION = 1;
const PREFIXES = ['fixed', 'pattern', 'minValue', 'maxValue'];

function compactElement(e: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = { path: e.path };
  if (e.id !== undefined) out.id = e.id;
  if (e.sliceName !== undefined) out.sliceName = e.sliceName;
  if (e.min !== undefined) out.min = e.min;
  if (e.max !== undefined) out.max = e.max;
  if (e.base?.max !== undefined) out.base = { max: e.base.max };
  if (e.type) out.type = e.type.map((t) => ({ code: t.code, ...(t.profile ? { profile: t.profile } : {}), ...(t.targetProfile ? { targetProfile: t.targetProfile } : {}), ...(t.extension ? { extension: t.extension } : {}) }));
  if (e.contentReference !== undefined) out.contentReference = e.contentReference;
  for (const [k, v] of Object.entries(e)) {
    if (PREFIXES.some((p) => k.startsWith(p) && k.length > p.length && /[A-Z]/.test(k[p.length]))) out[k] = v;
  }
  if (e.binding) out.binding = { strength: e.binding.strength, ...(e.binding.valueSet !== undefined ? { valueSet: e.binding.valueSet } : {}) };
  if (e.constraint) out.constraint = e.constraint.map((c) => ({ key: c.key, severity: c.severity, human: c.human, ...(c.expression !== undefined ? { expression: c.expression } : {}) }));
  if (e.maxLength !== undefined) out.maxLength = e.maxLength;
  if (e.isModifier !== undefined) out.isModifier = e.isModifier;
  if (e.slicing) out.slicing = e.slicing;
  return out as unknown as ElementDefinition;
}

/** A StructureDefinition with only what compileProfile reads (same compiled profile). */
export function compactDefinition(sd: StructureDefinition): StructureDefinition {
  const out: Record<string, unknown> = { resourceType: 'StructureDefinition', url: sd.url, name: sd.name, kind: sd.kind, abstract: sd.abstract, type: sd.type };
  if (sd.derivation !== undefined) out.derivation = sd.derivation;
  if (sd.baseDefinition !== undefined) out.baseDefinition = sd.baseDefinition;
  if (sd.context !== undefined) out.context = sd.context;
  if (sd.snapshot) out.snapshot = { element: sd.snapshot.element.map(compactElement) };
  return out as unknown as StructureDefinition;
}

let cacheDir: string | null | undefined;

function cache(): string | null {
  if (cacheDir !== undefined) return cacheDir;
  try {
    const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
    const modules = examples.slice(0, examples.lastIndexOf('node_modules') + 'node_modules'.length);
    cacheDir = join(modules, '.cache', 'migfhir', `compact-definitions-v${VERSION}`);
    mkdirSync(cacheDir, { recursive: true });
  } catch {
    cacheDir = null; // read-only install: compacted in memory only
  }
  return cacheDir;
}

/** The compact form of a package's StructureDefinition file, from the cache when it is as new
 * as the file. */
export function compactPackaged(file: string): StructureDefinition {
  const dir = cache();
  // the package folder's name keeps files of the R4 package and the extensions pack apart
  const cached = dir ? join(dir, `${basename(dirname(file))}__${basename(file)}`) : undefined;
  if (cached) {
    const at = statSync(cached, { throwIfNoEntry: false });
    if (at && at.mtimeMs >= statSync(file).mtimeMs) {
      try {
        return JSON.parse(readFileSync(cached, 'utf8')) as StructureDefinition;
      } catch {
        // a torn or foreign file: compacted again below
      }
    }
  }
  const compact = compactDefinition(JSON.parse(readFileSync(file, 'utf8')) as StructureDefinition);
  if (cached) {
    try {
      // written whole under a name of this thread's, then renamed: readers never see half a file
      const tmp = `${cached}.${process.pid}-${threadId}`;
      writeFileSync(tmp, JSON.stringify(compact));
      renameSync(tmp, cached);
    } catch {
      // not writable now: compacted again next time
    }
  }
  return compact;
}
