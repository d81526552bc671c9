// Shared by the tests that compare what a client without the migration-data scope gets with
// what a store holding only its view answers (test/auth/status-identifiers.test.ts,
// test/auth/sensitive-labels.test.ts), on both engines.
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import type { ResourceStore } from '../../src/store/types.ts';
import { fhir, testApp } from './app.ts';
import { MingoSearchStore } from './mingo-store.ts';

/** the ids of a search Bundle's entries, in order */
export const idsOf = (body: any): string[] => (body.entry ?? []).map((e: any) => e.resource.id);

/** The resource as a client sees it, ready to store elsewhere (no server-managed meta). */
export function asStored(r: any): any {
  const { meta: _meta, ...rest } = r;
  void _meta;
  return rest;
}

/** the engines each comparison runs on: SQLite (the app's default store) and MongoDB's queries on mingo */
export const VIEW_ENGINES: [string, () => ResourceStore | undefined][] = [
  ['SQLite', () => undefined],
  ['MongoDB queries on mingo', () => new MingoSearchStore()],
];

/** a search to compare: the query, the ids it must find (if stated), and whether order counts */
export interface ViewSearch {
  q: string;
  want?: string[];
  ordered?: boolean;
}

/**
 * Stores what `client` (its request headers) sees of each resource in a fresh app, then asks each search of both: the
 * client's answer must be the one a store holding only its view gives (ids, order where it
 * counts, totals). `each` sees the client's answer for checks of its own.
 */
export async function compareWithViews(t: Test, app: FastifyInstance, client: Record<string, string>, resources: { resourceType: string; id: string }[], searches: ViewSearch[], each?: (q: string, body: any) => void): Promise<void> {
  const views = await testApp();
  t.teardown(() => views.close());
  for (const r of resources) {
    const seen = (await fhir(app, 'GET', `/fhir/${r.resourceType}/${r.id}`, undefined, client)).body;
    t.equal((await fhir(views, 'PUT', `/fhir/${r.resourceType}/${r.id}`, asStored(seen))).status, 201);
  }
  for (const { q, want, ordered } of searches) {
    const x = await fhir(app, 'GET', `/fhir/${q}`, undefined, client);
    t.equal(x.status, 200, `${q}: 200, not a refusal`);
    const v = await fhir(views, 'GET', `/fhir/${q}`);
    const [got, expected] = ordered ? [idsOf(x.body), idsOf(v.body)] : [idsOf(x.body).sort(), idsOf(v.body).sort()];
    t.same(got, expected, `${q}: as over the views`);
    if (want) t.same(got, want, `${q}: ${want.join(',') || 'nothing'}`);
    if (x.body.total !== undefined && v.body.total !== undefined) t.equal(x.body.total, v.body.total, `${q}: the same total`);
    each?.(q, x.body);
  }
}
