// Runs the negative corpus (corpus/negative.json) and two generated families through the
// validator in process: every required top-level element of every resource type that has an
// official example, removed (an error on the resource naming the element), and an unknown
// element added to each example (an error at its location). Every case must report its issue
// with the stated severity and FHIRPath expression; the unbroken examples must have no errors
// (examples.test.ts). corpus.test.ts runs the same corpus through $validate and the CLI.
import t, { type Test } from 'tap';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IssueInput } from '../../src/fhir/errors.ts';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { Terminology } from '../../src/terminology/service.ts';
import { BindingChecker } from '../../src/validation/bindings.ts';
import { ProfileRegistry } from '../../src/validation/profiles.ts';
import { Validator } from '../../src/validation/validator.ts';
import { instanceOf, NEGATIVE, perCategory, type NegativeCase } from './corpus/corpus.ts';
import { GENUINELY_INVALID } from '../examples/invalid.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const defs = loadDefinitions();
const validator = new Validator(new ProfileRegistry(), new BindingChecker(new Terminology()), defs.resourceTypes);
const example = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));

type Expected = Pick<NegativeCase, 'name' | 'severity' | 'expression' | 'message'>;

function check(t: Test, c: Expected, issues: IssueInput[]) {
  const hit = issues.find((i) => i.severity === c.severity && i.expression?.[0] === c.expression && (!c.message || i.diagnostics.includes(c.message)));
  const label = `${c.name}: ${c.severity} at ${c.expression}${c.message ? ` (${c.message})` : ''}`;
  if (hit) t.pass(label);
  else t.fail(label, { found: issues.map((i) => `${i.severity} ${i.expression?.[0]}: ${i.diagnostics.slice(0, 160)}`) });
}

t.test('negative cases', async (t) => {
  for (const c of NEGATIVE) {
    let r: unknown;
    try {
      r = instanceOf(c);
    } catch (err) {
      t.fail(`${c.name}: the case cannot be applied to ${c.example}: ${(err as Error).message}`);
      continue;
    }
    check(t, c, validator.validate(r, { profiles: c.profile ? [c.profile] : [] }));
  }
  t.ok(NEGATIVE.length >= 195, `${NEGATIVE.length} cases: ${JSON.stringify(perCategory(NEGATIVE))}`);
});

t.test('every required top-level element removed, every type with an example', async (t) => {
  const files = readdirSync(dir).filter((f) => /^[A-Z][A-Za-z]+-[^/]+\.json$/.test(f) && !GENUINELY_INVALID[f]);
  const firstExample = new Map<string, string>();
  for (const f of files) {
    const type = f.slice(0, f.indexOf('-'));
    if (defs.elements[type] && !firstExample.has(type)) firstExample.set(type, f);
  }
  let n = 0;
  for (const [type, f] of firstExample) {
    const r0 = example(f);
    for (const el of defs.elements[type]) {
      if (el.min < 1) continue;
      const key = el.choice ? Object.keys(r0).find((k) => k.startsWith(el.name) && /^[A-Z]/.test(k.slice(el.name.length))) : el.name;
      if (!key || !(key in r0)) continue;
      const r = structuredClone(r0);
      delete r[key];
      delete r[`_${key}`];
      check(t, { name: `${f} without ${key}`, severity: 'error', expression: type, message: `${type}.${el.name}${el.choice ? '[x]' : ''}: minimum required = ${el.min}` }, validator.validate(r));
      n++;
    }
  }
  t.ok(n > 100, `${n} generated cases`);
});

t.test('an unknown element added to one example of every type', async (t) => {
  const seen = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => /^[A-Z][A-Za-z]+-[^/]+\.json$/.test(f))) {
    const type = f.slice(0, f.indexOf('-'));
    if (!defs.elements[type] || seen.has(type)) continue;
    seen.add(type);
    const r = example(f);
    r.migfhirUnknown = true;
    check(t, { name: `${f} with an unknown element`, severity: 'error', expression: `${type}.migfhirUnknown` }, validator.validate(r));
  }
  t.ok(seen.size > 100, `${seen.size} resource types`);
});

t.test('official examples conform to R4 profiles with slicing', async (t) => {
  for (const [file, profile] of [
    ['Observation-blood-pressure.json', 'http://hl7.org/fhir/StructureDefinition/bp'],
    ['Observation-blood-pressure.json', 'http://hl7.org/fhir/StructureDefinition/vitalsigns'],
    ['Observation-bmi.json', 'http://hl7.org/fhir/StructureDefinition/bmi'],
    ['Observation-heart-rate.json', 'http://hl7.org/fhir/StructureDefinition/heartrate'],
  ]) {
    const errors = validator.validate(example(file), { profiles: [profile] }).filter((i) => i.severity === 'error');
    t.same(errors, [], `${file} conforms to ${profile}`);
  }
});

t.test('extension contexts are judged on the resource, also inside a Bundle', async (t) => {
  const patient = { resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired', valueBoolean: true }], communication: [{ language: { text: 'Tigrinya' }, extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-proficiency', extension: [{ url: 'type', valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-LanguageAbilityMode', code: 'ESP' } }] }] }] };
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:6b1f0c2e-0f3a-4d0e-9a7e-2a8b8f3c1d11', resource: patient }] };
  const contextIssues = (r: unknown) => validator.validate(r).filter((i) => /not allowed to be used at this point/.test(i.diagnostics));
  t.same(contextIssues(patient), [], 'alone');
  t.same(contextIssues(bundle), [], 'in a Bundle entry');
  const obs = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:6b1f0c2e-0f3a-4d0e-9a7e-2a8b8f3c1d12', resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, extension: patient.extension } }] };
  t.equal(contextIssues(obs).length, 1, 'a Patient extension on an Observation in a Bundle is still reported');
});
