// Runs searches on the embedded engine: the IR is compiled by src/search/sqlite.ts, executed
// on the reader connection (prepared statements cached by SQL shape), then _include and
// _revinclude (with :iterate) are resolved from the reference index.
import type Database from 'better-sqlite3';
import type { Condition, Cursor, IncludeSpec, SearchQuery } from '../../search/ir.ts';
import { compileHasProbe, compileInclude, compileIncludeKeys, compileRevinclude, compileSearch, type CompiledSql, type ParamIds, type RowView } from '../../search/sqlite.ts';
import { hiddenSens } from '../../search/index-rows.ts';
import type { FoundResource, SearchResult } from '../types.ts';
import { FhirError } from '../../fhir/errors.ts';
import { AUDIT_TYPE, type LedgerSearch } from './audit-search.ts';
import type { LedgerRow } from './audit-ledger.ts';

/** Bounds on include work for one page: iterate rounds, and included resources in total. */
const MAX_ITERATE = 4;
const MAX_INCLUDED = 1000;
/** A `_has` whose referring set reaches this size is run as a per-candidate semi-join. */
export const PLAN = { semiJoinFrom: 2000 };

interface Row {
  rid: number;
  resource_type: string;
  id: string;
  content: string;
  [sort: string]: unknown;
}

/** A resource of a page or found by an include: a row of the resource tables (rid), or an event
 * of the audit ledger (row). */
interface Found {
  resourceType: string;
  id: string;
  json: string;
  rid?: number;
  row?: LedgerRow;
}

interface Page {
  matches: SearchResult['matches'];
  /** the matches, for their includes */
  found: Found[];
  hasMore: boolean;
  total?: number;
}

/** SQLite's order of two sort values: numbers before text, text by its UTF-8 bytes. */
function compareValues(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The order of two keyset positions (sort values, then the row key ascending). */
function comparePositions(a: (string | number | null)[], b: (string | number | null)[], descending: boolean[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return i < descending.length && descending[i] ? -c : c;
  }
  return 0;
}

const fromRow = (r: Row): Found => ({ resourceType: r.resource_type, id: r.id, json: r.content, rid: r.rid });

export class SqliteSearch {
  private readonly db: Database.Database;
  private readonly ids: ParamIds;
  private readonly cache = new Map<string, Database.Statement>();
  private readonly markedParams: Database.Statement<[], number>;
  /** AuditEvents, when the store keeps them in the audit ledger (src/store/sqlite/audit-search.ts) */
  private readonly ledger: LedgerSearch | undefined;

  constructor(db: Database.Database, ids: ParamIds, ledger?: LedgerSearch) {
    this.db = db;
    this.ids = ids;
    this.ledger = ledger;
    this.markedParams = db.prepare<[], number>('SELECT param FROM sp_marked').pluck();
  }

  /** The rows the search reads: its client's view's (src/search/sensitive-rows.ts). The marked
   * parameters are read from the database on each search (a table of a few rows), so marks
   * written by another process count at once. */
  private rowView(query: SearchQuery): RowView {
    const marked = new Set(this.markedParams.all());
    return { hidden: hiddenSens(query.view), marked: (key) => marked.size > 0 && marked.has(this.ids(key) ?? -1) };
  }

  private all<T>(c: CompiledSql): T[] {
    let s = this.cache.get(c.sql);
    if (!s) {
      if (this.cache.size > 2000) this.cache.clear();
      s = this.db.prepare(c.sql);
      this.cache.set(c.sql, s);
    }
    return s.all(...c.args) as T[];
  }

  /** The query plan of a search, for tests that check indexes are used. */
  explain(query: SearchQuery): string[] {
    const c = compileSearch(query, this.ids, undefined, this.rowView(query)).page;
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...c.args) as { detail: string }[]).map((r) => r.detail);
  }

  /** Plan hints that need the data: an unselective `_has` (its referring set is large) is
   * better tested per candidate than materialised (see compileHasProbe). */
  private planned(query: SearchQuery, view: RowView): SearchQuery {
    if (!query.conditions.some((c) => c.kind === 'has')) return query;
    return {
      ...query,
      conditions: query.conditions.map((c) => {
        if (c.kind !== 'has') return c;
        const n = this.all<{ n: number }>(compileHasProbe(c, this.ids, PLAN.semiJoinFrom, view))[0].n;
        return n >= PLAN.semiJoinFrom ? { ...c, semiJoin: true } : c;
      }),
    };
  }

  search(query: SearchQuery, cursor?: Cursor): SearchResult {
    const view = this.rowView(query);
    const ledger = this.ledger;
    if (!ledger || !query.types.includes(AUDIT_TYPE)) return this.withIncludes(query, this.page(query, cursor, view), view);
    if (query.types.length === 1) return this.withIncludes(query, this.ledgerPage(ledger, query, cursor, view), view);
    return this.withIncludes(query, this.mixedPage(ledger, query, cursor, view), view);
  }

  private withIncludes(query: SearchQuery, page: Page, view: RowView): SearchResult {
    const { found, ...result } = page;
    return { ...result, included: this.includes(query, found, view) };
  }

  /** A page of the resource tables. */
  private page(query: SearchQuery, cursor: Cursor | undefined, view: RowView): Page {
    query = this.planned(this.withLedgerIds(query, view), view);
    const compiled = compileSearch(query, this.ids, cursor, view);
    const rows = query.count === 0 ? [] : this.all<Row>(compiled.page);
    const hasMore = rows.length > query.count;
    if (hasMore) rows.pop();
    if (compiled.reversed) rows.reverse();
    const matches = rows.map((r) => ({
      resourceType: r.resource_type,
      id: r.id,
      json: r.content,
      position: [...Array.from({ length: compiled.sortColumns }, (_, i) => r[`s${i}`] as string | number | null), r.rid],
    }));
    let total: number | undefined;
    if (compiled.count) total = this.all<{ n: number }>(compiled.count)[0].n;
    return { matches, found: rows.map(fromRow), hasMore, total };
  }

  /** A page of AuditEvents: the ledger's own plan. */
  private ledgerPage(ledger: LedgerSearch, query: SearchQuery, cursor: Cursor | undefined, view: RowView): Page {
    const page = ledger.search(query, cursor, view);
    const found = page.matches.map((m) => ledger.found(m.row));
    const matches = page.matches.map((m, i) => ({ resourceType: AUDIT_TYPE, id: m.row.id, json: found[i].json, position: m.position }));
    return { matches, found, hasMore: page.hasMore, total: page.total };
  }

  /** AuditEvents with other types (`_type=AuditEvent,Observation`): a page of each, merged in the
   * search's order. Both give positions of the same form — the same sort values, and a row key
   * that is negative for events (audit-search.ts ROW_OFFSET) — so one cursor pages both. */
  private mixedPage(ledger: LedgerSearch, query: SearchQuery, cursor: Cursor | undefined, view: RowView): Page {
    const events = this.ledgerPage(ledger, { ...query, types: [AUDIT_TYPE] }, cursor, view);
    const others = this.page({ ...query, types: query.types.filter((t) => t !== AUDIT_TYPE) }, cursor, view);
    const dirs = query.sort.map((k) => k.descending);
    const order = (a: Page['matches'][number], b: Page['matches'][number]) => comparePositions(a.position, b.position, dirs);
    const both = [...events.matches.map((m, i) => ({ m, f: events.found[i] })), ...others.matches.map((m, i) => ({ m, f: others.found[i] }))];
    both.sort((a, b) => order(a.m, b.m));
    const backward = cursor?.before !== undefined;
    const kept = backward ? both.slice(Math.max(0, both.length - query.count)) : both.slice(0, query.count);
    const hasMore = events.hasMore || others.hasMore || both.length > query.count;
    const total = events.total === undefined || others.total === undefined ? undefined : events.total + others.total;
    return { matches: kept.map((k) => k.m), found: kept.map((k) => k.f), hasMore, total };
  }

  /** Conditions on another type that name AuditEvents, answered from the ledger:
   * `_has:AuditEvent:…` becomes the ids the matching events reference; a chain to AuditEvent
   * (`target:AuditEvent.outcome=8`) becomes references to the matching events that something
   * references; inside `_has` and `any` too. */
  private withLedgerIds(query: SearchQuery, view: RowView): SearchQuery {
    const ledger = this.ledger;
    if (!ledger || !query.conditions.some(namesEvents)) return query;
    const answered = (c: Condition, types: string[]): Condition => {
      switch (c.kind) {
        case 'has':
          if (c.sourceType === AUDIT_TYPE) return { kind: 'id', not: false, values: ledger.referencedBy(c, types, view) };
          return { ...c, condition: answered(c.condition, [c.sourceType]) };
        case 'any':
          return { ...c, conditions: c.conditions.map((x) => answered(x, types)) };
        case 'chain': {
          if (!c.targetTypes.includes(AUDIT_TYPE)) return c;
          const others = c.targetTypes.filter((t) => t !== AUDIT_TYPE);
          const ids = ledger.referencedMeeting(c.condition, view);
          const events: Condition = ids.length ? { kind: 'reference', params: c.params, values: ids.map((id) => ({ kind: 'local', type: AUDIT_TYPE, id })) } : NOTHING;
          return others.length ? { kind: 'any', conditions: [{ ...c, targetTypes: others }, events] } : events;
        }
        default:
          return c;
      }
    };
    return { ...query, conditions: query.conditions.map((c) => answered(c, query.types)) };
  }

  /** Current resources by type and id, of the resource tables. */
  private byKeys(keys: { type: string; id: string }[]): Found[] {
    if (!keys.length) return [];
    const pairs = keys.map(() => '(?, ?)').join(', ');
    return this.all<Row>({
      sql: `SELECT r.rid AS rid, r.resource_type AS resource_type, r.id AS id, v.content AS content FROM resource r JOIN resource_version v ON v.seq = r.seq
        WHERE (r.resource_type, r.id) IN (VALUES ${pairs}) AND r.deleted = 0 ORDER BY r.rid`,
      args: keys.flatMap((k) => [k.type, k.id]),
    }).map(fromRow);
  }

  private includes(query: SearchQuery, page: Found[], view: RowView): FoundResource[] {
    if (!page.length || (!query.include.length && !query.revinclude.length)) return [];
    const ledger = this.ledger;
    const key = (f: Found) => `${f.resourceType}/${f.id}`;
    const seen = new Set(page.map(key));
    const out: Found[] = [];
    let sources = page;
    for (let round = 0; round < MAX_ITERATE && sources.length && out.length < MAX_INCLUDED; round++) {
      const next: Found[] = [];
      const add = (found: Found[]) => {
        for (const f of found) {
          if (seen.has(key(f)) || out.length + next.length >= MAX_INCLUDED) continue;
          seen.add(key(f));
          next.push(f);
        }
      };
      const rids = sources.flatMap((r) => (r.rid === undefined ? [] : [r.rid]));
      const events = sources.flatMap((r) => (r.row ? [r.row] : []));
      const targets = sources.map((r) => ({ type: r.resourceType, id: r.id }));
      // the ledger answers for AuditEvents (the source of an _include, the referrer of a _revinclude)
      const generic = (spec: IncludeSpec) => !ledger || spec.sourceType !== AUDIT_TYPE;
      const fromLedger = (spec: IncludeSpec) => ledger !== undefined && (spec.sourceType === AUDIT_TYPE || spec.sourceType === '*');
      for (const spec of query.include) {
        if (round > 0 && !spec.iterate) continue;
        if (rids.length && generic(spec)) add(this.all<Row>(compileInclude(spec, rids, this.ids, view)).map(fromRow));
        if (events.length && fromLedger(spec)) add(this.byKeys(ledger!.includeTargets(spec, events)));
        // events other resources name (Provenance.target): their keys from the reference rows, the events from the ledger
        if (rids.length && ledger && spec.sourceType !== AUDIT_TYPE && (spec.targetType ?? AUDIT_TYPE) === AUDIT_TYPE) {
          add(ledger.byIds(this.all<{ id: string }>(compileIncludeKeys(spec, rids, AUDIT_TYPE, this.ids, view)).map((k) => k.id)));
        }
      }
      for (const spec of query.revinclude) {
        if (round > 0 && !spec.iterate) continue;
        if (generic(spec)) add(this.all<Row>(compileRevinclude(spec, targets, this.ids, view)).map(fromRow));
        if (fromLedger(spec)) add(ledger!.revinclude(spec, targets, MAX_INCLUDED));
      }
      out.push(...next);
      sources = next;
    }
    return out.map((r) => ({ resourceType: r.resourceType, id: r.id, json: r.json }));
  }
}

/** A condition no resource meets (`_id:not` of no id). */
const NOTHING: Condition = { kind: 'id', values: [], not: true };

/** Whether a condition names AuditEvents as the other end of a reference (see withLedgerIds). */
function namesEvents(c: Condition): boolean {
  if (c.kind === 'has') return c.sourceType === AUDIT_TYPE || namesEvents(c.condition);
  if (c.kind === 'chain') return c.targetTypes.includes(AUDIT_TYPE);
  if (c.kind === 'any') return c.conditions.some(namesEvents);
  return false;
}
