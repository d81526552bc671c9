// A store whose searches run the MongoDB engine's search code (src/store/mongo/search.ts and
// the compiler it calls) with the query documents evaluated by mingo, a maintained
// implementation of the MongoDB query language, over documents in the engine's layout
// (src/store/mongo/documents.ts). Reads, history and the write path are an in-memory SQLite
// store's: this proves the compiler and the layout, not the driver calls (see README).
import { Aggregator, ProcessingMode, Query } from 'mingo';
import type { ResourceDocument } from '../../src/search/mongo-layout.ts';
import { indexEntries, resourceKey } from '../../src/search/mongo-layout.ts';
import type { Stage } from '../../src/search/mongo.ts';
import { currentDocument } from '../../src/store/mongo/documents.ts';
import { MongoSearcher } from '../../src/store/mongo/search.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { AuditLinks, ResourceStore, StoreTransaction } from '../../src/store/types.ts';
import type { Cursor, SearchQuery } from '../../src/search/ir.ts';
import { FakeLinkCollection } from './fake-link-collection.ts';
import type { CheckpointDocument, LinkBatch } from '../../src/audit/ledger/mongo.ts';

export class MingoSearchStore implements ResourceStore {
  readonly engine = 'mongodb-compiler-on-mingo';
  // AuditEvents are resources on this engine (src/audit/ledger/mongo.ts): the inner store keeps them so
  private readonly inner = new SqliteStore({ path: ':memory:', auditLedger: false });
  private docs = new Map<string, ResourceDocument>();
  private seq = 0;
  /** the audit ledger's collections, as the engine keeps them (src/audit/ledger/mongo.ts) */
  readonly links = new FakeLinkCollection<LinkBatch>();
  readonly checkpoints = new FakeLinkCollection<CheckpointDocument>();
  /** every pipeline the searches sent, for tests that inspect their shape */
  readonly pipelines: Stage[][] = [];
  private readonly searcher = new MongoSearcher(
    async (pipeline) => new Aggregator(pipeline, { processingMode: ProcessingMode.CLONE_INPUT }).run([...this.docs.values()]) as Record<string, unknown>[],
    (pipeline) => this.pipelines.push(pipeline),
  );

  /** the documents as the engine would store them */
  documents(): ResourceDocument[] {
    return [...this.docs.values()];
  }

  current(type: string, id: string) {
    return this.inner.current(type, id);
  }

  version(type: string, id: string, versionId: number) {
    return this.inner.version(type, id, versionId);
  }

  history(q: Parameters<ResourceStore['history']>[0]) {
    return this.inner.history(q);
  }

  /** the engine's query ({ sens: { $in: keys } }, src/store/mongo) evaluated by mingo */
  async hasSensitiveRows(keys: string[]): Promise<boolean> {
    const query = new Query({ sens: { $in: keys } });
    return [...this.docs.values()].some((d) => query.test(d as unknown as Record<string, unknown>));
  }

  metaInUse(types: string[] | undefined, limit: number) {
    return this.inner.metaInUse(types, limit);
  }

  scan(types: string[] | undefined, position: number, limit: number) {
    return this.inner.scan(types, position, limit);
  }

  health() {
    return this.inner.health();
  }

  auditLinks() {
    return this.links;
  }

  auditLedger(): AuditLinks {
    return { kind: 'links', links: this.links, checkpoints: this.checkpoints };
  }

  auditCheckpoints() {
    return this.checkpoints;
  }

  search(query: SearchQuery, cursor?: Cursor) {
    return this.searcher.search(query, cursor);
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.inner.transaction(async (raw) => {
      const before = new Map(this.docs);
      const seqBefore = this.seq;
      const tx: StoreTransaction = {
        current: (t, id) => raw.current(t, id),
        version: (t, id, v) => raw.version(t, id, v),
        now: () => raw.now(),
        write: async (v) => {
          await raw.write(v);
          const seq = ++this.seq;
          const key = resourceKey(v.resourceType, v.id);
          this.docs.set(key, currentDocument(v, seq, this.docs.get(key)?.rid ?? seq));
        },
        // the documents already hold this transaction's writes
        search: (q, cursor) => this.searcher.search(q, cursor),
        rewrite: async (t, id, versionId, json) => {
          await raw.rewrite(t, id, versionId, json);
          const doc = this.docs.get(resourceKey(t, id));
          if (doc && !doc.del && doc.vid === versionId) this.docs.set(doc._id, { ...doc, json });
        },
        reindex: async (t, id, index) => {
          await raw.reindex(t, id, index);
          const doc = this.docs.get(resourceKey(t, id));
          if (doc && !doc.del) {
            const { sens: _old, ...rest } = doc;
            void _old;
            this.docs.set(doc._id, { ...rest, idx: indexEntries(index), ...(index.sensitive?.length ? { sens: index.sensitive } : {}) });
          }
        },
      };
      try {
        return await work(tx);
      } catch (err) {
        this.docs = before;
        this.seq = seqBefore;
        throw err;
      }
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
