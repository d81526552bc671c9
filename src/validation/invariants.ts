// Invariants (ElementDefinition.constraint) evaluated with the fhirpath library against the R4
// model, each expression compiled once per (element path, expression) and cached. The two
// invariants every element carries are checked natively by the structural walk instead, since
// evaluating FHIRPath on every element would cost more than the rest of validation together:
// ele-1 (every element has a value or children) and ext-1 (an extension has a value or nested
// extensions, not both).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Constraint } from './profiles.ts';
import { compileFast, FALLBACK, inputNames, type Vars } from './fast-fhirpath.ts';

export const NATIVE_INVARIANTS = new Set(['ele-1', 'ext-1', 'dom-3']);

/** dom-3: every contained resource is referred to ('#id') from elsewhere in the resource, or
 * refers to its container ('#'). Native because the R4 expression applies as() to collections,
 * which fhirpath.js rejects, and walks every descendant several times. */
export function uncitedContained(resource: Record<string, unknown>): number[] {
  const contained = resource.contained;
  if (!Array.isArray(contained) || !contained.length) return [];
  const cites = new Set<string>();
  const collect = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.startsWith('#')) cites.add(v);
    } else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) collect(x);
  };
  collect(resource);
  const out: number[] = [];
  contained.forEach((c, i) => {
    const id = (c as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && cites.has(`#${id}`)) return;
    const back = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') {
        if (v === '#') back.add(v);
      } else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
    };
    walk(c);
    if (!back.size) out.push(i);
  });
  return out;
}

/** Invariants whose R4 expressions the fhirpath library cannot evaluate faithfully, with why;
 * the structural walk or the narrative check covers what they mean. */
export const UNEVALUATED: Record<string, string> = {
  'txt-1': 'htmlChecks() is a validator-defined function; the walker checks narrative XHTML itself',
  'txt-2': 'htmlChecks() is a validator-defined function; the walker checks narrative XHTML itself',
};

/** R4 invariants test FHIR primitives against FHIRPath system types (`answer is Boolean`, que-7),
 * which the reference validator accepts and fhirpath.js, holding FHIR and System types apart,
 * does not: such tests are read as the FHIR primitive type. */
function fhirTypeTests(expression: string): string {
  return expression.replace(/\b(is|as)\s+(Boolean|String|Integer|Decimal|DateTime|Date|Time)\b/g, (_m, op: string, t: string) => `${op} FHIR.${t[0].toLowerCase()}${t.slice(1)}`);
}

type Compiled = (data: unknown, vars: Vars) => unknown[];

type FhirpathLibrary = typeof import('fhirpath').default;
type Model = Parameters<FhirpathLibrary['compile']>[1];
let library: { fhirpath: FhirpathLibrary; model: Model } | undefined;

/** fhirpath.js and its R4 model, loaded on the first expression the fast evaluator declines:
 * ~150 ms a thread that `migfhir validate` and its worker threads need not pay when every
 * invariant they meet is within the subset. The ES module build, as the server's other modules
 * import it (one instance). */
function reference(): NonNullable<typeof library> {
  if (!library) {
    const require = createRequire(import.meta.url);
    const fhirpath = (require(fileURLToPath(import.meta.resolve('fhirpath'))) as { default: FhirpathLibrary }).default;
    library = { fhirpath, model: require('fhirpath/fhir-context/r4/index.js') as Model };
  }
  return library;
}

const cache = new Map<string, Compiled | null>();
const fastCache = new Map<string, Compiled | null>();

/** fhirpath.js, compiled once per (element path, expression): the reference semantics. */
function compiled(base: string, expression: string): Compiled | null {
  const key = `${base}\u0000${expression}`;
  let fn = cache.get(key);
  if (fn === undefined) {
    try {
      const { fhirpath, model } = reference();
      const f = fhirpath.compile({ base, expression: fhirTypeTests(expression) }, model, { resolveInternalTypes: true, traceFn: () => {} });
      fn = (data, vars) => f(data as object, { resource: vars.resource, rootResource: vars.rootResource }) as unknown[];
    } catch {
      fn = null;
    }
    cache.set(key, fn);
  }
  return fn;
}

/** The fast subset evaluator, when the expression is within it (it does not depend on base). */
function fast(expression: string): Compiled | null {
  let fn = fastCache.get(expression);
  if (fn === undefined) {
    fn = compileFast(expression) ?? null;
    fastCache.set(expression, fn);
  }
  return fn;
}

function verdict(out: unknown[]): InvariantResult {
  // an invariant holds when it evaluates to true; an empty result counts as true, like the
  // reference validator
  return out.length === 0 || out.every((v) => v === true) ? 'pass' : 'fail';
}

/** Both evaluators on one input, for the differential test: undefined where fast falls back. */
export function evaluateBoth(expression: string, base: string, data: unknown, vars: Vars): { fast?: InvariantResult; reference: InvariantResult } {
  const ref = compiled(base, expression);
  let reference: InvariantResult = 'error';
  try {
    if (ref) reference = verdict(ref(data, vars));
  } catch {
    reference = 'error';
  }
  const f = fast(expression);
  if (!f) return { reference };
  try {
    return { fast: verdict(f(data, vars)), reference };
  } catch (err) {
    if (err === FALLBACK) return { reference };
    return { fast: 'error', reference };
  }
}

export type InvariantResult = 'pass' | 'fail' | 'error';

/** R4 invariants whose published expressions are wrong, with the expression the HL7 reference
 * validator evaluates instead; applied only to the published text, so a profile that states
 * its own keeps it. */
export const CORRECTED_EXPRESSIONS: Record<string, { published: string; corrected: string; why: string }> = {
  'que-12': {
    published: 'enableWhen.count() > 2 implies enableBehavior.exists()',
    corrected: 'enableWhen.count() > 1 implies enableBehavior.exists()',
    why: "its text says 'more than one enableWhen'; R4's expression only fires from three",
  },
};

function expressionOf(c: Constraint): string | undefined {
  const fix = CORRECTED_EXPRESSIONS[c.key];
  return fix && c.expression === fix.published ? fix.corrected : c.expression;
}

/** An expression's verdict on an object holding none of the names it reads (inputNames):
 * most invariants test elements an instance does not have (dom-2's contained, sqty-1's
 * comparator), and their answer is then the one on an empty object, worked out once. */
interface Absent {
  names: string[];
  verdict: InvariantResult;
}

const absentCache = new Map<string, Absent | null>();

function absent(expression: string, f: Compiled): Absent | null {
  let a = absentCache.get(expression);
  if (a === undefined) {
    a = null;
    const names = inputNames(expression);
    if (names) {
      try {
        a = { names, verdict: verdict(f({}, { resource: undefined, rootResource: undefined })) };
      } catch {
        a = null; // FALLBACK, or an error: evaluated each time
      }
    }
    absentCache.set(expression, a);
  }
  return a;
}

/** Whether the object has none of the names (nor a longer name starting with one: a choice
 * element's valueQuantity for value, a primitive's _name twin); its keys when the caller has
 * them (the walk lists each object's keys once, for all the invariants read on it). */
function holdsNone(data: object, names: string[], keys?: readonly string[]): boolean {
  if (keys) {
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j];
      const from = k.charCodeAt(0) === 95 ? 1 : 0;
      for (let i = 0; i < names.length; i++) if (k.startsWith(names[i], from)) return false;
    }
    return true;
  }
  for (const k in data) {
    const from = k.charCodeAt(0) === 95 ? 1 : 0;
    for (let i = 0; i < names.length; i++) if (k.startsWith(names[i], from)) return false;
  }
  return true;
}

/** What is worked out once per constraint: its expression (corrected where R4's is wrong), the
 * fast evaluator's function, and its verdict on an input holding none of the names it reads. Kept
 * per constraint object, so the walk looks up neither by expression text on every element. */
interface Plan {
  /** the constraint's key and expression it was made for: a copy of the constraint with another
   * expression ({ ...c, expression }) carries the plan along, and must not use it */
  key: string;
  source: string | undefined;
  expression: string | undefined;
  fast: Compiled | null;
  absent: Absent | null;
}

function planOf(c: Constraint): Plan {
  let plan = c.plan as Plan | undefined;
  if (!plan || plan.source !== c.expression || plan.key !== c.key) {
    const expression = expressionOf(c);
    const f = expression ? fast(expression) : null;
    plan = { key: c.key, source: c.expression, expression, fast: f, absent: expression && f ? absent(expression, f) : null };
    c.plan = plan;
  }
  return plan;
}

/** The verdict known without evaluating: no expression, or an input object holding none of the
 * names the expression reads; undefined when it must be evaluated (evaluateConstraint). `keys`:
 * the object's own keys, when the caller has listed them. */
export function presetVerdict(c: Constraint, data: unknown, keys?: readonly string[]): InvariantResult | undefined {
  const plan = planOf(c);
  if (!plan.expression) return 'pass';
  const a = plan.absent;
  if (a && data !== null && typeof data === 'object' && !Array.isArray(data) && holdsNone(data, a.names, keys)) return a.verdict;
  return undefined;
}

/** Evaluates one constraint with `data` as the context node at FHIRPath location `base`:
 * the fast evaluator when it can, else fhirpath.js. */
export function evaluateInvariant(c: Constraint, base: string, data: unknown, vars: Vars): InvariantResult {
  return presetVerdict(c, data) ?? evaluateConstraint(c, base, data, vars);
}

/** evaluateInvariant for a constraint whose presetVerdict the caller has found undefined: the
 * input is not looked at a second time. */
export function evaluateConstraint(c: Constraint, base: string, data: unknown, vars: Vars): InvariantResult {
  const { expression, fast: f } = planOf(c);
  if (!expression) return 'pass';
  if (f) {
    try {
      return verdict(f(data, vars));
    } catch (err) {
      if (err !== FALLBACK) return 'error';
    }
  }
  const fn = compiled(base, expression!);
  if (!fn) return 'error';
  try {
    return verdict(fn(data, vars));
  } catch {
    return 'error';
  }
}
