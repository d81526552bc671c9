// The audit provider of the embedded engine: AuditEvents are served from audit_ledger (src/store/
// sqlite/audit-ledger.ts) by a query plan of their own, behind SqliteStore, so the general SQL
// compiler (src/search/sqlite.ts) knows nothing of them.
//
// Each AuditEvent search parameter reads the ledger row as the index rows FHIRPath extraction
// gives an event (the ARMS below, one virtual index row each at most: an event names one resource,
// one patient, one query), so a condition is a boolean expression on the row — no join, no UNION —
// and every modifier, `_sort`, paging and `_total` answer as they did over the index tables.
// What crosses into the generic tables: a chain (`patient.name=…`) asks the general compiler for
// its targets; `_has:AuditEvent:…` and `_revinclude=AuditEvent:…` on other types come here for
// the ids the ledger names (SqliteSearch); `_include` from an event reads the targets by id.
import type Database from 'better-sqlite3';
import type { Condition, Cursor, IncludeSpec, RangeValue, SearchQuery, SortKey } from '../../search/ir.ts';
import { mergeDateRanges } from '../../search/ir.ts';
import { instantComparison, numberComparison, rangeComparison, type Column, type Comparison } from '../../search/prefixes.ts';
import { foldString, prefixUpperBound } from '../../search/normalize.ts';
import { compileCondition, keyset, type ParamIds, type RowView } from '../../search/sqlite.ts';
import { CLIENT_SYSTEM, LOGIN, REST, RESTFUL_INTERACTION, USER_AUTHENTICATION } from '../../audit/audit.ts';
import { LEDGER_COLUMNS, LOGIN_FLAG, SENSITIVE_FLAG, renderRow, type LedgerRow } from './audit-ledger.ts';
import { LABELS } from '../../auth/sensitive.ts';
import type { AuditEvent, Coding } from 'fhir/r4.js';
import type { HistoryPage, HistoryQuery, MetaInUse, ScannedResource, StoredVersion } from '../types.ts';

export const AUDIT_TYPE = 'AuditEvent';

type Arg = string | number | null;
type Table = 'string' | 'token' | 'date' | 'reference';

/** The index row of one search parameter a ledger row stands for: `cols` are SQL on the row
 * (`$.`), `where` which rows have it. Reference rows say which entity they are. */
interface Arm {
  key: string;
  table: Table;
  cols: Record<string, string>;
  where?: string;
  entity?: 'what' | 'patient';
  patientOnly?: boolean;
}

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
const HAS_WHAT = '($.what_id IS NOT NULL OR $.what_url IS NOT NULL)';
const HAS_PATIENT = '($.patient_id IS NOT NULL OR $.patient_url IS NOT NULL)';
const HAS_QUERY = '$.query IS NOT NULL';
const IS_LOGIN = `($.flags & ${LOGIN_FLAG}) <> 0`;
const byKind = (login: string, rest: string) => `CASE WHEN ${IS_LOGIN} THEN ${lit(login)} ELSE ${lit(rest)} END`;

function token(key: string, system: string | null, code: string, display: string | null, where?: string): Arm {
  const cols: Record<string, string> = { code };
  if (system) cols.system = lit(system);
  if (display) cols.text = lit(foldString(display));
  return { key: `AuditEvent.${key}`, table: 'token', cols, ...(where ? { where } : {}) };
}

function entity(key: string, e: 'what' | 'patient', patientOnly: boolean): Arm {
  const cols = { target_type: `$.${e}_type`, target_id: `$.${e}_id`, url: `$.${e}_url` };
  // patient = entity.what.where(resolve() is Patient): a reference that names no type counts
  const has = e === 'what' ? HAS_WHAT : HAS_PATIENT;
  const where = patientOnly ? `${has} AND ($.${e}_type = 'Patient' OR $.${e}_type IS NULL)` : has;
  return { key: `AuditEvent.${key}`, table: 'reference', cols, where, entity: e, patientOnly };
}

const agent = (key: string): Arm => ({ key: `AuditEvent.${key}`, table: 'reference', cols: { identifier_system: lit(CLIENT_SYSTEM), identifier_value: '$.client' } });

/** The rows FHIRPath extraction gives the events auditEvent() makes, parameter by parameter
 * (test/audit/ledger-search.test.ts compares every search with the generic index). */
const ARMS: readonly Arm[] = [
  token('action', null, '$.action', null),
  { key: 'AuditEvent.address', table: 'string', cols: { norm: 'migfhir_fold($.address)', exact: '$.address' }, where: '$.address IS NOT NULL' },
  agent('agent'),
  token('altid', null, '$.client', null),
  { key: 'AuditEvent.date', table: 'date', cols: { low: '$.at', high: '($.at + 1)' } },
  entity('entity', 'what', false),
  entity('entity', 'patient', false),
  token('entity-role', 'http://terminology.hl7.org/CodeSystem/object-role', "'1'", 'Patient', HAS_PATIENT),
  token('entity-role', 'http://terminology.hl7.org/CodeSystem/object-role', "'24'", 'Query', HAS_QUERY),
  token('entity-type', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', "'2'", 'System Object', `(${HAS_WHAT} OR ${HAS_QUERY})`),
  token('entity-type', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', "'1'", 'Person', HAS_PATIENT),
  token('outcome', null, '$.outcome', null),
  // `patient` is agent.who.where(resolve() is Patient) | entity.what.where(…): an identifier
  // cannot be resolved, so extraction keeps the agent under it too
  agent('patient'),
  entity('patient', 'what', true),
  entity('patient', 'patient', true),
  { key: 'AuditEvent.subtype', table: 'token', cols: { system: byKind(LOGIN.system, RESTFUL_INTERACTION), code: '$.sub' } },
  {
    key: 'AuditEvent.type',
    table: 'token',
    cols: { system: byKind(USER_AUTHENTICATION.system, REST.system), code: byKind(USER_AUTHENTICATION.code, REST.code), text: byKind(foldString(USER_AUTHENTICATION.display), foldString(REST.display)) },
  },
];

function armsOf(table: Table | string, keys: readonly string[]): Arm[] {
  return ARMS.filter((a) => a.table === table && keys.some((k) => k === a.key || k === '*' || k === `${AUDIT_TYPE}.*`));
}

/** `$.column` of an index row as SQL on the ledger row aliased `l`. */
function onArm(text: string, arm: Arm): string {
  return text.replace(/\$\.([a-z_]+)/g, (_, c: string) => (arm.cols[c] !== undefined ? arm.cols[c].replaceAll('$.', 'l.') : 'NULL'));
}

const armWhere = (arm: Arm) => arm.where?.replaceAll('$.', 'l.');

function anyOf(parts: string[]): string {
  if (!parts.length) return '0';
  if (parts.length === 1) return parts[0];
  return `(${parts.join(' OR ')})`;
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

class Builder {
  readonly args: Arg[] = [];
  readonly ids: ParamIds;
  readonly view: RowView | undefined;

  constructor(ids: ParamIds, view?: RowView) {
    this.ids = ids;
    this.view = view;
  }

  bind(v: Arg): string {
    this.args.push(v);
    return '?';
  }

  list(values: Arg[]): string {
    return values.map((v) => this.bind(v)).join(', ');
  }

  /** Some row of `keys` in `table` meets one of `preds` (each a test of the row `$`); no preds:
   * some row exists. Rows a value cannot match (a reference value on the agent's identifier row,
   * whose target is NULL) are left out, so that each term of the OR can seek an index.
   * `negated`: the caller puts NOT before it, so it is 0 or 1, never NULL — NOT reads as the
   * generic NOT IN. */
  rows(table: Table | string, keys: readonly string[], preds: () => string[], negated = false): string {
    const terms: string[] = [];
    for (const arm of armsOf(table, keys)) {
      const mark = this.args.length;
      const values = preds().map((p) => onArm(p, arm));
      if (values.length && values.every(never)) {
        this.args.length = mark;
        continue;
      }
      const parts = [armWhere(arm), values.length ? anyOf(values) : undefined].filter((p) => p !== undefined);
      const term = parts.length ? `(${parts.join(' AND ')})` : '1';
      terms.push(negated && term !== '1' ? `COALESCE(${term}, 0)` : term);
    }
    return anyOf(terms);
  }
}

/** A value test that starts with a comparison of a column the row does not have: never true. */
const never = (sql: string) => /^\(*NULL(, NULL)*\)? (=|<|>|<=|>=|LIKE|IN) /.test(sql);

/** Dates on the ledger row: `recorded` is the range [at, at + 1) in ms, and since both are
 * integers, `at + 1 op v` is `at op v - 1`: every bound tests `at` itself, which its index seeks. */
function dateSql(b: Builder, params: string[], ranges: RangeValue[], all: boolean): string {
  if (!armsOf('date', params).length) return '0';
  const parts = ranges.map((v) => comparisonSql(b, rangeComparison(v), { low: 'l.at', high: 'l.at' }, (x, column) => (column === 'high' ? Number(x) - 1 : x)));
  return all ? `(${parts.join(' AND ')})` : anyOf(parts);
}

function comparisonSql(b: Builder, c: Comparison, columns: Partial<Record<Column, string>>, value: (v: string | number, column: Column) => Arg = (v) => v): string {
  if ('column' in c) return `${columns[c.column]} ${c.op} ${b.bind(value(c.value, c.column))}`;
  if ('not' in c) return `NOT ${comparisonSql(b, c.not, columns, value)}`;
  const [parts, joiner] = 'all' in c ? [c.all, ' AND '] : [c.any, ' OR '];
  return `(${parts.map((x) => comparisonSql(b, x, columns, value)).join(joiner)})`;
}

function startsWith(b: Builder, column: string, v: string): string {
  const upper = prefixUpperBound(v);
  return upper === undefined ? '1' : `(${column} >= ${b.bind(v)} AND ${column} < ${b.bind(upper)})`;
}

const not = (sql: string, negate: boolean) => (negate ? `NOT ${sql}` : sql);

/** A condition as SQL on the ledger row aliased `l` (with `resource_type` and `id` for the
 * conditions the general compiler answers). */
function conditionSql(b: Builder, c: Condition | { kind: 'dateRange'; params: string[]; values: RangeValue[] }): string {
  switch (c.kind) {
    case 'string':
      return b.rows('string', c.params, () => c.values.map((v) => startsWith(b, '$.norm', v)));
    case 'stringExact':
      return b.rows('string', c.params, () => c.values.map((v) => `($.norm = ${b.bind(foldString(v))} AND $.exact = ${b.bind(v)})`));
    case 'stringContains':
      return b.rows('string', c.params, () => c.values.map((v) => `$.norm LIKE ${b.bind(`%${likeEscape(v)}%`)} ESCAPE '\\'`));
    case 'phonetic':
      return b.rows('string', c.params, () => c.values.map((v) => `$.norm = ${b.bind(v)}`));
    case 'token':
      return not(b.rows('token', c.params, () => c.values.map((v) => {
        const parts: string[] = [];
        if (v.code !== undefined) parts.push(`$.code = ${b.bind(v.code)}`);
        if (v.system === null) parts.push('$.system IS NULL');
        else if (v.system !== undefined) parts.push(v.orNoSystem ? `($.system = ${b.bind(v.system)} OR $.system IS NULL)` : `$.system = ${b.bind(v.system)}`);
        return `(${parts.join(' AND ') || '1'})`;
      }), c.not), c.not);
    case 'tokenText':
      return b.rows('token', c.params, () => c.values.map((v) => `$.text LIKE ${b.bind(`%${likeEscape(v)}%`)} ESCAPE '\\'`));
    case 'tokenOfType':
      return b.rows('token', c.params, () => c.values.map((t) => {
        const parts = [`$.code = ${b.bind(t.value)}`];
        if (t.code !== undefined) parts.push(`$.type_code = ${b.bind(t.code)}`);
        if (t.system !== undefined) parts.push(`$.type_system = ${b.bind(t.system)}`);
        return `(${parts.join(' AND ')})`;
      }));
    case 'date':
      return dateSql(b, c.params, c.values, false);
    case 'dateRange':
      return dateSql(b, c.params, c.values, true);
    case 'number':
    case 'quantity':
      // no AuditEvent parameter has number or quantity rows
      return b.rows('number', c.params, () => c.values.map((v) => comparisonSql(b, numberComparison(v), { value: '$.value' })));
    case 'reference':
      return b.rows('reference', c.params, () => c.values.map((v) => {
        if (v.kind === 'local') return v.type ? `($.target_id = ${b.bind(v.id)} AND $.target_type = ${b.bind(v.type)})` : `$.target_id = ${b.bind(v.id)}`;
        if (v.kind === 'url') return v.version ? `($.url = ${b.bind(v.url)} AND $.version = ${b.bind(v.version)})` : `$.url = ${b.bind(v.url)}`;
        const parts: string[] = [];
        if (v.value !== undefined) parts.push(`$.identifier_value = ${b.bind(v.value)}`);
        if (v.system !== undefined) parts.push(`$.identifier_system = ${b.bind(v.system)}`);
        return `(${parts.join(' AND ') || '0'})`;
      }));
    case 'uri':
    case 'uriAbove':
    case 'uriBelow':
    case 'composite':
      // nor uri or composite rows
      return '0';
    case 'missing':
      return not(b.rows(c.table, c.params, () => [], c.missing), c.missing);
    case 'id':
      if (c.values.length === 0) return c.not ? '0' : '1';
      return `l.id ${c.not ? 'NOT IN' : 'IN'} (${b.list(c.values)})`;
    case 'lastUpdated':
      return anyOf(c.values.map((v) => comparisonSql(b, instantComparison(v), { at: 'l.updated' }, (x) => Date.parse(String(x)))));
    case 'chain': {
      // the targets by the general compiler, on the resource tables
      const inner = compileCondition(c.condition, 't', b.ids, b.view);
      return b.rows('reference', c.params, () => {
        const targets = b.list(c.targetTypes);
        const sql = `($.target_type, $.target_id) IN (SELECT t.resource_type, t.id FROM resource t WHERE t.resource_type IN (${targets}) AND t.deleted = 0 AND ${inner.sql})`;
        b.args.push(...inner.args);
        return [sql];
      });
    }
    case 'has': {
      // resources of other types that reference an event: the general compiler, on the row's type and id
      const inner = compileCondition({ ...c, semiJoin: false }, 'l', b.ids, b.view);
      b.args.push(...inner.args);
      return inner.sql;
    }
    case 'any':
      return anyOf(c.conditions.map((x) => conditionSql(b, x)));
    case 'compartment':
      return b.rows('reference', c.params, () => [`($.target_id = ${b.bind(c.targetId)} AND $.target_type = ${b.bind(c.targetType)})`]);
  }
}

/** Sort expression for one key: the row's values of the parameter, the least (or greatest); missing last. */
function sortExpr(k: SortKey): string {
  if (k.params[0] === '_id') return 'l.id';
  // as the resource tables keep it, ISO text to the millisecond, so pages of both merge
  if (k.params[0] === '_lastUpdated') return `strftime('%Y-%m-%dT%H:%M:%S', l.updated / 1000, 'unixepoch') || printf('.%03dZ', l.updated % 1000)`;
  const col = { string: 'norm', token: 'code', date: k.descending ? 'high' : 'low', number: 'value', quantity: 'value', uri: 'uri', reference: '' }[k.table!];
  const isText = k.table === 'string' || k.table === 'token' || k.table === 'uri' || k.table === 'reference';
  const missing = isText ? (k.descending ? "''" : 'char(1114111)') : k.descending ? '-9e18' : '9e18';
  const values = armsOf(k.table!, k.params).map((arm) => {
    const v = onArm(k.table === 'reference' ? "COALESCE($.target_type || '/' || $.target_id, $.url)" : `$.${col}`, arm);
    const w = armWhere(arm);
    return w ? `CASE WHEN ${w} THEN ${v} END` : v;
  });
  if (!values.length) return missing;
  if (values.length === 1) return `COALESCE(${values[0]}, ${missing})`;
  return `COALESCE((SELECT ${k.descending ? 'MAX' : 'MIN'}(v) FROM (${values.map((v) => `SELECT ${v} AS v`).join(' UNION ALL ')})), ${missing})`;
}

/** The cursor's row key as seq (a key of the resource tables, positive, is past every event). */
function ledgerKeyset(b: Builder, dirs: boolean[], position: (string | number | null)[], forward: boolean): string {
  return keyset(b, dirs, [...position.slice(0, -1), Number(position.at(-1)) + ROW_OFFSET], forward);
}

/** The row key of an event in a search's positions is its seq less this: negative, so that
 * events and rows of the resource tables (positive rids) never share one and a search of both
 * pages them with one cursor. The SQL orders by seq (the rowid) and takes a cursor's key back. */
export const ROW_OFFSET = Number.MAX_SAFE_INTEGER;

const FROM = `(SELECT *, '${AUDIT_TYPE}' AS resource_type FROM audit_ledger) l`;
const ROW = LEDGER_COLUMNS.map((c) => `l.${c}`).join(', ');

export interface LedgerMatch {
  row: LedgerRow;
  position: (string | number | null)[];
}

/** A found event: its rendered JSON, and the row the includes read. */
export interface LedgerFound {
  resourceType: string;
  id: string;
  json: string;
  row: LedgerRow;
}

export class LedgerSearch {
  private readonly db: Database.Database;
  private readonly ids: ParamIds;
  private readonly cache = new Map<string, Database.Statement>();
  private readonly stmt;

  constructor(db: Database.Database, ids: ParamIds) {
    this.db = db;
    this.ids = ids;
    db.function('migfhir_fold', { deterministic: true }, (s: unknown) => (typeof s === 'string' ? foldString(s) : null));
    this.stmt = {
      byId: db.prepare<[string], LedgerRow>(`SELECT ${LEDGER_COLUMNS.join(', ')} FROM audit_ledger WHERE id = ?`),
      scan: db.prepare<[number, number], LedgerRow>(`SELECT ${LEDGER_COLUMNS.join(', ')} FROM audit_ledger WHERE seq > ? ORDER BY seq LIMIT ?`),
    };
  }

  private all<T>(sql: string, args: Arg[]): T[] {
    let s = this.cache.get(sql);
    if (!s) {
      if (this.cache.size > 2000) this.cache.clear();
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s.all(...args) as T[];
  }

  current(id: string): StoredVersion | undefined {
    const row = this.stmt.byId.get(id);
    return row && version(row);
  }

  scan(position: number, limit: number): ScannedResource[] {
    return this.stmt.scan.all(position, limit).map((r) => ({ position: r.seq, resourceType: AUDIT_TYPE, id: r.id, json: renderRow(r) }));
  }

  /** An event's history is its one version; the type's, every event newest first. */
  history(q: HistoryQuery): HistoryPage {
    const where: string[] = [];
    const args: Arg[] = [];
    if (q.id !== undefined) {
      where.push('id = ?');
      args.push(q.id);
    }
    if (q.since !== undefined) {
      where.push('updated >= ?');
      args.push(Date.parse(q.since));
    }
    if (q.atEnd !== undefined) {
      where.push('updated < ?');
      args.push(Date.parse(q.atEnd));
    }
    const filter = where.length ? where.join(' AND ') : '1';
    const newerFirst = q.afterSeq === undefined;
    const cursor = q.beforeSeq !== undefined ? ' AND seq < ?' : q.afterSeq !== undefined ? ' AND seq > ?' : '';
    const cursorArgs = q.beforeSeq !== undefined ? [q.beforeSeq] : q.afterSeq !== undefined ? [q.afterSeq] : [];
    const rows = this.all<LedgerRow>(`SELECT ${LEDGER_COLUMNS.join(', ')} FROM audit_ledger WHERE ${filter}${cursor} ORDER BY seq ${newerFirst ? 'DESC' : 'ASC'} LIMIT ?`, [...args, ...cursorArgs, q.count + 1]);
    const more = rows.length > q.count;
    if (more) rows.pop();
    if (!newerFirst) rows.reverse();
    const exists = (cmp: string, seq: number) => this.all(`SELECT 1 FROM audit_ledger WHERE ${filter} AND seq ${cmp} ? LIMIT 1`, [...args, seq]).length > 0;
    const hasOlder = newerFirst ? more : exists('<=', q.afterSeq!);
    const hasNewer = newerFirst ? q.beforeSeq !== undefined && exists('>=', q.beforeSeq) : more;
    const entries = rows.map((r) => ({ ...version(r), method: 'POST' as const, seq: r.seq }));
    // counted on the first page only, as the version rows' history is
    if (q.beforeSeq !== undefined || q.afterSeq !== undefined) return { entries, hasOlder, hasNewer };
    const total = this.all<{ n: number }>(`SELECT COUNT(*) AS n FROM audit_ledger WHERE ${filter}`, args)[0].n;
    return { entries, hasOlder, hasNewer, total };
  }

  /** The page and count queries of a search. */
  private compile(query: SearchQuery, cursor: Cursor | undefined, view?: RowView) {
    const b = new Builder(this.ids, view);
    const sorts = query.sort.map(sortExpr);
    const where = mergeDateRanges(query.conditions).map((c) => conditionSql(b, c));
    const whereArgs = b.args.splice(0);
    const dirs = query.sort.map((k) => k.descending);
    const forward = !cursor?.before;
    const outer = cursor?.after || cursor?.before ? `WHERE ${ledgerKeyset(b, dirs, (cursor.after ?? cursor.before)!, forward)}` : '';
    const outerArgs = b.args.splice(0);
    const order = [...dirs.map((d, i) => `s${i} ${d !== !forward ? 'DESC' : 'ASC'}`), `rid ${forward ? 'ASC' : 'DESC'}`].join(', ');
    const cond = where.length ? where.join('\n  AND ') : '1';
    if (!Number.isSafeInteger(query.count) || query.count < 0) throw new Error(`page size ${query.count} is not a count`);
    const select = ['l.seq AS rid', ROW, ...sorts.map((s, i) => `${s} AS s${i}`)].join(', ');
    return {
      page: { sql: `SELECT * FROM (SELECT ${select} FROM ${FROM} WHERE ${cond}) ${outer} ORDER BY ${order} LIMIT ${query.count + 1}`, args: [...whereArgs, ...outerArgs] },
      count: { sql: `SELECT COUNT(*) AS n FROM ${FROM} WHERE ${cond}`, args: whereArgs },
      sorts: sorts.length,
      forward,
    };
  }

  /** One page of events: the query's conditions on the ledger rows, sorted and paged by keyset. */
  search(query: SearchQuery, cursor: Cursor | undefined, view?: RowView): { matches: LedgerMatch[]; hasMore: boolean; total?: number } {
    const c = this.compile(query, cursor, view);
    let matches: LedgerMatch[] = [];
    let hasMore = false;
    if (query.count > 0) {
      const rows = this.all<LedgerRow & Record<string, unknown>>(c.page.sql, c.page.args);
      hasMore = rows.length > query.count;
      if (hasMore) rows.pop();
      if (!c.forward) rows.reverse();
      matches = rows.map((r) => ({ row: r, position: [...Array.from({ length: c.sorts }, (_, i) => r[`s${i}`] as string | number | null), r.seq - ROW_OFFSET] }));
    }
    let total: number | undefined;
    if (query.total !== 'none') total = this.all<{ n: number }>(c.count.sql, c.count.args)[0].n;
    return { matches, hasMore, total };
  }

  /** EXPLAIN QUERY PLAN of a search's page query (tests check that the ledger's indexes are used). */
  explain(query: SearchQuery): string[] {
    const { page } = this.compile(query, undefined);
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${page.sql}`).all(...page.args) as { detail: string }[]).map((r) => r.detail);
  }

  /** The resources `rows` reference through the include's parameter (`_include` from events):
   * Type/id pairs, in row order. */
  includeTargets(spec: IncludeSpec, rows: LedgerRow[]): { type: string; id: string }[] {
    const arms = armsOf('reference', [spec.param]).filter((a) => a.entity);
    const out: { type: string; id: string }[] = [];
    for (const r of rows) {
      for (const arm of arms) {
        const type = arm.entity === 'what' ? r.what_type : r.patient_type;
        const id = arm.entity === 'what' ? r.what_id : r.patient_id;
        if (type === null || id === null) continue;
        if (arm.patientOnly && type !== 'Patient') continue;
        if (spec.targetType && type !== spec.targetType) continue;
        out.push({ type, id });
      }
    }
    return out;
  }

  /** The events that reference one of `targets` through the include's parameter
   * (`_revinclude=AuditEvent:…`), in chain order. */
  revinclude(spec: IncludeSpec, targets: { type: string; id: string }[], limit: number): LedgerFound[] {
    if (!targets.length) return [];
    const b = new Builder(this.ids);
    const pairs = () => targets.map((t) => `(${b.bind(t.type)}, ${b.bind(t.id)})`).join(', ');
    const cond = b.rows('reference', [spec.param], () => [`($.target_type, $.target_id) IN (VALUES ${pairs()})`]);
    const rows = this.all<LedgerRow>(`SELECT ${ROW} FROM ${FROM} WHERE ${cond} ORDER BY l.seq LIMIT ${Math.trunc(limit)}`, b.args);
    return rows.map(found);
  }

  /** The resources of `types` that events meeting `c.condition` reference through `c.params`
   * (`_has:AuditEvent:…` on another type), as ids. */
  referencedBy(c: Extract<Condition, { kind: 'has' }>, types: string[], view?: RowView): string[] {
    const b = new Builder(this.ids, view);
    const cond = conditionSql(b, c.condition);
    const arms = armsOf('reference', c.params).filter((a) => a.entity);
    const ids = new Set<string>();
    for (const arm of arms) {
      const type = onArm('$.target_type', arm);
      const id = onArm('$.target_id', arm);
      const args = [...b.args, ...types];
      const rows = this.all<{ id: string }>(`SELECT DISTINCT ${id} AS id FROM ${FROM} WHERE ${armWhere(arm) ?? '1'} AND ${cond} AND ${type} IN (${types.map(() => '?').join(', ')})`, args);
      for (const r of rows) ids.add(r.id);
    }
    return [...ids];
  }

  /** The events of `ids` (an `_include` from another type whose references name events), in
   * chain order. */
  byIds(ids: string[]): LedgerFound[] {
    if (!ids.length) return [];
    const b = new Builder(this.ids);
    return this.all<LedgerRow>(`SELECT ${ROW} FROM ${FROM} WHERE l.id IN (${b.list(ids)}) ORDER BY l.seq`, b.args).map(found);
  }

  /** The events that meet `condition` and that some resource references (a chain from another
   * type to AuditEvent, `Provenance?target:AuditEvent.outcome=8`), as ids: the referenced ones
   * are found through the reference index's target key, one probe an event that meets it, so
   * the list is what is referenced, not the trail. */
  referencedMeeting(condition: Condition, view?: RowView): string[] {
    const b = new Builder(this.ids, view);
    const cond = conditionSql(b, condition);
    const referenced = `EXISTS (SELECT 1 FROM sp_reference r WHERE r.target_id = l.id AND r.target_type = '${AUDIT_TYPE}')`;
    return this.all<{ id: string }>(`SELECT l.id AS id FROM ${FROM} WHERE ${cond} AND ${referenced}`, b.args).map((r) => r.id);
  }

  /** The tags, security labels and profiles the events show (type- and system-level `$meta`):
   * the migration-data labels of events about sensitive data (found by the first such row), and
   * whatever a migrated event of another shape carries in its stored JSON. */
  metaInUse(): MetaInUse {
    const out: MetaInUse = { tag: [], security: [], profile: [] };
    if (this.all(`SELECT 1 FROM audit_ledger WHERE flags & ${SENSITIVE_FLAG} LIMIT 1`, []).length) out.security.push(...LABELS.map(coding));
    for (const { raw } of this.all<{ raw: string }>('SELECT raw FROM audit_ledger WHERE raw IS NOT NULL', [])) {
      const meta = (JSON.parse(raw) as AuditEvent).meta;
      out.tag.push(...(meta?.tag ?? []).map(coding));
      out.security.push(...(meta?.security ?? []).map(coding));
      out.profile.push(...(meta?.profile ?? []));
    }
    return out;
  }

  found(row: LedgerRow): LedgerFound {
    return found(row);
  }
}

function version(r: LedgerRow): StoredVersion {
  return { resourceType: AUDIT_TYPE, id: r.id, versionId: 1, lastUpdated: new Date(r.updated).toISOString(), deleted: false, json: renderRow(r) };
}

function found(r: LedgerRow): LedgerFound {
  return { resourceType: AUDIT_TYPE, id: r.id, json: renderRow(r), row: r };
}

/** A label as MetaInUse lists it: system and code (displays are not indexed). */
function coding(c: Coding): { system?: string; code: string } {
  return { ...(c.system ? { system: c.system } : {}), code: c.code ?? '' };
}
