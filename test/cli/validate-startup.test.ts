// `migfhir validate` on JSON against R4 starts without the libraries it does not use there: ajv
// (config.ts checks match-config.json with it), the XML reader, tar (--ig packages) and fhirpath.js
// (the fast evaluator decides every invariant of these examples). Each costs start-up time in the
// main thread and in every validation worker; XML input and --ig still load what they need.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

/** The packages under node_modules a `migfhir validate` run loads, and its exit status. */
function packagesLoaded(dir: string, args: string[]): { packages: Set<string>; status: number | null; stderr: string } {
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(join(dir, 'loaded.txt'))}, url + '\\n'); return next(url, context); } });
`,
  );
  writeFileSync(join(dir, 'loaded.txt'), '');
  const run = spawnSync(process.execPath, ['--import', hooks, 'src/cli/main.ts', 'validate', ...args], { cwd: root, encoding: 'utf8' });
  const packages = new Set(
    readFileSync(join(dir, 'loaded.txt'), 'utf8')
      .split('\n')
      .map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1])
      .filter((p): p is string => p !== undefined),
  );
  return { packages, status: run.status, stderr: run.stderr };
}

t.test('JSON against R4: no ajv, fhirpath.js, tar or XML reader', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-validate-startup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lines.ndjson');
  // the examples whose invariants used to fall back to fhirpath.js (que-2, que-7, ras-2, rng-2, ctm-1)
  const names = ['Patient-example.json', 'Questionnaire-qs1.json', 'Questionnaire-bb.json', 'RiskAssessment-cardiac.json', 'MedicationRequest-medrx0310.json', 'CareTeam-example.json'];
  writeFileSync(file, `${names.map((f) => JSON.stringify(JSON.parse(readFileSync(join(examples, f), 'utf8')))).join('\n')}\n`);
  const { packages, status, stderr } = packagesLoaded(dir, ['--threads', '1', file]);
  t.match(stderr, /6 resources/, 'validated');
  t.not(status, 2, 'ran');
  for (const p of ['ajv', 'fhirpath', 'tar']) t.notOk(packages.has(p), `${p} not loaded`);

  // an XML input loads the XML reader (sax)
  const xml = join(dir, 'patient.xml');
  writeFileSync(xml, '<Patient xmlns="http://hl7.org/fhir"><gender value="male"/></Patient>');
  const x = packagesLoaded(dir, [xml]);
  t.match(x.stderr, /1 resources, 0 errors/);
  t.ok(x.packages.has('sax'), 'XML input: sax loaded');
});
