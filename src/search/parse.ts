// Parses a search request's parameters into the typed IR (pure: no storage access): parameter
// names (chains, _has, _list, modifiers), result parameters and the size limits. Each
// parameter type's modifiers and values are read by its table in modifiers.ts. Callers use the
// server's one SearchParser (parser.ts), which supplies the terminology and the limits.
// https://hl7.org/fhir/R4/search.html
import { badRequest } from '../fhir/errors.ts';
import type { Condition, IncludeSpec, IndexTable, SearchQuery, SortKey } from './ir.ts';
import { Ignored, RESOURCE_PARAMETERS, rowOf, tableOf, type ModifierServices, type ModifierTable } from './modifiers.ts';
import type { SearchParam, SearchParamRegistry } from './registry.ts';
import { countValues, splitUnescaped, unescape } from './values.ts';

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
  services: ModifierServices;
  baseUrl: string;
  defaultCount: number;
  maxCount: number;
  /** most values in one search, counting the comma-separated values of all its parameters */
  maxValues: number;
  /** most parameters in one search: every repetition, _include, _revinclude and _sort key counts */
  maxParameters: number;
  /** Prefer: handling=strict → unknown parameters are errors */
  strict: boolean;
}

export interface ParsedSearch {
  query: SearchQuery;
  /** parameters left out (lenient handling), with why */
  ignored: { name: string; reason: string }[];
  /** the parameters that were applied, for the self link */
  applied: [string, string][];
}

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

interface Context {
  opts: ParseOptions;
  registry: SearchParamRegistry;
  depth: number;
}

/** A parameter's value read by the row of its modifier in its type's table; a modifier without
 * a row is the same 400 for every caller. */
function byModifier(ctx: Context, table: ModifierTable, params: SearchParam[], name: string, modifier: string | undefined, raw: string): Condition {
  const p = params[0];
  const row = rowOf(table, modifier, ctx.registry);
  if (!row) throw badRequest(`Modifier :${modifier} is not supported on ${p.type} parameter '${p.code}'`, 'not-supported');
  const input = { param: p, keys: keys(params), name, code: p.code, raw, baseUrl: ctx.opts.baseUrl, services: ctx.opts.services };
  return row(modifier === undefined ? input : { ...input, modifier });
}

/** One parameter (name possibly with modifier, chain or _has) and its values → a Condition. */
function condition(ctx: Context, types: string[], name: string, rawValue: string): Condition {
  if (ctx.depth > 4) throw badRequest('Chains and _has nest at most 4 levels', 'too-costly');
  const { registry } = ctx;
  const deeper = { ...ctx, depth: ctx.depth + 1 };
  // control characters never belong in a search value (and NUL would cut SQL LIKE patterns short)
  if (/[\u0000-\u001f\u007f]/.test(rawValue)) throw badRequest(`Control characters in the value of ${name.slice(0, 100)}`, 'value');
  if (name.startsWith('_has:')) {
    // _has:Observation:patient:code=1234 (the rest may be another _has or a chain)
    const m = /^_has:([A-Z][A-Za-z]+):([^:]+):(.+)$/.exec(name);
    if (!m) throw badRequest(`Malformed _has parameter '${name.slice(0, 100)}': use _has:Type:reference:parameter`, 'invalid');
    const [, sourceType, refCode, rest] = m;
    if (!registry.get(sourceType, '_id')) throw badRequest(`Unknown resource type '${sourceType}' in _has`, 'invalid');
    const ref = resolveParam(registry, [sourceType], refCode)[0];
    if (ref.type !== 'reference') throw badRequest(`'${refCode}' in _has is not a reference parameter of ${sourceType}`, 'invalid');
    if (ref.targets.length && !types.some((t) => ref.targets.includes(t))) {
      throw badRequest(`${sourceType}.${refCode} cannot point to ${types.join(',')}`, 'invalid');
    }
    const inner = condition(deeper, [sourceType], rest, rawValue);
    return { kind: 'has', sourceType, params: [ref.key], condition: inner };
  }
  if (name === '_list') {
    // _list=42: the resources that List/42 holds (List.entry.item), as `_has:List:item:_id=42`
    const ids = splitUnescaped(rawValue, ',').map(unescape);
    if (ids.some((id) => id.startsWith('$'))) throw new Ignored(`Functional lists (_list=${ids.find((id) => id.startsWith('$'))}) are not supported by this server`);
    const item = resolveParam(registry, ['List'], 'item')[0];
    return { kind: 'has', sourceType: 'List', params: [item.key], condition: { kind: 'id', values: ids, not: false } };
  }
  const dot = name.indexOf('.');
  const head = dot >= 0 ? name.slice(0, dot) : name;
  const [code, modifier, ...extra] = head.split(':');
  if (extra.length) throw badRequest(`Malformed parameter name '${name.slice(0, 100)}'`, 'invalid');

  const params = resolveParam(registry, types, code);
  const p = params[0];
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
    targets = targets.filter((t) => restCode.startsWith('_has') || registry.get(t, restCode));
    if (targets.length === 0) throw badRequest(`No target of '${code}' has a search parameter '${restCode}'; name the type as ${code}:Type.${restCode}`, 'invalid');
    const inner = targets.length === 1 || !restCode.startsWith('_has')
      ? condition(deeper, targets, rest, rawValue)
      : condition(deeper, [targets[0]], rest, rawValue);
    return { kind: 'chain', params: keys(params), targetTypes: targets, condition: inner };
  }

  // _id and _lastUpdated are the resource's own columns, not index rows
  const table = Object.hasOwn(RESOURCE_PARAMETERS, code) ? RESOURCE_PARAMETERS[code] : tableOf(p);
  if (!table) throw new Ignored(`Search parameter '${code}' of type ${p.type} is not supported by this server`);
  return byModifier(ctx, table, params, name, modifier, rawValue);
}

function sortKeys(opts: ParseOptions, value: string): SortKey[] {
  return value.split(',').filter(Boolean).map((s) => {
    const descending = s.startsWith('-');
    const code = descending ? s.slice(1) : s;
    if (code === '_id' || code === '_lastUpdated') return { params: [code], descending };
    const params = resolveParam(opts.services.registry, opts.types, code);
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
    if (!sourceType || !code || !opts.services.registry.get(sourceType, '_id')) {
      throw badRequest(`${name}=${v.slice(0, 100)}: use SourceType:parameter[:TargetType]`, 'invalid');
    }
    if (!reverse && !opts.types.includes(sourceType) && !iterate) {
      throw badRequest(`_include=${v.slice(0, 100)}: ${sourceType} is not the searched type (use :iterate)`, 'invalid');
    }
    if (code === '*') return { sourceType, param: '*', ...(targetType ? { targetType } : {}), iterate };
    const p = opts.services.registry.get(sourceType, code);
    if (!p || p.type !== 'reference') throw badRequest(`${name}=${v.slice(0, 100)}: '${code}' is not a reference parameter of ${sourceType}`, 'invalid');
    // canonical references name their target by url: include via the targets' url parameters
    const targets = (targetType ? [targetType] : p.targets).filter((t) => t !== 'Resource');
    const canonical = p.canonical ? targets.map((t) => opts.services.registry.get(t, 'url')).filter((u) => u?.type === 'uri').map((u) => u!.key) : [];
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
        conditions.push(condition({ opts, registry: opts.services.registry, depth: 0 }, opts.types, name, value));
        applied.push([name, value]);
      } catch (err) {
        if (err instanceof Ignored) ignore(name, err.message);
        else throw err;
      }
    }
  }
  return { query, ignored, applied };
}
