// Versions of some resource types written by any server process, as they commit: what keeps
// each process's caches built from stored resources (custom SearchParameters, profiles,
// terminology) in step when several processes share one database. A change stream on a replica
// set or sharded cluster (resumed after an error from its last event); on a standalone server,
// which has no change streams, a poll of the `resources` collection by sequence number.
import type { ResourceDocument } from '../../search/mongo-layout.ts';
import type { VersionWrite } from '../types.ts';
import type { ChangeFeed, MongoCollection } from './backend.ts';
import { NODES } from './sequence.ts';

export type WriteListener = (written: VersionWrite[]) => void;

/** how often a standalone server is polled */
export const POLL_MS = 2000;
/** a poll looks this far behind the newest version it saw: a write whose lastUpdated was issued
 * before that one's but committed after it is still found */
export const POLL_OVERLAP_MS = 60_000;
/** pause before a failed change stream is opened again */
const REOPEN_MS = 1000;

export function versionOf(d: Pick<ResourceDocument, 'type' | 'id' | 'vid' | 'lu' | 'json' | 'del'>): VersionWrite {
  return { resourceType: d.type, id: d.id, versionId: d.vid, lastUpdated: d.lu, method: d.del ? 'DELETE' : d.vid === 1 ? 'POST' : 'PUT', json: d.del ? null : d.json };
}

export interface Watch {
  close(): Promise<void>;
}

/** Follows the change stream of `resources` for `types`. */
export function watchChanges(resources: MongoCollection<ResourceDocument>, types: string[], listener: WriteListener): Watch {
  let feed: ChangeFeed | undefined;
  let token: unknown;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const open = () => {
    if (closed) return;
    const pipeline = [
      { $match: { operationType: { $in: ['insert', 'update', 'replace'] }, 'fullDocument.type': { $in: types } } },
      // the index entries are not needed to update a cache
      { $project: { 'fullDocument.idx': 0, 'fullDocument.sens': 0 } },
    ];
    feed = resources.watch(pipeline, { fullDocument: 'updateLookup', ...(token === undefined ? {} : { resumeAfter: token }) });
    feed.on('change', (change) => {
      token = change._id;
      if (change.fullDocument) listener([versionOf(change.fullDocument as unknown as ResourceDocument)]);
    });
    feed.on('error', () => {
      // the driver resumes by itself after resumable errors; this is any other one
      void feed?.close().catch(() => {});
      timer = setTimeout(open, REOPEN_MS);
      timer.unref();
    });
  };
  open();
  return {
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await feed?.close();
    },
  };
}

/** Polls `resources` for `types` (standalone servers). Each version is reported once. */
export function pollChanges(resources: MongoCollection<ResourceDocument>, types: string[], listener: WriteListener, startSeq: number, every = POLL_MS): Watch & { poll(): Promise<void> } {
  let newest = startSeq;
  const reported = new Map<string, number>();
  const poll = async () => {
    const from = newest - POLL_OVERLAP_MS * NODES;
    const docs = await resources.find({ type: { $in: types }, seq: { $gt: from } }, { projection: { idx: 0, sens: 0 } }).sort({ seq: 1 }).limit(1000).toArray();
    const fresh = docs.filter((d) => (reported.get(d._id) ?? 0) < d.vid);
    for (const d of docs) {
      reported.set(d._id, Math.max(reported.get(d._id) ?? 0, d.vid));
      newest = Math.max(newest, d.seq);
    }
    if (fresh.length) listener(fresh.map(versionOf));
  };
  const timer = setInterval(() => void poll().catch(() => {}), every);
  timer.unref();
  return {
    poll,
    close: async () => clearInterval(timer),
  };
}
