// A test double of the MongoDB database as the engine uses it (src/store/mongo/backend.ts):
// collections whose query documents, update operators and aggregation pipelines are evaluated
// by mingo, and sessions with MongoDB's transaction semantics as far as the engine depends on
// them — snapshot reads (a transaction sees the data as of its start plus its own writes),
// write conflicts (writing a document that another transaction has written since this one
// started, or holds uncommitted, fails at once with WriteConflict, code 112, labelled
// TransientTransactionError), unique _id (DuplicateKey, 11000), atomic commit. Faults are
// injected at chosen operations with the driver's own error classes. Several stores attached
// to one FakeMongo behave as several server processes on one database.
import { MongoServerError } from 'mongodb';
import { Aggregator, ProcessingMode, Query } from 'mingo';
import { update } from 'mingo/updater';
import { EventEmitter } from 'node:events';
import type { ChangeFeed, FindCursor, FindOptions, MongoCollection, MongoDatabase, MongoSession, SessionOption, TransactionOptions, UpdateResult } from '../../src/store/mongo/backend.ts';

type Doc = Record<string, unknown> & { _id: unknown };
type Op = 'findOne' | 'find' | 'insertOne' | 'updateOne' | 'deleteOne' | 'countDocuments' | 'aggregate' | 'commitTransaction';

export interface Fault {
  op: Op;
  collection?: string;
  /** only when the operation's filter or document matches */
  when?: (arg: Record<string, unknown>) => boolean;
  /** how many times it fires (default 1) */
  times?: number;
  /** thrown after the operation took effect (a commit that succeeded but whose answer was lost) */
  after?: boolean;
  /** something that happens before the error is thrown (another process's write) */
  effect?: () => Promise<unknown>;
  error: () => Error;
}

export const writeConflict = () =>
  new MongoServerError({ message: 'WriteConflict error: this operation conflicted with another operation', code: 112, codeName: 'WriteConflict', errorLabels: ['TransientTransactionError'] });
export const unknownCommitResult = () =>
  new MongoServerError({ message: 'operation exceeded time limit', code: 91, codeName: 'ShutdownInProgress', errorLabels: ['UnknownTransactionCommitResult'] });
export const duplicateKey = (id: unknown) => new MongoServerError({ message: `E11000 duplicate key error dup key: { _id: ${JSON.stringify(id)} }`, code: 11000, codeName: 'DuplicateKey' });
/** a process that dies mid-write: not a MongoDB error, the write just never happens */
export class Crash extends Error {}

const keyOf = (collection: string, id: unknown) => `${collection}\u0000${JSON.stringify(id)}`;

class Transaction {
  readonly snapshot: Map<string, Map<string, Doc>>;
  readonly startedAt: number;
  readonly writes = new Map<string, Map<string, Doc | null>>();
  readonly options: TransactionOptions;
  constructor(db: FakeMongo, options: TransactionOptions) {
    this.startedAt = db.clock;
    this.options = options;
    this.snapshot = new Map([...db.data].map(([name, docs]) => [name, new Map(docs)]));
  }
}

export class FakeMongo implements MongoDatabase {
  readonly data = new Map<string, Map<string, Doc>>();
  /** commit clock: when each document was last written */
  clock = 0;
  private readonly writtenAt = new Map<string, number>();
  private readonly locks = new Map<string, FakeSession>();
  readonly faults: Fault[] = [];
  /** every transaction's options, in order */
  readonly transactions: TransactionOptions[] = [];
  /** counts of operations by name, for tests */
  readonly calls = new Map<string, number>();

  inject(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** each operation waits for a later turn of the event loop (a network round trip), so
   * concurrent requests interleave their operations as they would against a server */
  private readonly roundTrip: boolean;

  constructor(options: { roundTrip?: boolean } = {}) {
    this.roundTrip = options.roundTrip ?? false;
  }

  /** the fault to throw now, if one matches */
  async fault(op: Op, collection: string | undefined, arg: Record<string, unknown>, after: boolean): Promise<Error | undefined> {
    if (this.roundTrip) await new Promise((r) => setTimeout(r, Math.random() * 2));
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    const f = this.faults.find((x) => x.op === op && (x.collection === undefined || x.collection === collection) && !!x.after === after && (x.when?.(arg) ?? true) && x.times! > 0);
    if (!f) return undefined;
    f.times!--;
    await f.effect?.();
    return f.error();
  }

  /** how many times each document was written (by collection and _id) */
  readonly writeCounts = new Map<string, number>();

  collection<T>(name: string): MongoCollection<T> {
    return new FakeCollection(this, name) as unknown as MongoCollection<T>;
  }

  startSession(): MongoSession {
    return new FakeSession(this);
  }

  docs(name: string): Map<string, Doc> {
    let d = this.data.get(name);
    if (!d) this.data.set(name, (d = new Map()));
    return d;
  }

  /** the documents a session sees */
  view(name: string, session: FakeSession | undefined): Doc[] {
    const tx = session?.tx;
    if (!tx) return [...this.docs(name).values()];
    const out = new Map(tx.snapshot.get(name) ?? []);
    for (const [k, v] of tx.writes.get(name) ?? []) {
      if (v === null) out.delete(k);
      else out.set(k, v);
    }
    return [...out.values()];
  }

  /** writes (or deletes, doc null) one document, in the session's transaction when it has one */
  write(name: string, id: unknown, doc: Doc | null, session: FakeSession | undefined): void {
    const key = keyOf(name, id);
    const tx = session?.tx;
    if (tx) {
      const holder = this.locks.get(key);
      if ((holder && holder !== session) || (this.writtenAt.get(key) ?? -1) > tx.startedAt) throw writeConflict();
      this.locks.set(key, session!);
      let w = tx.writes.get(name);
      if (!w) tx.writes.set(name, (w = new Map()));
      w.set(JSON.stringify(id), doc);
      return;
    }
    this.apply(name, JSON.stringify(id), doc);
  }

  /** open change streams, by collection */
  readonly feeds: { collection: string; pipeline: Record<string, unknown>[]; emitter: EventEmitter; closed: boolean }[] = [];
  private changeId = 0;

  private apply(name: string, id: string, doc: Doc | null): void {
    const existed = this.docs(name).has(id);
    if (doc === null) this.docs(name).delete(id);
    else this.docs(name).set(id, doc);
    if (doc !== null) {
      // a change event per committed write, after the commit (fullDocument as updateLookup reads it)
      const change = { _id: { n: ++this.changeId }, operationType: existed ? 'update' : 'insert', fullDocument: structuredClone(doc) };
      for (const f of this.feeds) {
        if (f.closed || f.collection !== name) continue;
        const [out] = new Aggregator(f.pipeline).run([change]);
        if (out) setImmediate(() => !f.closed && f.emitter.emit('change', out));
      }
    }
    this.writtenAt.set(`${name}\u0000${id}`, ++this.clock);
    this.writeCounts.set(`${name}/${id}`, (this.writeCounts.get(`${name}/${id}`) ?? 0) + 1);
  }

  commit(session: FakeSession): void {
    const tx = session.tx!;
    for (const [name, writes] of tx.writes) for (const [id, doc] of writes) this.apply(name, id, doc);
    this.release(session);
  }

  release(session: FakeSession): void {
    for (const [k, s] of this.locks) if (s === session) this.locks.delete(k);
    session.tx = undefined;
  }
}

class FakeSession implements MongoSession {
  tx?: Transaction;
  private readonly db: FakeMongo;
  constructor(db: FakeMongo) {
    this.db = db;
  }
  startTransaction(options: TransactionOptions): void {
    if (this.tx) throw new Error('Transaction already in progress');
    this.db.transactions.push(options);
    this.tx = new Transaction(this.db, options);
  }
  async commitTransaction(): Promise<void> {
    const before = await this.db.fault('commitTransaction', undefined, {}, false);
    if (before) {
      // a commit that failed with a transient error leaves nothing written
      if ((before as MongoServerError).hasErrorLabel?.('TransientTransactionError')) this.db.release(this);
      throw before;
    }
    if (this.tx) this.db.commit(this);
    const after = await this.db.fault('commitTransaction', undefined, {}, true);
    if (after) throw after;
  }
  async abortTransaction(): Promise<void> {
    this.db.release(this);
  }
  async endSession(): Promise<void> {
    this.db.release(this);
  }
}

function sorted(docs: Doc[], spec?: Record<string, 1 | -1>): Doc[] {
  if (!spec) return docs;
  return new Aggregator([{ $sort: spec }], { processingMode: ProcessingMode.CLONE_OFF }).run(docs) as Doc[];
}

function project(doc: Doc, projection?: Record<string, 0 | 1>): Doc {
  if (!projection) return structuredClone(doc);
  return new Aggregator([{ $project: projection }]).run([structuredClone(doc)])[0] as Doc;
}

class FakeCursor<T> implements FindCursor<T> {
  private spec?: Record<string, 1 | -1>;
  private n?: number;
  private readonly load: () => Promise<Doc[]>;
  private readonly projection?: Record<string, 0 | 1>;
  constructor(load: () => Promise<Doc[]>, projection?: Record<string, 0 | 1>) {
    this.load = load;
    this.projection = projection;
  }
  sort(spec: Record<string, 1 | -1>) {
    this.spec = spec;
    return this;
  }
  limit(n: number) {
    this.n = n;
    return this;
  }
  async toArray(): Promise<T[]> {
    const docs = sorted(await this.load(), this.spec);
    return docs.slice(0, this.n ?? docs.length).map((d) => project(d, this.projection)) as T[];
  }
}

class FakeCollection implements MongoCollection<Doc> {
  private readonly db: FakeMongo;
  private readonly name: string;
  constructor(db: FakeMongo, name: string) {
    this.db = db;
    this.name = name;
  }

  private session(options?: SessionOption): FakeSession | undefined {
    return options?.session as FakeSession | undefined;
  }

  private async check(op: Op, arg: Record<string, unknown>): Promise<void> {
    const f = await this.db.fault(op, this.name, arg, false);
    if (f) throw f;
  }

  private matching(filter: Record<string, unknown>, options?: SessionOption): Doc[] {
    const q = new Query(filter);
    return this.db.view(this.name, this.session(options)).filter((d) => q.test(d));
  }

  async findOne(filter: Record<string, unknown>, options?: FindOptions): Promise<Doc | null> {
    await this.check('findOne', filter);
    const d = this.matching(filter, options)[0];
    return d ? project(d, options?.projection) : null;
  }

  find(filter: Record<string, unknown>, options?: FindOptions): FindCursor<Doc> {
    return new FakeCursor(async () => {
      await this.check('find', filter);
      return this.matching(filter, options);
    }, options?.projection);
  }

  async insertOne(doc: Doc, options?: SessionOption): Promise<unknown> {
    await this.check('insertOne', doc);
    if (this.matching({ _id: doc._id }, options).length) throw duplicateKey(doc._id);
    this.db.write(this.name, doc._id, structuredClone(doc), this.session(options));
    return { insertedId: doc._id };
  }

  async updateOne(filter: Record<string, unknown>, change: Record<string, unknown>, options?: SessionOption & { upsert?: boolean }): Promise<UpdateResult> {
    await this.check('updateOne', filter);
    const { $setOnInsert, ...modifier } = change as { $setOnInsert?: Record<string, unknown> } & Record<string, unknown>;
    const found = this.matching(filter, options)[0];
    if (found) {
      const next = structuredClone(found);
      update(next, modifier);
      this.db.write(this.name, next._id, next, this.session(options));
      return { matchedCount: 1, upsertedCount: 0 };
    }
    if (!options?.upsert) return { matchedCount: 0, upsertedCount: 0 };
    // an upsert starts from the filter's equality fields, as MongoDB does
    const doc: Doc = { _id: filter._id };
    for (const [k, v] of Object.entries(filter)) if (!k.startsWith('$') && (v === null || typeof v !== 'object')) doc[k] = v;
    update(doc, { ...modifier, ...($setOnInsert ? { $set: { ...(modifier.$set as object), ...$setOnInsert } } : {}) });
    if (this.matching({ _id: doc._id }, options).length) throw duplicateKey(doc._id);
    this.db.write(this.name, doc._id, doc, this.session(options));
    return { matchedCount: 0, upsertedCount: 1 };
  }

  async deleteOne(filter: Record<string, unknown>, options?: SessionOption): Promise<unknown> {
    await this.check('deleteOne', filter);
    const d = this.matching(filter, options)[0];
    if (d) this.db.write(this.name, d._id, null, this.session(options));
    return { deletedCount: d ? 1 : 0 };
  }

  async countDocuments(filter: Record<string, unknown>, options?: SessionOption): Promise<number> {
    await this.check('countDocuments', filter);
    return this.matching(filter, options).length;
  }

  watch(pipeline: Record<string, unknown>[]): ChangeFeed {
    const feed = { collection: this.name, pipeline, emitter: new EventEmitter(), closed: false };
    this.db.feeds.push(feed);
    return {
      on: (event: string, listener: (...args: any[]) => void) => feed.emitter.on(event, listener),
      close: async () => {
        feed.closed = true;
      },
    } as ChangeFeed;
  }

  aggregate(pipeline: Record<string, unknown>[], options?: SessionOption): { toArray(): Promise<Record<string, unknown>[]> } {
    return {
      toArray: async () => {
        await this.check('aggregate', { pipeline });
        return new Aggregator(pipeline, { processingMode: ProcessingMode.CLONE_INPUT }).run(this.db.view(this.name, this.session(options))) as Record<string, unknown>[];
      },
    };
  }
}
