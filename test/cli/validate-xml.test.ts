// migfhir validate on FHIR XML files: the same verdicts as for the JSON form, each issue with
// the line and column of its element, and a file that is not FHIR XML reported as fatal.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { validateCommand } from '../../src/cli/validate.ts';
import { toXml } from '../../src/fhir/xml/serialize.ts';

const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

const capture = () => {
  let text = '';
  return { write: (s: string) => ((text += s), true), get text() { return text; }, isTTY: false } as any;
};

t.test('migfhir validate reads .xml files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-validate-xml-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'good.xml'), toXml(JSON.parse(readFileSync(join(examples, 'Patient-example.json'), 'utf8')), { pretty: true }));
  writeFileSync(join(dir, 'bad.xml'), '<?xml version="1.0" encoding="UTF-8"?>\n<Patient xmlns="http://hl7.org/fhir">\n  <gender value="M"/>\n  <birthDate value="1990-02-30"/>\n</Patient>\n');
  writeFileSync(join(dir, 'broken.xml'), '<Patient xmlns="http://hl7.org/fhir"><gender value="male"></Patient>');
  let out = capture();
  t.equal(await validateCommand([join(dir, 'good.xml')], out, capture()), 0, 'the R4 example Patient in XML is valid');
  out = capture();
  const err = capture();
  t.equal(await validateCommand([dir], out, err), 1, 'errors: exit 1');
  t.match(out.text, `${join(dir, 'bad.xml')}:3:21:Patient.gender: error:`, 'line and column of <gender>');
  t.match(out.text, `${join(dir, 'bad.xml')}:4:33:Patient.birthDate: error:`);
  t.match(out.text, `${join(dir, 'broken.xml')}:: fatal: not FHIR XML`);
  t.match(err.text, /3 resources/);
  out = capture();
  t.equal(await validateCommand([join(dir, 'bad.xml'), '--format', 'json'], out, capture()), 1);
  const gender = JSON.parse(out.text)[0].issues.find((i: any) => i.expression?.[0] === 'Patient.gender');
  t.same([gender.line, gender.col], [3, 21], 'the JSON report gives line and col');
});
