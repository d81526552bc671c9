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
  t.same(run("a.is(Resource)", { a: {} }), 'fallback', 'is(Resource) needs the model: fhirpath.js when evaluation reaches it');
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

t.test('the invariants that used to need fhirpath.js agree with it, edge cases included', async (t) => {
  const cases: { key: string; expr: string; base: string; data: unknown; type?: string; mayFallBack?: boolean }[] = [];
  const add = (key: string, expr: string, base: string, type: string | undefined, ...data: unknown[]) => {
    for (const d of data) cases.push({ key, expr, base, data: d, type });
  };
  // left to fhirpath.js: UCUM conversions, comparators
  const fhirpathJs = (key: string, expr: string, base: string, ...data: unknown[]) => {
    for (const d of data) cases.push({ key, expr, base, data: d, mayFallBack: true });
  };
  // que-2: descendants() with isDistinct(), nested items, contained resources, empty
  add('que-2', 'descendants().linkId.isDistinct()', 'Questionnaire', undefined,
    { resourceType: 'Questionnaire', status: 'draft' },
    { resourceType: 'Questionnaire', item: [{ linkId: 'a', type: 'group', item: [{ linkId: 'b', type: 'string' }] }, { linkId: 'c', type: 'string' }] },
    { resourceType: 'Questionnaire', item: [{ linkId: 'a', type: 'group', item: [{ linkId: 'a', type: 'string' }] }] },
    { resourceType: 'Questionnaire', item: [{ linkId: 'x', type: 'string' }, { linkId: 'x', type: 'string' }] },
    { resourceType: 'Questionnaire', contained: [{ resourceType: 'Questionnaire', item: [{ linkId: 'a', type: 'string' }] }], item: [{ linkId: 'a', type: 'string' }] });
  // csd-1: combine() with $this.descendants()
  add('csd-1', 'concept.code.combine($this.descendants().concept.code).isDistinct()', 'CodeSystem', undefined,
    { resourceType: 'CodeSystem' },
    { resourceType: 'CodeSystem', concept: [{ code: 'a' }, { code: 'b', concept: [{ code: 'c' }] }] },
    { resourceType: 'CodeSystem', concept: [{ code: 'a' }, { code: 'b', concept: [{ code: 'a' }] }] },
    { resourceType: 'CodeSystem', concept: [{ code: 'a', concept: [{ code: 'b', concept: [{ code: 'b' }] }] }] });
  // md-1: toInteger() on '*', digits, a sign, a decimal
  add('md-1', "max='*' or (max.toInteger() > 0)", 'ElementDefinition', undefined, { max: '*' }, { max: '1' }, { max: '0' }, { max: '+2' }, { max: '1.5' }, {}, { max: 'x' });
  // que-7 and ras-2: is/as on a choice element's JSON name; vs-1: $this as dateTime with the input's type
  add('que-7', "operator = 'exists' implies (answer is Boolean)", 'Questionnaire.item.enableWhen', undefined,
    { question: 'q', operator: 'exists', answerBoolean: true },
    { question: 'q', operator: 'exists', answerString: 'yes' },
    { question: 'q', operator: '=', answerString: 'yes' },
    { question: 'q', operator: 'exists', answerDecimal: 1.5 },
    { question: 'q', operator: 'exists' });
  add('ras-2', 'probability is decimal implies (probability as decimal) <= 100', 'RiskAssessment.prediction', undefined,
    { probabilityDecimal: 40 }, { probabilityDecimal: 140 }, { probabilityDecimal: 100 }, { probabilityRange: { low: { value: 1 } } }, {});
  add('vs-1', '($this as dateTime).toString().length() >= 8', 'Observation.effectiveDateTime', 'dateTime', '2020', '2020-01', '2020-01-02', '2020-01-02T10:00:00Z');
  add('vs-1', '($this as dateTime).toString().length() >= 8', 'Observation.effectivePeriod', 'Period', { start: '2020' });
  // rng-2: UCUM quantities in one unit compare by value (fhirpath.js converts them); others are its own
  add('rng-2', 'low.empty() or high.empty() or (low <= high)', 'Range', undefined,
    { low: { value: 3, system: 'http://unitsofmeasure.org', code: 'a' }, high: { value: 18, system: 'http://unitsofmeasure.org', code: 'a' } },
    { low: { value: 30, system: 'http://unitsofmeasure.org', code: 'mg' }, high: { value: 18, system: 'http://unitsofmeasure.org', code: 'mg' } },
    { low: { value: 18, system: 'http://unitsofmeasure.org', code: 'mg' }, high: { value: 18, system: 'http://unitsofmeasure.org', code: 'mg' } },
    { low: { value: 1, unit: 'TAB', system: 'http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm', code: 'TAB' }, high: { value: 2, unit: 'TAB', system: 'http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm', code: 'TAB' } },
    { low: { value: 3, unit: 'a' }, high: { value: 18, unit: 'a' } },
    { low: { value: 3 } });
  // que-10: `in` a union of literal strings (worked out once, a set look-up): a member, a
  // non-member, an absent item, an item only through its extension twin, a repeated item
  add('que-10', "(type in ('boolean' | 'decimal' | 'integer' | 'string' | 'text' | 'url' | 'open-choice')) or maxLength.empty()", 'Questionnaire.item', undefined,
    { linkId: 'a', type: 'string', maxLength: 3 }, { linkId: 'a', type: 'choice', maxLength: 3 }, { linkId: 'a', type: 'choice' }, { linkId: 'a', maxLength: 3 }, { linkId: 'a', type: 'url' });
  fhirpathJs('que-10', "(type in ('boolean' | 'decimal' | 'integer' | 'string' | 'text' | 'url' | 'open-choice')) or maxLength.empty()", 'Questionnaire.item',
    { linkId: 'a', _type: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] }, maxLength: 3 });
  // the same with a number, with duplicates in the union, and with date literals (left to the
  // general comparison: dates of other precisions are fhirpath.js's)
  add('in-literals', "code in ('a' | 'b' | 'a')", 'Coding', undefined, { code: 'a' }, { code: 'c' }, {});
  fhirpathJs('in-dates', "start in ('2020-01-01' | '2021')", 'Period', { start: '2021' }, { start: '2022-01-01' }, {});
  fhirpathJs('in-number', "value in ('1' | '2')", 'Quantity', { value: 1 });
  add('union-count', "('a' | 'b' | 'a').count() = 2", 'Coding', undefined, { code: 'a' });
  fhirpathJs('rng-2', 'low.empty() or high.empty() or (low <= high)', 'Range',
    { low: { value: 30, system: 'http://unitsofmeasure.org', code: 'mg' }, high: { value: 1, system: 'http://unitsofmeasure.org', code: 'g' } },
    { low: { value: 3, comparator: '<', system: 'http://unitsofmeasure.org', code: 'a' }, high: { value: 18, system: 'http://unitsofmeasure.org', code: 'a' } });
  for (const c of cases) {
    const r = evaluateBoth(c.expr, c.base, c.data, { resource: c.data, rootResource: c.data, ...(c.type ? { type: c.type } : {}) });
    if (!c.mayFallBack) t.not(r.fast, undefined, `${c.key} decided without fhirpath.js on ${JSON.stringify(c.data)}`);
    if (r.fast !== undefined) t.equal(r.fast, r.reference, `${c.key} on ${JSON.stringify(c.data)}: ${r.reference}`);
  }
  // ctm-1: fhirpath.js resolves references only asynchronously, so it answers a synchronous
  // evaluation with an error whatever the input (the invariant is not reported); the fast
  // evaluator decides it when onBehalfOf is absent (holds) and errs as fhirpath.js when present
  const ctm1 = 'onBehalfOf.exists() implies (member.resolve().iif(empty(), true, ofType(Practitioner).exists()))';
  for (const data of [{ member: { reference: '#p' } }, { member: { reference: '#p' }, onBehalfOf: { reference: 'Organization/1' } }]) {
    const r = evaluateBoth(ctm1, 'CareTeam.participant', data, { resource: data, rootResource: data });
    t.equal(r.reference, 'error', 'fhirpath.js cannot evaluate resolve() synchronously');
    t.equal(r.fast, data.onBehalfOf ? 'error' : 'pass', `ctm-1 on ${JSON.stringify(data)}: not reported either way`);
  }
});

t.test('quantities of one unit outside UCUM compare by value', async (t) => {
  // fhirpath.js leaves them unconverted and compares two JavaScript objects (always <=, never <);
  // FHIRPath compares quantities of the same unit by value, as the HL7 reference validator does
  const rng2 = 'low.empty() or high.empty() or (low <= high)';
  t.same(run(rng2, { low: { value: 30, unit: 'a' }, high: { value: 18, unit: 'a' } }), [false]);
  t.same(run(rng2, { low: { value: 3, unit: 'a' }, high: { value: 18, unit: 'a' } }), [true]);
  t.same(run(rng2, { low: { value: 3, system: 's', code: 'x' }, high: { value: 2, system: 's', code: 'x' } }), [false]);
  t.same(run(rng2, { low: { value: 3, unit: 'a' }, high: { value: 18, unit: 'b' } }), 'fallback', 'different units are fhirpath.js\'s');
  t.same(run(rng2, { low: { value: 3, system: 's', code: 'x' }, high: { value: 4, system: 't', code: 'x' } }), 'fallback');
});

t.test('a function beyond the subset falls back only when evaluation reaches it', async (t) => {
  t.same(run('a.exists() implies b.children().exists()', {}), [true]);
  t.same(run('a.exists() implies b.children().exists()', { a: 1 }), 'fallback');
  t.same(run("value is Quantity", { valueQuantity: { value: 1 } }), [true]);
  t.same(run("value is Quantity", { valueAge: { value: 1 } }), 'fallback', 'a type other types derive from needs the model');
  t.same(run("value is Period", { valueQuantity: { value: 1 } }), [false]);
  t.same(run("(value as Period).exists()", { valuePeriod: { start: '2020' } }), [true]);
  t.same(run("value is System.Boolean", { valueBoolean: true }), 'fallback');
  t.same(run("answer is Boolean", { answer: true }), 'fallback', 'a value read by its plain name has the type the model gives');
  t.same(run("$this is Period", { start: '2020' }), 'fallback', "without the input's type");
  t.same(run("descendants().count()", { a: 'x', _a: { id: 'i' } }), 'fallback', 'primitive extensions are fhirpath.js\'s');
  t.same(run("descendants().count()", { a: [{ b: 'x' }, { c: ['y', 'z'] }] }), [5]);
  t.same(run("a.toInteger()", { a: 2 }), 'fallback', 'a JSON number may be a decimal (2.0), which toInteger() leaves empty');
  t.same(run("a.toInteger()", { a: '-12' }), [-12]);
});
