// A small, strict FHIRPath evaluator for the subset that R4 invariants mostly use (paths,
// exists/empty/not/count/hasValue, where/all/select, string tests, three-valued and/or/implies,
// equality and membership), working on plain JSON. It exists for speed: fhirpath.js builds a
// typed node for every value it touches, which made invariants 70% of validation time. Anything
// outside the subset — at compile time (unknown function or operator) or at run time (a value
// whose semantics need the type model, such as dates of different precision) — is left to
// fhirpath.js: compile returns undefined, or evaluation throws FALLBACK.

import { loadDefinitions } from '../fhir/definitions.ts';

export const FALLBACK = Symbol('fallback to fhirpath.js');

type Value = unknown;
type Coll = Value[];
export interface Vars {
  resource: unknown;
  rootResource: unknown;
}
type Fn = (focus: Coll, vars: Vars, self: Coll) => Coll;

/** FHIR type names that may follow a choice element's name in JSON (valueQuantity). */
const TYPE_SUFFIX = new Set([
  'Boolean', 'Integer', 'String', 'Decimal', 'Uri', 'Url', 'Canonical', 'Base64Binary', 'Instant', 'Date', 'DateTime', 'Time', 'Code', 'Oid', 'Id', 'Markdown', 'UnsignedInt', 'PositiveInt', 'Uuid',
  'Address', 'Age', 'Annotation', 'Attachment', 'CodeableConcept', 'Coding', 'ContactPoint', 'Count', 'Distance', 'Duration', 'HumanName', 'Identifier', 'Money', 'Period', 'Quantity', 'Range', 'Ratio', 'Reference',
  'SampledData', 'Signature', 'Timing', 'ContactDetail', 'Contributor', 'DataRequirement', 'Expression', 'ParameterDefinition', 'RelatedArtifact', 'TriggerDefinition', 'UsageContext', 'Dosage', 'Meta',
]);

let choiceNames: Set<string> | undefined;

/** Names of R4's choice elements (value, effective, onset …): only these may stand for a longer
 * JSON name (valueQuantity); `response` is not `responseCode`. */
function isChoiceName(name: string): boolean {
  choiceNames ??= new Set(Object.entries(loadDefinitions().paths).flatMap(([path, info]) => (info.choice ? [path.slice(path.lastIndexOf('.') + 1)] : [])));
  return choiceNames.has(name);
}

/** A primitive element present only through its `_name` extension twin: it exists, but has no value. */
const NO_VALUE = Object.freeze({ __noValue: true });

function child(out: Coll, v: Value, name: string, extName: string): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v === NO_VALUE) return;
  const o = v as Record<string, unknown>;
  let key = name;
  if (!(name in o) && !(extName in o)) {
    if (!isChoiceName(name)) return;
    key = '';
    for (const k in o) {
      // a choice element (valueString), or only its extension twin (_valueString)
      const plain = k.charCodeAt(0) === 95 ? k.slice(1) : k;
      if (plain.length > name.length && plain.startsWith(name) && TYPE_SUFFIX.has(plain.slice(name.length))) {
        key = plain;
        break;
      }
    }
    if (!key) return;
  }
  const x = o[key];
  const ext = o[key === name ? extName : `_${key}`];
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) out.push(x[i] ?? NO_VALUE);
  } else if (x !== undefined) out.push(x);
  else if (Array.isArray(ext)) for (let i = 0; i < ext.length; i++) out.push(NO_VALUE);
  else if (ext !== undefined) out.push(NO_VALUE);
}

/** A collection as a boolean: [] → undefined (empty), a singleton boolean → itself, any other singleton → true. */
function truth(c: Coll): boolean | undefined {
  if (c.length === 0) return undefined;
  if (c.length > 1 || c[0] === NO_VALUE) throw FALLBACK;
  return typeof c[0] === 'boolean' ? c[0] : true;
}

const bool = (b: boolean | undefined): Coll => (b === undefined ? [] : [b]);

function isDateLike(v: Value): boolean {
  return typeof v === 'string' && /^\d{4}(-\d{2}(-\d{2}(T.*)?)?)?$/.test(v);
}

function equal(a: Value, b: Value): boolean | undefined {
  // an element without a value (only its extension twin): fhirpath.js compares it as false, not
  // empty; its semantics are fhirpath.js's
  if (a === NO_VALUE || b === NO_VALUE) throw FALLBACK;
  if (typeof a !== typeof b) {
    if (typeof a === 'object' || typeof b === 'object') return false;
    throw FALLBACK; // e.g. a number against a string: conversions belong to fhirpath.js
  }
  if (typeof a === 'string' && isDateLike(a) && isDateLike(b) && a.length !== (b as string).length) throw FALLBACK;
  if (typeof a === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function collEqual(l: Coll, r: Coll): boolean | undefined {
  if (!l.length || !r.length) return undefined;
  if (l.length !== r.length) return false;
  let out: boolean | undefined = true;
  for (let i = 0; i < l.length; i++) {
    const e = equal(l[i], r[i]);
    if (e === undefined) return undefined;
    if (!e) out = false;
  }
  return out;
}

function single(c: Coll): Value {
  if (c.length > 1 || c[0] === NO_VALUE) throw FALLBACK;
  return c[0];
}

function str(c: Coll): string | undefined {
  const v = single(c);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw FALLBACK;
  return v;
}

const DATE_SHAPE = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/** Two dates or dateTimes written alike — the same precision, the same fraction digits, the same
 * time zone — which compare as their strings do (as dates or as strings alike); any other pair
 * (precisions or zones that differ) needs FHIRPath's date rules: fhirpath.js. */
function sameShapeDates(a: string, b: string): boolean {
  if (a.length !== b.length || !DATE_SHAPE.test(a) || !DATE_SHAPE.test(b)) return false;
  const t = a.indexOf('T');
  if (t !== b.indexOf('T')) return false;
  if (t < 0) return true;
  const zone = (s: string) => (s.endsWith('Z') ? 'Z' : s.slice(-6));
  return zone(a) === zone(b) && a.indexOf('.') === b.indexOf('.');
}

function compare(l: Coll, r: Coll, op: string): Coll {
  const a = single(l);
  const b = single(r);
  if (a === undefined || b === undefined) return [];
  if (typeof a === 'number' && typeof b === 'number') {
    return [op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b];
  }
  if (typeof a === 'string' && typeof b === 'string' && sameShapeDates(a, b)) {
    return [op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b];
  }
  throw FALLBACK; // dates, times and quantities compare by precision and unit: fhirpath.js
}

// ---- parsing ----------------------------------------------------------------------------------

const TOKEN = /\s*(?:(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|('(?:[^'\\]|\\.)*')|(`[^`]*`)|(\d+(?:\.\d+)?)|(%[A-Za-z]+|\$this|[A-Za-z_][A-Za-z0-9_]*)|(<=|>=|!=|!~|[()\[\].,=<>|~+\-*&{}]))/y;

function tokenize(src: string): string[] | undefined {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) return undefined;
    pos = TOKEN.lastIndex;
    if (m[1]) continue;
    out.push(m[2] ?? m[3] ?? m[4] ?? m[5] ?? m[6]);
  }
  return out;
}

class Unsupported extends Error {}

const BINARY: Record<string, number> = { implies: 1, or: 2, xor: 2, and: 3, in: 4, contains: 4, '=': 5, '!=': 5, '<': 6, '>': 6, '<=': 6, '>=': 6, '|': 7, '&': 8, '+': 8, '-': 8 };

class Parser {
  private i = 0;
  private readonly t: string[];
  constructor(tokens: string[]) {
    this.t = tokens;
  }
  private peek(): string | undefined {
    return this.t[this.i];
  }
  private next(): string {
    const v = this.t[this.i++];
    if (v === undefined) throw new Unsupported('unexpected end');
    return v;
  }
  private expect(s: string): void {
    if (this.next() !== s) throw new Unsupported(`expected ${s}`);
  }

  parse(): Fn {
    const fn = this.expr(0);
    if (this.i !== this.t.length) throw new Unsupported('trailing input');
    return fn;
  }

  private expr(min: number): Fn {
    let left = this.postfix(this.term());
    for (;;) {
      const op = this.peek();
      const prec = op === undefined ? undefined : BINARY[op];
      if (prec === undefined || prec < min) break;
      this.i++;
      const right = this.expr(prec + 1);
      left = binary(op!, left, right);
    }
    return left;
  }

  private term(): Fn {
    const tok = this.next();
    if (tok === '(') {
      const inner = this.expr(0);
      this.expect(')');
      return inner;
    }
    if (tok.startsWith("'")) {
      const s = tok.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
      return () => [s];
    }
    if (/^\d/.test(tok)) {
      const n = Number(tok);
      return () => [n];
    }
    if (tok === 'true' || tok === 'false') {
      const b = tok === 'true';
      return () => [b];
    }
    if (tok === '{') {
      this.expect('}');
      return () => [];
    }
    if (tok === '$this') return (_f, _v, self) => self;
    if (tok === '%resource') return (_f, v) => [v.resource];
    if (tok === '%rootResource') return (_f, v) => [v.rootResource];
    if (tok === '%ucum') return () => ['http://unitsofmeasure.org'];
    if (tok.startsWith('%')) throw new Unsupported(tok);
    // a path step or a function on the focus
    return this.step(tok, true);
  }

  private postfix(fn: Fn): Fn {
    let cur = fn;
    while (this.peek() === '.' || this.peek() === '[') {
      if (this.next() === '[') {
        const index = this.expr(0);
        this.expect(']');
        const prev = cur;
        cur = (f, v, s) => {
          const c = prev(f, v, s);
          const n = single(index(s, v, s));
          if (typeof n !== 'number') throw FALLBACK;
          return n < c.length ? [c[n]] : [];
        };
        continue;
      }
      const name = this.next();
      const step = this.step(name, false);
      const prev = cur;
      cur = (f, v, s) => step(prev(f, v, s), v, s);
    }
    return cur;
  }

  /** `name` or `name(args)` applied to the focus (first: the expression's input). */
  private step(raw: string, first: boolean): Fn {
    if (this.peek() !== '(') {
      if (!/^[A-Za-z_`]/.test(raw)) throw new Unsupported(raw);
      const name = raw.startsWith('`') ? raw.slice(1, -1) : raw;
      if (first && /^[A-Z]/.test(name)) {
        // a type name at the start (Patient.name): the focus itself when it is of that type
        return (focus) => focus.filter((v) => (v as { resourceType?: string } | null)?.resourceType === name);
      }
      const extName = `_${name}`;
      return (focus) => {
        const out: Coll = [];
        for (const v of focus) child(out, v, name, extName);
        return out;
      };
    }
    this.i++;
    const args: Fn[] = [];
    // is(Type): the type name as written
    const typeName = raw === 'is' && this.t[this.i + 1] === ')' ? this.t[this.i] : '';
    if (this.peek() !== ')') {
      for (;;) {
        args.push(this.expr(0));
        if (this.peek() === ',') {
          this.i++;
          continue;
        }
        break;
      }
    }
    this.expect(')');
    const f = fn(raw, args, typeName);
    // a function first in an expression applies to the input ($this), later ones to the focus
    return first ? (_focus, v, s) => f(s, v, s) : (focus, v, s) => f(focus, v, s);
  }
}

/** The functions of the subset: (focus, vars) → result. Criteria arguments see each item as $this. */
/** Items equal as FHIRPath's `=` on JSON: every property alike whatever its order. */
function same(a: Value, b: Value): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return equal(a, b) === true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => same(x, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  // primitive extensions (_code) take part in fhirpath.js's equality in its own way
  if (ka.some((k) => k.charCodeAt(0) === 95) || kb.some((k) => k.charCodeAt(0) === 95)) throw FALLBACK;
  if (ka.length !== kb.length) return false;
  return ka.every((k) => k in (b as object) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function fn(name: string, args: Fn[], typeName = ''): (focus: Coll, vars: Vars, self: Coll) => Coll {
  const arg = (i: number, focus: Coll, vars: Vars) => args[i](focus, vars, focus);
  const perItem = (i: number, item: Value, vars: Vars) => args[i]([item], vars, [item]);
  switch (name) {
    case 'exists':
      return args.length ? (f, v) => [f.some((x) => truth(perItem(0, x, v)) === true)] : (f) => [f.length > 0];
    case 'empty':
      return (f) => [f.length === 0];
    case 'not':
      return (f) => {
        const b = truth(f);
        return b === undefined ? [] : [!b];
      };
    case 'count':
      return (f) => [f.length];
    case 'hasValue':
      return (f) => [f.length === 1 && f[0] !== NO_VALUE && (typeof f[0] !== 'object' || f[0] === null)];
    case 'first':
      return (f) => f.slice(0, 1);
    case 'trace':
      return (f) => f;
    case 'where':
      return (f, v) => f.filter((x) => truth(perItem(0, x, v)) === true);
    case 'all':
      return (f, v) => [f.every((x) => truth(perItem(0, x, v)) === true)];
    case 'select':
      return (f, v) => f.flatMap((x) => perItem(0, x, v));
    case 'intersect':
      // the other collection is read from $this, as fhirpath.js reads it (AnyAtRoot)
      return (f, v, self) => {
        const other = args[0](self, v, self);
        const out: Coll = [];
        for (const x of f) if (other.some((y) => same(x, y)) && !out.some((y) => same(x, y))) out.push(x);
        return out;
      };
    case 'is': {
      // is(ResourceType) on a resource; types a resource derives from, and datatypes, need the model
      if (args.length !== 1 || !/^[A-Z][A-Za-z]+$/.test(typeName) || typeName === 'Resource' || typeName === 'DomainResource') throw new Unsupported(name);
      return (f) => {
        if (f.length === 0) return [];
        const rt = (single(f) as { resourceType?: unknown } | null)?.resourceType;
        if (typeof rt !== 'string') throw FALLBACK;
        return [rt === typeName];
      };
    }
    case 'isDistinct':
      return (f) => [new Set(f.map((x) => JSON.stringify(x))).size === f.length];
    case 'distinct':
      return (f) => [...new Map(f.map((x) => [JSON.stringify(x), x])).values()];
    case 'startsWith':
    case 'endsWith':
    case 'contains': {
      if (args.length !== 1) throw new Unsupported(name);
      return (f, v) => {
        const s = str(f);
        const p = str(arg(0, f, v));
        if (s === undefined || p === undefined) return [];
        return [name === 'startsWith' ? s.startsWith(p) : name === 'endsWith' ? s.endsWith(p) : s.includes(p)];
      };
    }
    case 'substring':
      return (f, v) => {
        const s = str(f);
        const start = single(arg(0, f, v));
        const len = args[1] ? single(arg(1, f, v)) : undefined;
        if (s === undefined || typeof start !== 'number') return [];
        if (start < 0 || start >= s.length) return [];
        return [len === undefined ? s.slice(start) : s.substr(start, len as number)];
      };
    case 'length':
      return (f) => {
        const s = str(f);
        return s === undefined ? [] : [s.length];
      };
    case 'matches': {
      const cache = new Map<string, RegExp>();
      return (f, v) => {
        const s = str(f);
        const p = str(arg(0, f, v));
        if (s === undefined || p === undefined) return [];
        let re = cache.get(p);
        if (!re) {
          // as fhirpath.js: a match anywhere, with dotAll and unicode
          try {
            re = new RegExp(p, 'su');
          } catch {
            throw FALLBACK;
          }
          cache.set(p, re);
        }
        return [re.test(s)];
      };
    }
    default:
      throw new Unsupported(name);
  }
}

function binary(op: string, l: Fn, r: Fn): Fn {
  switch (op) {
    case 'and':
      return (f, v, s) => {
        const a = truth(l(f, v, s));
        if (a === false) return [false];
        const b = truth(r(f, v, s));
        if (b === false) return [false];
        return a === true && b === true ? [true] : [];
      };
    case 'or':
      return (f, v, s) => {
        const a = truth(l(f, v, s));
        if (a === true) return [true];
        const b = truth(r(f, v, s));
        if (b === true) return [true];
        return a === false && b === false ? [false] : [];
      };
    case 'xor':
      return (f, v, s) => {
        const a = truth(l(f, v, s));
        const b = truth(r(f, v, s));
        return a === undefined || b === undefined ? [] : [a !== b];
      };
    case 'implies':
      return (f, v, s) => {
        const a = truth(l(f, v, s));
        if (a === false) return [true];
        const b = truth(r(f, v, s));
        if (a === true) return bool(b);
        return b === true ? [true] : [];
      };
    case '=':
      return (f, v, s) => bool(collEqual(l(f, v, s), r(f, v, s)));
    case '!=':
      return (f, v, s) => {
        const e = collEqual(l(f, v, s), r(f, v, s));
        return e === undefined ? [] : [!e];
      };
    case 'in':
    case 'contains':
      return (f, v, s) => {
        const [item, list] = op === 'in' ? [l(f, v, s), r(f, v, s)] : [r(f, v, s), l(f, v, s)];
        if (item.length === 0) return [];
        const x = single(item);
        if (x === undefined) return [];
        return [list.some((y) => equal(x, y) === true)];
      };
    case '|':
      return (f, v, s) => [...new Map([...l(f, v, s), ...r(f, v, s)].map((x) => [typeof x === 'object' ? x : JSON.stringify(x), x])).values()];
    case '<':
    case '<=':
    case '>':
    case '>=':
      return (f, v, s) => compare(l(f, v, s), r(f, v, s), op);
    case '+':
    case '-':
      // integer and decimal arithmetic; strings, dates and quantities are fhirpath.js's
      return (f, v, s) => {
        const a = single(l(f, v, s));
        const b = single(r(f, v, s));
        if (a === undefined || b === undefined) return [];
        if (typeof a !== 'number' || typeof b !== 'number' || !Number.isInteger(a) || !Number.isInteger(b)) throw FALLBACK;
        return [op === '+' ? a + b : a - b];
      };
    case '&':
      // string concatenation, an empty operand read as ''
      return (f, v, s) => {
        const a = str(l(f, v, s));
        const b = str(r(f, v, s));
        return [(a ?? '') + (b ?? '')];
      };
    default:
      throw new Unsupported(op);
  }
}

/** A compiled evaluator of the expression, or undefined when it uses more than the subset. */
export function compileFast(expression: string): ((data: unknown, vars: Vars) => Coll) | undefined {
  const tokens = tokenize(expression);
  if (!tokens) return undefined;
  try {
    const f = new Parser(tokens).parse();
    return (data, vars) => {
      const focus = data === undefined ? [] : [data];
      return f(focus, vars, focus);
    };
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

/** Functions that, applied to the expression's input itself, say only whether it is there (or
 * test it through their criteria): an input object and an empty one give the same answer. */
const INPUT_BLIND = new Set(['exists', 'empty', 'not', 'count', 'hasValue', 'all', 'isDistinct']);

/** The JSON names an expression can read from its input, when that is all it reads of it: no
 * $this, no %resource or %rootResource, no type test at the start, and no function that hands the
 * input object on (first(), where() …). An input object with none of these names (nor a choice
 * element's longer name, valueQuantity for value) then evaluates exactly as an empty object:
 * every path from it is empty. Undefined when the expression reads more. A superset is safe:
 * every word of the expression that is not a function counts as a name. */
export function inputNames(expression: string): string[] | undefined {
  const t = tokenize(expression);
  if (!t) return undefined;
  const names = new Set<string>();
  for (let i = 0; i < t.length; i++) {
    const tok = t[i];
    if (tok === '$this' || (tok.startsWith('%') && tok !== '%ucum')) return undefined;
    if (!/^[A-Za-z_`]/.test(tok)) continue;
    const afterDot = t[i - 1] === '.';
    if (t[i + 1] === '(') {
      if (!afterDot && !INPUT_BLIND.has(tok)) return undefined;
      continue;
    }
    const name = tok.startsWith('`') ? tok.slice(1, -1) : tok;
    if (!afterDot && /^[A-Z]/.test(name)) return undefined;
    names.add(name);
  }
  return [...names];
}
