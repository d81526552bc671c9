// Compiles the search IR to SQLite SQL over the index tables of src/store/sqlite/schema.ts.
// Pure: takes a lookup from parameter keys to integer ids and returns SQL text with `?`
// placeholders plus their values. Every value from the request is a bound parameter; only
// identifiers chosen here (table and column names, operators) and the page size (an integer,
// see literalLimit()) are ever part of the SQL text.
import type { ComponentValue, Condition, Cursor, IncludeSpec, QuantityValue, RangeValue, SearchQuery, SortKey } from './ir.ts';
import { mergeDateRanges } from './ir.ts';
import { instantComparison, numberComparison, rangeComparison, type Column, type Comparison } from './prefixes.ts';
import { foldString, prefixUpperBound, uriAncestors } from './normalize.ts';
import type { RowSens } from './index-rows.ts';

export type ParamIds = (key: string) => number | undefined;

/** Which index rows a search reads (src/search/sensitive-rows.ts): not the rows of the other
 * view (`hidden`: the sens value of rows only the stored resources yield, for a client without
 * the migration-data scope; of rows only the redacted views yield, for one with it). Only the
 * parameters that have marked rows at all (`marked`) are tested: for the others every row has
 * sens 0, and their lookups stay on covering indexes. */
export interface RowView {
  hidden: RowSens;
  marked: (key: string) => boolean;
}
type Arg = string | number | null;

export interface CompiledSql {
  sql: string;
  args: Arg[];
}

const TABLE = {
  string: 'sp_string', token: 'sp_token', date: 'sp_date', number: 'sp_number', quantity: 'sp_quantity', reference: 'sp_reference', uri: 'sp_uri',
} as const;
type Table = keyof typeof TABLE;

/** Where index rows are read from: their sp_ table. */
type Source = { table: string };

/** The sources of the rows of `keys` in `table`. */
function sources(table: Table, _keys: readonly string[]): Source[] {
  return [{ table: TABLE[table] }];
}

/** `$.column` of an index row of the source aliased `alias`. */
function rowSql(text: string, _src: Source, alias: string): string {
  return text.replaceAll('$.', `${alias}.`);
}

class Builder {
  readonly args: Arg[] = [];
  private aliases = 0;
  readonly ids: ParamIds;
  /** inside a semi-join: index conditions test the one row at hand (EXISTS … WHERE rid = ?)
   * rather than build the set of every matching row */
  correlated = false;
  /** compiling a count (_total): every row of the type is tested, so a negated condition is
   * answered from the set of rows its value matches (`NOT IN`, built once) rather than per row */
  counting = false;

  readonly view: RowView | undefined;

  constructor(ids: ParamIds, view?: RowView) {
    this.ids = ids;
    this.view = view;
  }

  /** The client's view's rows of the sp_ table aliased `a` (undefined when no row of `keys` is
   * marked; `*` and `Type.*`: any reference parameter). */
  sens(a: string, keys: readonly string[]): string | undefined {
    const v = this.view;
    if (!v || !keys.some((k) => k === '*' || k.endsWith('.*') || v.marked(k))) return undefined;
    return `${a}.sens <> ${this.bind(v.hidden)}`;
  }

  alias(prefix: string): string {
    return `${prefix}${this.aliases++}`;
  }

  bind(v: Arg): string {
    this.args.push(v);
    return '?';
  }

  list(values: Arg[]): string {
    return values.map((v) => this.bind(v)).join(', ');
  }

  /** `param IN (…)` for index keys; keys never indexed get -1, which matches no row. */
  params(col: string, keys: string[]): string {
    const ids = keys.map((k) => this.ids(k) ?? -1);
    return ids.length === 1 ? `${col} = ${this.bind(ids[0])}` : `${col} IN (${this.list(ids)})`;
  }

  /** Which rows of the source aliased `a` belong to `keys`: the param test on an sp_ table
   * (`+` keeps it from choosing the index) and the client's view. */
  rowsOf(_src: Source, a: string, keys: string[], plus = ''): string | undefined {
    return and([this.params(`${plus}${a}.param`, keys), this.sens(a, keys)]);
  }
}

/** A comparison (prefixes.ts) as SQL on the row's columns. */
function comparisonSql(b: Builder, c: Comparison, columns: Partial<Record<Column, string>>): string {
  if ('column' in c) return `${columns[c.column]} ${c.op} ${b.bind(c.value)}`;
  if ('not' in c) return `NOT ${comparisonSql(b, c.not, columns)}`;
  const [parts, joiner] = 'all' in c ? [c.all, ' AND '] : [c.any, ' OR '];
  return `(${parts.map((x) => comparisonSql(b, x, columns)).join(joiner)})`;
}

/** The target occupies [lo, hi) (date rows). */
function rangePredicate(b: Builder, lo: string, hi: string, v: RangeValue): string {
  return comparisonSql(b, rangeComparison(v), { low: lo, high: hi });
}

function numberPredicate(b: Builder, col: string, v: RangeValue): string {
  return comparisonSql(b, numberComparison(v), { value: col });
}

/** A quantity value on the sp_quantity or sp_composite row whose columns start with `col`
 * (`$.` or `x0.`): in base units when the value has a canonical form (the row's canon_code is
 * then the same unit, and canon_value the stored value converted), else as written. */
function quantityPredicate(b: Builder, col: string, v: QuantityValue): string {
  if (v.canonical) return `(${col}canon_code = ${b.bind(v.canonical.code)} AND ${numberPredicate(b, `${col}canon_value`, v.canonical)})`;
  const parts = [numberPredicate(b, `${col}value`, v)];
  if (v.system !== undefined) parts.push(`${col}system = ${b.bind(v.system)}`);
  if (v.code !== undefined) parts.push(`${col}code = ${b.bind(v.code)}`);
  return `(${parts.join(' AND ')})`;
}

/** meta.lastUpdated, stored as ISO text. */
function instantPredicate(b: Builder, col: string, v: RangeValue): string {
  return comparisonSql(b, instantComparison(v), { at: col });
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Terms per OR group: SQLite parses `a OR b OR c …` one level deeper per term and refuses
 * expressions deeper than 1,000, which a search with a few hundred values reached. Grouped, the
 * depth grows with the logarithm of the count; the planner splits nested ORs into the same terms. */
const OR_GROUP = 64;

function anyOf(parts: string[]): string {
  if (parts.length === 1) return parts[0];
  if (parts.length <= OR_GROUP) return `(${parts.join(' OR ')})`;
  const groups: string[] = [];
  for (let i = 0; i < parts.length; i += OR_GROUP) groups.push(anyOf(parts.slice(i, i + OR_GROUP)));
  return anyOf(groups);
}

function and(parts: (string | undefined)[]): string {
  return parts.filter((p) => p !== undefined).join(' AND ') || '1';
}

/** How an index condition is tested on a page. `'set'`: `rid [NOT] IN (…)`, the set of rows
 * that have the value, built once — for conditions that select few rows, and for
 * `:missing=true`, whose answer is usually a few resources, so the whole type is read anyway
 * and a set probe is the cheapest test per row (on 1,000,000 resources,
 * `Patient?birthdate:missing=true` 77 ms against 250–300 ms per row). `'per row'` (`:not`,
 * `:missing=false`): `[NOT] EXISTS (… WHERE rid = r.rid …)` — most resources usually match, so a
 * page needs a few rows, and the set (every row of the type with or without the value) would
 * cost more than the page: `Observation?code:not=…` 50–60 ms → 0.2 ms, with `subject=…` 49 →
 * 0.2 ms; a page of Patient-level Bulk export (every Observation with a subject or performer:
 * `:missing=false` on reference rows, whose index leads with the target) 2.4 s → ms. When almost
 * nothing matches, the whole type is read either way (`status:not=final`, no match among
 * 666,665: 0.7–1.6 s against 1.1 s, a loaded machine). A count (_total) reads every row, so it
 * always uses the set. */
type Form = 'set' | 'per row';

/** `rid IN (SELECT rid FROM table WHERE param … AND (v1 OR v2 …))`, one SELECT per source of
 * the rows (UNION ALL), each with its own predicates so that it can use its own indexes.
 * Inside a semi-join, and for `:not` on a page: `[NOT] EXISTS (… WHERE rid = r.rid …)`, the
 * row's own index rows by the clustered key (see Form). */
function inIndex(b: Builder, rid: string, table: Table, keys: string[], valuePreds: () => string[], not = false, form: Form = 'set'): string {
  const a = b.alias('i');
  const correlated = b.correlated || (form === 'per row' && !b.counting);
  // bind order follows the SQL text: per source the param ids first, then the values
  const selects = sources(table, keys).map((src) => {
    // correlated: by the row's rid (the clustered key: its few rows in the table), then its
    // values; `+` keeps SQLite from the value index, which would read every row of the value per
    // row tested (it chose it without table statistics, NOT INDEXED notwithstanding)
    const where = [correlated ? `${a}.rid = ${rid}` : undefined, b.rowsOf(src, a, keys, correlated ? '+' : '')];
    const preds = valuePreds();
    if (preds.length) where.push(anyOf(preds.map((p) => rowSql(p, src, a))));
    return `SELECT ${correlated ? '1' : `${a}.rid`} FROM ${src.table} ${a} WHERE ${and(where)}`;
  });
  if (correlated) return `${not ? 'NOT ' : ''}EXISTS (${selects.join(' UNION ALL ')})`;
  return `${rid} ${not ? 'NOT IN' : 'IN'} (${selects.join(' UNION ALL ')})`;
}

/** `rid IN (SELECT rid FROM table WHERE (param … AND v1) OR (param … AND v2) …)`: with the
 * param test in every branch SQLite seeks the value index once per value (OR by union); with it
 * factored out, several values read every row of the param (e.g. `identifier=a|1,b|2`). */
function inIndexEach(b: Builder, rid: string, table: Table, keys: string[], valuePreds: (() => string)[], not = false, form: Form = 'set'): string {
  // per row, the values are tested on the row's own index rows: one form does
  if (valuePreds.length < 2 || (form === 'per row' && !b.counting) || b.correlated) return inIndex(b, rid, table, keys, () => valuePreds.map((p) => p()), not, form);
  const a = b.alias('i');
  // bind order follows the SQL text: each branch binds its param ids, then its values
  const selects = sources(table, keys).map((src) => {
    const branches = valuePreds.map((p) => `(${b.rowsOf(src, a, keys)} AND ${rowSql(p(), src, a)})`);
    return `SELECT ${a}.rid FROM ${src.table} ${a} WHERE ${anyOf(branches)}`;
  });
  return `${rid} ${not ? 'NOT IN' : 'IN'} (${selects.join(' UNION ALL ')})`;
}

/** Compiles one kind of condition to a predicate on the resource row aliased `r` (columns rid,
 * resource_type, id, last_updated). */
type CompileSql<K extends Condition['kind']> = (b: Builder, c: Extract<Condition, { kind: K }>, r: string) => string;

/** Values tested on the string (uri) rows: `pred` gives each value's test of the row `$`. */
function valueRows(table: 'string' | 'uri', pred: (b: Builder, v: string) => string) {
  return (b: Builder, c: { params: string[]; values: string[] }, r: string): string => inIndex(b, `${r}.rid`, table, c.params, () => c.values.map((v) => pred(b, v)));
}

/** `$.column` starts with `v` (an index range seek); '1' when every value does. */
function startsWith(b: Builder, column: string, v: string): string {
  const upper = prefixUpperBound(v);
  return upper === undefined ? '1' : `(${column} >= ${b.bind(v)} AND ${column} < ${b.bind(upper)})`;
}

/** One compile case per kind of condition (ir.ts). */
const SQL: { [K in Condition['kind']]: CompileSql<K> } = {
  string: valueRows('string', (b, v) => startsWith(b, '$.norm', v)),
  // the folded form of an exact value is known too: it lets the (param, norm) index seek
  stringExact: valueRows('string', (b, v) => `($.norm = ${b.bind(foldString(v))} AND $.exact = ${b.bind(v)})`),
  stringContains: valueRows('string', (b, v) => `$.norm LIKE ${b.bind(`%${likeEscape(v)}%`)} ESCAPE '\\'`),
  phonetic: valueRows('string', (b, v) => `$.norm = ${b.bind(v)}`),
  token: (b, c, r) => {
    const preds = c.values.map((v) => () => {
      const parts: string[] = [];
      if (v.code !== undefined) parts.push(`$.code = ${b.bind(v.code)}`);
      if (v.system === null) parts.push('$.system IS NULL');
      else if (v.system !== undefined) parts.push(v.orNoSystem ? `($.system = ${b.bind(v.system)} OR $.system IS NULL)` : `$.system = ${b.bind(v.system)}`);
      return `(${parts.join(' AND ')})`;
    });
    // values with a code seek the index, each on its own; a value without one reads the param anyway
    const form = c.not ? 'per row' : 'set';
    if (c.values.every((v) => v.code !== undefined)) return inIndexEach(b, `${r}.rid`, 'token', c.params, preds, c.not, form);
    return inIndex(b, `${r}.rid`, 'token', c.params, () => preds.map((p) => p()), c.not, form);
  },
  tokenText: (b, c, r) => inIndex(b, `${r}.rid`, 'token', c.params, () => c.values.map((v) => `$.text LIKE ${b.bind(`%${likeEscape(v)}%`)} ESCAPE '\\'`)),
  tokenOfType: (b, c, r) => inIndex(b, `${r}.rid`, 'token', c.params, () => c.values.map((t) => {
    const parts = [`$.code = ${b.bind(t.value)}`];
    if (t.code !== undefined) parts.push(`$.type_code = ${b.bind(t.code)}`);
    if (t.system !== undefined) parts.push(`$.type_system = ${b.bind(t.system)}`);
    return `(${parts.join(' AND ')})`;
  })),
  date: (b, c, r) => inIndex(b, `${r}.rid`, 'date', c.params, () => c.values.map((v) => rangePredicate(b, '$.low', '$.high', v))),
  number: (b, c, r) => inIndex(b, `${r}.rid`, 'number', c.params, () => c.values.map((v) => numberPredicate(b, '$.value', v))),
  // each value on its own: a canonical one seeks sp_quantity_canonical, another sp_quantity_value
  quantity: (b, c, r) => inIndexEach(b, `${r}.rid`, 'quantity', c.params, c.values.map((v) => () => quantityPredicate(b, '$.', v))),
  reference: (b, c, r) => inIndex(b, `${r}.rid`, 'reference', c.params, () => c.values.map((v) => {
    if (v.kind === 'local') {
      return v.type ? `($.target_id = ${b.bind(v.id)} AND $.target_type = ${b.bind(v.type)})` : `$.target_id = ${b.bind(v.id)}`;
    }
    if (v.kind === 'url') {
      return v.version ? `($.url = ${b.bind(v.url)} AND $.version = ${b.bind(v.version)})` : `$.url = ${b.bind(v.url)}`;
    }
    const parts: string[] = [];
    if (v.value !== undefined) parts.push(`$.identifier_value = ${b.bind(v.value)}`);
    if (v.system !== undefined) parts.push(`$.identifier_system = ${b.bind(v.system)}`);
    return `(${parts.join(' AND ') || '0'})`;
  })),
  uri: valueRows('uri', (b, v) => `$.uri = ${b.bind(v)}`),
  uriAbove: valueRows('uri', (b, v) => `$.uri IN (${b.list(uriAncestors(v))})`),
  uriBelow: valueRows('uri', (b, v) => startsWith(b, '$.uri', v)),
  missing: (b, c, r) => inIndex(b, `${r}.rid`, c.table, c.params, () => [], c.missing, c.missing ? 'set' : 'per row'),
  id: (b, c, r) => {
    if (c.values.length === 0) return c.not ? '0' : '1'; // _id:missing
    return `${r}.id ${c.not ? 'NOT IN' : 'IN'} (${b.list(c.values)})`;
  },
  lastUpdated: (b, c, r) => anyOf(c.values.map((v) => instantPredicate(b, `${r}.last_updated`, v))),
  chain: (b, c, r) => {
    const ref = b.alias('c');
    const t = b.alias('t');
    // targets first (CROSS JOIN fixes the order), then their references by sp_reference_target_param
    const selects = sources('reference', c.params).map((src) => {
      const rows = b.rowsOf(src, ref, c.params);
      const targets = b.list(c.targetTypes);
      const inner = conditionSql(b, c.condition, t);
      return `SELECT ${ref}.rid FROM resource ${t} CROSS JOIN ${src.table} ${ref} ON ${rowSql(`$.target_id = ${t}.id AND $.target_type = ${t}.resource_type`, src, ref)}
        WHERE ${and([rows, `${typeColumn(`${t}.resource_type`, [c.condition])} IN (${targets})`, `${t}.deleted = 0`, inner])}`;
    });
    return `${r}.rid IN (${selects.join(' UNION ALL ')})`;
  },
  has: (b, c, r) => {
    const ref = b.alias('h');
    const s = b.alias('s');
    if (c.semiJoin) {
      // per candidate: its references by sp_reference_target_param, then the referring resource by rid
      const selects = sources('reference', c.params).map((src) => {
        const rows = b.rowsOf(src, ref, c.params);
        const target = rowSql(`$.target_id = ${r}.id AND $.target_type = ${r}.resource_type`, src, ref);
        const source = b.bind(c.sourceType);
        const outer = b.correlated;
        b.correlated = true;
        const inner = conditionSql(b, c.condition, s);
        b.correlated = outer;
        return `SELECT 1 FROM ${src.table} ${ref} CROSS JOIN resource ${s} ON ${s}.rid = ${ref}.rid
        WHERE ${and([rows, target, `${s}.resource_type = ${source}`, `${s}.deleted = 0`, inner])}`;
      });
      return `EXISTS (${selects.join(' UNION ALL ')})`;
    }
    // referring resources first (CROSS JOIN fixes the order), then their references by rid (sp_reference's clustered key)
    const selects = sources('reference', c.params).map((src) => {
      // `+`: look the references up by rid (the clustered key), not by scanning the parameter's rows
      const rows = b.rowsOf(src, ref, c.params, '+');
      const source = b.bind(c.sourceType);
      const inner = conditionSql(b, c.condition, s);
      return `SELECT ${rowSql(`$.target_type, $.target_id`, src, ref)} FROM resource ${s} CROSS JOIN ${src.table} ${ref} ON ${ref}.rid = ${s}.rid
        WHERE ${and([rows, `${typeColumn(`${s}.resource_type`, [c.condition])} = ${source}`, `${s}.deleted = 0`, inner])}`;
    });
    return `(${r}.resource_type, ${r}.id) IN (${selects.join(' UNION ALL ')})`;
  },
  composite: (b, c, r) => anyOf(c.values.map((tuple) => {
    const as = tuple.map(() => b.alias('x'));
    const joins = as.slice(1).map((a, i) => `JOIN sp_composite ${a} ON ${a}.rid = ${as[0]}.rid AND ${a}.param = ${as[0]}.param AND ${a}.grp = ${as[0]}.grp AND ${a}.comp = ${i + 1}`).join(' ');
    const params = b.params(`${as[0]}.param`, c.params);
    // every component from the client's view (an occurrence of each view may share a grp)
    const views = and(as.map((a) => b.sens(a, c.params)));
    const preds = tuple.map((cv, i) => componentPredicate(b, as[i], cv));
    return `${r}.rid IN (SELECT ${as[0]}.rid FROM sp_composite ${as[0]} ${joins} WHERE ${params} AND ${views} AND ${as[0]}.comp = 0 AND ${preds.join(' AND ')})`;
  })),
  any: (b, c, r) => {
    // several compartments of one kind (Group and Patient-level Bulk export: a chunk of patients)
    // as one set: an OR of one subquery per patient was re-evaluated for every page
    const [first, ...rest] = c.conditions;
    if (first?.kind === 'compartment' && rest.length && rest.every((x) => x.kind === 'compartment' && x.targetType === first.targetType && x.params.join() === first.params.join())) {
      return compartmentSql(b, first.params, first.targetType, c.conditions.map((x) => (x as typeof first).targetId), r);
    }
    return anyOf(c.conditions.map((x) => conditionSql(b, x, r)));
  },
  compartment: (b, c, r) => compartmentSql(b, c.params, c.targetType, [c.targetId], r),
};

/** Resources whose `params` reference one of `ids` of `targetType` (sp_reference_target_param:
 * one seek per target). */
function compartmentSql(b: Builder, params: string[], targetType: string, ids: string[], r: string): string {
  const a = b.alias('k');
  const selects = sources('reference', params).map((src) => {
    // bind order follows the SQL text: the param ids, then the targets
    const rows = b.rowsOf(src, a, params);
    const target = ids.length === 1 ? `$.target_id = ${b.bind(ids[0])}` : `$.target_id IN (${b.list(ids)})`;
    return `SELECT ${a}.rid FROM ${src.table} ${a} WHERE ${and([rows, rowSql(`${target} AND $.target_type = ${b.bind(targetType)}`, src, a)])}`;
  });
  return `${r}.rid IN (${selects.join(' UNION ALL ')})`;
}

/** A predicate on the resource row aliased `r` (columns rid, resource_type, id, last_updated). */
export function conditionSql(b: Builder, c: Condition, r: string): string {
  return (SQL[c.kind] as CompileSql<Condition['kind']>)(b, c as never, r);
}

/** A component of a composite value on the sp_composite row aliased `a`. */
function componentPredicate(b: Builder, a: string, cv: ComponentValue): string {
  switch (cv.type) {
    case 'token': {
      const parts: string[] = [];
      if (cv.value.code !== undefined) parts.push(`${a}.code = ${b.bind(cv.value.code)}`);
      if (cv.value.system === null) parts.push(`${a}.system IS NULL`);
      else if (cv.value.system !== undefined) parts.push(`${a}.system = ${b.bind(cv.value.system)}`);
      return `(${parts.join(' AND ') || '1'})`;
    }
    case 'quantity':
      return quantityPredicate(b, `${a}.`, cv.value);
    case 'number':
      return numberPredicate(b, `${a}.value`, cv.value);
    case 'date':
      return rangePredicate(b, `${a}.low`, `${a}.high`, cv.value);
    case 'string':
      return startsWith(b, `${a}.text`, cv.value);
    case 'reference':
      return cv.value.kind === 'local'
        ? `(${a}.target_id = ${b.bind(cv.value.id)}${cv.value.type ? ` AND ${a}.target_type = ${b.bind(cv.value.type)}` : ''})`
        : '0';
    case 'uri':
      return `${a}.code = ${b.bind(cv.value)}`;
  }
}

/** Sort expression for one key; missing values sort last in either direction. */
function sortExpr(b: Builder, k: SortKey, r: string): string {
  if (k.params[0] === '_id') return `${r}.id`;
  if (k.params[0] === '_lastUpdated') return `${r}.last_updated`;
  const a = b.alias('o');
  const agg = k.descending ? 'MAX' : 'MIN';
  // references sort by their text: Type/id for local ones, the url for absolute and canonical ones
  const col = { string: 'norm', token: 'code', date: k.descending ? 'high' : 'low', number: 'value', quantity: 'value', uri: 'uri', reference: '' }[k.table!];
  const isText = k.table === 'string' || k.table === 'token' || k.table === 'uri' || k.table === 'reference';
  const missing = isText ? (k.descending ? "''" : 'char(1114111)') : k.descending ? '-9e18' : '9e18';
  // `+`: the resource's own rows through the (rid, param) index, not every row of the parameter per resource
  const srcs = sources(k.table!, k.params);
  const at = (src: Source) => rowSql(k.table === 'reference' ? "COALESCE($.target_type || '/' || $.target_id, $.url)" : `$.${col}`, src, a);
  if (srcs.length === 1) return `COALESCE((SELECT ${agg}(${at(srcs[0])}) FROM ${srcs[0].table} ${a} WHERE ${a}.rid = ${r}.rid AND ${b.rowsOf(srcs[0], a, k.params, '+')}), ${missing})`;
  // each source by rid, the aggregate over them all
  const values = srcs.map((src) => `SELECT ${at(src)} AS v FROM ${src.table} ${a} WHERE ${and([`${a}.rid = ${r}.rid`, b.rowsOf(src, a, k.params, '+')])}`);
  return `COALESCE((SELECT ${agg}(v) FROM (${values.join(' UNION ALL ')})), ${missing})`;
}

export interface CompiledSearch {
  /** rows: rid, resource_type, id, content, s0…sN (sort values) */
  page: CompiledSql;
  count?: CompiledSql;
  sortColumns: number;
  /** true when the page query runs backwards (a `before` cursor): reverse its rows */
  reversed: boolean;
}

/** Conditions compiled to `rid IN (subquery on an index table)`: a search can start from their rows. */
function selectsRids(c: Condition): boolean {
  switch (c.kind) {
    case 'string':
    case 'stringExact':
    case 'stringContains':
    case 'phonetic':
    case 'tokenText':
    case 'tokenOfType':
    case 'date':
    case 'number':
    case 'quantity':
    case 'reference':
    case 'uri':
    case 'uriAbove':
    case 'uriBelow':
    case 'chain':
    case 'compartment':
      return true;
    case 'token':
      return !c.not;
    case 'missing':
      return false; // tested per row or as a set to exclude (Form)
    case 'composite':
      return c.values.length === 1;
    case 'has':
      return !c.semiJoin;
    case 'any':
      return c.conditions.length > 0 && c.conditions.every(selectsRids);
    default:
      return false;
  }
}

/** The resource-type test, kept from using an index (`+`) when one of the conditions can select the
 * rows instead: without table statistics (no ANALYZE) SQLite would read every resource of the type
 * through resource_type_updated and test each against the condition subqueries. */
function typeColumn(col: string, conditions: Condition[]): string {
  return conditions.some(selectsRids) ? `+${col}` : col;
}

function whereClause(b: Builder, q: SearchQuery, r: string): string {
  // a semi-join `_has` on an unsorted search: read the resources in rid order (the page order)
  // and stop at the page size, instead of testing every resource of the type found by its index
  const ridOrder = !q.sort.length && q.conditions.some((c) => c.kind === 'has' && c.semiJoin) && !q.conditions.some(selectsRids);
  const type = ridOrder ? `+${r}.resource_type` : typeColumn(`${r}.resource_type`, q.conditions);
  const parts = [
    q.types.length === 1 ? `${type} = ${b.bind(q.types[0])}` : `${type} IN (${b.list(q.types)})`,
    `${r}.deleted = 0`,
  ];
  for (const c of mergeDateRanges(q.conditions)) {
    if (c.kind === 'dateRange') {
      // every bound on the same index row
      parts.push(inIndex(b, `${r}.rid`, 'date', c.params, () => [`(${c.values.map((v) => rangePredicate(b, '$.low', '$.high', v)).join(' AND ')})`]));
    } else parts.push(conditionSql(b, c, r));
  }
  return parts.join('\n  AND ');
}

/** (s0, s1, …, rid) strictly after (or before) the cursor, honouring each key's direction
 * (also the audit ledger's search, src/store/sqlite/audit-search.ts, with its own binder). */
export function keyset(b: { bind(v: string | number | null): string }, dirs: boolean[], values: (string | number | null)[], forward: boolean): string {
  const cols = [...dirs.map((_, i) => `s${i}`), 'rid'];
  const desc = [...dirs, false];
  const ors: string[] = [];
  for (let i = 0; i < cols.length; i++) {
    const eqs = cols.slice(0, i).map((c, j) => `${c} = ${b.bind(values[j])}`);
    const after = desc[i] !== !forward ? '<' : '>';
    ors.push(`(${[...eqs, `${cols[i]} ${after} ${b.bind(values[i])}`].join(' AND ')})`);
  }
  return `(${ors.join(' OR ')})`;
}

/** The page size is written into the SQL as a literal: with a bound LIMIT the same page query
 * measured 27 µs against 6 µs (SQLite 3.54 as better-sqlite3 builds it, STAT4 on; an indexed
 * identifier lookup), more than the lookup itself. It is an integer the server computed (the
 * parsed, capped _count), never request text; statements are cached per SQL text, so each page
 * size in use gets its own. */
function literalLimit(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`page size ${n} is not a count`);
  return String(n);
}

export function compileSearch(q: SearchQuery, ids: ParamIds, cursor?: Cursor, view?: RowView): CompiledSearch {
  const b = new Builder(ids, view);
  const sorts = q.sort.map((k) => sortExpr(b, k, 'r'));
  const sortArgs = b.args.splice(0);
  const where = whereClause(b, q, 'r');
  const whereArgs = b.args.splice(0);
  const dirs = q.sort.map((k) => k.descending);
  const forward = !cursor?.before;
  let outer = '';
  if (cursor?.after || cursor?.before) outer = `WHERE ${keyset(b, dirs, (cursor.after ?? cursor.before)!, forward)}`;
  const outerArgs = b.args.splice(0);
  const order = [...dirs.map((d, i) => `s${i} ${d !== !forward ? 'DESC' : 'ASC'}`), `rid ${forward ? 'ASC' : 'DESC'}`].join(', ');
  const select = ['r.rid AS rid', 'r.resource_type AS resource_type', 'r.id AS id', 'r.seq AS seq', ...sorts.map((s, i) => `${s} AS s${i}`)].join(', ');
  const sql = `SELECT m.*, v.content AS content FROM (SELECT * FROM (SELECT ${select} FROM resource r WHERE ${where}) ${outer} ORDER BY ${order} LIMIT ${literalLimit(q.count + 1)}) m
    JOIN resource_version v ON v.seq = m.seq ORDER BY ${order.replaceAll('rid', 'm.rid')}`;
  const page = { sql, args: [...sortArgs, ...whereArgs, ...outerArgs] };
  let count: CompiledSql | undefined;
  if (q.total !== 'none') {
    const cb = new Builder(ids, view);
    cb.counting = true;
    count = { sql: `SELECT COUNT(*) AS n FROM resource r WHERE ${whereClause(cb, q, 'r')}`, args: cb.args };
  }
  return { page, count, sortColumns: sorts.length, reversed: !forward };
}

/** How many (up to `limit`) referring resources a `_has` condition has: the engine's probe to
 * choose between materialising the referring set and a per-candidate semi-join. */
export function compileHasProbe(c: Extract<Condition, { kind: 'has' }>, ids: ParamIds, limit: number, view?: RowView): CompiledSql {
  const b = new Builder(ids, view);
  const ref = b.alias('h');
  const s = b.alias('s');
  const selects = sources('reference', c.params).map((src) => {
    const rows = b.rowsOf(src, ref, c.params, '+');
    const source = b.bind(c.sourceType);
    const inner = conditionSql(b, c.condition, s);
    return `SELECT 1 FROM resource ${s} CROSS JOIN ${src.table} ${ref} ON ${ref}.rid = ${s}.rid
    WHERE ${and([rows, `${typeColumn(`${s}.resource_type`, [c.condition])} = ${source}`, `${s}.deleted = 0`, inner])}`;
  });
  const sql = `SELECT COUNT(*) AS n FROM (${selects.join(' UNION ALL ')} LIMIT ${b.bind(limit)})`;
  return { sql, args: b.args };
}

/** The sources of the reference rows an include follows: its parameter's, or (`*`) those of its
 * source type. */
function includeSources(spec: IncludeSpec): Source[] {
  return sources('reference', [spec.param !== '*' ? spec.param : spec.sourceType === '*' ? '*' : `${spec.sourceType}.*`]);
}

/** Which reference rows of the source aliased `ref` an include follows. */
function followed(b: Builder, src: Source, spec: IncludeSpec): string | undefined {
  if (spec.param !== '*') return b.rowsOf(src, 'ref', [spec.param]);
  return b.sens('ref', ['*']);
}

/** Resources referenced from `sources` (rids) through the spec's parameter. */
export function compileInclude(spec: IncludeSpec, sourceRids: number[], ids: ParamIds, view?: RowView): CompiledSql {
  const b = new Builder(ids, view);
  const selects = includeSources(spec).map((src) => {
    const where = [`ref.rid IN (${b.list(sourceRids)})`, 't.deleted = 0', followed(b, src, spec)];
    if (spec.targetType) where.push(`t.resource_type = ${b.bind(spec.targetType)}`);
    if (spec.sourceType !== '*') where.push(`s.resource_type = ${b.bind(spec.sourceType)}`);
    return `SELECT DISTINCT t.rid AS rid, t.resource_type AS resource_type, t.id AS id, v.content AS content
      FROM ${src.table} ref JOIN resource s ON s.rid = ref.rid
      JOIN resource t ON ${rowSql('t.resource_type = $.target_type AND t.id = $.target_id', src, 'ref')}
      JOIN resource_version v ON v.seq = t.seq WHERE ${and(where)}`;
  });
  if (spec.canonical?.length) {
    // canonical references: the target is the resource whose url is the reference's url
    for (const src of includeSources(spec)) {
      const cw = [`ref.rid IN (${b.list(sourceRids)})`, rowSql('$.target_id IS NULL AND $.url IS NOT NULL', src, 'ref'), 't.deleted = 0', followed(b, src, spec)];
      cw.push(b.params('u.param', spec.canonical), b.sens('u', spec.canonical));
      selects.push(`SELECT t.rid AS rid, t.resource_type AS resource_type, t.id AS id, v.content AS content
      FROM ${src.table} ref JOIN sp_uri u ON u.uri = ${rowSql('$.url', src, 'ref')} JOIN resource t ON t.rid = u.rid
      JOIN resource_version v ON v.seq = t.seq WHERE ${and(cw)}`);
    }
  }
  return { sql: selects.join(`
      UNION `), args: b.args };
}

/** The Type/id keys that `sources` (rids) reference through the spec's parameter, of
 * `targetType`: for targets a store keeps outside the resource tables (its own providers). */
export function compileIncludeKeys(spec: IncludeSpec, sourceRids: number[], targetType: string, ids: ParamIds, view?: RowView): CompiledSql {
  const b = new Builder(ids, view);
  const selects = includeSources(spec).map((src) => {
    const where = [`ref.rid IN (${b.list(sourceRids)})`, followed(b, src, spec), rowSql(`$.target_type = ${b.bind(targetType)}`, src, 'ref')];
    if (spec.sourceType !== '*') where.push(`s.resource_type = ${b.bind(spec.sourceType)}`);
    return `SELECT DISTINCT ${rowSql('$.target_type AS type, $.target_id AS id', src, 'ref')}
      FROM ${src.table} ref JOIN resource s ON s.rid = ref.rid WHERE ${and(where)}`;
  });
  return { sql: selects.join(`
      UNION `), args: b.args };
}

/** Resources that reference one of `targets` through the spec's parameter. */
export function compileRevinclude(spec: IncludeSpec, targets: { type: string; id: string }[], ids: ParamIds, view?: RowView): CompiledSql {
  const b = new Builder(ids, view);
  const selects = includeSources(spec).map((src) => {
    const pairs = targets.map((t) => `(${b.bind(t.type)}, ${b.bind(t.id)})`).join(', ');
    const where = [`(${rowSql('$.target_type, $.target_id', src, 'ref')}) IN (VALUES ${pairs})`, 's.deleted = 0', followed(b, src, spec)];
    if (spec.sourceType !== '*') where.push(`s.resource_type = ${b.bind(spec.sourceType)}`);
    return `SELECT DISTINCT s.rid AS rid, s.resource_type AS resource_type, s.id AS id, v.content AS content
      FROM ${src.table} ref JOIN resource s ON s.rid = ref.rid
      JOIN resource_version v ON v.seq = s.seq WHERE ${and(where)}`;
  });
  return { sql: selects.join(`
      UNION `), args: b.args };
}

/** One condition as a predicate on the resource row aliased `alias` (columns rid, resource_type,
 * id, last_updated): for a store's own providers that test the general index from their rows
 * (a chain's targets, a `_has`'s referring resources). */
export function compileCondition(c: Condition, alias: string, ids: ParamIds, view?: RowView): CompiledSql {
  const b = new Builder(ids, view);
  const sql = conditionSql(b, c, alias);
  return { sql, args: b.args };
}
