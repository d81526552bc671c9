// Start-up migration of data stored before status-revealing identifiers were sensitive
// elements (src/auth/sensitive-identifiers.ts): the current versions holding one are found by
// their text (one pass, no parsing of the rest), labelled in place and reindexed, so that their
// index rows carry the view marks searches filter on. Older versions need nothing: redaction
// recognises the identifiers in unlabelled versions too (src/auth/sensitive.ts).
import type { ResourceStore } from '../store/types.ts';
import type { Repository } from '../store/repository.ts';
import { STATUS_REVEALING_SYSTEMS } from './sensitive-identifiers.ts';

const BATCH = 500;

/** Relabels and reindexes the current resources that name a status-revealing system; returns
 * how many. */
export async function migrateStatusIdentifiers(store: ResourceStore, repo: Repository): Promise<number> {
  if (!store.currentContaining) return 0;
  // `"system":"…"` as JSON.stringify writes it: a text mentioning the URI elsewhere is not one
  const found = await store.currentContaining(STATUS_REVEALING_SYSTEMS.map((s) => JSON.stringify(s)));
  for (let i = 0; i < found.length; i += BATCH) await repo.relabel(found.slice(i, i + BATCH));
  return found.length;
}
