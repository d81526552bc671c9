// Runs searches on the embedded engine: the IR is compiled by src/search/sqlite.ts, executed
// on the reader connection (prepared statements cached by SQL shape), then _include and
// _revinclude (with :iterate) are resolved from the reference index.
import type Database from 'better-sqlite3';
import type { Cursor, IncludeSpec, SearchQuery } from '../../search/ir.ts';
import { compileHasProbe, compileInclude, compileRevinclude, compileSearch, type CompiledSql, type ParamIds, type RowView } from '../../search/sqlite.ts';
import { hiddenSens } from '../../search/index-rows.ts';
import type { FoundResource, SearchResult } from '../types.ts';

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

export class SqliteSearch {
  private readonly db: Database.Database;
  private readonly ids: ParamIds;
  private readonly cache = new Map<string, Database.Statement>();
  private readonly markedParams: Database.Statement<[], number>;

  constructor(db: Database.Database, ids: ParamIds) {
    this.db = db;
    this.ids = ids;
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
    query = this.planned(query, view);
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
    const included = this.includes(query, rows, view);
    return { matches, included, hasMore, total };
  }

  private includes(query: SearchQuery, page: Row[], view: RowView): FoundResource[] {
    if (!page.length || (!query.include.length && !query.revinclude.length)) return [];
    const seen = new Set(page.map((r) => r.rid));
    const out: Row[] = [];
    let sources = page;
    for (let round = 0; round < MAX_ITERATE && sources.length && out.length < MAX_INCLUDED; round++) {
      const next: Row[] = [];
      const run = (specs: IncludeSpec[], compile: (s: IncludeSpec) => CompiledSql) => {
        for (const spec of specs) {
          if (round > 0 && !spec.iterate) continue;
          for (const row of this.all<Row>(compile(spec))) {
            if (seen.has(row.rid) || out.length + next.length >= MAX_INCLUDED) continue;
            seen.add(row.rid);
            next.push(row);
          }
        }
      };
      const rids = sources.map((r) => r.rid);
      const targets = sources.map((r) => ({ type: r.resource_type, id: r.id }));
      run(query.include, (s) => compileInclude(s, rids, this.ids, view));
      run(query.revinclude, (s) => compileRevinclude(s, targets, this.ids, view));
      out.push(...next);
      sources = next;
    }
    return out.map((r) => ({ resourceType: r.resource_type, id: r.id, json: r.content }));
  }
}
