// Every example of the IG against the server's validator: valid ones with no error, each
// invalid one with an error at the element its case names.
import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import type { Resource } from 'fhir/r4.js';
import { invalidCases, validExamples } from '../../profiles/index.ts';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { loadIgPackage } from '../../src/ig/package.ts';
import { Terminology } from '../../src/terminology/service.ts';
import { ValidationService } from '../../src/validation/service.ts';

const ig = loadIgPackage()!;
const terminology = new Terminology();
terminology.addPackage(ig);
const validation = new ValidationService(terminology, loadDefinitions().resourceTypes, { modes: { default: 'off', types: {} } as never, mandatoryProfiles: {} });
for (const sd of ig.structureDefinitions.values()) validation.profiles.add(sd.url, sd);
const errors = (r: unknown) => validation.validate(r).filter((i) => i.severity === 'error' || i.severity === 'fatal');

const examples = new Map<string, Resource>();
for (const r of [...validExamples(), ...ig.questionnaires]) examples.set(`${r.resourceType}/${r.id}`, r);

t.test('valid examples and the IG questionnaires have no errors', async (t) => {
  for (const [key, r] of examples) t.same(errors(r).map((i) => `${i.expression?.[0]}: ${i.diagnostics}`), [], key);
});

t.test('each invalid example fails at the element of its stated rule', async (t) => {
  for (const { cases } of invalidCases()) {
    for (const c of cases) {
      const broken = fastJsonPatch.applyPatch(structuredClone(examples.get(c.base)), c.patch as never, true, false).newDocument;
      const found = errors(broken);
      t.ok(found.some((i) => i.expression?.includes(c.expression)), `${c.base} ${c.id} (${c.rule}) → ${c.expression}`, { found: found.map((i) => `${i.expression?.[0]}: ${i.diagnostics}`) });
    }
  }
});
