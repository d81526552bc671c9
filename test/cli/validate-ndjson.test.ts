// migfhir validate on NDJSON: every line a resource, validated in turn, each issue labelled with
// its file and line number (blank lines counted, lines that are not JSON reported as fatal); the
// progress bar goes to stderr only on a terminal.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { validateCommand } from '../../src/cli/validate.ts';

const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const example = (f: string) => JSON.parse(readFileSync(join(examples, f), 'utf8'));

const capture = (isTTY = false) => {
  let text = '';
  return { write: (s: string) => ((text += s), true), get text() { return text; }, isTTY } as any;
};

t.test('an NDJSON file is validated line by line, issues carry line numbers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-validate-ndjson-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'patients.ndjson');
  const good = example('Patient-example.json');
  const badGender = { ...good, gender: 'M' };
  const badDate = { ...example('Observation-example.json'), effectiveDateTime: '2016-02-30' };
  writeFileSync(file, [JSON.stringify(good), JSON.stringify(badGender), '', JSON.stringify(badDate), '{"resourceType": "Patient",', JSON.stringify(good)].join('\n') + '\n');
  const out = capture();
  const err = capture();
  t.equal(await validateCommand([file], out, err), 1, 'errors: exit 1');
  const lines = out.text.trim().split('\n');
  t.ok(lines.some((l: string) => l.startsWith(`${file}:2:Patient.gender: error:`)), 'line 2: the bad gender');
  t.ok(lines.some((l: string) => l.startsWith(`${file}:4:Observation.effectiveDateTime: error:`)), 'line 4 (after a blank line 3): the bad date');
  t.ok(lines.some((l: string) => l.startsWith(`${file}:5:: fatal: not JSON`)), 'line 5: not JSON');
  t.notOk(lines.some((l: string) => /:(1|3|6):[A-Za-z]*[^:]*: error:/.test(l.slice(file.length))), 'no error on the valid lines');
  t.match(err.text, /5 resources, 3 errors/, 'five resources (the blank line is none), three errors');
  t.notMatch(err.text, /\r\[/, 'no progress bar when stderr is not a terminal');

  const json = capture();
  t.equal(await validateCommand([file, '--format', 'json'], json, capture()), 1);
  t.same(JSON.parse(json.text).map((r: any) => r.file), [1, 2, 4, 5, 6].map((n) => `${file}:${n}`), 'the JSON report names each line');
});

t.test('a progress bar on a terminal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-validate-progress-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'many.ndjson');
  // past the size from which the bar is shown (4 MB)
  const line = JSON.stringify(example('Patient-example.json'));
  writeFileSync(file, `${Array.from({ length: Math.ceil(4_000_000 / line.length) + 10 }, () => line).join('\n')}\n`);
  const err = capture(true);
  t.equal(await validateCommand([file], capture(), err), 0);
  t.match(err.text, /\r\[#{30}\] \d+ resources, 100%\n/, 'the bar ends full, on its own line');
});

t.test('several threads give the output of one: same issues, order, line numbers and counts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-validate-threads-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mixed.ndjson');
  // valid and invalid lines of many types (so every batch holds issues), blank lines, lines that
  // are not JSON, past several batches of 32 lines, and a JSON file after it (main thread only)
  const names = ['Patient-example.json', 'Observation-example.json', 'Questionnaire-qs1.json', 'Bundle-bundle-example.json', 'MedicationRequest-medrx0301.json', 'Encounter-example.json'];
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const r = example(names[i % names.length]);
    if (i % 7 === 0) r.status = 'no-such-status';
    lines.push(i % 41 === 0 ? '{"resourceType": "Patient",' : i % 53 === 0 ? '' : JSON.stringify(r));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  const single = join(dir, 'single.json');
  writeFileSync(single, JSON.stringify({ ...example('Patient-example.json'), gender: 'M' }));
  const run = async (threads: string, format: string) => {
    const out = capture();
    const err = capture();
    const code = await validateCommand([file, single, '--threads', threads, '--format', format], out, err);
    return { code, out: out.text, err: err.text };
  };
  for (const format of ['text', 'json']) {
    const one = await run('1', format);
    t.equal(one.code, 1, `${format}: errors, exit 1`);
    t.ok(one.out.split('\n').length > 300, `${format}: issues on many lines`);
    for (const threads of ['2', '3']) t.same(await run(threads, format), one, `${format}: ${threads} threads give the output of one`);
  }
  t.equal(await validateCommand([file, '--threads', '0'], capture(), capture()), 2, '--threads takes 1 to 99');
});
