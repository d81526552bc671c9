// The audit ledger's collections (src/audit/ledger/mongo.ts) without a MongoDB server: filters
// evaluated by mingo, a unique _id as MongoDB keeps it (a second insert of one fails with code
// 11000), and every call answered on a later turn of the event loop, so that two sinks sharing
// one collection interleave as two server processes would.
import { Query } from 'mingo';
import type { InsertOnly } from '../../src/audit/ledger/mongo.ts';

const later = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeLinkCollection<T extends { _id: number }> implements InsertOnly<T> {
  readonly docs = new Map<number, T>();
  /** inserts refused for a duplicate _id (appends lost to another sink) */
  duplicates = 0;

  find(filter: Record<string, unknown>) {
    return {
      sort: (sort: Record<string, 1 | -1>) => ({
        limit: (n: number) => ({
          toArray: async () => {
            await later();
            const query = new Query(filter);
            const rows = [...this.docs.values()].filter((d) => query.test(d as unknown as Record<string, unknown>));
            rows.sort((a, b) => (a._id - b._id) * (sort._id ?? 1));
            return structuredClone(rows.slice(0, n));
          },
        }),
      }),
    };
  }

  async insertOne(doc: T): Promise<unknown> {
    await later();
    if (this.docs.has(doc._id)) {
      this.duplicates++;
      throw Object.assign(new Error(`E11000 duplicate key error: _id ${doc._id}`), { code: 11000 });
    }
    this.docs.set(doc._id, structuredClone(doc));
    return { acknowledged: true };
  }
}
