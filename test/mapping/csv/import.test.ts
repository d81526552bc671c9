// NGO clinic registers: the example register (Arabic, Cyrillic, Greek and Dari names; BOM;
// quoted commas, quotes and a line break) maps to resources valid against the IG; the same
// register with ";" and no BOM maps identically; malformed rows are reported per row and
// column; $import-csv and `migfhir import-csv` import once and re-import idempotently.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Encounter, Parameters, Patient, ServiceRequest } from 'fhir/r4.js';
import { describeError, mapFile } from '../../../src/mapping/csv/adapter.ts';
import { parseCsv } from '../../../src/mapping/csv/parse.ts';
import { fhir, testApp } from '../../helpers/app.ts';
import { profileErrors } from '../../helpers/ig-validator.ts';

const DIR = 'docs/examples/ngo-register';
const mapping = readFileSync(`${DIR}/mapping.json`, 'utf8');
const register = readFileSync(`${DIR}/register.csv`);
const malformed = readFileSync('test/mapping/csv/malformed.csv');
const NOW = '2026-12-01T00:00:00Z';

t.test('the example register: every row mapped, every resource valid against the IG, names kept', async (t) => {
  const file = mapFile({ csv: register, mapping, received: NOW });
  t.equal(file.total, 5);
  t.same(file.errors, []);
  for (const r of file.rows) for (const e of r.bundle.entry!) t.same(profileErrors(e.resource), [], `row ${r.row} ${e.resource!.resourceType}`);
  const patients = file.rows.map((r) => r.bundle.entry![0].resource as Patient);
  t.same(patients.map((p) => p.name!.find((n) => n.use === 'usual')?.text), ['فاطمة حداد', 'Олена Шевченко', 'Γιώργος Παπαδόπουλος', 'گل احمدزی', 'فاطمة حداد']);
  t.match(patients[0], { birthDate: '1990', _birthDate: { extension: [{ valueBoolean: true }] }, gender: 'female', communication: [{ language: { coding: [{ code: 'ar' }] }, preferred: true }, { language: { coding: [{ code: 'en' }] } }] });
  t.match(patients[0].identifier, [{ system: 'https://migfhir.org/fhir/sid/unhcr-progres', value: '123-00045678' }, { system: 'https://migfhir.org/fhir/sid/gr-paaypa', use: 'temp', period: { start: '2026-03-03' } }]);
  t.match(patients[1].identifier, [{ system: 'https://migfhir.org/fhir/sid/passport/UKR', value: 'FX123456' }]);
  t.equal(patients[2].gender, 'male', 'Greek Α mapped through values.sex');
  const enc = file.rows[3].bundle.entry![1].resource as Encounter;
  t.equal(enc.reasonCode![0].text, 'Nightmares, "cannot sleep"\nsince arrival', 'quotes and the line break inside a quoted cell');
  const sr = file.rows[3].bundle.entry![2].resource as ServiceRequest;
  t.match(sr, { category: [{ coding: [{ code: 'mhpss' }] }], performer: [{ display: 'MHPSS team Lesvos' }], authoredOn: '2026-03-05', encounter: { reference: file.rows[3].bundle.entry![1].fullUrl } });
});

t.test('";" delimiter without BOM, and UTF-16 with BOM, map to the same Bundles', async (t) => {
  const text = register.toString('utf8').replace(/^\uFEFF/, '');
  const rows = parseCsv(text).rows;
  const semi = [parseCsv(text).header, ...rows.map((r) => Object.values(r.values))].map((cells) => cells.map((c) => (/[;"\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(';')).join('\r\n');
  const base = mapFile({ csv: register, mapping, received: NOW }).rows.map((r) => r.bundle);
  t.strictSame(mapFile({ csv: semi, mapping, received: NOW }).rows.map((r) => r.bundle), base, 'semicolons, CRLF');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  t.strictSame(mapFile({ csv: utf16, mapping, received: NOW }).rows.map((r) => r.bundle), base, 'UTF-16LE');
});

t.test('malformed rows: reported per row and column, the good row still mapped', async (t) => {
  const file = mapFile({ csv: malformed, mapping, received: NOW });
  t.same(file.rows.map((r) => r.row), [7]);
  const expected: [number, string | undefined, RegExp][] = [
    [1, 'Date', /not a full date/], [2, 'Sex', /values\.sex/], [3, 'UNHCR no. / PAAYPA / Passport', /no identifier/],
    [4, 'Country of origin', /ISO 3166/], [4, 'Languages', /BCP-47/], [5, 'Reason', /reason/], [6, undefined, /18 fields, the header 16/],
    [8, 'Passport country', /alpha-3/], [9, undefined, /Quote Not Closed/],
  ];
  t.equal(file.errors.length, expected.length);
  expected.forEach(([row, column, message], i) => t.match(file.errors[i], { row, column, message }, describeError(file.errors[i])));
  t.equal(file.total, 9, 'every data row is counted: none dropped silently');
});

t.test('mapping file errors are one 400 naming the field', async (t) => {
  const bad = (patch: (m: any) => void) => {
    const m = JSON.parse(mapping);
    patch(m);
    try {
      mapFile({ csv: register, mapping: JSON.stringify(m) });
      return undefined;
    } catch (err) {
      return (err as { status: number; outcome: { issue: { expression: string[] }[] } });
    }
  };
  for (const [patch, at] of [
    [(m: any) => delete m.columns.date, 'mapping.columns.date'],
    [(m: any) => (m.defaults.setting = 'beach'), 'mapping.defaults.setting'],
    [(m: any) => (m.identifiers = []), 'mapping.identifiers'],
    [(m: any) => (m.identifiers[0].system = 'not a uri'), 'mapping.identifiers[0].system'],
    [(m: any) => (m.columns.shoeSize = 'x'), 'mapping.columns.shoeSize'],
  ] as [(m: any) => void, string][]) {
    const err = bad(patch);
    t.equal(err?.status, 400, at);
    t.same(err?.outcome.issue[0].expression, [at]);
  }
});

async function importCsv(app: Awaited<ReturnType<typeof testApp>>, csv: Buffer | string, dryRun = false) {
  const body: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'csv', valueBase64Binary: Buffer.from(csv).toString('base64') }, { name: 'mapping', valueString: mapping }, { name: 'dryRun', valueBoolean: dryRun }] };
  const res = await fhir(app, 'POST', '/fhir/$import-csv', body);
  const p = (name: string) => (res.body.parameter as { name: string; valueInteger?: number }[]).find((x) => x.name === name)?.valueInteger;
  return { res, imported: p('imported'), unchanged: p('unchanged'), rejected: p('rejected'), mapped: p('mapped') };
}

t.test('$import-csv: imports once, re-imports nothing, an edited row updates in place', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const count = async (type: string) => (await fhir(app, 'GET', `/fhir/${type}?_summary=count`)).body.total as number;
  const dry = await importCsv(app, register, true);
  t.equal(dry.mapped, 5);
  t.equal(await count('Patient'), 0, 'dry run writes nothing');
  const first = await importCsv(app, register);
  t.match(first, { imported: 5, unchanged: 0, rejected: 0 });
  const counts = { Patient: await count('Patient'), Encounter: await count('Encounter'), ServiceRequest: await count('ServiceRequest'), Provenance: await count('Provenance') };
  t.same(counts, { Patient: 4, Encounter: 5, ServiceRequest: 2, Provenance: 5 }, 'Fatima\'s two consultations are one patient');
  const again = await importCsv(app, register);
  t.match(again, { imported: 0, unchanged: 5, rejected: 0 });
  const edited = register.toString('utf8').replace('Follow-up of cough', 'Follow-up of cough - improving');
  t.match(await importCsv(app, edited), { imported: 1, unchanged: 4 });
  t.same({ Patient: await count('Patient'), Encounter: await count('Encounter'), ServiceRequest: await count('ServiceRequest'), Provenance: await count('Provenance') }, { ...counts, Provenance: 6 }, 'updated in place');
  const enc = (await fhir(app, 'GET', '/fhir/Encounter?identifier=https://ngo.example.org/fhir/sid/lesvos-clinic-consultation|C-0005')).body.entry[0].resource as Encounter;
  t.equal(enc.reasonCode![0].text, 'Follow-up of cough - improving');
  const bad = await importCsv(app, malformed);
  t.match(bad, { imported: 1, rejected: 8 });
  const issues = (bad.res.body.parameter as { name: string; part?: { name: string; valueInteger?: number; valueString?: string }[] }[]).filter((p) => p.name === 'issue');
  t.equal(issues.length, 9);
  t.match(issues[0].part, [{ name: 'row', valueInteger: 1 }, { name: 'line', valueInteger: 2 }, { name: 'column', valueString: 'Date' }, { name: 'message' }]);
});

t.test('migfhir import-csv against a local data folder: dry run, import, idempotent re-import, bad rows exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-csv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', 'import-csv', ...args, '--data-dir', dir], { encoding: 'utf8' });
  const dry = run(`${DIR}/register.csv`, '--mapping', `${DIR}/mapping.json`, '--dry-run');
  t.equal(dry.status, 0, dry.stderr);
  t.equal(JSON.parse(dry.stdout).entry.length, 5, 'dry run prints the Bundles');
  t.match(dry.stderr, /5 rows: 5 would be imported, 0 rejected/);
  const first = run(`${DIR}/register.csv`, '--mapping', `${DIR}/mapping.json`);
  t.match(first.stdout, /5 rows: 5 imported, 0 unchanged/);
  const second = run(`${DIR}/register.csv`, '--mapping', `${DIR}/mapping.json`);
  t.match(second.stdout, /5 rows: 0 imported, 5 unchanged/);
  const file = join(dir, 'bad.csv');
  writeFileSync(file, malformed);
  const bad = run(file, '--mapping', `${DIR}/mapping.json`);
  t.equal(bad.status, 1);
  t.match(bad.stdout, /rejected row 1 \(line 2\), column 'Date'/);
  const usage = spawnSync(process.execPath, ['src/cli/main.ts', 'import-csv'], { encoding: 'utf8' });
  t.equal(usage.status, 2);
});
