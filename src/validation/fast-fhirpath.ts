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
  /** the FHIR type of the expression's input, when the caller knows it (the element's type): what
   * `$this is T` and `$this as T` test; without it they are fhirpath.js's */
  type?: string;
  /** the values of the expression's parts that do not depend on the focus, worked out once per
   * evaluation (INDEPENDENT): each evaluation passes its own Vars */
  memo?: Coll[];
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

/** Evaluators of literals and of unions of literals, with their value: what the compiler may
 * work out once (a union of literals; `in` a list of literal strings). */
const CONSTANT = new WeakMap<Fn, Coll>();

/** Evaluators whose value does not depend on the focus or $this — literals, %resource,
 * %rootResource and paths and functions from them (`%resource.type = 'batch'`) — so it is the
 * same for every item a criterion is evaluated on. Inside where()/all()/select() such a part is
 * worked out once per evaluation (bdl-3's `entry.all(request.exists() = (%resource.type =
 * 'batch' or …))` read %resource.type three times per entry: 1,105 entries, 3,300 reads). */
const INDEPENDENT = new WeakSet<Fn>();
let memoSlots = 0;

/** `f`, evaluated once per evaluation (Vars) when it is INDEPENDENT and not a literal. */
function once(f: Fn): Fn {
  if (!INDEPENDENT.has(f) || CONSTANT.has(f)) return f;
  const slot = memoSlots++;
  const m: Fn = (focus, vars, self) => {
    const memo = (vars.memo ??= []);
    return (memo[slot] ??= f(focus, vars, self));
  };
  INDEPENDENT.add(m);
  return m;
}

/** A literal's evaluator: a copy of its value on each evaluation (callers may build on it). */
function constant(value: Coll): Fn {
  const f: Fn = () => value.slice();
  CONSTANT.set(f, value);
  INDEPENDENT.add(f);
  return f;
}

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
  const qa = sameUnitValue(a, b);
  if (qa !== undefined) {
    const qb = (b as { value: number }).value;
    return [op === '<' ? qa < qb : op === '<=' ? qa <= qb : op === '>' ? qa > qb : qa >= qb];
  }
  throw FALLBACK; // dates, times and quantities compare by precision and unit: fhirpath.js
}

const UCUM = 'http://unitsofmeasure.org';

/** Two Quantities in the same unit (rng-2's low <= high) compare by their values: the same UCUM
 * code, as fhirpath.js compares them once converted, or the same other system and code (or, with
 * neither, the same unit text), which FHIRPath compares as equal units. a's value then, else
 * undefined (other pairs are fhirpath.js's: conversions, calendar durations, comparators). */
function sameUnitValue(a: Value, b: Value): number | undefined {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b) || a === NO_VALUE || b === NO_VALUE) return undefined;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  if (typeof x.value !== 'number' || typeof y.value !== 'number' || x.comparator !== undefined || y.comparator !== undefined) return undefined;
  if (x.system !== y.system || x.code !== y.code || (x.system !== undefined && typeof x.system !== 'string')) return undefined;
  if (typeof x.code !== 'string' && (x.code !== undefined || x.system !== undefined || typeof x.unit !== 'string' || x.unit !== y.unit)) return undefined;
  // with a code the unit text does not matter; every other property must be one of these
  for (const o of [x, y]) for (const k in o) if (k !== 'value' && k !== 'unit' && k !== 'system' && k !== 'code' && k !== 'id') return undefined;
  return x.value;
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

const BINARY: Record<string, number> = { implies: 1, or: 2, xor: 2, and: 3, in: 4, contains: 4, '=': 5, '!=': 5, '<': 6, '>': 6, '<=': 6, '>=': 6, '|': 7, is: 7.5, as: 7.5, '&': 8, '+': 8, '-': 8 };

/** A path step's parts (the focus it starts from, the name it reads), kept for `is` and `as`,
 * which need the JSON name a value was read from (answerBoolean) to know its type. */
const STEPS = new WeakMap<Fn, { from: Fn; name: string }>();

/** The input itself: `$this` outside any function's argument. */
const INPUT = new WeakSet<Fn>();

/** FHIRPath's system types in R4 invariants stand for the FHIR primitive (`answer is Boolean`:
 * the reference validator's reading, fhirTypeTests in invariants.ts for fhirpath.js). */
const SYSTEM_TYPES: Record<string, string> = { Boolean: 'boolean', String: 'string', Integer: 'integer', Decimal: 'decimal', DateTime: 'dateTime', Date: 'date', Time: 'time' };

/** Types other types derive from in R4 (code is a string, Age a Quantity …): a test against one
 * of them is fhirpath.js's, which holds the hierarchy. */
const SUPERTYPES = new Set(['string', 'uri', 'integer', 'Quantity', 'Element', 'BackboneElement', 'Resource', 'DomainResource', 'Base']);

/** The FHIR type a JSON name's suffix gives (valueDateTime → dateTime, valueQuantity → Quantity). */
function suffixType(suffix: string): string {
  const lower = suffix[0].toLowerCase() + suffix.slice(1);
  return lower in PRIMITIVE_SUFFIXES ? lower : suffix;
}

const PRIMITIVE_SUFFIXES: Record<string, true> = {
  boolean: true, integer: true, string: true, decimal: true, uri: true, url: true, canonical: true, base64Binary: true, instant: true, date: true, dateTime: true, time: true, code: true, oid: true, id: true, markdown: true, unsignedInt: true, positiveInt: true, uuid: true,
};

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
      if (op === 'is' || op === 'as') {
        left = typeOperator(op, left, this.typeName());
        continue;
      }
      const right = this.expr(prec + 1);
      left = binary(op!, left, right);
    }
    return left;
  }

  /** A type specifier: `Boolean`, `dateTime`, `FHIR.boolean`, `System.Boolean`. */
  private typeName(): string {
    let name = this.next();
    if (!/^[A-Za-z]/.test(name)) throw new Unsupported(name);
    if (this.peek() === '.' && (name === 'FHIR' || name === 'System')) {
      this.i++;
      name = `${name}.${this.next()}`;
    }
    return name;
  }

  /** How deep in function arguments the parser is: `$this` at 0 is the expression's input. */
  private argDepth = 0;

  private term(): Fn {
    const tok = this.next();
    if (tok === '(') {
      const inner = this.expr(0);
      this.expect(')');
      return inner;
    }
    if (tok.startsWith("'")) {
      const s = tok.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
      return constant([s]);
    }
    if (/^\d/.test(tok)) {
      const n = Number(tok);
      return constant([n]);
    }
    if (tok === 'true' || tok === 'false') {
      const b = tok === 'true';
      return constant([b]);
    }
    if (tok === '{') {
      this.expect('}');
      return constant([]);
    }
    if (tok === '$this') {
      const self: Fn = (_f, _v, s) => s;
      if (this.argDepth === 0) INPUT.add(self);
      return self;
    }
    if (tok === '%resource') return independent((_f, v) => [v.resource]);
    if (tok === '%rootResource') return independent((_f, v) => [v.rootResource]);
    if (tok === '%ucum') return independent(() => ['http://unitsofmeasure.org']);
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
        // the index is read from $this
        if (INDEPENDENT.has(prev) && CONSTANT.has(index)) INDEPENDENT.add(cur);
        continue;
      }
      const name = this.next();
      const step = this.step(name, false);
      const prev = cur;
      cur = (f, v, s) => step(prev(f, v, s), v, s);
      if (STEPS.has(step)) STEPS.set(cur, { from: prev, name: STEPS.get(step)!.name });
      // a step reads only its input, except intersect() and combine(), which read $this
      if (INDEPENDENT.has(prev) && !SELF_READING.has(name)) INDEPENDENT.add(cur);
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
      const step: Fn = (focus) => {
        const out: Coll = [];
        for (const v of focus) child(out, v, name, extName);
        return out;
      };
      // the parent objects are the focus (a term is evaluated with the input as its focus;
      // postfix() records a later step with the path before it)
      STEPS.set(step, { from: (f) => f, name });
      return step;
    }
    this.i++;
    const args: Fn[] = [];
    // is(Type): the type name as written
    const typeName = raw === 'is' && this.t[this.i + 1] === ')' ? this.t[this.i] : '';
    if (this.peek() !== ')') {
      for (;;) {
        this.argDepth++;
        try {
          args.push(this.expr(0));
        } finally {
          this.argDepth--;
        }
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

/** Functions of the subset that read $this besides their input (their argument's collection). */
const SELF_READING = new Set(['intersect', 'combine']);

function independent(f: Fn): Fn {
  INDEPENDENT.add(f);
  return f;
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
      if (args.length !== 1 || !/^[A-Z][A-Za-z]+$/.test(typeName) || typeName === 'Resource' || typeName === 'DomainResource') {
        return () => {
          throw FALLBACK;
        };
      }
      return (f) => {
        if (f.length === 0) return [];
        const rt = (single(f) as { resourceType?: unknown } | null)?.resourceType;
        if (typeof rt !== 'string') throw FALLBACK;
        return [rt === typeName];
      };
    }
    case 'isDistinct':
      return (f) => {
        // an element with only its extension twin has fhirpath.js's own equality
        if (f.includes(NO_VALUE)) throw FALLBACK;
        return [new Set(f.map((x) => JSON.stringify(x))).size === f.length];
      };
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
    case 'descendants':
      return (f) => {
        const out: Coll = [];
        for (const x of f) descendants(x, out);
        return out;
      };
    case 'combine':
      // the other collection is read from $this, as for intersect
      return (f, v, self) => f.concat(args[0](self, v, self));
    case 'toInteger':
      return (f) => {
        const x = single(f);
        if (x === undefined) return [];
        // a JSON number may be a decimal written 2.0, which toInteger() leaves empty: fhirpath.js's
        if (typeof x === 'boolean') return [x ? 1 : 0];
        if (typeof x === 'string') return /^[+-]?\d+$/.test(x) ? [Number(x)] : [];
        throw FALLBACK;
      };
    case 'resolve':
      // fhirpath.js resolves references only asynchronously and answers a synchronous evaluation
      // with an error (ctm-1 is then not reported): the same here, without loading it
      return () => {
        throw new Error('resolve() is not evaluated synchronously');
      };
    case 'toString':
      return (f) => {
        const x = single(f);
        if (x === undefined) return [];
        // dates and times print as written; numbers and others by FHIRPath's rules
        if (typeof x === 'string') return [x];
        throw FALLBACK;
      };
    default:
      // a function beyond the subset: fhirpath.js's when evaluation reaches it, so an expression
      // such as ctm-1's `onBehalfOf.exists() implies (member.resolve() …)` is decided here
      // whenever its left side is false
      return () => {
        throw FALLBACK;
      };
  }
}

/** Every descendant of a JSON value, level by level as fhirpath.js's descendants() gives them
 * (children() repeated, without removing duplicates). Primitive extensions (`_name`) and nulls
 * are fhirpath.js's. */
function descendants(v: Value, out: Coll): void {
  let level: Coll = [v];
  while (level.length) {
    const next: Coll = [];
    for (const item of level) {
      if (item === null || typeof item !== 'object' || item === NO_VALUE) continue;
      const o = item as Record<string, unknown>;
      for (const k in o) {
        if (k === 'resourceType') continue;
        if (k.charCodeAt(0) === 95) throw FALLBACK;
        const x = o[k];
        if (Array.isArray(x)) {
          for (let i = 0; i < x.length; i++) {
            if (x[i] === null) throw FALLBACK;
            next.push(x[i]);
          }
        } else if (x === null) throw FALLBACK;
        else next.push(x);
      }
    }
    for (const x of next) out.push(x);
    level = next;
  }
}

/** `x is T` and `x as T` on a value whose type the JSON tells: an element read through a choice
 * name (answerBoolean, probabilityDecimal), or the input when the caller gives its type. */
function typeOperator(op: 'is' | 'as', left: Fn, written: string): Fn {
  if (written.startsWith('System.')) return () => {
    throw FALLBACK;
  };
  const plain = written.startsWith('FHIR.') ? written.slice(5) : written;
  const wanted = SYSTEM_TYPES[plain] ?? plain;
  const step = STEPS.get(left);
  const input = INPUT.has(left);
  const test = (actual: string | undefined): boolean => {
    if (actual === undefined) throw FALLBACK;
    if (actual === wanted) return true;
    if (SUPERTYPES.has(wanted)) throw FALLBACK;
    return false;
  };
  return (f, v, s) => {
    let value: Value;
    let actual: string | undefined;
    if (input) {
      if (s.length === 0) return [];
      value = single(s);
      actual = v.type;
    } else if (step) {
      const found: { value: Value; type: string | undefined }[] = [];
      for (const parent of step.from(f, v, s)) {
        if (parent === null || typeof parent !== 'object' || Array.isArray(parent) || parent === NO_VALUE) continue;
        const o = parent as Record<string, unknown>;
        for (const k in o) {
          if (k.charCodeAt(0) === 95) {
            if (k.startsWith(step.name, 1)) throw FALLBACK; // a primitive's extension twin
            continue;
          }
          if (k === step.name) found.push({ value: o[k], type: undefined });
          else if (k.length > step.name.length && k.startsWith(step.name) && TYPE_SUFFIX.has(k.slice(step.name.length)) && isChoiceName(step.name)) {
            found.push({ value: o[k], type: suffixType(k.slice(step.name.length)) });
          }
        }
      }
      if (found.length === 0) return [];
      if (found.length > 1 || Array.isArray(found[0].value)) throw FALLBACK;
      value = found[0].value;
      actual = found[0].type;
    } else throw FALLBACK;
    if (value === undefined) return [];
    if (value === null) throw FALLBACK;
    const is = test(actual);
    return op === 'is' ? [is] : is ? [value] : [];
  };
}

function binary(op: string, l: Fn, r: Fn): Fn {
  const f = operator(op, once(l), once(r));
  if (INDEPENDENT.has(l) && INDEPENDENT.has(r) && !CONSTANT.has(f)) INDEPENDENT.add(f);
  return f;
}

function operator(op: string, l: Fn, r: Fn): Fn {
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
    case 'contains': {
      // `type in ('boolean' | 'decimal' | …)`: a list of literal strings, none a date, is a set
      // (equal() on two such strings is ===; other items compare as below)
      const literals = CONSTANT.get(op === 'in' ? r : l);
      if (literals?.length && literals.every((y) => typeof y === 'string' && !isDateLike(y))) {
        const set = new Set(literals);
        const other = op === 'in' ? l : r;
        return (f, v, s) => {
          const item = other(f, v, s);
          if (item.length === 0) return [];
          const x = single(item);
          if (x === undefined) return [];
          if (typeof x === 'string') return [set.has(x)];
          return [literals.some((y) => equal(x, y) === true)];
        };
      }
      return (f, v, s) => {
        const [item, list] = op === 'in' ? [l(f, v, s), r(f, v, s)] : [r(f, v, s), l(f, v, s)];
        if (item.length === 0) return [];
        const x = single(item);
        if (x === undefined) return [];
        return [list.some((y) => equal(x, y) === true)];
      };
    }
    case '|': {
      const union = (a: Coll, b: Coll): Coll => [...new Map([...a, ...b].map((x) => [typeof x === 'object' ? x : JSON.stringify(x), x])).values()];
      // a union of literals ('boolean' | 'decimal' | …) is worked out once
      const a = CONSTANT.get(l);
      const b = CONSTANT.get(r);
      if (a && b) return constant(union(a, b));
      return (f, v, s) => union(l(f, v, s), r(f, v, s));
    }
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
