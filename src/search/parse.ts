// Parses a search request's parameters into the typed IR (pure: no storage access).
// https://hl7.org/fhir/R4/search.html
import { badRequest } from '../fhir/errors.ts';
import { parseDateRange } from '../fhir/datetime.ts';
import { decimalRange } from './extract.ts';
import type { ComponentValue, Condition, IncludeSpec, IndexTable, QuantityValue, RangeValue, ReferenceValue, SearchQuery, SortKey, TokenValue } from './ir.ts';
import { foldString } from './normalize.ts';
import { nameKeys } from '../mpi/names.ts';
import type { SearchParam, SearchParamRegistry } from './registry.ts';
import { countValues, splitPrefix, splitUnescaped, unescape } from './values.ts';
import { canonicalUnit, roundCanonical, UCUM_SYSTEM } from '../terminology/ucum.ts';

/** Parameters that shape the result rather than filter it. */
export const RESULT_PARAMETERS = new Set([
  '_count', '_sort', '_include', '_revinclude', '_total', '_summary', '_elements', '_format', '_pretty', '_page', '_type',
]);

const TABLE_OF: Record<string, IndexTable | undefined> = {
  string: 'string', token: 'token', date: 'date', number: 'number', quantity: 'quantity', reference: 'reference', uri: 'uri',
};

export interface ParseOptions {
  types: string[];
  query: Record<string, string[]>;
  registry: SearchParamRegistry;
  baseUrl: string;
  defaultCount: number;
  maxCount: number;
  /** most values in one search, counting the comma-separated values of all its parameters */
  maxValues: number;
  /** most parameters in one search: every repetition, _include, _revinclude and _sort key counts */
  maxParameters: number;
  /** Prefer: handling=strict → unknown parameters are errors */
  strict: boolean;
  /** the codes of a value set, for :in and :not-in (absent: those modifiers are refused) */
  valueSetCodes?: (url: string) => { system?: string; code?: string }[];
  /** codes below (or above) a code in a code system's hierarchy; undefined when not held */
  hierarchy?: (system: string, code: string, direction: 'below' | 'above') => string[] | undefined;
}

export interface ParsedSearch {
  query: SearchQuery;
  /** parameters left out (lenient handling), with why */
  ignored: { name: string; reason: string }[];
  /** the parameters that were applied, for the self link */
  applied: [string, string][];
}

class Ignored extends Error {}

/** The parameter `code` on every searched type; all must define it, with one type. */
function resolveParam(registry: SearchParamRegistry, types: string[], code: string): SearchParam[] {
  const params = types.map((t) => registry.get(t, code));
  if (params.some((p) => !p)) {
    throw new Ignored(
      types.length === 1 ? `Unknown search parameter '${code}' for ${types[0]}` : `Search parameter '${code}' is not defined for every type in _type`,
    );
  }
  const list = params as SearchParam[];
  if (new Set(list.map((p) => p.type)).size > 1) throw badRequest(`Search parameter '${code}' has different types across _type`);
  return list;
}

/** The index keys a search on `params` reads (a union parameter reads its parts' rows). */
function keys(params: SearchParam[]): string[] {
  return [...new Set(params.flatMap((p) => p.unionOf ?? [p.key]))];
}

function rangeValue(raw: string, name: string, kind: 'date' | 'number'): RangeValue {
  const [prefix, rest] = splitPrefix(raw);
  if (kind === 'date') {
    const r = parseDateRange(rest);
    if (!r) throw badRequest(`'${raw.slice(0, 64)}' is not a valid date for ${name}`, 'value');
    return { prefix: prefix as RangeValue['prefix'], low: r.start, high: r.end };
  }
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(rest)) {
    throw badRequest(`'${raw.slice(0, 64)}' is not a valid number for ${name}`, 'value');
  }
  const value = Number(rest);
  // 1e999999 or a thousand digits: beyond a double, so no stored value could be compared with it
  if (!Number.isFinite(value)) throw badRequest(`'${raw.slice(0, 64)}' is out of range for ${name}`, 'value');
  const { low, high } = decimalRange(value, rest);
  return { prefix: prefix as RangeValue['prefix'], low, high, value };
}

function quantityValue(raw: string, name: string): QuantityValue {
  const parts = splitUnescaped(raw, '|').map(unescape);
  const base = rangeValue(parts[0], name, 'number');
  const q: QuantityValue = { ...base };
  if (parts.length > 3) throw badRequest(`Quantity '${raw.slice(0, 64)}' must be number, number|system|code or number||code`, 'value');
  if (parts.length > 1) {
    if (parts[1]) q.system = parts[1];
    if (parts[2]) q.code = parts[2];
    if (parts.length === 2) throw badRequest(`Quantity '${raw.slice(0, 64)}' must be number, number|system|code or number||code`, 'value');
  }
  // Only with the UCUM system: without one, the code may be any unit text (search.html#quantity
  // matches it against Quantity.code or Quantity.unit as written), and is compared as written
  const unit = q.system === UCUM_SYSTEM && q.code !== undefined ? canonicalUnit(q.code) : null;
  if (unit) {
    const scale = (x: number) => roundCanonical(x * unit.factor);
    q.canonical = { prefix: q.prefix, low: scale(q.low), high: scale(q.high), value: scale(q.value ?? q.low), code: unit.code };
  }
  return q;
}

function tokenValue(raw: string): TokenValue {
  const parts = splitUnescaped(raw, '|');
  if (parts.length === 1) return { code: unescape(parts[0]) };
  const [system, code] = [unescape(parts[0]), unescape(parts.slice(1).join('|'))];
  return { system: system === '' ? null : system, ...(code !== '' ? { code } : {}) };
}

function referenceValue(raw: string, baseUrl: string, typeModifier: string | undefined, targets: string[]): ReferenceValue {
  let v = unescape(raw);
  if (v.startsWith(`${baseUrl}/`)) v = v.slice(baseUrl.length + 1);
  const local = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(v);
  if (local) {
    if (typeModifier && local[1] !== typeModifier) throw badRequest(`Reference '${v.slice(0, 64)}' does not match :${typeModifier}`, 'value');
    return { kind: 'local', type: local[1], id: local[2] };
  }
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(v)) {
    const type = typeModifier ?? (targets.length === 1 ? targets[0] : undefined);
    return { kind: 'local', ...(type ? { type } : {}), id: v };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(v)) {
    const [url, version] = v.split('|');
    return { kind: 'url', url, ...(version ? { version } : {}) };
  }
  throw badRequest(`'${v.slice(0, 64)}' is not a reference (Type/id, id or an absolute URL)`, 'value');
}

interface Context {
  opts: ParseOptions;
  depth: number;
}

/** One parameter (name possibly with modifier, chain or _has) and its values → a Condition. */
function condition(ctx: Context, types: string[], name: string, rawValue: string): Condition {
  if (ctx.depth > 4) throw badRequest('Chains and _has nest at most 4 levels', 'too-costly');
  const { opts } = ctx;
  // control characters never belong in a search value (and NUL would cut SQL LIKE patterns short)
  if (/[\u0000-\u001f\u007f]/.test(rawValue)) throw badRequest(`Control characters in the value of ${name.slice(0, 100)}`, 'value');
  if (name.startsWith('_has:')) {
    // _has:Observation:patient:code=1234 (the rest may be another _has or a chain)
    const m = /^_has:([A-Z][A-Za-z]+):([^:]+):(.+)$/.exec(name);
    if (!m) throw badRequest(`Malformed _has parameter '${name.slice(0, 100)}': use _has:Type:reference:parameter`, 'invalid');
    const [, sourceType, refCode, rest] = m;
    if (!opts.registry.get(sourceType, '_id')) throw badRequest(`Unknown resource type '${sourceType}' in _has`, 'invalid');
    const ref = resolveParam(opts.registry, [sourceType], refCode)[0];
    if (ref.type !== 'reference') throw badRequest(`'${refCode}' in _has is not a reference parameter of ${sourceType}`, 'invalid');
    if (ref.targets.length && !types.some((t) => ref.targets.includes(t))) {
      throw badRequest(`${sourceType}.${refCode} cannot point to ${types.join(',')}`, 'invalid');
    }
    const inner = condition({ opts, depth: ctx.depth + 1 }, [sourceType], rest, rawValue);
    return { kind: 'has', sourceType, params: [ref.key], condition: inner };
  }
  if (name === '_list') {
    // _list=42: the resources that List/42 holds (List.entry.item), as `_has:List:item:_id=42`
    const ids = splitUnescaped(rawValue, ',').map(unescape);
    if (ids.some((id) => id.startsWith('$'))) throw new Ignored(`Functional lists (_list=${ids.find((id) => id.startsWith('$'))}) are not supported by this server`);
    const item = resolveParam(opts.registry, ['List'], 'item')[0];
    return { kind: 'has', sourceType: 'List', params: [item.key], condition: { kind: 'id', values: ids, not: false } };
  }
  const dot = name.indexOf('.');
  const head = dot >= 0 ? name.slice(0, dot) : name;
  const [code, modifier, ...extra] = head.split(':');
  if (extra.length) throw badRequest(`Malformed parameter name '${name.slice(0, 100)}'`, 'invalid');

  if (code === '_id' && dot < 0) {
    if (modifier && modifier !== 'not' && modifier !== 'missing') throw badRequest(`Modifier :${modifier} is not supported on _id`, 'not-supported');
    if (modifier === 'missing') return { kind: 'id', values: [], not: rawValue === 'true' };
    return { kind: 'id', values: splitUnescaped(rawValue, ',').map(unescape), not: modifier === 'not' };
  }
  if (code === '_lastUpdated' && dot < 0) {
    if (modifier) throw badRequest(`Modifier :${modifier} is not supported on _lastUpdated`, 'not-supported');
    return { kind: 'lastUpdated', values: splitUnescaped(rawValue, ',').map((v) => rangeValue(v, code, 'date')) };
  }

  const params = resolveParam(opts.registry, types, code);
  const p = params[0];
  const pkeys = keys(params);
  // _text, _content, _query and extension-based parameters have no expression: nothing indexes them
  if (!p.expression) throw new Ignored(`Search parameter '${code}' is not supported by this server`);

  if (dot >= 0) {
    // chain: subject:Patient.name=… or subject.name=…
    if (p.type !== 'reference') throw badRequest(`'${code}' is not a reference parameter and cannot be chained`, 'invalid');
    const rest = name.slice(dot + 1);
    let targets = modifier ? [modifier] : p.targets.filter((t) => t !== 'Resource');
    if (modifier && p.targets.length && !p.targets.includes(modifier) && !p.targets.includes('Resource')) {
      throw badRequest(`${code} cannot point to ${modifier}`, 'invalid');
    }
    const restCode = rest.split(/[.:]/)[0];
    // Only targets that define the chained parameter take part (subject.name: Patient, Group…)
    targets = targets.filter((t) => restCode.startsWith('_has') || opts.registry.get(t, restCode));
    if (targets.length === 0) throw badRequest(`No target of '${code}' has a search parameter '${restCode}'; name the type as ${code}:Type.${restCode}`, 'invalid');
    const inner = targets.length === 1 || !restCode.startsWith('_has')
      ? condition({ opts, depth: ctx.depth + 1 }, targets, rest, rawValue)
      : condition({ opts, depth: ctx.depth + 1 }, [targets[0]], rest, rawValue);
    return { kind: 'chain', params: pkeys, targetTypes: targets, condition: inner };
  }

  const table = TABLE_OF[p.type];
  if (modifier === 'missing') {
    if (!table) throw badRequest(`:missing is not supported on ${p.type} parameter '${code}'`, 'not-supported');
    if (rawValue !== 'true' && rawValue !== 'false') throw badRequest(`${name} takes true or false`, 'value');
    return { kind: 'missing', params: pkeys, table, missing: rawValue === 'true' };
  }
  const rawValues = splitUnescaped(rawValue, ',');
  if (rawValues.some((v) => v === '')) throw badRequest(`Empty value in ${name.slice(0, 100)}`, 'value');
  const unsupported = () => badRequest(`Modifier :${modifier} is not supported on ${p.type} parameter '${code}'`, 'not-supported');

  switch (p.type) {
    case 'string': {
      if (p.code === 'phonetic') {
        if (modifier) throw unsupported();
        const keys = rawValues.flatMap((v) => nameKeys(unescape(v)));
        return { kind: 'string', params: pkeys, mode: 'phonetic', values: keys.length ? keys : ['-'] };
      }
      if (modifier && modifier !== 'exact' && modifier !== 'contains') throw unsupported();
      const mode = modifier === 'exact' ? 'exact' : modifier === 'contains' ? 'contains' : 'start';
      const values = rawValues.map(unescape).map((v) => (mode === 'exact' ? v : foldString(v)));
      return { kind: 'string', params: pkeys, mode, values };
    }
    case 'token': {
      if ((modifier === 'in' || modifier === 'not-in') && opts.valueSetCodes) {
        // :in / :not-in — the value set's codes, from the server's terminology
        // (an entry with a system and no code: every code of that system — `system|`)
        const values: TokenValue[] = rawValues
          .flatMap((v) => opts.valueSetCodes!(unescape(v)))
          .filter((c) => c.code || c.system)
          .map((c) => (c.code ? { ...(c.system ? { system: c.system, orNoSystem: true } : {}), code: c.code } : { system: c.system! }));
        if (values.length === 0) return { kind: 'token', params: pkeys, mode: 'code', not: modifier === 'not-in', values: [{ system: 'urn:migfhir:empty', code: '-' }] };
        return { kind: 'token', params: pkeys, mode: 'code', not: modifier === 'not-in', values };
      }
      if ((modifier === 'below' || modifier === 'above') && opts.hierarchy) {
        const values: TokenValue[] = rawValues.flatMap((v) => {
          const t = tokenValue(v);
          if (!t.system || !t.code) throw badRequest(`:${modifier} on a token takes system|code`, 'value');
          const codes = opts.hierarchy!(t.system, t.code, modifier);
          if (!codes) throw badRequest(`:${modifier}: the hierarchy of ${t.system} is not held by this server`, 'not-supported');
          return codes.map((code) => ({ system: t.system!, code }));
        });
        return { kind: 'token', params: pkeys, mode: 'code', not: false, values };
      }
      if (modifier && !['not', 'text', 'of-type'].includes(modifier)) throw unsupported();
      if (modifier === 'text') return { kind: 'token', params: pkeys, mode: 'text', not: false, values: rawValues.map((v) => ({ code: foldString(unescape(v)) })) };
      if (modifier === 'of-type') {
        const ofType = rawValues.map((v) => {
          const parts = splitUnescaped(v, '|').map(unescape);
          if (parts.length !== 3 || !parts[2]) throw badRequest(`${name} takes system|code|value`, 'value');
          return { ...(parts[0] ? { system: parts[0] } : {}), ...(parts[1] ? { code: parts[1] } : {}), value: parts[2] };
        });
        return { kind: 'token', params: pkeys, mode: 'of-type', not: false, values: [], ofType };
      }
      return { kind: 'token', params: pkeys, mode: 'code', not: modifier === 'not', values: rawValues.map(tokenValue) };
    }
    case 'date':
      if (modifier) throw unsupported();
      return { kind: 'date', params: pkeys, values: rawValues.map((v) => rangeValue(v, code, 'date')) };
    case 'number':
      if (modifier) throw unsupported();
      return { kind: 'number', params: pkeys, values: rawValues.map((v) => rangeValue(v, code, 'number')) };
    case 'quantity':
      if (modifier) throw unsupported();
      return { kind: 'quantity', params: pkeys, values: rawValues.map((v) => quantityValue(v, code)) };
    case 'uri': {
      if (modifier && modifier !== 'above' && modifier !== 'below') throw unsupported();
      return { kind: 'uri', params: pkeys, mode: (modifier ?? 'eq') as 'eq' | 'above' | 'below', values: rawValues.map(unescape) };
    }
    case 'reference': {
      if (modifier === 'identifier') {
        const values: ReferenceValue[] = rawValues.map((v) => {
          const t = tokenValue(v);
          return { kind: 'identifier', ...(t.system ? { system: t.system } : {}), ...(t.code ? { value: t.code } : {}) };
        });
        return { kind: 'reference', params: pkeys, values };
      }
      let typeModifier: string | undefined;
      if (modifier) {
        if (!/^[A-Z][A-Za-z]+$/.test(modifier) || !opts.registry.get(modifier, '_id')) throw unsupported();
        if (p.targets.length && !p.targets.includes(modifier) && !p.targets.includes('Resource')) {
          throw badRequest(`${code} cannot point to ${modifier}`, 'invalid');
        }
        typeModifier = modifier;
      }
      return { kind: 'reference', params: pkeys, values: rawValues.map((v) => referenceValue(v, opts.baseUrl, typeModifier, p.targets)) };
    }
    case 'composite': {
      if (modifier) throw unsupported();
      if (!p.composite) throw new Ignored(`Composite search parameter '${code}' has components this server cannot index`);
      const values = rawValues.map((v) => {
        const parts = splitUnescaped(v, '$');
        if (parts.length !== p.composite!.length) throw badRequest(`${code} takes ${p.composite!.length} values separated by $`, 'value');
        return parts.map((part, i): ComponentValue => {
          const t = p.composite![i].type;
          switch (t) {
            case 'token':
              return { type: t, value: tokenValue(part) };
            case 'quantity':
              return { type: t, value: quantityValue(part, code) };
            case 'number':
            case 'date':
              return { type: t, value: rangeValue(part, code, t) };
            case 'string':
              return { type: t, value: foldString(unescape(part)) };
            case 'reference':
              return { type: t, value: referenceValue(part, opts.baseUrl, undefined, []) };
            default:
              return { type: 'uri', value: unescape(part) };
          }
        });
      });
      return { kind: 'composite', params: pkeys, values };
    }
    default:
      throw new Ignored(`Search parameter '${code}' of type ${p.type} is not supported by this server`);
  }
}

function sortKeys(opts: ParseOptions, value: string): SortKey[] {
  return value.split(',').filter(Boolean).map((s) => {
    const descending = s.startsWith('-');
    const code = descending ? s.slice(1) : s;
    if (code === '_id' || code === '_lastUpdated') return { params: [code], descending };
    const params = resolveParam(opts.registry, opts.types, code);
    const table = TABLE_OF[params[0].type];
    if (!table) throw badRequest(`Cannot sort on ${params[0].type} parameter '${code}'`, 'not-supported');
    return { params: keys(params), table, descending };
  });
}

function includeSpecs(opts: ParseOptions, name: string, values: string[], reverse: boolean): IncludeSpec[] {
  const iterate = name.endsWith(':iterate') || name.endsWith(':recurse');
  return values.map((v) => {
    if (v === '*') return { sourceType: '*', param: '*', iterate };
    const [sourceType, code, targetType] = v.split(':');
    if (!sourceType || !code || !opts.registry.get(sourceType, '_id')) {
      throw badRequest(`${name}=${v.slice(0, 100)}: use SourceType:parameter[:TargetType]`, 'invalid');
    }
    if (!reverse && !opts.types.includes(sourceType) && !iterate) {
      throw badRequest(`_include=${v.slice(0, 100)}: ${sourceType} is not the searched type (use :iterate)`, 'invalid');
    }
    if (code === '*') return { sourceType, param: '*', ...(targetType ? { targetType } : {}), iterate };
    const p = opts.registry.get(sourceType, code);
    if (!p || p.type !== 'reference') throw badRequest(`${name}=${v.slice(0, 100)}: '${code}' is not a reference parameter of ${sourceType}`, 'invalid');
    // canonical references name their target by url: include via the targets' url parameters
    const targets = (targetType ? [targetType] : p.targets).filter((t) => t !== 'Resource');
    const canonical = p.canonical ? targets.map((t) => opts.registry.get(t, 'url')).filter((u) => u?.type === 'uri').map((u) => u!.key) : [];
    return { sourceType, param: p.key, ...(targetType ? { targetType } : {}), iterate, ...(canonical.length ? { canonical } : {}) };
  });
}

/** Refuses a search larger than the limits before any of it is parsed: every value becomes
 * SQL (or a MongoDB filter) whose planning time grows faster than its size, so a search with
 * 100,000 `_id` values or a parameter repeated 1,000 times is answered 400 at once. */
function checkSize(opts: ParseOptions): void {
  let parameters = 0;
  let values = 0;
  for (const [name, list] of Object.entries(opts.query)) {
    const base = name.split(':')[0];
    if (base === '_include' || base === '_revinclude') parameters += list.length;
    else if (base === '_type') for (const v of list) values += countValues(v);
    else if (base === '_sort') parameters += list.length ? list[list.length - 1].split(',').length : 0;
    else if (!RESULT_PARAMETERS.has(base)) {
      parameters += list.length;
      for (const v of list) values += countValues(v);
    }
    if (parameters > opts.maxParameters) {
      throw badRequest(`A search may have at most ${opts.maxParameters} parameters (each repetition, _include, _revinclude and _sort key counts)`, 'too-costly');
    }
    if (values > opts.maxValues) {
      throw badRequest(`A search may have at most ${opts.maxValues} values (the comma-separated values of all its parameters together)`, 'too-costly');
    }
  }
}

export function parseSearch(opts: ParseOptions): ParsedSearch {
  checkSize(opts);
  const ignored: ParsedSearch['ignored'] = [];
  const applied: [string, string][] = [];
  const conditions: Condition[] = [];
  const query: SearchQuery = {
    types: opts.types,
    conditions,
    sort: [],
    count: opts.defaultCount,
    total: 'none',
    include: [],
    revinclude: [],
  };
  const ignore = (name: string, reason: string) => {
    if (opts.strict) throw badRequest(reason, 'not-supported', [name]);
    ignored.push({ name, reason });
  };
  for (const [name, values] of Object.entries(opts.query)) {
    const base = name.split(':')[0];
    if (RESULT_PARAMETERS.has(base)) {
      const v = values[values.length - 1];
      switch (base) {
        case '_count':
          if (!/^\d{1,9}$/.test(v)) throw badRequest('_count must be a non-negative whole number', 'value');
          query.count = Math.min(Number(v), opts.maxCount);
          applied.push([name, String(query.count)]);
          break;
        case '_sort':
          try {
            query.sort = sortKeys(opts, v);
            applied.push([name, v]);
          } catch (err) {
            // an unknown sort parameter: lenient handling ignores the whole _sort
            if (err instanceof Ignored) ignore(name, err.message);
            else throw err;
          }
          break;
        case '_total':
          if (!['none', 'estimate', 'accurate'].includes(v)) throw badRequest('_total must be none, estimate or accurate', 'value');
          query.total = v as SearchQuery['total'];
          applied.push([name, v]);
          break;
        case '_include':
        case '_revinclude':
          for (const spec of includeSpecs(opts, name, values, base === '_revinclude')) (base === '_include' ? query.include : query.revinclude).push(spec);
          for (const x of values) applied.push([name, x]);
          break;
        default:
          // _summary, _elements, _format, _pretty, _page, _type are handled by the caller
          break;
      }
      continue;
    }
    for (const value of values) {
      try {
        conditions.push(condition({ opts, depth: 0 }, opts.types, name, value));
        applied.push([name, value]);
      } catch (err) {
        if (err instanceof Ignored) ignore(name, err.message);
        else throw err;
      }
    }
  }
  return { query, ignored, applied };
}
