// migfhir export and migfhir import on local data folders: the files and manifest written, the
// redacted view on request, and the files imported back into an empty folder.
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { exportCommand } from '../../src/cli/export.ts';
import { importCommand } from '../../src/cli/import.ts';
import { fhir } from '../helpers/app.ts';

const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';

t.test('export a data folder, import it into an empty one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-cli-bulk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const options = (data: string) => ['--data-dir', join(dir, data), '--install-ig', 'false', '--export-file-lines', '2'];
  const config = (data: string) => ({ ...loadConfig([...options(data), '--log-level', 'silent']), devOpenAccess: true });
  const a = await buildApp(config('a'));
  for (let i = 0; i < 3; i++) {
    await fhir(a, 'PUT', `/fhir/Patient/p${i}`, { resourceType: 'Patient', id: `p${i}`, name: [{ family: `F${i}` }], ...(i === 0 ? { extension: [{ url: STATUS, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] }] } : {}) });
  }
  await fhir(a, 'PUT', '/fhir/Observation/o1', { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'w' }, subject: { reference: 'Patient/p1' } });
  await a.close();

  t.equal(await exportCommand(['--out', join(dir, 'out'), ...options('a')]), 0, 'export exits 0');
  t.same(readdirSync(join(dir, 'out')).sort(), ['Observation-1.ndjson', 'Patient-1.ndjson', 'Patient-2.ndjson', 'manifest.json']);
  const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8'));
  t.same(manifest.output.map((f: any) => [f.url, f.count]), [['Patient-1.ndjson', 2], ['Patient-2.ndjson', 1], ['Observation-1.ndjson', 1]]);
  t.match(readFileSync(join(dir, 'out', 'Patient-1.ndjson'), 'utf8'), 'asylum-applicant', 'the operator exports everything');

  t.equal(await exportCommand(['--out', join(dir, 'redacted'), '--type', 'Patient', '--without-migration-data', ...options('a')]), 0);
  const redacted = readdirSync(join(dir, 'redacted')).filter((f) => f.endsWith('.ndjson')).map((f) => readFileSync(join(dir, 'redacted', f), 'utf8')).join('');
  t.notOk(redacted.includes(STATUS) || redacted.includes('asylum-applicant'), '--without-migration-data: no migration data in any file');

  t.equal(await importCommand([join(dir, 'out'), ...options('b')]), 0, 'import exits 0');
  const b = await buildApp(config('b'));
  t.teardown(() => b.close());
  t.equal((await fhir(b, 'GET', '/fhir/Patient?_count=10')).body.total, 3);
  t.equal((await fhir(b, 'GET', '/fhir/Observation?subject.family=F1')).body.total, 1, 'indexed, references resolved');
  t.equal(await importCommand([join(dir, 'nothing-here'), ...options('b')]), 2, 'a missing input is a usage error');
});
