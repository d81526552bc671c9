// The MongoDB engine: the only module that imports the driver. Collections (layout in
// src/search/mongo-layout.ts): `resources` (current versions with their index entries),
// `history` (every version), `counters` (the write sequence). Searches run through
// search.ts; everything conditional lives above, in src/store/repository.ts.
//
// Transactions are driver sessions with readConcern/writeConcern majority, which needs a
// replica set or a sharded cluster. Every writing transaction increments the one `counters`
// document to number its versions (history order, cursors); that write also makes any two
// writing transactions conflict, so the loser is retried from the start and sees the winner's
// writes: conditional creates cannot both see "no match" (the contract asks for serializable).
// On a standalone server there are no multi-document transactions: each write is applied on its
// own, the unique version _id stops a concurrent update from overwriting another, and
// transaction Bundles are refused (`atomicTransactions = false`).
import { MongoClient, MongoServerError, type ClientSession, type Collection, type Db, type UpdateFilter } from 'mongodb';
import { conflict } from '../../fhir/errors.ts';
import type { Cursor, SearchQuery } from '../../search/ir.ts';
import { indexEntries, MONGO_HISTORY_INDEXES, MONGO_INDEXES, resourceKey, type ResourceDocument } from '../../search/mongo-layout.ts';
import type { HistoryPage, HistoryQuery, MetaInUse, ResourceStore, ScannedResource, SearchResult, StoredVersion, StoreHealth, StoreTransaction, VersionWrite } from '../types.ts';
import { currentDocument, historyDocument, toHistoryEntry, toStoredVersion, type HistoryDocument } from './documents.ts';
import { MongoSearcher } from './search.ts';
import type { CheckpointCollection, LinkCollection } from '../../audit/ledger/mongo.ts';

export interface MongoOptions {
  /** mongodb:// or mongodb+srv:// URI; its path names the database (default migfhir) */
  uri: string;
}

interface Counter {
  _id: string;
  n: number;
}

const TX_OPTIONS = { readConcern: { level: 'majority' as const }, writeConcern: { w: 'majority' as const }, readPreference: 'primary' as const };
const DUPLICATE_KEY = 11000;

/** The database named in the URI's path (mongodb://h1,h2/NAME?…), else migfhir. */
export function databaseName(uri: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/.exec(uri);
  return m?.[1] ? decodeURIComponent(m[1]) : 'migfhir';
}

export type Topology = 'replicaSet' | 'sharded' | 'standalone';

export class MongoStore implements ResourceStore {
  readonly engine = 'mongodb';
  readonly atomicTransactions: boolean;
  readonly topology: Topology;
  readonly unmarkedSensitiveRows: boolean;
  unmarkedStatusIdentifiers = false;
  private readonly client: MongoClient;
  private readonly resources: Collection<ResourceDocument>;
  private readonly historyColl: Collection<HistoryDocument>;
  private readonly counters: Collection<Counter>;
  private readonly ledger: Collection;
  private readonly ledgerCheckpoints: Collection;
  private readonly searcher: MongoSearcher;
  private lastIssued: number;

  private constructor(client: MongoClient, db: Db, topology: Topology, lastIssued: number, unmarkedSensitiveRows: boolean) {
    this.client = client;
    this.unmarkedSensitiveRows = unmarkedSensitiveRows;
    this.topology = topology;
    this.atomicTransactions = topology !== 'standalone';
    this.resources = db.collection<ResourceDocument>('resources');
    this.historyColl = db.collection<HistoryDocument>('history');
    this.counters = db.collection<Counter>('counters');
    this.ledger = db.collection('audit_ledger');
    this.ledgerCheckpoints = db.collection('audit_checkpoints');
    this.lastIssued = lastIssued;
    this.searcher = new MongoSearcher((pipeline) => this.resources.aggregate(pipeline, { readConcern: { level: 'majority' } }).toArray());
  }

  /** Connects, learns the topology and creates the indexes the compiled searches use. */
  static async open(options: MongoOptions): Promise<MongoStore> {
    const client = new MongoClient(options.uri, { writeConcern: { w: 'majority' }, readConcern: { level: 'majority' } });
    await client.connect();
    try {
      const db = client.db(databaseName(options.uri));
      const hello = await db.admin().command({ hello: 1 });
      const topology: Topology = hello.msg === 'isdbgrid' ? 'sharded' : hello.setName ? 'replicaSet' : 'standalone';
      // documents written before the `sensitive` index existed carry no `sens` marks
      const before = await db.collection('resources').indexes().catch(() => []);
      const unmarked = !before.some((i) => i.name === 'sensitive') && (await db.collection('resources').estimatedDocumentCount()) > 0;
      await db.collection('resources').createIndexes(MONGO_INDEXES.map((i) => ({ name: i.name, key: i.key, ...(i.sparse ? { sparse: true } : {}) })));
      await db.collection('history').createIndexes(MONGO_HISTORY_INDEXES.map((i) => ({ name: i.name, key: i.key })));
      await db.collection<Counter>('counters').updateOne({ _id: 'seq' }, { $setOnInsert: { n: 0 } }, { upsert: true });
      const last = await db.collection<HistoryDocument>('history').find({}, { projection: { lu: 1 } }).sort({ lu: -1 }).limit(1).toArray();
      const store = new MongoStore(client, db, topology, last[0] ? Date.parse(last[0].lu) : 0, unmarked);
      // index entries written before entries were marked per view (`z`): the app relabels and
      // reindexes the resources holding status-revealing identifiers at start (counters marks it done)
      const marks = await db.collection<Counter>('counters').updateOne({ _id: 'status-identifier-marks' }, { $setOnInsert: { n: 1 } }, { upsert: true });
      store.unmarkedStatusIdentifiers = marks.upsertedCount > 0 && (await db.collection('resources').estimatedDocumentCount()) > 0;
      return store;
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  async current(resourceType: string, id: string): Promise<StoredVersion | undefined> {
    const d = await this.resources.findOne({ _id: resourceKey(resourceType, id) }, { projection: { idx: 0 } });
    return d ? toStoredVersion(d) : undefined;
  }

  async version(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const d = await this.historyColl.findOne({ _id: `${resourceKey(resourceType, id)}/${versionId}` });
    return d ? toStoredVersion(d) : undefined;
  }

  async history(q: HistoryQuery): Promise<HistoryPage> {
    const filter: Record<string, unknown> = {};
    if (q.resourceType !== undefined) filter.type = { $eq: q.resourceType };
    if (q.id !== undefined) filter.id = { $eq: q.id };
    const lu: Record<string, string> = {};
    if (q.since !== undefined) lu.$gte = q.since;
    if (q.atStart !== undefined && q.atEnd !== undefined) {
      lu.$lt = q.atEnd;
      filter.$or = [{ sup: { $exists: false } }, { sup: { $gt: q.atStart } }];
    }
    if (Object.keys(lu).length) filter.lu = lu;
    const newerFirst = q.afterSeq === undefined;
    const page = { ...filter };
    if (q.beforeSeq !== undefined) page.seq = { $lt: q.beforeSeq };
    else if (q.afterSeq !== undefined) page.seq = { $gt: q.afterSeq };
    const rows = await this.historyColl.find(page).sort({ seq: newerFirst ? -1 : 1 }).limit(q.count + 1).toArray();
    const more = rows.length > q.count;
    if (more) rows.pop();
    if (!newerFirst) rows.reverse();
    const exists = async (seq: Record<string, number>) => (await this.historyColl.findOne({ ...filter, seq }, { projection: { _id: 1 } })) !== null;
    const hasOlder = newerFirst ? more : await exists({ $lte: q.afterSeq! });
    const hasNewer = newerFirst ? q.beforeSeq !== undefined && (await exists({ $gte: q.beforeSeq })) : more;
    const total = await this.historyColl.countDocuments(filter);
    return { entries: rows.map(toHistoryEntry), hasOlder, hasNewer, total };
  }

  search(query: SearchQuery, cursor?: Cursor): Promise<SearchResult> {
    return this.searcher.search(query, cursor);
  }

  async currentContaining(texts: string[]): Promise<{ resourceType: string; id: string }[]> {
    if (texts.length === 0) return [];
    const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const docs = await this.resources.find({ del: false, json: { $regex: texts.map(escape).join('|') } }, { projection: { type: 1, id: 1 } }).toArray();
    return docs.map((d) => ({ resourceType: d.type, id: d.id }));
  }

  /** The audit chain's insert-only collection (src/audit/ledger/mongo.ts): its _id index is the
   * sequence. Writes to it are the audit sink's only. */
  auditLinks(): LinkCollection {
    return this.ledger as unknown as LinkCollection;
  }

  /** The audit chain's signed checkpoints, _id the number of events each covers. */
  auditCheckpoints(): CheckpointCollection {
    return this.ledgerCheckpoints as unknown as CheckpointCollection;
  }

  async hasSensitiveRows(keys: string[]): Promise<boolean> {
    // one seek per key on the sparse `sensitive` index
    return (await this.resources.findOne({ sens: { $in: keys } }, { projection: { _id: 1 } })) !== null;
  }

  async metaInUse(types: string[] | undefined, limit: number): Promise<MetaInUse> {
    const distinct = async (table: 'token' | 'uri', key: string, fields: Record<string, string>) => {
      const match = { del: false, ...(types?.length ? { type: { $in: types } } : {}), [`idx.${table}.p`]: key };
      return this.resources
        .aggregate([{ $match: match }, { $unwind: `$idx.${table}` }, { $match: { [`idx.${table}.p`]: key } }, { $group: { _id: fields } }, { $sort: { _id: 1 } }, { $limit: Math.trunc(limit) }])
        .toArray();
    };
    const codings = async (key: string) =>
      (await distinct('token', key, { s: '$idx.token.s', c: '$idx.token.c' })).map((d) => ({ ...(d._id.s ? { system: d._id.s as string } : {}), code: d._id.c as string }));
    return {
      tag: await codings('Resource._tag'),
      security: await codings('Resource._security'),
      profile: (await distinct('uri', 'Resource._profile', { u: '$idx.uri.u' })).map((d) => d._id.u as string),
    };
  }

  async scan(types: string[] | undefined, position: number, limit: number): Promise<ScannedResource[]> {
    const filter: Record<string, unknown> = { rid: { $gt: position }, del: false };
    if (types?.length) filter.type = { $in: types };
    const docs = await this.resources.find(filter, { projection: { type: 1, id: 1, rid: 1, json: 1 } }).sort({ rid: 1 }).limit(limit).toArray();
    return docs.map((d) => ({ position: d.rid, resourceType: d.type, id: d.id, json: d.json! }));
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (!this.atomicTransactions) return work(this.tx(undefined));
    const session = this.client.startSession();
    try {
      // the driver retries `work` on transient errors (a write conflict with another transaction)
      return await session.withTransaction(async () => {
        const issuedBefore = this.lastIssued;
        try {
          return await work(this.tx(session));
        } catch (err) {
          this.lastIssued = issuedBefore;
          throw err;
        }
      }, TX_OPTIONS);
    } finally {
      await session.endSession();
    }
  }

  private tx(session: ClientSession | undefined): StoreTransaction {
    const searcher = session
      ? new MongoSearcher((pipeline) => this.resources.aggregate(pipeline, { session }).toArray())
      : this.searcher;
    return {
      current: async (type, id) => {
        const d = await this.resources.findOne({ _id: resourceKey(type, id) }, { session, projection: { idx: 0 } });
        return d ? toStoredVersion(d) : undefined;
      },
      version: async (type, id, versionId) => {
        const d = await this.historyColl.findOne({ _id: `${resourceKey(type, id)}/${versionId}` }, { session });
        return d ? toStoredVersion(d) : undefined;
      },
      write: (v) => this.write(v, session),
      now: () => {
        const t = Math.max(Date.now(), this.lastIssued + 1);
        this.lastIssued = t;
        return new Date(t).toISOString();
      },
      search: (q, cursor) => searcher.search(q, cursor),
      rewrite: async (type, id, versionId, json) => {
        const key = resourceKey(type, id);
        await this.historyColl.updateOne({ _id: `${key}/${versionId}`, json: { $ne: null } }, { $set: { json } }, { session });
        await this.resources.updateOne({ _id: key, vid: versionId, del: false }, { $set: { json } }, { session });
      },
      reindex: async (type, id, index) => {
        const update: UpdateFilter<ResourceDocument> = index.sensitive?.length
          ? { $set: { idx: indexEntries(index), sens: index.sensitive } }
          : { $set: { idx: indexEntries(index) }, $unset: { sens: '' } };
        await this.resources.updateOne({ _id: resourceKey(type, id), del: false }, update, { session });
      },
    };
  }

  private async write(v: VersionWrite, session: ClientSession | undefined): Promise<void> {
    const counter = await this.counters.findOneAndUpdate({ _id: 'seq' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after', session });
    const seq = counter!.n;
    const key = resourceKey(v.resourceType, v.id);
    try {
      // the version's _id (Type/id/vid) is unique: a concurrent writer of the same version fails here
      await this.historyColl.insertOne(historyDocument(v, seq), { session });
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) throw conflict(`${key} was changed by another request at the same time; retry`);
      throw err;
    }
    if (v.versionId > 1) await this.historyColl.updateOne({ _id: `${key}/${v.versionId - 1}` }, { $set: { sup: v.lastUpdated } }, { session });
    const { _id: _key, rid: _rid, idx, sens, ...fields } = currentDocument(v, seq, seq);
    void _key, _rid;
    const unset: Partial<Record<'idx' | 'sens', ''>> = { ...(idx ? {} : { idx: '' as const }), ...(sens ? {} : { sens: '' as const }) };
    // classic update operators: every value is stored as given, none is read as an expression
    await this.resources.updateOne(
      { _id: key },
      { $set: { ...fields, ...(idx ? { idx } : {}), ...(sens ? { sens } : {}) }, ...(Object.keys(unset).length ? { $unset: unset } : {}), $setOnInsert: { rid: seq } },
      { upsert: true, session },
    );
  }

  async health(): Promise<StoreHealth> {
    try {
      const hello = await this.client.db().admin().command({ hello: 1 });
      // a replica set without a reachable primary takes no writes: not ready
      const primary = this.topology === 'standalone' || hello.msg === 'isdbgrid' || hello.isWritablePrimary === true || typeof hello.primary === 'string';
      return { ready: primary, detail: primary ? `MongoDB answers (${this.topology})` : 'MongoDB answers, but no primary is reachable', gauges: { mongodb_primary_reachable: primary ? 1 : 0 } };
    } catch (err) {
      return { ready: false, detail: `MongoDB does not answer: ${(err as Error).name}`, gauges: { mongodb_primary_reachable: 0 } };
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
