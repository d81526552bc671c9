import type { IndexRows } from '../search/index-rows.ts';
import type { Cursor, SearchQuery } from '../search/ir.ts';
import type { MessageLogStore } from './message-log.ts';
import type { QueuedAudit } from '../audit/audit.ts';
import type { CheckpointSigner } from '../audit/checkpoint.ts';
import type { CheckpointCollection, LinkCollection } from '../audit/ledger/mongo.ts';

// The engine-neutral storage contract. Engines (sqlite, later mongo) keep current resources and
// every version; everything conditional (If-Match, version numbering, no-op detection) lives once
// above them in src/store/repository.ts, so the engines only read and append.

/** One stored version of a resource. `json` is the serialized resource (with meta) or null when
 * the version is a deletion. Raw text lets reads answer without parsing. */
export interface StoredVersion {
  resourceType: string;
  id: string;
  versionId: number;
  /** ISO instant with milliseconds, also written into meta.lastUpdated */
  lastUpdated: string;
  deleted: boolean;
  json: string | null;
}

export interface HistoryEntry extends StoredVersion {
  /** 'POST' for the first version, 'PUT' / 'PATCH' for later ones, 'DELETE' for deletions */
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** engine-specific, strictly increasing write sequence; used only to build cursors */
  seq: number;
  /** engines whose system history merges two sequences (SQLite: versions and the audit ledger):
   * the cursors, as [seq, ledger seq], of the entries strictly older and strictly newer than
   * this one (beforeSeq/beforeLedgerSeq, afterSeq/afterLedgerSeq) */
  older?: [number, number];
  newer?: [number, number];
}

export interface HistoryQuery {
  resourceType?: string;
  id?: string;
  /** versions written at or after this instant (ISO) */
  since?: string;
  /** versions that were current at some point in [atStart, atEnd) */
  atStart?: string;
  atEnd?: string;
  count: number;
  /** keyset cursor: entries strictly older than this seq (next pages) */
  beforeSeq?: number;
  /** entries strictly newer than this seq (previous pages) */
  afterSeq?: number;
  /** the second part of a cursor of HistoryEntry.older / newer */
  beforeLedgerSeq?: number;
  afterLedgerSeq?: number;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** whether older entries exist past the last one returned */
  hasOlder: boolean;
  /** whether newer entries exist before the first one returned */
  hasNewer: boolean;
  total?: number;
}

export interface VersionWrite {
  /** search index rows of this version (absent for deletions: their rows are removed) */
  index?: IndexRows;
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  method: HistoryEntry['method'];
  /** null for a deletion */
  json: string | null;
}

export interface FoundResource {
  resourceType: string;
  id: string;
  json: string;
}

export interface SearchMatch extends FoundResource {
  /** keyset position (sort values, then an engine row key) for cursors */
  position: (string | number | null)[];
}

export interface SearchResult {
  matches: SearchMatch[];
  /** _include and _revinclude results, without the matches themselves */
  included: FoundResource[];
  /** more matches exist beyond this page in the direction read */
  hasMore: boolean;
  total?: number;
}

/** Reads and writes inside one atomic unit of work. */
export interface StoreTransaction {
  current(resourceType: string, id: string): Promise<StoredVersion | undefined>;
  version(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined>;
  write(version: VersionWrite): Promise<void>;
  /** The store's clock: strictly later than every lastUpdated written before. */
  now(): string;
  /** A search that sees this transaction's own writes (conditional interactions). */
  search(query: SearchQuery, cursor?: Cursor): Promise<SearchResult>;
  /** Serializes this transaction with every other that claims the same criteria (a
   * conditional interaction's search), on engines whose transactions are not serializable by
   * themselves (MongoDB: snapshot isolation). Absent: the engine's transactions already are. */
  claim?(criteria: string): Promise<void>;
  /** Replaces the index rows of a resource's current version ($reindex); no new version. */
  reindex(resourceType: string, id: string, index: IndexRows): Promise<void>;
  /** Replaces the stored content of one version without making a new one: $meta-add and
   * $meta-delete change only its meta (tags, profiles, security labels), which R4 does in place. */
  rewrite(resourceType: string, id: string, versionId: number, json: string): Promise<void>;
}

export interface ScannedResource extends FoundResource {
  /** engine position for resuming a scan */
  position: number;
}

export interface ResourceStore {
  readonly engine: string;
  /** false when the engine cannot commit several writes atomically (MongoDB without a replica
   * set): transaction Bundles are refused. Undefined means it can. */
  readonly atomicTransactions?: boolean;
  /** true when transaction() may run `work` more than once (MongoDB retries after a write
   * conflict): work that changes what it was given must then start each attempt from a copy.
   * Undefined: `work` runs once (SQLite), and copying it would be wasted. */
  readonly retriesTransactions?: boolean;
  /** The most entries of one transaction Bundle this engine commits (MongoDB: a transaction's
   * lifetime and cache); larger ones are refused with 413. Undefined: the server's limit only. */
  readonly maxTransactionEntries?: number;
  /** true when the store already held resources indexed by a version of migfhir that did not
   * mark rows from sensitive elements (IndexRows.sensitive): the app reindexes them at start. */
  readonly unmarkedSensitiveRows?: boolean;
  /** true when the store already held resources indexed by a version of migfhir that did not
   * mark rows from status-revealing identifiers (index-rows.ts `sens`): the app relabels and
   * reindexes those holding one at start (Repository.relabel). */
  readonly unmarkedStatusIdentifiers?: boolean;
  /** The current, not deleted resources whose stored JSON contains one of `texts`. */
  currentContaining?(texts: string[]): Promise<{ resourceType: string; id: string }[]>;
  /** Current version (possibly a deletion marker), outside any transaction. */
  current(resourceType: string, id: string): Promise<StoredVersion | undefined>;
  version(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined>;
  history(query: HistoryQuery): Promise<HistoryPage>;
  /** One page of matches of a compiled-from-request search, with its includes. */
  search(query: SearchQuery, cursor?: Cursor): Promise<SearchResult>;
  /** Current, not deleted resources of `types` (all when undefined) after `position`, in a
   * stable order: the basis of $reindex, resumable from the last position. */
  scan(types: string[] | undefined, position: number, limit: number): Promise<ScannedResource[]>;
  /** The tags, security labels (system and code) and profiles current resources of `types`
   * (all when undefined) carry, at most `limit` of each ($meta at type and system level). */
  metaInUse(types: string[] | undefined, limit: number): Promise<MetaInUse>;
  /** Whether some current resource has rows from its sensitive elements (IndexRows.sensitive)
   * under one of the index keys: searches reading them are refused to clients without the
   * migration-data scope. Reads committed data, so it holds across processes. */
  hasSensitiveRows(keys: string[]): Promise<boolean>;
  /** Tells `listener` of the versions of `types` that any process sharing the database commits
   * (this one's included, possibly more than once), so caches built from stored resources
   * follow writes made elsewhere. Absent: one process owns the database (SQLite), and
   * Repository.onCommit sees every write. */
  watch?(types: string[], listener: (written: VersionWrite[]) => void): void;
  /** The inbound message log (src/store/message-log.ts), kept beside the resources. Absent:
   * the engine keeps none, and the server logs no message. */
  messageLog?(): MessageLogStore;
  /** The trail the engine keeps the server's AuditEvents in (src/audit/sinks.ts appends to it
   * through this alone); undefined when it keeps none, and the server must run with --audit off. */
  auditLedger(): AuditLedger | undefined;
  /** Runs `work` atomically: every write in it is kept, or none is. Serializable. */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Whether the engine answers (on MongoDB: and a primary can take writes), and its gauges,
   * for /readyz and /metrics. Never resource data. */
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/** An engine's audit trail, by how it is kept. */
export type AuditLedger = AuditRows | AuditLinks;

/** Compact rows the engine chains and appends itself (SQLite: src/store/sqlite/audit-ledger.ts);
 * the engine then refuses every write of an AuditEvent, whether auditing is on or off, and the
 * CapabilityStatement offers only reads and searches of them. */
export interface AuditRows {
  readonly kind: 'rows';
  /** the database file, which the audit worker opens a connection of its own to (':memory:':
   * none can, and batches are appended on the store's connection) */
  readonly file: string;
  readonly synchronous: 'normal' | 'full';
  /** chains and appends events inside the store's open transaction (transaction()) */
  append(events: QueuedAudit[]): void;
  /** appends from now on write checkpoints signed by `signer`; the first is written at once */
  sign(signer: CheckpointSigner): Promise<void>;
  /** signs the head if an event came since the last checkpoint (the trail closing) */
  checkpoint(): Promise<void>;
}

/** AuditEvents stored as resources and chained in insert-only collections of link batches and
 * signed checkpoints (MongoDB: src/audit/ledger/mongo.ts). */
export interface AuditLinks {
  readonly kind: 'links';
  readonly links: LinkCollection;
  readonly checkpoints: CheckpointCollection;
}

export interface StoreHealth {
  ready: boolean;
  /** what was checked, or why not ready (no data, no connection strings) */
  detail: string;
  /** engine gauges by metric name suffix, e.g. sqlite_database_bytes */
  gauges: Record<string, number>;
}

export interface MetaInUse {
  tag: { system?: string; code: string }[];
  security: { system?: string; code: string }[];
  profile: string[];
}
