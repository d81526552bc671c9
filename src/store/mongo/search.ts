// Runs compiled searches (src/search/mongo.ts) on the `resources` collection: the semi-joins,
// then one page (limit count + 1, to know whether more exist), the total when asked, then
// _include and _revinclude (with :iterate). Driver-free: it gets an `aggregate` function, which
// the engine (index.ts) backs with the driver and the mingo test with in-memory documents, so
// both run exactly this code.
import { FhirError } from '../../fhir/errors.ts';
import type { Cursor, IncludeSpec, SearchQuery } from '../../search/ir.ts';
import { bindJoins, compileInclude, compileRevinclude, compileSearch, runJoins, type MongoPlan, type Stage } from '../../search/mongo.ts';
import type { FoundResource, SearchResult } from '../types.ts';
import { documentJson, type CompactAudit } from './audit-documents.ts';

/** Bounds on include work for one page (as on SQLite): iterate rounds, included resources. */
const MAX_ITERATE = 4;
const MAX_INCLUDED = 1000;
/** The most rows one semi-join (chain, _has) may hand to the outer query as an `$in` list. */
export const MAX_JOIN_ROWS = 100_000;

export type Aggregate = (pipeline: Stage[]) => Promise<Record<string, unknown>[]>;

interface PageDoc {
  type: string;
  id: string;
  rid: number;
  lu: string;
  /** null for a compact AuditEvent, rendered from `ae` */
  json: string | null;
  ae?: CompactAudit;
  [sort: string]: unknown;
}

function tooCostly(): Error {
  return new FhirError(400, {
    code: 'too-costly',
    diagnostics: `A chained or _has parameter selects more than ${MAX_JOIN_ROWS} resources; add a more selective condition`,
  });
}

export class MongoSearcher {
  private readonly aggregate: Aggregate;
  /** every pipeline sent, when a test wants to inspect them */
  readonly onPipeline?: (pipeline: Stage[]) => void;

  constructor(aggregate: Aggregate, onPipeline?: (pipeline: Stage[]) => void) {
    this.aggregate = aggregate;
    this.onPipeline = onPipeline;
  }

  private run(pipeline: Stage[]): Promise<Record<string, unknown>[]> {
    this.onPipeline?.(pipeline);
    return this.aggregate(pipeline);
  }

  private async plan(plan: MongoPlan): Promise<Stage[]> {
    const { pipeline } = await runJoins(plan, (p) => this.run(p), MAX_JOIN_ROWS, tooCostly);
    return pipeline;
  }

  async search(query: SearchQuery, cursor?: Cursor): Promise<SearchResult> {
    const compiled = compileSearch(query, cursor);
    let rows: PageDoc[] = [];
    let total: number | undefined;
    if (query.count > 0 || compiled.count) {
      // the joins run once; the page and the count share their results
      const { pipeline, results } = await runJoins(compiled, (p) => this.run(p), MAX_JOIN_ROWS, tooCostly);
      if (query.count > 0) rows = (await this.run(pipeline)) as PageDoc[];
      if (compiled.count) total = ((await this.run(bindJoins(compiled.count, results)))[0]?.n as number | undefined) ?? 0;
    }
    const hasMore = rows.length > query.count;
    if (hasMore) rows.pop();
    if (compiled.reversed) rows.reverse();
    const matches = rows.map((r) => ({
      resourceType: r.type,
      id: r.id,
      json: documentJson(r)!,
      position: [...Array.from({ length: compiled.sortColumns }, (_, i) => r[`s${i}`] as string | number | null), r.rid],
    }));
    const included = await this.includes(query, rows);
    return { matches, included, hasMore, total };
  }

  private async includes(query: SearchQuery, page: PageDoc[]): Promise<FoundResource[]> {
    if (!page.length || (!query.include.length && !query.revinclude.length)) return [];
    const key = (d: PageDoc) => `${d.type}/${d.id}`;
    const seen = new Set(page.map(key));
    const out: PageDoc[] = [];
    let sources = page;
    for (let round = 0; round < MAX_ITERATE && sources.length && out.length < MAX_INCLUDED; round++) {
      const next: PageDoc[] = [];
      const run = async (specs: IncludeSpec[], compile: (s: IncludeSpec) => MongoPlan) => {
        for (const spec of specs) {
          if (round > 0 && !spec.iterate) continue;
          // enough to fill what is left even if every resource already seen came back again
          const enough = { $limit: seen.size + MAX_INCLUDED - out.length - next.length };
          for (const doc of (await this.run([...(await this.plan(compile(spec))), enough])) as PageDoc[]) {
            if (seen.has(key(doc)) || out.length + next.length >= MAX_INCLUDED) continue;
            seen.add(key(doc));
            next.push(doc);
          }
        }
      };
      const keys = sources.map(key);
      const targets = sources.map((d) => ({ type: d.type, id: d.id }));
      await run(query.include, (s) => compileInclude(s, keys, query.view));
      await run(query.revinclude, (s) => compileRevinclude(s, targets, query.view));
      out.push(...next);
      sources = next;
    }
    return out.map((d) => ({ resourceType: d.type, id: d.id, json: documentJson(d)! }));
  }
}
