// npm run build:ig — builds the migrant-health IG as a FHIR NPM package from the sources in
// profiles/ and terminology/: snapshots generated (src/validation/snapshot.ts), every resource
// with url/version/name/status/publisher/description, an ImplementationGuide resource,
// package/package.json (fhirVersions 4.0.1) and package/.index.json. Writes the committed folder
// ig/package/ and the tarball ig/<packageId>-<version>.tgz. The output is a pure function of
// the sources and the pinned data packages (no timestamps), so test/ig/build.test.ts can check
// that the committed folder equals a fresh build.
import type { ImplementationGuide, Resource, StructureDefinition } from 'fhir/r4.js';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { CANONICAL, IG } from '../src/ig/canonical.ts';
import { r4Structure } from '../src/ig/r4-structures.ts';
import { generateSnapshot } from '../src/validation/snapshot.ts';
import { extensions, profiles, questionnaires, validExamples } from '../profiles/index.ts';
import { terminologyResources } from '../terminology/index.ts';

export const IG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'ig');
export const TARBALL = `${IG.packageId}-${IG.version}.tgz`;

type Conformance = Resource & { url?: string; version?: string; name?: string; kind?: string; type?: unknown };

function withSnapshots(structures: StructureDefinition[]): StructureDefinition[] {
  const byUrl = new Map(structures.map((s) => [s.url, s]));
  const done = new Map<string, StructureDefinition>();
  const resolve = (url: string): StructureDefinition | undefined => {
    const own = byUrl.get(url);
    if (!own) return r4Structure(url);
    if (!done.has(url)) done.set(url, generateSnapshot(own, resolve));
    return done.get(url);
  };
  return structures.map((s) => resolve(s.url)!);
}

function fileName(r: Resource): string {
  return `${r.resourceType}-${r.id}.json`;
}

function implementationGuide(resources: Conformance[], examples: Resource[]): ImplementationGuide {
  const profileOf = (r: Resource) => r.meta?.profile?.[0];
  return {
    resourceType: 'ImplementationGuide',
    id: IG.packageId,
    url: `${CANONICAL}/ImplementationGuide/${IG.packageId}`,
    version: IG.version,
    name: IG.name,
    title: IG.title,
    status: 'draft',
    date: IG.date,
    publisher: IG.publisher,
    description: 'Profiles, extensions, terminology and questionnaires for the health records of migrants and refugees along migration routes in Europe: MigrantPatient, MigrantEncounter, ReferralServiceRequest and MigrantHealthQuestionnaire; migration status, journey and vulnerability (sensitive), identifiers of the routes, countries and languages with multilingual names, PHQ-9 and GAD-7.',
    packageId: IG.packageId,
    license: IG.license as ImplementationGuide['license'],
    fhirVersion: [IG.fhirVersion as never],
    definition: {
      resource: [
        ...resources.map((r) => ({ reference: { reference: `${r.resourceType}/${r.id}` }, name: r.name ?? r.id, exampleBoolean: false })),
        ...examples.map((r) => ({ reference: { reference: `${r.resourceType}/${r.id}` }, name: `${r.resourceType} example ${r.id}`, ...(profileOf(r) ? { exampleCanonical: profileOf(r) } : { exampleBoolean: true }) })),
      ],
    },
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The package's files: path inside ig/ → content. */
export function buildIgPackage(): Map<string, string> {
  const structures = withSnapshots([...extensions, ...profiles]);
  const resources: Conformance[] = [...structures, ...questionnaires, ...terminologyResources()];
  const examples = validExamples();
  const ig = implementationGuide(resources, examples);
  const files = new Map<string, string>();
  const index: Record<string, unknown>[] = [];
  for (const r of [ig, ...resources] as Conformance[]) {
    files.set(`package/${fileName(r)}`, json(r));
    index.push({ filename: fileName(r), resourceType: r.resourceType, id: r.id, ...(r.url ? { url: r.url } : {}), ...(r.version ? { version: r.version } : {}), ...(r.kind ? { kind: r.kind } : {}), ...(typeof r.type === 'string' ? { type: r.type } : {}) });
  }
  for (const r of examples) files.set(`package/example/${fileName(r)}`, json(r));
  files.set('package/.index.json', json({ 'index-version': 1, files: index }));
  files.set('package/package.json', json({
    name: IG.packageId,
    version: IG.version,
    title: IG.title,
    description: ig.description,
    author: IG.publisher,
    license: IG.license,
    canonical: CANONICAL,
    url: CANONICAL,
    type: 'IG',
    fhirVersions: [IG.fhirVersion],
    dependencies: { 'hl7.fhir.r4.core': '4.0.1', 'hl7.fhir.uv.sdc': '3.0.0' },
  }));
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

export async function writeIgPackage(dir = IG_DIR): Promise<Map<string, string>> {
  const files = buildIgPackage();
  rmSync(join(dir, 'package'), { recursive: true, force: true });
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  // FHIR package tarball: entries under package/, fixed times, sorted: the same bytes each build
  await tar.create({ gzip: { level: 9 }, file: join(dir, TARBALL), cwd: dir, portable: true, mtime: new Date(0), noDirRecurse: true }, [...files.keys()]);
  return files;
}

/** Files on disk under ig/package, relative to ig/. */
export function committedFiles(dir = IG_DIR): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${rel}/${e.name}`);
      else out.push(`${rel}/${e.name}`);
    }
  };
  walk('package');
  return out.sort((a, b) => a.localeCompare(b));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const files = await writeIgPackage();
  console.log(`wrote ${files.size} files to ig/package and ig/${TARBALL} in ${Math.round(performance.now() - started)} ms`);
}
