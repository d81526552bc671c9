// The fast FHIRPath subset must agree with fhirpath.js: every invariant of the R4 base
// definitions is evaluated by both on every element of the official example instances it
// applies to, and every verdict the fast evaluator gives (it may decline by falling back) must be
// fhirpath.js's. Plus unit cases for three-valued logic and the fallbacks.
import t from 'tap';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compileFast, FALLBACK } from '../../src/validation/fast-fhirpath.ts';
import { evaluateBoth } from '../../src/validation/invariants.ts';
import { ProfileRegistry, type ElementNode } from '../../src/validation/profiles.ts';
import { loadDefinitions } from '../../src/fhir/definitions.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const vars = { resource: {}, rootResource: {} };
const run = (expr: string, data: unknown) => {
  const f = compileFast(expr);
  if (!f) return 'unsupported';
  try {
    return f(data, vars);
  } catch (err) {
    if (err === FALLBACK) return 'fallback';
    throw err;
  }
};

t.test('subset semantics', async (t) => {
  t.same(run("code.empty() or system.exists()", { code: 'kg' }), [false]);
  t.same(run("code.empty() or system.exists()", { value: 1 }), [true]);
  t.same(run('a and b', { a: true }), []);
  t.same(run('a and b', { a: false }), [false]);
  t.same(run('a or b', { b: true }), [true]);
  t.same(run('a implies b', {}), []);
  t.same(run('a implies b', { a: false }), [true]);
  t.same(run('a.not()', {}), []);
  t.same(run("value.exists()", { valueQuantity: { value: 1 } }), [true]);
  t.same(run("code.exists()", { codeFilter: 'x' }), [false], 'a longer element name is not a choice type');
  t.same(run("given.count()", { given: ['a', null], _given: [null, { extension: [{ url: 'u', valueString: 'x' }] }] }), [2]);
  t.same(run("given.hasValue()", { _given: [{ id: 'x' }] }), [false]);
  t.same(run("a = b", { a: '2020', b: '2020-01' }), 'fallback', 'dates of different precision');
  t.same(run("a <= b", { a: '2020', b: '2021-01' }), 'fallback', 'dates of different precision compare by FHIRPath rules');
  t.same(run("a <= b", { a: '2020-01-01T10:00:00+01:00', b: '2020-01-01T09:30:00Z' }), 'fallback', 'dateTimes in different zones');
  t.same(run("a <= b", { a: '2020', b: '2021' }), [true], 'dates written alike compare as written');
  t.same(run("a < b", { a: '2020-01-01T10:00:00.5Z', b: '2020-01-01T10:00:00.4Z' }), [false]);
  t.same(run("a.is(Quantity)", { a: { value: 1 } }), 'fallback', 'is() on a datatype needs the model');
  t.same(run("a.is(Resource)", {}), 'unsupported');
  t.same(run("entry.first().resource.is(Composition)", { entry: [{ resource: { resourceType: 'Composition' } }, { resource: { resourceType: 'Patient' } }] }), [true]);
  t.same(run("a & b", { a: 'x' }), ['x'], '& reads an empty operand as an empty string');
  t.same(run("(a.count() + b.count()) > 1", { a: [1, 2] }), [true]);
  t.same(run("a.intersect(b).exists()", { a: [{ system: 's', code: 'c' }], b: [{ code: 'c', system: 's' }] }), [true], 'intersect compares properties whatever their order');
  t.same(run("a.intersect(b).exists()", { a: [{ system: 's', code: 'c' }], b: [{ system: 's', code: 'd' }] }), [false]);
  t.same(run("response.exists()", { responseCode: '200' }), [false], 'responseCode is not a choice of response');
  t.same(run("system = %ucum", { system: 'http://unitsofmeasure.org' }), [true]);
  t.same(run("x.where(y = 'a').exists()", { x: [{ y: 'b' }, { y: 'a' }] }), [true]);
  t.same(run("reference.startsWith('#').not() or (reference.substring(1) in %rootResource.contained.id)", { reference: '#a' }), [false]);
});

t.test('agrees with fhirpath.js on every invariant over the official examples', async (t) => {
  const registry = new ProfileRegistry();
  const types = new Set(loadDefinitions().resourceTypes);
  let fastCount = 0;
  let total = 0;
  const disagreements: string[] = [];
  // every object in an example, with its element path, checked against the constraints of the
  // matching element definition of the base type (datatype roots included)
  const visit = (node: ElementNode | undefined, typeName: string, value: unknown, path: string, root: unknown) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    const typeRoot = registry.type(typeName)?.root;
    const constraints = [...(node?.constraints ?? []), ...(typeRoot && typeRoot !== node ? typeRoot.constraints : [])];
    for (const c of constraints) {
      if (!c.expression || c.key === 'ele-1' || c.key === 'ext-1' || c.key === 'dom-3' || c.key.startsWith('txt-')) continue;
      total++;
      const r = evaluateBoth(c.expression, node?.path.replace(/\[x\]$/, '') ?? typeName, value, { resource: root, rootResource: root });
      if (r.fast === undefined) continue;
      fastCount++;
      if (r.reference !== 'error' && r.fast !== r.reference && disagreements.length < 20) disagreements.push(`${path} ${c.key}: fast ${r.fast}, fhirpath.js ${r.reference}`);
    }
    const owner = node?.children.length ? node : typeRoot;
    for (const ch of owner?.children ?? []) {
      for (const key of Object.keys(value as object)) {
        const isChoice = ch.choice && key.startsWith(ch.name) && /^[A-Z]/.test(key.slice(ch.name.length));
        if (key !== ch.name && !isChoice) continue;
        const t = isChoice ? ch.types.find((x) => x.code.toLowerCase() === key.slice(ch.name.length).toLowerCase())?.code : ch.types[0]?.code;
        if (!t || types.has(t) || t === 'Resource') continue;
        const items = (value as Record<string, unknown>)[key];
        for (const item of Array.isArray(items) ? items : [items]) visit(ch.children.length ? ch : undefined, t === 'BackboneElement' || t === 'Element' ? typeName : t, item, `${path}.${key}`, root);
      }
    }
  };
  const files = readdirSync(dir).filter((f) => /^[A-Z][A-Za-z]+-.*\.json$/.test(f) && !/^(StructureDefinition|SearchParameter|CodeSystem|ValueSet|ConceptMap|Bundle)-/.test(f));
  for (const f of files) {
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const def = registry.type(r.resourceType);
    if (!def) continue;
    visit(def.root, r.resourceType, r, `${f}:${r.resourceType}`, r);
  }
  t.same(disagreements, [], 'no disagreement');
  t.ok(fastCount > total * 0.8, `the fast evaluator decided ${fastCount} of ${total} invariant evaluations`);
});
