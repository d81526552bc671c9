// Which modifiers each search parameter type accepts (https://hl7.org/fhir/R4/search.html#modifiers)
// and how each reads a parameter's values into a condition of the IR (ir.ts). One table per
// type, one row per modifier ('' is the parameter without one): adding a modifier is a row here
// and a compile case per engine (sqlite.ts, mongo.ts) for the condition it makes. A modifier
// with no row is refused with the same 400 wherever a search is parsed (parser.ts).
import { badRequest } from '../fhir/errors.ts';
import { nameKeys } from '../mpi/names.ts';
import type { ComponentValue, Condition, IndexTable, TokenValue } from './ir.ts';
import { foldString } from './normalize.ts';
import type { SearchParam, SearchParamRegistry, SearchParamType } from './registry.ts';
import { quantityValue, rangeValue, referenceValue, splitUnescaped, tokenValue, unescape } from './values.ts';

/** A parameter the server leaves out: lenient handling ignores it, strict handling refuses it. */
export class Ignored extends Error {}

/** What the rows may consult besides the request: set once when the parser is built. */
export interface ModifierServices {
  registry: SearchParamRegistry;
  /** the codes of a value set, for :in and :not-in */
  valueSetCodes(url: string): { system?: string; code?: string }[];
  /** codes below (or above) a code in a code system's hierarchy; undefined when not held */
  hierarchy(system: string, code: string, direction: 'below' | 'above'): string[] | undefined;
}

/** One parameter of a request with its modifier, for a row to read. */
export interface ModifierInput {
  /** the parameter (of the first searched type) and the index keys of all searched types */
  param: SearchParam;
  keys: string[];
  /** the parameter's name as sent, and its code and modifier */
  name: string;
  code: string;
  modifier?: string;
  /** the value as sent (commas and escapes kept) */
  raw: string;
  baseUrl: string;
  services: ModifierServices;
}

export type ModifierRow = (input: ModifierInput) => Condition;
export type ModifierTable = Readonly<Record<string, ModifierRow>>;

/** The comma-separated values of a parameter, escapes kept; an empty one is an error. */
function split({ raw, name }: ModifierInput): string[] {
  const values = splitUnescaped(raw, ',');
  if (values.some((v) => v === '')) throw badRequest(`Empty value in ${name.slice(0, 100)}`, 'value');
  return values;
}

/** :missing=true|false, on the index table of a parameter of the type. */
function missing(table: IndexTable): ModifierRow {
  return ({ raw, name, keys }) => {
    if (raw !== 'true' && raw !== 'false') throw badRequest(`${name} takes true or false`, 'value');
    return { kind: 'missing', params: keys, table, missing: raw === 'true' };
  };
}

const folded = (input: ModifierInput) => split(input).map((v) => foldString(unescape(v)));

const STRING: ModifierTable = {
  '': (i) => ({ kind: 'string', params: i.keys, values: folded(i) }),
  exact: (i) => ({ kind: 'stringExact', params: i.keys, values: split(i).map(unescape) }),
  contains: (i) => ({ kind: 'stringContains', params: i.keys, values: folded(i) }),
  missing: missing('string'),
};

/** `phonetic` is a string parameter whose values are compared by their name keys. */
const PHONETIC: ModifierTable = {
  '': (i) => {
    const keys = split(i).flatMap((v) => nameKeys(unescape(v)));
    return { kind: 'phonetic', params: i.keys, values: keys.length ? keys : ['-'] };
  },
  missing: missing('string'),
};

/** :in / :not-in — the value set's codes, from the server's terminology (an entry with a system
 * and no code: every code of that system, `system|`); an empty value set matches nothing. */
function inValueSet(not: boolean): ModifierRow {
  return (i) => {
    const values: TokenValue[] = split(i)
      .flatMap((v) => i.services.valueSetCodes(unescape(v)))
      .filter((c) => c.code || c.system)
      .map((c) => (c.code ? { ...(c.system ? { system: c.system, orNoSystem: true } : {}), code: c.code } : { system: c.system! }));
    return { kind: 'token', params: i.keys, not, values: values.length ? values : [{ system: 'urn:migfhir:empty', code: '-' }] };
  };
}

/** :below / :above — the code and the codes under (over) it in its code system's hierarchy. */
function inHierarchy(direction: 'below' | 'above'): ModifierRow {
  return (i) => {
    const values: TokenValue[] = split(i).flatMap((v) => {
      const t = tokenValue(v);
      if (!t.system || !t.code) throw badRequest(`:${direction} on a token takes system|code`, 'value');
      const codes = i.services.hierarchy(t.system, t.code, direction);
      if (!codes) throw badRequest(`:${direction}: the hierarchy of ${t.system} is not held by this server`, 'not-supported');
      return codes.map((code) => ({ system: t.system!, code }));
    });
    return { kind: 'token', params: i.keys, not: false, values };
  };
}

const TOKEN: ModifierTable = {
  '': (i) => ({ kind: 'token', params: i.keys, not: false, values: split(i).map(tokenValue) }),
  not: (i) => ({ kind: 'token', params: i.keys, not: true, values: split(i).map(tokenValue) }),
  text: (i) => ({ kind: 'tokenText', params: i.keys, values: folded(i) }),
  'of-type': (i) => ({
    kind: 'tokenOfType',
    params: i.keys,
    values: split(i).map((v) => {
      const parts = splitUnescaped(v, '|').map(unescape);
      if (parts.length !== 3 || !parts[2]) throw badRequest(`${i.name} takes system|code|value`, 'value');
      return { ...(parts[0] ? { system: parts[0] } : {}), ...(parts[1] ? { code: parts[1] } : {}), value: parts[2] };
    }),
  }),
  in: inValueSet(false),
  'not-in': inValueSet(true),
  below: inHierarchy('below'),
  above: inHierarchy('above'),
  missing: missing('token'),
};

const DATE: ModifierTable = {
  '': (i) => ({ kind: 'date', params: i.keys, values: split(i).map((v) => rangeValue(v, i.code, 'date')) }),
  missing: missing('date'),
};

const NUMBER: ModifierTable = {
  '': (i) => ({ kind: 'number', params: i.keys, values: split(i).map((v) => rangeValue(v, i.code, 'number')) }),
  missing: missing('number'),
};

const QUANTITY: ModifierTable = {
  '': (i) => ({ kind: 'quantity', params: i.keys, values: split(i).map((v) => quantityValue(v, i.code)) }),
  missing: missing('quantity'),
};

const URI: ModifierTable = {
  '': (i) => ({ kind: 'uri', params: i.keys, values: split(i).map(unescape) }),
  above: (i) => ({ kind: 'uriAbove', params: i.keys, values: split(i).map(unescape) }),
  below: (i) => ({ kind: 'uriBelow', params: i.keys, values: split(i).map(unescape) }),
  missing: missing('uri'),
};

/** The row for `:[type]` (subject:Patient=…): any resource type the reference may point to. */
const TYPED = '[type]';

const REFERENCE: ModifierTable = {
  '': (i) => ({ kind: 'reference', params: i.keys, values: split(i).map((v) => referenceValue(v, i.baseUrl, undefined, i.param.targets)) }),
  [TYPED]: (i) => {
    const type = i.modifier!;
    if (i.param.targets.length && !i.param.targets.includes(type) && !i.param.targets.includes('Resource')) {
      throw badRequest(`${i.code} cannot point to ${type}`, 'invalid');
    }
    return { kind: 'reference', params: i.keys, values: split(i).map((v) => referenceValue(v, i.baseUrl, type, i.param.targets)) };
  },
  identifier: (i) => ({
    kind: 'reference',
    params: i.keys,
    values: split(i).map((v) => {
      const t = tokenValue(v);
      return { kind: 'identifier', ...(t.system ? { system: t.system } : {}), ...(t.code ? { value: t.code } : {}) };
    }),
  }),
  missing: missing('reference'),
};

/** One component of a composite value, read as its component's type. */
function componentValue(type: SearchParamType, part: string, i: ModifierInput): ComponentValue {
  switch (type) {
    case 'token':
      return { type, value: tokenValue(part) };
    case 'quantity':
      return { type, value: quantityValue(part, i.code) };
    case 'number':
    case 'date':
      return { type, value: rangeValue(part, i.code, type) };
    case 'string':
      return { type, value: foldString(unescape(part)) };
    case 'reference':
      return { type, value: referenceValue(part, i.baseUrl, undefined, []) };
    default:
      return { type: 'uri', value: unescape(part) };
  }
}

const COMPOSITE: ModifierTable = {
  '': (i) => {
    const components = i.param.composite;
    if (!components) throw new Ignored(`Composite search parameter '${i.code}' has components this server cannot index`);
    const values = split(i).map((v) => {
      const parts = splitUnescaped(v, '$');
      if (parts.length !== components.length) throw badRequest(`${i.code} takes ${components.length} values separated by $`, 'value');
      return parts.map((part, n) => componentValue(components[n].type, part, i));
    });
    return { kind: 'composite', params: i.keys, values };
  },
};

/** _id (search.html#id): the resource's own id, not an index row. */
const ID: ModifierTable = {
  '': (i) => ({ kind: 'id', values: splitUnescaped(i.raw, ',').map(unescape), not: false }),
  not: (i) => ({ kind: 'id', values: splitUnescaped(i.raw, ',').map(unescape), not: true }),
  // every resource has an id: :missing=true matches none, :missing=false all
  missing: (i) => ({ kind: 'id', values: [], not: i.raw === 'true' }),
};

/** _lastUpdated: the resource's meta.lastUpdated, not an index row. */
const LAST_UPDATED: ModifierTable = {
  '': (i) => ({ kind: 'lastUpdated', values: splitUnescaped(i.raw, ',').map((v) => rangeValue(v, i.code, 'date')) }),
};

/** The table of each parameter type; `special` (Location.near) has none: the server does not
 * support it, whatever the modifier. */
export const MODIFIERS: Readonly<Partial<Record<SearchParamType, ModifierTable>>> = {
  string: STRING,
  token: TOKEN,
  date: DATE,
  number: NUMBER,
  quantity: QUANTITY,
  uri: URI,
  reference: REFERENCE,
  composite: COMPOSITE,
};

/** _id and _lastUpdated, whose values are columns of the resource itself. */
export const RESOURCE_PARAMETERS: Readonly<Record<string, ModifierTable>> = { _id: ID, _lastUpdated: LAST_UPDATED };

/** The table a parameter's modifiers are looked up in. */
export function tableOf(param: SearchParam): ModifierTable | undefined {
  if (param.type === 'string' && param.code === 'phonetic') return PHONETIC;
  return MODIFIERS[param.type];
}

/** The row for `modifier` in `table`; a resource type after a reference parameter is `:[type]`. */
export function rowOf(table: ModifierTable, modifier: string | undefined, registry: SearchParamRegistry): ModifierRow | undefined {
  const key = modifier ?? '';
  if (key !== TYPED && Object.hasOwn(table, key)) return table[key];
  if (table[TYPED] && /^[A-Z][A-Za-z]+$/.test(key) && registry.get(key, '_id')) return table[TYPED];
  return undefined;
}
