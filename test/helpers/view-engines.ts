// Shared by the tests that compare what a client without the migration-data scope gets with
// what a store holding only its view answers (test/auth/status-identifiers.test.ts,
// test/auth/sensitive-labels.test.ts), on both engines.
import type { ResourceStore } from '../../src/store/types.ts';
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
