import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import fastJsonPatch from 'fast-json-patch';
import type { Resource } from 'fhir/r4.js';
import { buildIgPackage, committedFiles, IG_DIR, TARBALL, writeIgPackage } from '../../scripts/build-ig.ts';
import { invalidCases, validExamples } from '../../profiles/index.ts';
import { CANONICAL } from '../../src/ig/canonical.ts';
import { fhir, testApp } from '../helpers/app.ts';

const fresh = buildIgPackage();

t.test('the committed ig/package equals a fresh build of the sources', async (t) => {
  t.same(committedFiles(), [...fresh.keys()], 'same files (run npm run build:ig and commit ig/package)');
  for (const [path, content] of fresh) {
    if (readFileSync(join(IG_DIR, path), 'utf8') !== content) t.fail(`${path} differs from a fresh build: run npm run build:ig`);
  }
});

t.test('the package is a FHIR NPM package', async (t) => {
  const manifest = JSON.parse(fresh.get('package/package.json')!);
  t.same(manifest.fhirVersions, ['4.0.1']);
  t.equal(manifest.canonical, CANONICAL);
  const index = JSON.parse(fresh.get('package/.index.json')!);
  t.equal(index['index-version'], 1);
  for (const f of index.files) t.ok(fresh.has(`package/${f.filename}`), `${f.filename} is in the package`);
  const guide = JSON.parse(fresh.get('package/ImplementationGuide-migfhir.fhir.ig.json')!);
  t.equal(guide.packageId, manifest.name);
  t.ok(guide.definition.resource.length >= index.files.length - 1);
  for (const f of index.files) {
    const r = JSON.parse(fresh.get(`package/${f.filename}`)!);
    const url = r.url ?? r.extension?.find((e: { url: string }) => e.url.endsWith('NamingSystem.url'))?.valueUri;
    t.ok(url?.startsWith(CANONICAL), `${f.filename} has a url under the canonical base`);
    for (const k of ['name', 'status', 'publisher', 'description']) t.ok(r[k], `${f.filename} has ${k}`);
    if (r.resourceType === 'StructureDefinition') t.ok(r.snapshot?.element?.length > 1, `${f.filename} has a snapshot`);
  }
  // the tarball holds the same files under package/
  const dir = mkdtempSync(join(tmpdir(), 'ig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await writeIgPackage(dir);
  const entries: string[] = [];
  await tar.list({ file: join(dir, TARBALL), onReadEntry: (e) => { entries.push(e.path); } });
  t.same(entries.sort(), [...fresh.keys()].sort());
});

t.test('examples: valid ones are accepted, each invalid one changes its base', async (t) => {
  const app = await testApp({ devOpenAccess: true });
  t.teardown(() => app.close());
  const valid = validExamples();
  const byKey = new Map<string, Resource>(valid.map((r) => [`${r.resourceType}/${r.id}`, r]));
  for (const [path, content] of fresh) if (path.startsWith('package/Questionnaire-')) { const q = JSON.parse(content); byKey.set(`Questionnaire/${q.id}`, q); }
  const count = new Map<string, number>();
  for (const r of valid) {
    const profile = r.meta!.profile![0];
    count.set(profile, (count.get(profile) ?? 0) + 1);
    const res = await fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r);
    t.equal(res.status, 201, `${r.resourceType}/${r.id} is stored`);
  }
  for (const q of [...byKey.values()].filter((r) => r.resourceType === 'Questionnaire')) count.set(q.meta!.profile![0], (count.get(q.meta!.profile![0]) ?? 0) + 1);
  for (const { profile, cases } of invalidCases()) {
    t.ok((count.get(profile) ?? 0) >= 3, `${profile}: at least 3 valid examples`);
    t.ok(cases.length >= 10, `${profile}: at least 10 invalid examples`);
    t.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'case ids are unique');
    for (const c of cases) {
      const base = byKey.get(c.base);
      t.ok(base, `${c.id}: base ${c.base} exists`);
      if (!base) continue;
      t.equal(base.meta!.profile![0], profile, `${c.id}: the base claims the profile`);
      const broken = fastJsonPatch.applyPatch(structuredClone(base), c.patch as never, true, false).newDocument;
      t.not(JSON.stringify(broken), JSON.stringify(base), `${c.id} changes the example`);
      t.ok(c.expression.startsWith(base.resourceType) && c.rule, `${c.id} states its rule and expression`);
    }
  }
});
