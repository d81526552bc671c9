// Compiles the search IR to MongoDB query documents over the layout of mongo-layout.ts. Pure:
// plain filter and aggregation-pipeline objects, no `$where`, `$function` or `$accumulator`
// (no server-side JavaScript). Every value from the request is a value: an `$eq`/`$in`/range
// operand, a `$literal`, or a `$regex` built from the escaped text, never a key or an operator.
//
// MongoDB has no cheap join, so chains, `_has` and `_include` are semi-joins run target first
// (as the SQLite plan does): each is a pipeline (`joins`) whose result, a list of (type, id)
// pairs or urls, is bound into the outer query in place of a JoinSlot by `bindJoins`. The
// compiler stays pure; src/store/mongo/search.ts runs the joins in order, then the page.
import type { ComponentValue, Condition, Cursor, IncludeSpec, IndexTable, QuantityValue, RangeValue, SearchQuery, SortKey } from './ir.ts';
import { mergeDateRanges } from './ir.ts';
import { instantComparison, numberComparison, rangeComparison, type Column, type Comparison } from './prefixes.ts';
import { foldString, prefixUpperBound, uriAncestors } from './normalize.ts';
import { hiddenSens, type RowSens } from './index-rows.ts';
import { resourceKey } from './mongo-layout.ts';

export type Filter = Record<string, unknown>;
export type Stage = Record<string, unknown>;

/** A join's result rows: a target or referring resource (t, i), or a canonical url (u). */
export interface JoinRow {
  t?: string;
  i?: string;
  u?: string;
}

/** Where a join's result goes into an outer filter. `references`: the resource has a reference
 * (through `params`) to one of the rows; `key`: the resource is one of the rows; `url`: the
 * resource's `params` uri value is one of the rows' urls (canonical _include). */
export class JoinSlot {
  readonly join: number;
  readonly render: 'references' | 'key' | 'url';
  readonly params: string[];
  /** the view mark of the entries the rendered filter leaves out */
  readonly hidden: RowSens;
  constructor(join: number, render: JoinSlot['render'], params: string[] = [], hidden: RowSens = hiddenSens(undefined)) {
    this.join = join;
    this.render = render;
    this.params = params;
    this.hidden = hidden;
  }
}

export interface MongoPlan {
  /** pipelines on `resources`, run in order; join n may hold slots of joins before it */
  joins: Stage[][];
  /** the result pipeline on `resources` */
  pipeline: Stage[];
}

export interface MongoSearch extends MongoPlan {
  /** counts the matches (without paging), when a total is asked for */
  count?: Stage[];
  sortColumns: number;
  /** true when the page runs backwards (a `before` cursor): reverse its rows */
  reversed: boolean;
}

/** matches no document */
const NONE: Filter = { _id: { $in: [] } };
const eq = (v: unknown) => ({ $eq: v });

function and(parts: Filter[]): Filter {
  const real = parts.filter((p) => Object.keys(p).length > 0);
  if (real.length === 0) return {};
  if (real.length === 1) return real[0];
  return { $and: real };
}

function or(parts: Filter[]): Filter {
  if (parts.length === 0) return NONE;
  if (parts.some((p) => Object.keys(p).length === 0)) return {};
  return parts.length === 1 ? parts[0] : { $or: parts };
}

function not(f: Filter): Filter {
  return { $nor: [f] };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function paramIs(params: string[]): unknown {
  return params.length === 1 ? eq(params[0]) : { $in: params };
}

/** The entries a search reads: not those of the other view (`z`, the entry's view mark:
 * src/search/sensitive-rows.ts; absent on entries both views share, so `$ne` keeps them). */
function ofView(hidden: RowSens): Filter {
  return { z: { $ne: hidden } };
}

/** Some entry of `idx.<table>` of one of `params`, of the search's view, meets one of `preds`
 * (none: any entry of the params). */
function entry(x: Compiler, table: IndexTable | 'composite', params: string[], preds: Filter[]): Filter {
  const p = { p: paramIs(params), ...ofView(x.hidden) };
  if (preds.length === 0) return { [`idx.${table}`]: { $elemMatch: p } };
  const live = preds.filter((f) => f !== NONE);
  if (live.length === 0) return NONE;
  return { [`idx.${table}`]: { $elemMatch: and([p, or(live)]) } };
}

const OPERATORS = { '>': '$gt', '>=': '$gte', '<': '$lt', '<=': '$lte' } as const;

/** A comparison (prefixes.ts) as a filter on an entry's (or the document's) fields. Comparisons
 * of distinct fields or operators that all hold merge into one document ({ lo: { $gte, $lt } }). */
function comparisonFilter(c: Comparison, fields: Partial<Record<Column, string>>): Filter {
  if ('column' in c) return { [fields[c.column]!]: { [OPERATORS[c.op]]: c.value } };
  if ('not' in c) return not(comparisonFilter(c.not, fields));
  if ('any' in c) return or(c.any.map((x) => comparisonFilter(x, fields)));
  const merged: Record<string, Record<string, unknown>> = {};
  for (const x of c.all) {
    const op = 'column' in x ? OPERATORS[x.op] : undefined;
    if (!('column' in x) || merged[fields[x.column]!]?.[op!] !== undefined) return and(c.all.map((y) => comparisonFilter(y, fields)));
    (merged[fields[x.column]!] ??= {})[op!] = x.value;
  }
  return merged;
}

/** The target occupies [lo, hi) (date entries). */
function rangeFilter(v: RangeValue): Filter {
  return comparisonFilter(rangeComparison(v), { low: 'lo', high: 'hi' });
}

/** Numbers and quantities: the stored value (`v`, or the canonical `cv`) against the search value. */
function numberFilter(v: RangeValue, field: 'v' | 'cv' = 'v'): Filter {
  return comparisonFilter(numberComparison(v), { value: field });
}

/** In base units when the value has a canonical form (same predicates as src/search/sqlite.ts). */
function quantityFilter(v: QuantityValue): Filter {
  if (v.canonical) return and([{ cc: eq(v.canonical.code) }, numberFilter(v.canonical, 'cv')]);
  const parts = [numberFilter(v)];
  if (v.system !== undefined) parts.push({ s: eq(v.system) });
  if (v.code !== undefined) parts.push({ c: eq(v.code) });
  return and(parts);
}

/** meta.lastUpdated (`lu`, ISO text). */
function instantFilter(v: RangeValue): Filter {
  return comparisonFilter(instantComparison(v), { at: 'lu' });
}

function tokenFilter(v: { system?: string | null; code?: string; orNoSystem?: boolean }): Filter {
  const parts: Filter[] = [];
  if (v.code !== undefined) parts.push({ c: eq(v.code) });
  if (v.system === null) parts.push({ s: eq(null) });
  else if (v.system !== undefined) parts.push(v.orNoSystem ? or([{ s: eq(v.system) }, { s: eq(null) }]) : { s: eq(v.system) });
  return and(parts);
}

/** A component value on one component entry; undefined when nothing can match. */
function componentFilter(cv: ComponentValue): Filter | undefined {
  switch (cv.type) {
    case 'token':
      return tokenFilter({ system: cv.value.system, code: cv.value.code });
    case 'quantity':
      return quantityFilter(cv.value);
    case 'number':
      return numberFilter(cv.value);
    case 'date':
      return rangeFilter(cv.value);
    case 'string':
      return startsWith('x', cv.value);
    case 'reference':
      if (cv.value.kind !== 'local') return undefined;
      return cv.value.type ? { ri: eq(cv.value.id), rt: eq(cv.value.type) } : { ri: eq(cv.value.id) };
    case 'uri':
      return { c: eq(cv.value) };
  }
}

/** Compiles one kind of condition to a filter on `resources` documents. */
type CompileFilter<K extends Condition['kind']> = (x: Compiler, c: Extract<Condition, { kind: K }>) => Filter;

/** Values tested on the entries of `idx.<table>`: `pred` gives each value's test of an entry. */
function valueEntries(table: 'string' | 'uri', pred: (v: string) => Filter) {
  return (x: Compiler, c: { params: string[]; values: string[] }): Filter => entry(x, table, c.params, c.values.map(pred));
}

/** The entry's `field` starts with `v` (an index range seek); {} when every value does. */
function startsWith(field: string, v: string): Filter {
  const upper = prefixUpperBound(v);
  return upper === undefined ? {} : { [field]: { $gte: v, $lt: upper } };
}

/** One compile case per kind of condition (ir.ts), as in src/search/sqlite.ts. */
const FILTERS: { [K in Condition['kind']]: CompileFilter<K> } = {
  string: valueEntries('string', (v) => startsWith('n', v)),
  // the folded form of an exact value is known too: it lets the (p, n) index seek
  stringExact: valueEntries('string', (v) => ({ n: eq(foldString(v)), x: eq(v) })),
  stringContains: valueEntries('string', (v) => ({ n: { $regex: escapeRegex(v) } })),
  phonetic: valueEntries('string', (v) => ({ n: eq(v) })),
  token: (x, c) => {
    const f = entry(x, 'token', c.params, c.values.map(tokenFilter));
    return c.not ? not(f) : f;
  },
  tokenText: (x, c) => entry(x, 'token', c.params, c.values.map((v) => ({ d: { $regex: escapeRegex(v) } }))),
  tokenOfType: (x, c) => entry(x, 'token', c.params, c.values.map((t) => and([
    { c: eq(t.value) },
    t.code !== undefined ? { tc: eq(t.code) } : {},
    t.system !== undefined ? { ts: eq(t.system) } : {},
  ]))),
  date: (x, c) => entry(x, 'date', c.params, c.values.map(rangeFilter)),
  number: (x, c) => entry(x, 'number', c.params, c.values.map((v) => numberFilter(v))),
  quantity: (x, c) => entry(x, 'quantity', c.params, c.values.map(quantityFilter)),
  reference: (x, c) => entry(x, 'reference', c.params, c.values.map((v) => {
    if (v.kind === 'local') return v.type ? { ri: eq(v.id), rt: eq(v.type) } : { ri: eq(v.id) };
    if (v.kind === 'url') return v.version ? { ru: eq(v.url), rv: eq(v.version) } : { ru: eq(v.url) };
    const parts: Filter[] = [];
    if (v.value !== undefined) parts.push({ iv: eq(v.value) });
    if (v.system !== undefined) parts.push({ is: eq(v.system) });
    return parts.length ? and(parts) : NONE;
  })),
  uri: valueEntries('uri', (v) => ({ u: eq(v) })),
  uriAbove: valueEntries('uri', (v) => ({ u: { $in: uriAncestors(v) } })),
  uriBelow: valueEntries('uri', (v) => startsWith('u', v)),
  missing: (x, c) => {
    const f = entry(x, c.table, c.params, []);
    return c.missing ? not(f) : f;
  },
  id: (_, c) => {
    if (c.values.length === 0) return c.not ? NONE : {}; // _id:missing
    return { id: c.not ? { $nin: c.values } : { $in: c.values } };
  },
  lastUpdated: (_, c) => or(c.values.map(instantFilter)),
  chain: (x, c) => {
    // targets first, then the resources that reference one of them
    const inner = x.condition(c.condition);
    const n = x.join([
      { $match: and([{ type: { $in: c.targetTypes } }, { del: false }, inner]) },
      { $project: { _id: 0, t: '$type', i: '$id' } },
    ]);
    return { $slot: new JoinSlot(n, 'references', c.params, x.hidden) };
  },
  has: (x, c) => {
    // the referring resources first, then the resources their references point at
    const inner = x.condition(c.condition);
    const n = x.join([
      { $match: and([{ type: eq(c.sourceType) }, { del: false }, inner]) },
      { $unwind: '$idx.reference' },
      { $match: { 'idx.reference.p': paramIs(c.params), 'idx.reference.ri': { $exists: true }, 'idx.reference.z': { $ne: x.hidden } } },
      { $project: { _id: 0, t: '$idx.reference.rt', i: '$idx.reference.ri' } },
    ]);
    return { $slot: new JoinSlot(n, 'key') };
  },
  composite: (x, c) => or(c.values.map((tuple) => {
    const comps: Filter[] = [];
    for (const [i, cv] of tuple.entries()) {
      const f = componentFilter(cv);
      if (f === undefined) return NONE;
      comps.push(Object.keys(f).length ? { [`k${i}`]: { $elemMatch: f } } : { [`k${i}`]: { $exists: true } });
    }
    return { 'idx.composite': { $elemMatch: and([{ p: paramIs(c.params), ...ofView(x.hidden) }, ...comps]) } };
  }).filter((f) => f !== NONE)),
  any: (x, c) => or(c.conditions.map((inner) => x.condition(inner))),
  compartment: (x, c) => ({ 'idx.reference': { $elemMatch: { p: paramIs(c.params), ...ofView(x.hidden), ri: eq(c.targetId), rt: eq(c.targetType) } } }),
};

class Compiler {
  readonly joins: Stage[][] = [];
  /** the view mark of the entries this search leaves out */
  readonly hidden: RowSens;

  constructor(view: SearchQuery['view']) {
    this.hidden = hiddenSens(view);
  }

  join(pipeline: Stage[]): number {
    this.joins.push(pipeline);
    return this.joins.length - 1;
  }

  /** A filter on `resources` documents. */
  condition(c: Condition): Filter {
    return (FILTERS[c.kind] as CompileFilter<Condition['kind']>)(this, c as never);
  }

  where(q: SearchQuery): Filter {
    const parts: Filter[] = [{ type: q.types.length === 1 ? eq(q.types[0]) : { $in: q.types } }, { del: false }];
    for (const c of mergeDateRanges(q.conditions)) {
      // every bound on the same index entry
      if (c.kind === 'dateRange') parts.push(entry(this, 'date', c.params, [and(c.values.map(rangeFilter))]));
      // _id=a,b on the searched types: seeks on the document key, not a scan of the type
      else if (c.kind === 'id' && !c.not && c.values.length) parts.push({ _id: { $in: q.types.flatMap((t) => c.values.map((v) => resourceKey(t, v))) } });
      else parts.push(this.condition(c));
    }
    return and(parts);
  }
}

const SORT_FIELD = { string: 'n', token: 'c', number: 'v', quantity: 'v', uri: 'u' } as const;

/** Sort value of one key: the smallest (ascending) or largest (descending) of the resource's
 * values of the parameter; missing values sort last in either direction. */
function sortExpression(k: SortKey, hidden: RowSens): unknown {
  if (k.params[0] === '_id') return '$id';
  if (k.params[0] === '_lastUpdated') return '$lu';
  const field = k.table === 'date' ? (k.descending ? 'hi' : 'lo') : SORT_FIELD[k.table as keyof typeof SORT_FIELD];
  // as in the SQLite compiler: references sort by Type/id, or by their url when not local
  const value = k.table === 'reference' ? { $cond: [{ $ifNull: ['$$e.ri', false] }, { $concat: ['$$e.rt', '/', '$$e.ri'] }, '$$e.ru'] } : `$$e.${field}`;
  const isText = k.table === 'string' || k.table === 'token' || k.table === 'uri' || k.table === 'reference';
  const missing = isText ? (k.descending ? '' : '\u{10FFFF}') : k.descending ? -9e18 : 9e18;
  const values = {
    $map: {
      input: {
        $filter: {
          input: { $ifNull: [`$idx.${k.table}`, []] },
          as: 'e',
          cond: { $and: [{ $in: ['$$e.p', { $literal: k.params }] }, { $ne: [{ $ifNull: ['$$e.z', 0] }, { $literal: hidden }] }] },
        },
      },
      as: 'e',
      in: value,
    },
  };
  return { $ifNull: [{ [k.descending ? '$max' : '$min']: values }, { $literal: missing }] };
}

/** (s0, s1, …, rid) strictly after (or before) the cursor position, honouring each direction. */
function keyset(sortCols: string[], dirs: boolean[], ridDescending: boolean, values: (string | number | null)[], forward: boolean): Filter {
  const cols = [...sortCols, 'rid'];
  const desc = [...dirs, ridDescending];
  return or(cols.map((col, i) => {
    const parts: Filter[] = cols.slice(0, i).map((c, j) => ({ [c]: eq(values[j]) }));
    parts.push({ [col]: { [desc[i] !== !forward ? '$lt' : '$gt']: values[i] } });
    return and(parts);
  }));
}

// `ae` and `lu`: a compact AuditEvent is rendered from them (src/store/mongo/audit-documents.ts)
const PAGE_FIELDS: Record<string, 0 | 1> = { _id: 0, type: 1, id: 1, rid: 1, json: 1, lu: 1, ae: 1 };
/** sort parameters that are fields of the document */
const DOCUMENT_SORT: Record<string, string> = { _id: 'id', _lastUpdated: 'lu' };

export function compileSearch(q: SearchQuery, cursor?: Cursor): MongoSearch {
  const compiler = new Compiler(q.view);
  const where = compiler.where(q);
  const dirs = q.sort.map((k) => k.descending);
  const forward = !cursor?.before;
  const pipeline: Stage[] = [{ $match: where }];
  // sorted on the document's own fields when every key is one (_id, _lastUpdated): then
  // $match → $sort → $limit is served by an index (type_id_rid, type_lastUpdated_rid)
  // without computing a sort value for every match
  const direct = q.sort.every((k) => k.params.length === 1 && DOCUMENT_SORT[k.params[0]] !== undefined);
  const cols = q.sort.map((k, i) => (direct ? DOCUMENT_SORT[k.params[0]] : `s${i}`));
  const sortFields: Record<string, unknown> = {};
  q.sort.forEach((k, i) => (sortFields[`s${i}`] = sortExpression(k, compiler.hidden)));
  if (q.sort.length && !direct) pipeline.push({ $addFields: sortFields });
  const position = cursor?.after ?? cursor?.before;
  // ties break on rid in the first key's direction when sorting on fields, so that one index
  // (…, lu, rid) read forwards or backwards gives the order
  const ridDescending = direct && dirs.length > 0 && dirs[0];
  if (position) pipeline.push({ $match: keyset(cols, dirs, ridDescending, position, forward) });
  const order: Record<string, 1 | -1> = {};
  dirs.forEach((d, i) => (order[cols[i]] = d !== !forward ? -1 : 1));
  order.rid = ridDescending !== !forward ? -1 : 1;
  const project: Record<string, unknown> = { ...PAGE_FIELDS };
  q.sort.forEach((_, i) => (project[`s${i}`] = direct ? `$${cols[i]}` : 1));
  pipeline.push({ $sort: order }, { $limit: q.count + 1 }, { $project: project });
  const count = q.total !== 'none' ? [{ $match: where }, { $count: 'n' }] : undefined;
  return { joins: compiler.joins, pipeline, count, sortColumns: q.sort.length, reversed: !forward };
}

/** Resources referenced from `sourceKeys` (Type/id) through the spec's parameter, by the
 * references of the search's view. */
export function compileInclude(spec: IncludeSpec, sourceKeys: string[], view?: SearchQuery['view']): MongoPlan {
  const hidden = hiddenSens(view);
  const refs: Stage[] = [
    { $match: and([{ _id: { $in: sourceKeys } }, spec.sourceType !== '*' ? { type: eq(spec.sourceType) } : {}]) },
    { $unwind: '$idx.reference' },
    // '*': every reference parameter
    { $match: { ...(spec.param !== '*' ? { 'idx.reference.p': eq(spec.param) } : {}), 'idx.reference.z': { $ne: hidden } } },
    { $project: { _id: 0, t: '$idx.reference.rt', i: '$idx.reference.ri', u: '$idx.reference.ru' } },
  ];
  const local = and([spec.targetType ? { type: eq(spec.targetType) } : {}, { $slot: new JoinSlot(0, 'key') }]);
  // canonical references: the target is the resource whose `url` is the reference's url
  const target = spec.canonical?.length ? or([local, { $slot: new JoinSlot(0, 'url', spec.canonical, hidden) }]) : local;
  return { joins: [refs], pipeline: [{ $match: and([{ del: false }, target]) }, { $project: PAGE_FIELDS }] };
}

/** Resources that reference one of `targets` through the spec's parameter (its view's references). */
export function compileRevinclude(spec: IncludeSpec, targets: { type: string; id: string }[], view?: SearchQuery['view']): MongoPlan {
  const refs = entryToAny(spec.param === '*' ? undefined : [spec.param], targets.map((t) => ({ t: t.type, i: t.id })), hiddenSens(view));
  const match = and([{ del: false }, spec.sourceType !== '*' ? { type: eq(spec.sourceType) } : {}, refs]);
  return { joins: [], pipeline: [{ $match: match }, { $project: PAGE_FIELDS }] };
}

/** Some reference entry of the view (of `params`, or of any parameter) points at one of `rows`. */
function entryToAny(params: string[] | undefined, rows: JoinRow[], hidden: RowSens): Filter {
  const byType = new Map<string, Set<string>>();
  for (const r of rows) if (r.t !== undefined && r.i !== undefined) byType.set(r.t, (byType.get(r.t) ?? new Set()).add(r.i));
  if (byType.size === 0) return NONE;
  const targets = or([...byType].map(([t, ids]) => ({ rt: eq(t), ri: { $in: [...ids] } })));
  return { 'idx.reference': { $elemMatch: and([{ ...(params ? { p: paramIs(params) } : {}), ...ofView(hidden) }, targets]) } };
}

function renderSlot(slot: JoinSlot, rows: JoinRow[]): Filter {
  switch (slot.render) {
    case 'references':
      return entryToAny(slot.params, rows, slot.hidden);
    case 'key': {
      const keys = [...new Set(rows.filter((r) => r.t !== undefined && r.i !== undefined).map((r) => `${r.t}/${r.i}`))];
      return { _id: { $in: keys } };
    }
    case 'url': {
      const urls = [...new Set(rows.filter((r) => r.i === undefined && r.u !== undefined).map((r) => r.u!))];
      return urls.length ? { 'idx.uri': { $elemMatch: { p: paramIs(slot.params), ...ofView(slot.hidden), u: { $in: urls } } } } : NONE;
    }
  }
}

/** `value` with each `{ $slot }` replaced by the filter its join's rows give. */
export function bindJoins<T>(value: T, results: JoinRow[][]): T {
  if (Array.isArray(value)) return value.map((v) => bindJoins(v, results)) as T;
  if (value === null || typeof value !== 'object') return value;
  const slot = (value as Filter).$slot;
  if (slot instanceof JoinSlot) {
    const rows = results[slot.join];
    if (!rows) throw new Error(`join ${slot.join} has not run`);
    return renderSlot(slot, rows) as T;
  }
  const out: Filter = {};
  for (const [k, v] of Object.entries(value)) out[k] = bindJoins(v, results);
  return out as T;
}

/** Runs a plan's joins in order and binds them into its pipeline. `limit` bounds each join's
 * rows: a semi-join larger than that is refused rather than sent as a huge `$in`. */
export async function runJoins(
  plan: MongoPlan,
  aggregate: (pipeline: Stage[]) => Promise<Record<string, unknown>[]>,
  limit: number,
  tooLarge: () => Error,
): Promise<{ pipeline: Stage[]; results: JoinRow[][] }> {
  const results: JoinRow[][] = [];
  for (const join of plan.joins) {
    // counted after removing duplicates (a resource referring twice to one target is one row)
    const grouped = await aggregate([...bindJoins(join, results), { $group: { _id: { t: '$t', i: '$i', u: '$u' } } }, { $limit: limit + 1 }]);
    if (grouped.length > limit) throw tooLarge();
    results.push(grouped.map((g) => {
      const { t, i, u } = g._id as JoinRow;
      return { ...(t == null ? {} : { t }), ...(i == null ? {} : { i }), ...(u == null ? {} : { u }) };
    }));
  }
  return { pipeline: bindJoins(plan.pipeline, results), results };
}
