// What the engine uses of the driver: a few collection methods and sessions with explicit
// transactions. The driver's Collection and ClientSession have these methods; tests pass a test
// double (test/helpers/mongo-fake.ts) that evaluates the same query documents with mingo and
// throws the driver's own error classes at chosen points, so the engine's write path, retries
// and recovery run here without a server.
export interface SessionOption {
  session?: MongoSession;
  /** server-side time limit of a read (MongoDB's maxTimeMS) */
  maxTimeMS?: number;
}

export interface FindOptions extends SessionOption {
  projection?: Record<string, 0 | 1>;
}

export interface FindCursor<T> {
  sort(spec: Record<string, 1 | -1>): FindCursor<T>;
  limit(n: number): FindCursor<T>;
  toArray(): Promise<T[]>;
}

export interface UpdateResult {
  matchedCount: number;
  upsertedCount: number;
}

export interface MongoCollection<T> {
  findOne(filter: Record<string, unknown>, options?: FindOptions): Promise<T | null>;
  find(filter: Record<string, unknown>, options?: FindOptions): FindCursor<T>;
  insertOne(doc: T, options?: SessionOption): Promise<unknown>;
  updateOne(filter: Record<string, unknown>, update: Record<string, unknown>, options?: SessionOption & { upsert?: boolean }): Promise<UpdateResult>;
  deleteOne(filter: Record<string, unknown>, options?: SessionOption): Promise<unknown>;
  countDocuments(filter: Record<string, unknown>, options?: SessionOption): Promise<number>;
  aggregate(pipeline: Record<string, unknown>[], options?: SessionOption & { readConcern?: { level: string } }): { toArray(): Promise<Record<string, unknown>[]> };
  /** a change stream (replica sets and sharded clusters only) */
  watch(pipeline: Record<string, unknown>[], options: { fullDocument: 'updateLookup'; resumeAfter?: unknown }): ChangeFeed;
}

/** What the engine uses of a change stream (the driver's ChangeStream is an EventEmitter). */
export interface ChangeFeed {
  on(event: 'change', listener: (change: { _id: unknown; fullDocument?: Record<string, unknown> }) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): Promise<void>;
}

export interface TransactionOptions {
  readConcern: { level: 'majority' | 'snapshot' };
  writeConcern: { w: 'majority'; wtimeoutMS: number };
  readPreference: 'primary';
  maxCommitTimeMS: number;
}

export interface MongoSession {
  startTransaction(options: TransactionOptions): void;
  commitTransaction(): Promise<unknown>;
  abortTransaction(): Promise<unknown>;
  endSession(): Promise<void>;
}

export interface MongoDatabase {
  collection<T>(name: string): MongoCollection<T>;
  startSession(): MongoSession;
}
