// Invariants as the reference validator evaluates them: R4's wrong que-12 corrected, per-1
// comparing a date with a dateTime by FHIRPath's precision rules, and every invariant the fast
// evaluator decides agreeing with fhirpath.js on empty collections and on elements present only
// through their extension twin (`_name`: it exists, without a value).
import t from 'tap';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { CORRECTED_EXPRESSIONS, evaluateBoth, evaluateInvariant } from '../../src/validation/invariants.ts';
import { inputNames } from '../../src/validation/fast-fhirpath.ts';
import { offlineValidator } from '../../src/validation/offline.ts';
import { PRIMITIVE_TYPES } from '../../src/validation/primitives.ts';
import { ProfileRegistry, type Constraint, type ElementNode } from '../../src/validation/profiles.ts';

const vars = { resource: {}, rootResource: {} };
const EXT = { url: 'http://example.org/x', valueString: 'x' };
const { validator } = offlineValidator();
const errorsAt = (r: unknown, key: string) => validator.validate(r).filter((i) => i.severity === 'error' && i.diagnostics.includes(`${key}:`)).map((i) => i.expression?.[0]);

t.test('que-12: more than one enableWhen needs enableBehavior (the corrected R4 expression)', async (t) => {
  const when = (q: string) => ({ question: q, operator: 'exists', answerBoolean: true });
  const q = (item: object) => ({ resourceType: 'Questionnaire', status: 'draft', item: [{ linkId: 'a', type: 'boolean' }, { linkId: 'b', type: 'boolean' }, { linkId: 'c', type: 'string', ...item }] });
  t.same(errorsAt(q({ enableWhen: [when('a'), when('b')] }), 'que-12'), ['Questionnaire.item[2]'], 'two without enableBehavior');
  t.same(errorsAt(q({ enableWhen: [when('a'), when('b')], enableBehavior: 'all' }), 'que-12'), []);
  t.same(errorsAt(q({ enableWhen: [when('a')] }), 'que-12'), [], 'one needs none');
  // a profile that states its own que-12 keeps it
  const own: Constraint = { key: 'que-12', severity: 'error', human: '', expression: 'enableWhen.count() > 2 implies enableBehavior.exists()' };
  t.equal(own.expression, CORRECTED_EXPRESSIONS['que-12'].published);
  t.equal(evaluateInvariant({ ...own, expression: 'enableWhen.count() > 5 implies enableBehavior.exists()' }, 'Questionnaire.item', { enableWhen: [{}, {}] }, vars), 'pass');
});

t.test('per-1 compares by FHIRPath precision: a date against a dateTime', async (t) => {
  const per1: Constraint = { key: 'per-1', severity: 'error', human: '', expression: 'start.hasValue().not() or end.hasValue().not() or (start <= end)' };
  const cases: [string, string, 'pass' | 'fail', string][] = [
    ['2010-01-01', '2010-01-01T10:00:00Z', 'pass', 'same day, precisions differ: unknown (empty), so it holds'],
    ['2010-01-02', '2010-01-01T10:00:00Z', 'fail', 'the day decides before precision runs out'],
    ['2010', '2010-05-01', 'pass', 'same year, then no month on one side: unknown'],
    ['2011', '2010-05-01', 'fail', 'the year decides'],
    ['2010-05', '2010-04-30T23:00:00Z', 'fail', 'the month decides'],
    ['2010-01-01T10:00:00+01:00', '2010-01-01T09:30:00Z', 'pass', 'time zones normalised'],
    ['2010-01-01T10:00:00-01:00', '2010-01-01T09:30:00Z', 'fail', 'time zones normalised'],
    ['2010-01-01T10:00:00Z', '2010-01-01T10:00:00.5Z', 'pass', 'seconds and milliseconds are one precision'],
    ['2010-01-01T10:00:00.9Z', '2010-01-01T10:00:00.1Z', 'fail', 'seconds and milliseconds are one precision'],
  ];
  for (const [start, end, want, why] of cases) t.equal(evaluateInvariant(per1, 'Period', { start, end }, vars), want, `${start} .. ${end}: ${why}`);
  // and through the validator, at the Period
  const p = (period: object) => ({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, period });
  t.same(errorsAt(p({ start: '2010-01-01', end: '2010-01-01T10:00:00Z' }), 'per-1'), []);
  t.same(errorsAt(p({ start: '2010-01-02', end: '2010-01-01T10:00:00Z' }), 'per-1'), ['Encounter.period']);
});

t.test('the fast evaluator agrees with fhirpath.js on empty collections and value-less elements', async (t) => {
  const registry = new ProfileRegistry();
  const defs = loadDefinitions();
  const seen = new Set<string>();
  let decided = 0;
  const disagreements: string[] = [];
  const check = (c: Constraint, base: string, data: unknown, label: string) => {
    const r = evaluateBoth(c.expression!, base, data, { resource: data, rootResource: data });
    if (r.fast === undefined || r.reference === 'error') return;
    decided++;
    if (r.fast !== r.reference && disagreements.length < 20) disagreements.push(`${base} ${c.key} on ${label}: fast ${r.fast}, fhirpath.js ${r.reference}`);
  };
  const walk = (n: ElementNode) => {
    for (const c of n.constraints) {
      if (!c.expression || ['ele-1', 'ext-1', 'dom-3'].includes(c.key) || c.key.startsWith('txt-')) continue;
      const base = n.path.replace(/\[x\]$/, '');
      const key = `${base}|${c.expression}`;
      if (seen.has(key)) continue;
      seen.add(key);
      check(c, base, {}, '{}');
      // each primitive child the expression mentions, present only through its extension twin
      const owner = n.children.length ? n : registry.type(n.types[0]?.code ?? '')?.root;
      for (const ch of owner?.children ?? []) {
        if (!new RegExp(`\\b${ch.name}\\b`).test(c.expression)) continue;
        for (const ty of ch.types) {
          if (!PRIMITIVE_TYPES.has(ty.code)) continue;
          const key = `_${ch.name}${ch.choice ? ty.code[0].toUpperCase() + ty.code.slice(1) : ''}`;
          check(c, base, { [key]: ch.array ? [{ extension: [EXT] }] : { extension: [EXT] } }, `${key} only`);
        }
      }
    }
    for (const ch of n.children) walk(ch);
  };
  for (const type of [...defs.resourceTypes, 'Period', 'Quantity', 'Range', 'Ratio', 'Attachment', 'Identifier', 'Reference', 'HumanName', 'ContactPoint', 'Timing', 'Dosage', 'SampledData', 'Narrative', 'Extension', 'ElementDefinition']) {
    const p = registry.type(type);
    if (p) walk(p.root);
  }
  t.same(disagreements, [], 'no disagreement');
  t.ok(decided > 500, `${decided} verdicts of the fast evaluator compared`);
});

t.test('an invariant answered without evaluating it (its input holds none of the names it reads) keeps the verdict', async (t) => {
  t.same(inputNames('contained.contained.empty()'), ['contained']);
  t.same(inputNames('code.empty() or system.exists()')?.sort(), ['code', 'or', 'system'], 'every word may be a name: a superset is safe');
  for (const e of ["reference.startsWith('#').not() or (reference.substring(1) in %rootResource.contained.id)", '$this.exists()', 'first().exists()', "where(code = 'x').exists()", 'Patient.name.exists()', 'children().count() > 1', 'descendants().linkId.isDistinct()']) {
    t.equal(inputNames(e), undefined, `${e}: reads more of its input than named elements`);
  }
  // choice elements and extension twins count as holding the name
  const exists: Constraint = { key: 'x-1', severity: 'error', human: '', expression: 'value.exists()' };
  t.equal(evaluateInvariant(exists, 'Observation', { status: 'final' }, vars), 'fail');
  t.equal(evaluateInvariant(exists, 'Observation', { valueQuantity: { value: 1 } }, vars), 'pass', 'valueQuantity is value');
  t.equal(evaluateInvariant(exists, 'Observation', { status: 'final' }, vars), 'fail', 'answered again from what was worked out');
  // every R4 invariant whose answer can be worked out once, on an object holding none of its
  // names: the verdict fhirpath.js gives on that object
  const registry = new ProfileRegistry();
  const disagreements: string[] = [];
  let compared = 0;
  const seen = new Set<string>();
  const walk = (n: ElementNode) => {
    for (const c of n.constraints) {
      if (!c.expression || ['ele-1', 'ext-1', 'dom-3'].includes(c.key) || c.key.startsWith('txt-') || seen.has(c.expression)) continue;
      seen.add(c.expression);
      if (!inputNames(c.expression)) continue;
      const data = { zzzUnrelated: 'x' };
      const base = n.path.replace(/\[x\]$/, '');
      const reference = evaluateBoth(c.expression, base, data, { resource: data, rootResource: data }).reference;
      if (reference === 'error') continue;
      compared++;
      const verdict = evaluateInvariant(c, base, data, { resource: data, rootResource: data });
      if (verdict !== reference) disagreements.push(`${base} ${c.key}: ${verdict}, fhirpath.js ${reference}`);
    }
    for (const ch of n.children) walk(ch);
  };
  for (const type of [...loadDefinitions().resourceTypes, 'Period', 'Quantity', 'Range', 'Ratio', 'Attachment', 'Identifier', 'Reference', 'HumanName', 'ContactPoint', 'Timing', 'Dosage', 'SampledData', 'Extension', 'ElementDefinition']) {
    const p = registry.type(type);
    if (p) walk(p.root);
  }
  t.same(disagreements, []);
  t.ok(compared > 100, `${compared} invariants compared`);
});
