// The MongoDB engine: the only module that imports the driver's client (backend.ts says what
// it uses of it). Collections (layout in src/search/mongo-layout.ts): `resources` (current
// versions with their index entries), `history` (every version), `nodes` (one small claim per
// server process, sequence.ts) and `claims` (conditional criteria, below). Searches run through
// search.ts; everything conditional lives above, in src/store/repository.ts.
//
// Concurrency model: no document is written by every write. A version is written with
// per-resource optimistic concurrency: its history _id (Type/id/vid) is unique, and the
// `resources` document is updated only from the version it replaces (vid n → n+1), so two
// writers of one resource cannot both succeed, while writers of different resources never
// touch a common document. History order is lastUpdated × node (sequence.ts), issued without a
// shared write. Conditional interactions (If-None-Exist, conditional update/delete, a
// transaction's conditional entries) write one `claims` document per criteria inside their
// transaction: two transactions with the same criteria conflict there, the loser is retried
// from the start and sees the winner's resource (MongoDB's snapshot isolation alone would let
// both see "no match"). Transactions read at snapshot level (one point in time, also across
// shards) and are retried by transaction.ts.
//
// On a standalone server there are no multi-document transactions: each write is applied on
// its own (history first, then the resource), transaction Bundles are refused
// (`atomicTransactions = false`), and a version left in history by a process that died before
// updating the resource is replaced by the next writer once it is older than ABANDONED_MS.
import { createHash } from 'node:crypto';
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import { conflict, FhirError } from '../../fhir/errors.ts';
import type { Cursor, SearchQuery } from '../../search/ir.ts';
import { indexEntries, MONGO_HISTORY_INDEXES, MONGO_INDEXES, resourceKey, type ResourceDocument } from '../../search/mongo-layout.ts';
import type { AuditLinks, HistoryEntry, HistoryPage, HistoryQuery, MetaInUse, ResourceStore, ScannedResource, SearchResult, StoredVersion, StoreHealth, StoreTransaction, VersionWrite } from '../types.ts';
import type { MongoCollection, MongoDatabase, MongoSession, TransactionOptions } from './backend.ts';
import { compactHistoryEntry, currentDocument, historyDocument, toHistoryEntry, toStoredVersion, type HistoryDocument } from './documents.ts';
import { MongoSearcher } from './search.ts';
import { claimNode, LEASE_MS, renewNode, sequenceOf, type NodeClaim } from './sequence.ts';
import { DEFAULT_RETRY, runTransaction, type RetryPolicy } from './transaction.ts';
import { pollChanges, watchChanges, type Watch, type WriteListener } from './watch.ts';
import type { CheckpointCollection, LinkCollection } from '../../audit/ledger/mongo.ts';
import { AUDIT_EVENT, compactAudit, documentJson, immutableAuditEvent } from './audit-documents.ts';
import { MESSAGE_LOG_COLLECTION, MESSAGE_LOG_INDEXES, MongoMessageLog } from './message-log.ts';

export interface MongoOptions {
  /** mongodb:// or mongodb+srv:// URI; its path names the database (default migfhir) */
  uri: string;
}

/** Limits of this engine that SQLite does not have (docs/deploy-mongodb.md). */
export const MONGO_LIMITS = {
  /** MongoDB's document limit is 16 MiB; a resource's document also holds its index entries */
  documentBytes: 15 * 1024 * 1024,
  /** entries of one transaction Bundle: its writes must commit well inside MongoDB's 60 s
   * transaction lifetime and fit the storage engine's cache */
  transactionEntries: 5000,
  /** bytes one transaction may write (resources and their index entries) */
  transactionBytes: 64 * 1024 * 1024,
  /** server-side limit of each read (maxTimeMS) and of a commit (maxCommitTimeMS) */
  readMs: 15_000,
  commitMs: 10_000,
  /** how long a write concern may wait for a majority (wtimeout) */
  writeConcernMs: 10_000,
};

/** A standalone write that left its history version but not its resource update (the process
 * died) is taken over by the next writer after this long. */
export const ABANDONED_MS = 60_000;

const DUPLICATE_KEY = 11000;

/** The database named in the URI's path (mongodb://h1,h2/NAME?…), else migfhir. */
export function databaseName(uri: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/.exec(uri);
  return m?.[1] ? decodeURIComponent(m[1]) : 'migfhir';
}

export type Topology = 'replicaSet' | 'sharded' | 'standalone';

/** How a store is attached to a database (the driver's in open(), a test double's in tests). */
export interface MongoEngineSettings {
  topology: Topology;
  /** the server's clock minus this process's, in ms (hello.localTime at start) */
  clockOffsetMs?: number;
  unmarkedSensitiveRows?: boolean;
  retry?: RetryPolicy;
  /** this process's clock (tests move it) */
  clock?: () => number;
  /** answers /readyz: whether a primary takes writes */
  hello?: () => Promise<Record<string, unknown>>;
  close?: () => Promise<void>;
}

interface ClaimDocument {
  _id: string;
  n: number;
  at: Date;
}

/** What one transaction attempt has written so far, for MONGO_LIMITS.transactionBytes. */
interface Attempt {
  bytes: number;
}

function tooLarge(diagnostics: string): FhirError {
  return new FhirError(413, { code: 'too-costly', diagnostics });
}

export class MongoStore implements ResourceStore {
  readonly engine = 'mongodb';
  readonly atomicTransactions: boolean;
  readonly retriesTransactions = true;
  readonly maxTransactionEntries = MONGO_LIMITS.transactionEntries;
  readonly topology: Topology;
  readonly unmarkedSensitiveRows: boolean;
  /** index entries written before entries were marked per view (`z`): the app relabels and
   * reindexes the resources holding status-revealing identifiers at start */
  unmarkedStatusIdentifiers = false;
  private readonly db: MongoDatabase;
  private readonly resources: MongoCollection<ResourceDocument>;
  private readonly historyColl: MongoCollection<HistoryDocument>;
  private readonly nodes: MongoCollection<NodeClaim>;
  private readonly claims: MongoCollection<ClaimDocument>;
  private readonly ledger: MongoCollection<Record<string, unknown>>;
  private readonly ledgerCheckpoints: MongoCollection<Record<string, unknown>>;
  private readonly searcher: MongoSearcher;
  private readonly settings: MongoEngineSettings;
  private claim: { node: number; owner: string } = { node: -1, owner: '' };
  private renewal?: ReturnType<typeof setInterval>;
  private lastIssued = 0;
  private readonly watches: Watch[] = [];

  private constructor(db: MongoDatabase, settings: MongoEngineSettings) {
    this.db = db;
    this.settings = settings;
    this.topology = settings.topology;
    this.unmarkedSensitiveRows = settings.unmarkedSensitiveRows ?? false;
    this.atomicTransactions = settings.topology !== 'standalone';
    this.resources = db.collection<ResourceDocument>('resources');
    this.historyColl = db.collection<HistoryDocument>('history');
    this.nodes = db.collection<NodeClaim>('nodes');
    this.claims = db.collection<ClaimDocument>('claims');
    this.ledger = db.collection('audit_ledger');
    this.ledgerCheckpoints = db.collection('audit_checkpoints');
    this.searcher = new MongoSearcher((pipeline) => this.resources.aggregate(pipeline, { readConcern: { level: 'majority' }, maxTimeMS: MONGO_LIMITS.readMs }).toArray());
  }

  /** Connects, learns the topology and the server's clock, and creates the indexes the
   * compiled searches use. */
  static async open(options: MongoOptions): Promise<MongoStore> {
    const client = new MongoClient(options.uri, { writeConcern: { w: 'majority', wtimeoutMS: MONGO_LIMITS.writeConcernMs }, readConcern: { level: 'majority' } });
    await client.connect();
    try {
      const db = client.db(databaseName(options.uri));
      const sent = Date.now();
      const hello = await db.admin().command({ hello: 1 });
      const received = Date.now();
      const topology: Topology = hello.msg === 'isdbgrid' ? 'sharded' : hello.setName ? 'replicaSet' : 'standalone';
      const serverTime = hello.localTime instanceof Date ? hello.localTime.getTime() : undefined;
      // documents written before the `sensitive` index existed carry no `sens` marks
      const before = await db.collection('resources').indexes().catch(() => []);
      const unmarked = !before.some((i) => i.name === 'sensitive') && (await db.collection('resources').estimatedDocumentCount()) > 0;
      await db.collection('resources').createIndexes(MONGO_INDEXES.map((i) => ({ name: i.name, key: i.key, ...(i.sparse ? { sparse: true } : {}) })));
      await db.collection('history').createIndexes(MONGO_HISTORY_INDEXES.map((i) => ({ name: i.name, key: i.key })));
      // a claim only has to outlive the transactions that wrote it
      await db.collection('claims').createIndex({ at: 1 }, { name: 'expiry', expireAfterSeconds: 3600 });
      await db.collection(MESSAGE_LOG_COLLECTION).createIndexes(MESSAGE_LOG_INDEXES);
      const store = await MongoStore.attach(driverDatabase(client, db), {
        topology,
        clockOffsetMs: serverTime === undefined ? 0 : serverTime - (sent + received) / 2,
        unmarkedSensitiveRows: unmarked,
        hello: () => db.admin().command({ hello: 1 }),
        close: () => client.close(),
      });
      // once per database: the marker document says the status-identifier marks were made
      const marks = await db.collection<{ _id: string; at: Date }>('migrations').updateOne({ _id: 'status-identifier-marks' }, { $setOnInsert: { at: new Date() } }, { upsert: true });
      store.unmarkedStatusIdentifiers = marks.upsertedCount > 0 && (await db.collection('resources').estimatedDocumentCount()) > 0;
      return store;
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** A store over a database whose indexes exist: claims this process's node number. */
  static async attach(db: MongoDatabase, settings: MongoEngineSettings): Promise<MongoStore> {
    const store = new MongoStore(db, settings);
    // a resource's versions keep increasing lastUpdated across restarts and clock corrections
    const last = await store.historyColl.find({}, { projection: { lu: 1 } }).sort({ lu: -1 }).limit(1).toArray();
    store.lastIssued = last[0] ? Date.parse(last[0].lu) : 0;
    store.claim = await claimNode(store.nodes, store.clock());
    store.renewal = setInterval(() => void store.renew().catch(() => {}), LEASE_MS / 4);
    store.renewal.unref();
    const began = performance.now();
    const events = await store.compactAuditEvents();
    store.auditMigration = events ? { events, ms: performance.now() - began } : undefined;
    return store;
  }

  /** AuditEvents of older versions made compact at start (compactAuditEvents), and how long it took */
  auditMigration: { events: number; ms: number } | undefined;

  /** Start-up migration of the AuditEvents written by older versions (a JSON body and a
   * `history` version each) into compact documents (src/store/mongo/audit-documents.ts), in rid
   * order, a page at a time. Per event the history version goes first, then the document
   * becomes compact: a process stopped between the two leaves the event whole in `resources`
   * (missing from _history until the next start moves it), never listed twice. An event whose
   * stored JSON its fields do not render exactly (older key order, another shape) keeps it. */
  async compactAuditEvents(page = 500): Promise<number> {
    let moved = 0;
    let after = 0;
    for (;;) {
      const docs = await this.resources.find({ type: AUDIT_EVENT, del: false, vid: 1, json: { $ne: null }, rid: { $gt: after } }, { projection: { idx: 0 } }).sort({ rid: 1 }).limit(page).toArray();
      if (!docs.length) return moved;
      after = docs[docs.length - 1].rid;
      const versions = await this.historyColl.find({ _id: { $in: docs.map((d) => `${d._id}/1`) } }, { projection: { json: 0 } }).limit(page).toArray();
      const methods = new Map(versions.map((v) => [v.id, v.method]));
      for (const d of docs) {
        const method = methods.get(d.id) ?? 'POST';
        const compact = compactAudit({ resourceType: d.type, id: d.id, versionId: 1, lastUpdated: d.lu, method, json: d.json });
        if (!compact) continue;
        await this.historyColl.deleteOne(versionFilter(d.type, d.id, 1));
        await this.resources.updateOne({ _id: d._id, vid: 1, json: d.json }, { $set: { json: null, ae: compact } });
        moved++;
      }
    }
  }

  /** this process's clock, corrected by the server's */
  private clock(): number {
    return (this.settings.clock ?? Date.now)() + (this.settings.clockOffsetMs ?? 0);
  }

  /** the node number this process issues sequence numbers with */
  get node(): number {
    return this.claim.node;
  }

  private async renew(): Promise<void> {
    if (!(await renewNode(this.nodes, this.claim, this.clock()))) this.claim = await claimNode(this.nodes, this.clock());
  }

  async current(resourceType: string, id: string): Promise<StoredVersion | undefined> {
    const d = await this.resources.findOne({ _id: resourceKey(resourceType, id) }, { projection: { idx: 0 } });
    return d ? toStoredVersion(d) : undefined;
  }

  async version(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const d = await this.historyColl.findOne(versionFilter(resourceType, id, versionId));
    if (d) return toStoredVersion(d);
    return resourceType === AUDIT_EVENT ? this.compactVersion(undefined, id, versionId) : undefined;
  }

  /** The one version of a compact AuditEvent (it has no `history` document). */
  private async compactVersion(session: MongoSession | undefined, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const d = await this.resources.findOne({ _id: resourceKey(AUDIT_EVENT, id), vid: versionId, ae: { $exists: true } }, { session, projection: { idx: 0 } });
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
    const bound: Record<string, number> | undefined = q.beforeSeq !== undefined ? { $lt: q.beforeSeq } : q.afterSeq !== undefined ? { $gt: q.afterSeq } : undefined;
    const parts = this.historySources(q, filter);
    const found: HistoryEntry[] = [];
    for (const part of parts) found.push(...(await part.page(bound, newerFirst ? -1 : 1, q.count + 1)));
    // each source is in seq order; together, the first count + 1 of their merge
    found.sort((a, b) => (newerFirst ? b.seq - a.seq : a.seq - b.seq));
    const rows = found.slice(0, q.count + 1);
    const more = rows.length > q.count;
    if (more) rows.pop();
    if (!newerFirst) rows.reverse();
    const exists = async (seq: Record<string, number>) => {
      for (const part of parts) if (await part.exists(seq)) return true;
      return false;
    };
    const hasOlder = newerFirst ? more : await exists({ $lte: q.afterSeq! });
    const hasNewer = newerFirst ? q.beforeSeq !== undefined && (await exists({ $gte: q.beforeSeq })) : more;
    // counted on the first page only (Bundle.total is optional): counting every version again
    // on each page of a long history would cost more than the page itself
    const firstPage = q.beforeSeq === undefined && q.afterSeq === undefined;
    let total: number | undefined;
    if (firstPage) {
      total = 0;
      for (const part of parts) total += await part.count();
    }
    return { entries: rows, hasOlder, hasNewer, ...(total === undefined ? {} : { total }) };
  }

  /** Where a history query's versions are: `history`, and for AuditEvents (or every type) the
   * compact AuditEvents in `resources`, whose one version has no `history` document (its seq is
   * its rid, so the type_rid index orders them). */
  private historySources(q: HistoryQuery, filter: Record<string, unknown>) {
    const options = { maxTimeMS: MONGO_LIMITS.readMs };
    const sources = [
      {
        page: async (seq: Record<string, number> | undefined, dir: 1 | -1, limit: number) =>
          (await this.historyColl.find(seq ? { ...filter, seq } : filter, options).sort({ seq: dir }).limit(limit).toArray()).map(toHistoryEntry),
        exists: async (seq: Record<string, number>) => (await this.historyColl.findOne({ ...filter, seq }, { projection: { _id: 1 }, ...options })) !== null,
        count: () => this.historyColl.countDocuments(filter, options),
      },
    ];
    if (q.resourceType !== undefined && q.resourceType !== AUDIT_EVENT) return sources;
    // never replaced: `_at`'s test of the next version (sup) holds for every one
    const { $or: _sup, ...rest } = filter;
    void _sup;
    const compact = { ...rest, type: AUDIT_EVENT, del: false, ae: { $exists: true } };
    sources.push({
      page: async (seq, dir, limit) =>
        (await this.resources.find(seq ? { ...compact, rid: seq } : compact, { projection: { idx: 0 }, ...options }).sort({ rid: dir }).limit(limit).toArray()).map(compactHistoryEntry),
      exists: async (seq) => (await this.resources.findOne({ ...compact, rid: seq }, { projection: { _id: 1 }, ...options })) !== null,
      count: () => this.resources.countDocuments(compact, options),
    });
    return sources;
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

  private inbound: MongoMessageLog | undefined;

  /** The inbound message log (src/store/mongo/message-log.ts). */
  messageLog(): MongoMessageLog {
    this.inbound ??= new MongoMessageLog(this.db.collection(MESSAGE_LOG_COLLECTION));
    return this.inbound;
  }

  /** The audit trail: AuditEvents as resources, chained in the two collections below. */
  auditLedger(): AuditLinks {
    return { kind: 'links', links: this.auditLinks(), checkpoints: this.auditCheckpoints() };
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
        .aggregate([{ $match: match }, { $unwind: `$idx.${table}` }, { $match: { [`idx.${table}.p`]: key } }, { $group: { _id: fields } }, { $sort: { _id: 1 } }, { $limit: Math.trunc(limit) }], { maxTimeMS: MONGO_LIMITS.readMs })
        .toArray();
    };
    const codings = async (key: string) =>
      (await distinct('token', key, { s: '$idx.token.s', c: '$idx.token.c' })).map((d) => {
        const g = d._id as { s?: string; c: string };
        return { ...(g.s ? { system: g.s } : {}), code: g.c };
      });
    return {
      tag: await codings('Resource._tag'),
      security: await codings('Resource._security'),
      profile: (await distinct('uri', 'Resource._profile', { u: '$idx.uri.u' })).map((d) => (d._id as { u: string }).u),
    };
  }

  async scan(types: string[] | undefined, position: number, limit: number): Promise<ScannedResource[]> {
    const filter: Record<string, unknown> = { rid: { $gt: position }, del: false };
    if (types?.length) filter.type = { $in: types };
    const docs = await this.resources.find(filter, { projection: { type: 1, id: 1, rid: 1, json: 1, lu: 1, ae: 1 }, maxTimeMS: MONGO_LIMITS.readMs }).sort({ rid: 1 }).limit(limit).toArray();
    return docs.map((d) => ({ position: d.rid, resourceType: d.type, id: d.id, json: documentJson(d)! }));
  }

  /** Transaction options: snapshot reads (one point in time, across shards too), majority
   * writes with a timeout, a bounded commit. */
  get transactionOptions(): TransactionOptions {
    return {
      readConcern: { level: 'snapshot' },
      writeConcern: { w: 'majority', wtimeoutMS: MONGO_LIMITS.writeConcernMs },
      readPreference: 'primary',
      maxCommitTimeMS: MONGO_LIMITS.commitMs,
    };
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (!this.atomicTransactions) return work(this.tx(undefined));
    const session = this.db.startSession();
    try {
      // every attempt gets a fresh transaction object; `work` rebuilds its own state
      return await runTransaction(session, this.transactionOptions, () => work(this.tx(session)), this.settings.retry ?? DEFAULT_RETRY);
    } finally {
      await session.endSession();
    }
  }

  private tx(session: MongoSession | undefined): StoreTransaction {
    const searcher = session
      ? new MongoSearcher((pipeline) => this.resources.aggregate(pipeline, { session, maxTimeMS: MONGO_LIMITS.readMs }).toArray())
      : this.searcher;
    const attempt: Attempt = { bytes: 0 };
    return {
      current: async (type, id) => {
        const d = await this.resources.findOne({ _id: resourceKey(type, id) }, { session, projection: { idx: 0 } });
        return d ? toStoredVersion(d) : undefined;
      },
      version: async (type, id, versionId) => {
        const d = await this.historyColl.findOne(versionFilter(type, id, versionId), { session });
        if (d) return toStoredVersion(d);
        return type === AUDIT_EVENT ? this.compactVersion(session, id, versionId) : undefined;
      },
      write: (v) => this.write(v, session, attempt),
      now: () => {
        const t = Math.max(Math.trunc(this.clock()), this.lastIssued + 1);
        this.lastIssued = t;
        return new Date(t).toISOString();
      },
      search: (q, cursor) => searcher.search(q, cursor),
      claim: async (criteria) => {
        // $inc always changes the document, so a concurrent claim of the same criteria is a
        // write conflict (an unchanged $set would not be)
        const _id = createHash('sha256').update(criteria).digest('base64url');
        await this.claims.updateOne({ _id }, { $inc: { n: 1 }, $set: { at: new Date(this.clock()) } }, { upsert: true, session });
      },
      rewrite: async (type, id, versionId, json) => {
        const key = resourceKey(type, id);
        if (type === AUDIT_EVENT) await this.refuseCompact(key, session);
        await this.historyColl.updateOne({ ...versionFilter(type, id, versionId), json: { $ne: null } }, { $set: { json } }, { session });
        await this.resources.updateOne({ _id: key, vid: versionId, del: false }, { $set: { json } }, { session });
      },
      reindex: async (type, id, index) => {
        const update = index.sensitive?.length ? { $set: { idx: indexEntries(index), sens: index.sensitive } } : { $set: { idx: indexEntries(index) }, $unset: { sens: '' } };
        await this.resources.updateOne({ _id: resourceKey(type, id), del: false }, update, { session });
      },
    };
  }

  /** 405 when `key` is a compact AuditEvent (src/store/mongo/audit-documents.ts). */
  private async refuseCompact(key: string, session: MongoSession | undefined): Promise<void> {
    if (await this.resources.findOne({ _id: key, ae: { $exists: true } }, { session, projection: { _id: 1 } })) throw immutableAuditEvent(key);
  }

  private async write(v: VersionWrite, session: MongoSession | undefined, attempt: Attempt): Promise<void> {
    const key = resourceKey(v.resourceType, v.id);
    const seq = sequenceOf(v.lastUpdated, this.claim.node);
    const compact = compactAudit(v);
    const { _id: _key, rid: _rid, idx, sens, ...fields } = currentDocument(v, seq, seq, compact);
    void _key, _rid;
    this.admitSize(v, idx, session !== undefined, attempt);
    if (compact) return this.insertCompact(key, { ...fields, ...(idx ? { idx } : {}), ...(sens ? { sens } : {}) }, seq, session);
    if (v.resourceType === AUDIT_EVENT && v.versionId > 1) await this.refuseCompact(key, session);
    const history = historyDocument(v, seq);
    try {
      // the version's _id (Type/id/vid) is unique: a concurrent writer of the same version fails here
      await this.historyColl.insertOne(history, { session });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      if (session || !(await this.takeOverAbandoned(key, v.versionId))) throw conflict(`${key} was changed by another request at the same time; retry`);
      await this.historyColl.insertOne(history);
    }
    if (v.versionId > 1) await this.historyColl.updateOne(versionFilter(v.resourceType, v.id, v.versionId - 1), { $set: { sup: v.lastUpdated } }, { session });
    const unset: Partial<Record<'idx' | 'sens', ''>> = { ...(idx ? {} : { idx: '' as const }), ...(sens ? {} : { sens: '' as const }) };
    // classic update operators: every value is stored as given, none is read as an expression.
    // Only from the version this one replaces (optimistic concurrency per resource); the first
    // version inserts (vid 0 never exists, so an existing document makes the upsert's insert
    // fail on its _id).
    let updated: { matchedCount: number; upsertedCount: number };
    try {
      updated = await this.resources.updateOne(
        { _id: key, vid: v.versionId - 1 },
        { $set: { ...fields, ...(idx ? { idx } : {}), ...(sens ? { sens } : {}) }, ...(Object.keys(unset).length ? { $unset: unset } : {}), $setOnInsert: { rid: seq } },
        { upsert: v.versionId === 1, session },
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      updated = { matchedCount: 0, upsertedCount: 0 };
    }
    if (updated.matchedCount + updated.upsertedCount === 0) {
      // another writer moved the resource on: take back this write's history version
      if (!session) await this.historyColl.deleteOne({ ...versionFilter(v.resourceType, v.id, v.versionId), seq });
      throw conflict(`${key} was changed by another request at the same time; retry`);
    }
  }

  /** A compact AuditEvent: its `resources` document only (one version, never replaced, so no
   * `history` document); the unique _id refuses a second write of the same event. */
  private async insertCompact(key: string, doc: Omit<ResourceDocument, '_id' | 'rid'>, seq: number, session: MongoSession | undefined): Promise<void> {
    try {
      await this.resources.insertOne({ _id: key, ...doc, rid: seq }, { session });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      throw conflict(`${key} was changed by another request at the same time; retry`);
    }
  }

  /** MongoDB's 16 MiB document limit and the transaction's size, checked before writing:
   * 413 naming the limit, not a driver error answered with 500. */
  private admitSize(v: VersionWrite, idx: unknown, inTransaction: boolean, attempt: Attempt): void {
    if (v.json === null) return;
    // the index entries' BSON is larger than their JSON (field names, array keys): a margin
    const bytes = Buffer.byteLength(v.json) + (idx ? Math.ceil(Buffer.byteLength(JSON.stringify(idx)) * 1.5) : 0);
    if (bytes > MONGO_LIMITS.documentBytes) {
      const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
      throw tooLarge(
        `${v.resourceType}/${v.id} needs about ${mib(bytes)} MiB with its search index entries; this server's MongoDB engine stores at most ${mib(MONGO_LIMITS.documentBytes)} MiB per resource (MongoDB documents hold 16 MiB)`,
      );
    }
    attempt.bytes += bytes;
    if (inTransaction && attempt.bytes > MONGO_LIMITS.transactionBytes) {
      throw tooLarge(`The transaction writes more than ${MONGO_LIMITS.transactionBytes / 1024 / 1024} MiB, the most one transaction holds on this server's MongoDB engine; split it into several transactions`);
    }
  }

  /** On a standalone server: whether version `versionId` of `key` in history was left by a
   * write that never updated the resource (its process died) and is old enough to be taken
   * over; if so it is removed, so the caller can write its own. */
  private async takeOverAbandoned(key: string, versionId: number): Promise<boolean> {
    const [type, id] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const left = await this.historyColl.findOne(versionFilter(type, id, versionId));
    const current = await this.resources.findOne({ _id: key }, { projection: { vid: 1 } });
    if (!left || (current?.vid ?? 0) >= versionId) return false;
    if (this.clock() - Date.parse(left.lu) < ABANDONED_MS) return false;
    await this.historyColl.deleteOne({ ...versionFilter(type, id, versionId), seq: left.seq });
    return true;
  }

  /** A change stream where MongoDB has them, else (standalone) a poll from now on. */
  watch(types: string[], listener: WriteListener): void {
    this.watches.push(
      this.atomicTransactions ? watchChanges(this.resources, types, listener) : pollChanges(this.resources, types, listener, sequenceOf(new Date(this.clock()).toISOString(), 0)),
    );
  }

  async health(): Promise<StoreHealth> {
    try {
      const hello = (await this.settings.hello?.()) ?? {};
      // a replica set without a reachable primary takes no writes: not ready
      const primary = this.topology === 'standalone' || hello.msg === 'isdbgrid' || hello.isWritablePrimary === true || typeof hello.primary === 'string';
      return { ready: primary, detail: primary ? `MongoDB answers (${this.topology})` : 'MongoDB answers, but no primary is reachable', gauges: { mongodb_primary_reachable: primary ? 1 : 0 } };
    } catch (err) {
      return { ready: false, detail: `MongoDB does not answer: ${(err as Error).name}`, gauges: { mongodb_primary_reachable: 0 } };
    }
  }

  async close(): Promise<void> {
    clearInterval(this.renewal);
    for (const w of this.watches) await w.close().catch(() => {});
    // the node number is free for the next process at once
    await this.nodes.deleteOne({ _id: this.claim.node, owner: this.claim.owner }).catch(() => {});
    await this.settings.close?.();
  }
}

/** One version in `history`. The type and id besides the _id let a cluster whose history is
 * sharded on { type, id } (docs/deploy-mongodb.md) send the query to one shard. */
function versionFilter(type: string, id: string, versionId: number): Record<string, unknown> {
  return { _id: `${resourceKey(type, id)}/${versionId}`, type, id };
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** The driver's database and client as the engine uses them. */
function driverDatabase(client: MongoClient, db: Db): MongoDatabase {
  return {
    collection: <T>(name: string) => db.collection(name) as unknown as MongoCollection<T>,
    startSession: () => client.startSession() as unknown as MongoSession,
  };
}
