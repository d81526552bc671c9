// `migfhir seed` (src/cli/seed.ts): the demo population loads through the server's own doors
// with every step accepted, loading it again adds nothing, and it has what the README and the
// console show — a PAAYPA record merged into its AMKA one, names in several scripts, a guardian,
// an International Patient Summary, scored screenings. Also end to end on the command line.
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoPopulation, injectInto, seed } from '../../src/cli/seed.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { listeningServer } from '../sync/helpers.ts';

const TYPES = ['Patient', 'Encounter', 'QuestionnaireResponse', 'Observation', 'Provenance', 'Coverage', 'AllergyIntolerance'];

t.test('the demo population loads, twice without change, with what the demo needs', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const counts = async () => Object.fromEntries(await Promise.all(TYPES.map(async (type) => [type, (await fhir(app, 'GET', `/fhir/${type}?_summary=count`)).body.total])));
  t.same(await seed(injectInto(app, '/fhir')), [], `all ${demoPopulation().length} steps accepted`);
  const first = await counts();
  t.ok(first.Patient >= 7, `${first.Patient} people`);
  t.same(await seed(injectInto(app, '/fhir')), [], 'again: all accepted');
  t.same(await counts(), first, 'and nothing added');

  const fatima = (await fhir(app, 'GET', '/fhir/Patient?identifier=https://migfhir.org/fhir/sid/gr-paaypa|PA-0048213')).body.entry;
  t.equal(fatima.length, 1, 'the PAAYPA record and the AMKA that replaced it are one person');
  t.ok(fatima[0].resource.name.some((n: any) => n.family === 'حداد'), 'her name in Arabic script kept');
  const minors = (await fhir(app, 'GET', '/fhir/Patient?_count=50')).body.entry.map((e: any) => e.resource).filter((p: any) => p.contact?.some((c: any) => c.relationship?.some((r: any) => r.coding?.some((x: any) => x.code === 'GUARD'))));
  t.equal(minors.length, 1, 'an unaccompanied minor with a guardian');
  const ips = await fhir(app, 'GET', '/fhir/Patient/demo-amal/$summary');
  t.equal(ips.status, 200);
  t.equal(ips.body.type, 'document', 'an International Patient Summary');
  const scores = (await fhir(app, 'GET', '/fhir/Observation?subject=Patient/demo-amal&derived-from:missing=false')).body.entry ?? [];
  t.equal(scores.length, 2, 'PHQ-9 and GAD-7 scored');
  const match = await fhir(app, 'POST', '/fhir/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'Haddad', given: ['Fatima'] }], birthDate: '1990' } }] });
  t.ok(match.body.entry?.some((e: any) => e.resource.id === fatima[0].resource.id), '$match finds her by her Latin name');
});

t.test('migfhir seed --data-dir: exit 0, one line per step', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-seed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = spawnSync(process.execPath, ['src/cli/main.ts', 'seed', '--data-dir', dir], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, demoPopulation().length);
  t.match(run.stdout, /demo population loaded/);
});

t.test('migfhir seed --server: into a running server over HTTP (steps without a body send none)', async (t) => {
  const { app, base } = await listeningServer();
  t.teardown(() => app.close());
  const run = await promisify(execFile)(process.execPath, ['src/cli/main.ts', 'seed', '--server', base], { encoding: 'utf8' });
  t.equal(run.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, demoPopulation().length, run.stdout.split('\n').filter((l) => l.startsWith('FAIL')).join('\n'));
  t.match(run.stdout, /demo population loaded/);
});
