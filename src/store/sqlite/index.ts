// The embedded engine: SQLite through better-sqlite3, so a fresh clone runs with no server.
// WAL mode; one writer connection (writes are serialized through a queue and committed in
// groups, see drain) and one reader connection, so a read never sees a write that is still
// in flight. Prepared statements only: no value is ever spliced into SQL text.
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditRows, HistoryEntry, HistoryPage, HistoryQuery, MetaInUse, ResourceStore, ScannedResource, SearchResult, StoredVersion, StoreHealth, StoreTransaction, VersionWrite } from '../types.ts';
import { clusterIndexTables } from './clustered-index-tables.ts';
import { SCHEMA } from './schema.ts';
import { SqliteIndexWriter } from './index-writer.ts';
import { ensureCanonicalColumns } from './canonical-columns.ts';
import { ensureSensColumns } from './sens-columns.ts';
import { Checkpointer, WRITER_AUTOCHECKPOINT } from './checkpointer.ts';
import { SqliteSearch } from './search.ts';
import { ensureAuditCheckpoints, SqliteCheckpointLog } from './audit-trail.ts';
import { cutBefore, ensureAuditRetention, retentionBase, retentionQuery, type RetentionBase } from './audit-retention.ts';
import { ensureAuditLedger, SqliteLedgerTrail } from './audit-ledger.ts';
import { migrateAuditEvents } from './audit-migrate.ts';
import { AUDIT_TYPE, LedgerSearch } from './audit-search.ts';
import { systemHistory } from './system-history.ts';
import { FhirError } from '../../fhir/errors.ts';
import { messageLogPath, SqliteMessageLog } from './message-log.ts';
import { ThreadedMessageLog } from './message-log-thread.ts';
import type { MessageLogStore } from '../message-log.ts';
import { RETENTION_CLIENT, type QueuedAudit } from '../../audit/audit.ts';
import type { Checkpoint, CheckpointSigner } from '../../audit/checkpoint.ts';
import type { Cursor, SearchQuery } from '../../search/ir.ts';

export interface SqliteOptions {
  /** file path, or ':memory:' for tests */
  path: string;
  /** 'normal' survives a process crash (kill -9); 'full' also survives power loss */
  synchronous?: 'normal' | 'full';
  /** AuditEvents are kept in the audit ledger (src/store/sqlite/audit-ledger.ts) and served by
   * its own search (audit-search.ts); events stored as resources by older versions are moved
   * into it when the store opens (audit-migrate.ts). The default. `false`: AuditEvents are
   * resources like any other and the store keeps no trail (the MongoDB engine's test stand-in,
   * whose trail is its own, and the tests' oracle of how the general index answers them). */
  auditLedger?: boolean;
}

/** An AuditEvent changed other than by the trail's own append: refused as every door is. */
const immutable = () => new FhirError(405, { code: 'not-supported', diagnostics: 'AuditEvents are written by the server only and never changed' });

type Row = {
  seq: number;
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: string;
  method: HistoryEntry['method'];
  content: string | null;
};

function toVersion(r: Row): StoredVersion {
  return {
    resourceType: r.resource_type,
    id: r.id,
    versionId: r.version_id,
    lastUpdated: r.last_updated,
    deleted: r.content === null,
    json: r.content,
  };
}

function toEntry(r: Row): HistoryEntry {
  return { ...toVersion(r), method: r.method, seq: r.seq };
}

/** current versions kept in memory for reads */
const CACHE_SIZE = 10_000;

/** most transactions one group commit holds (see drain) */
const GROUP_MAX = 256;
/** how long (ms) a group keeps waiting for more transactions to join it */
const GROUP_MS = 10;

interface Waiting {
  work: (tx: StoreTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

const COLUMNS = 'v.seq, v.resource_type, v.id, v.version_id, v.last_updated, v.method, v.content';

export class SqliteStore implements ResourceStore {
  readonly engine = 'sqlite';
  readonly options: SqliteOptions;
  readonly unmarkedSensitiveRows: boolean;
  readonly unmarkedStatusIdentifiers: boolean;
  private auditTrail: SqliteLedgerTrail | undefined;
  /** the audit ledger's reads, on the reader and on the writer connection (none: AuditEvents are generic resources) */
  private readonly ledger: LedgerSearch | undefined;
  private readonly txLedger: LedgerSearch | undefined;
  /** AuditEvents moved from the generic rows into the ledger when this store opened, and how long it took (ms) */
  readonly auditMigration: { events: number; ms: number } | undefined;
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  /** transactions not yet begun, and the loop running them (see drain) */
  private readonly waiting: Waiting[] = [];
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  private lastIssued = 0;
  private readonly stmt;
  private readonly historyCache = new Map<string, Database.Statement>();
  private readonly index: SqliteIndexWriter;
  private readonly checkpointer: Checkpointer | undefined;
  /** Recently read current versions. This process is the database's only writer, so the cache
   * is exact: a write updates the entry of its resource when its transaction commits. A write
   * adds none: a bulk import (tens of thousands of versions nobody has read) would otherwise
   * push out every version the clinic's reads keep asking for, and each of its versions would
   * live long enough to be promoted to the old generation only to die there. */
  private readonly cache = new Map<string, StoredVersion>();
  private pendingCache: StoredVersion[] = [];
  private readonly searcher: SqliteSearch;
  private readonly txSearcher: SqliteSearch;

  constructor(options: SqliteOptions) {
    this.options = options;
    const memory = options.path === ':memory:';
    if (!memory) mkdirSync(dirname(options.path), { recursive: true });
    // In-memory databases are private per connection, so tests share one connection for both.
    this.writer = new Database(options.path);
    this.writer.pragma('journal_mode = WAL');
    this.writer.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.writer.pragma('busy_timeout = 5000');
    this.writer.pragma('cache_size = -65536');
    this.writer.pragma('temp_store = MEMORY');
    // checkpoints run on a worker thread (checkpointer.ts); this is only its backstop
    if (!memory) this.writer.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT}`);
    const table = (name: string) => this.writer.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    // a database written before sp_sensitive existed (its rows carry no marks)
    const unmarked = table('resource') && !table('sp_sensitive');
    // index tables written before they were clustered on (rid, param, n): rebuilt first
    clusterIndexTables(this.writer);
    this.writer.exec(SCHEMA);
    this.unmarkedSensitiveRows = unmarked && this.writer.prepare('SELECT 1 FROM resource WHERE deleted = 0 LIMIT 1').get() !== undefined;
    ensureCanonicalColumns(this.writer);
    const sensAdded = ensureSensColumns(this.writer);
    this.unmarkedStatusIdentifiers = sensAdded && this.writer.prepare('SELECT 1 FROM resource WHERE deleted = 0 LIMIT 1').get() !== undefined;
    ensureAuditCheckpoints(this.writer);
    ensureAuditRetention(this.writer);
    if (options.auditLedger !== false) {
      ensureAuditLedger(this.writer);
      const began = performance.now();
      const events = migrateAuditEvents(this.writer);
      // on the ledger a checkpoint's head is the row numbered like its count of events
      this.writer.exec('UPDATE audit_checkpoint SET version_seq = events WHERE version_seq <> events');
      this.auditMigration = events ? { events, ms: performance.now() - began } : undefined;
    }
    // keep the planner's statistics current (SQLite's advice for long-lived connections)
    this.writer.pragma('optimize=0x10002');
    this.reader = memory ? this.writer : new Database(options.path, { readonly: true });
    if (!memory) {
      this.checkpointer = new Checkpointer(options.path);
      this.reader.pragma('busy_timeout = 5000');
      this.reader.pragma('cache_size = -65536');
    }
    // Two point lookups (current seq, then the version row) measure 2.4x faster in
    // better-sqlite3 than the equivalent join.
    const currentSeq = 'SELECT seq FROM resource WHERE resource_type = ? AND id = ?';
    const bySeq = `SELECT ${COLUMNS} FROM resource_version v WHERE v.seq = ?`;
    this.stmt = {
      currentSeq: this.reader.prepare<[string, string], number>(currentSeq).pluck(),
      bySeq: this.reader.prepare<[number], Row>(bySeq),
      currentSeqInTx: this.writer.prepare<[string, string], number>(currentSeq).pluck(),
      bySeqInTx: this.writer.prepare<[number], Row>(bySeq),
      version: this.reader.prepare<[string, string, number], Row>(
        `SELECT ${COLUMNS} FROM resource_version v WHERE v.resource_type = ? AND v.id = ? AND v.version_id = ?`,
      ),
      versionInTx: this.writer.prepare<[string, string, number], Row>(
        `SELECT ${COLUMNS} FROM resource_version v WHERE v.resource_type = ? AND v.id = ? AND v.version_id = ?`,
      ),
      rewrite: this.writer.prepare('UPDATE resource_version SET content = ? WHERE resource_type = ? AND id = ? AND version_id = ? AND content IS NOT NULL'),
      supersede: this.writer.prepare(
        `UPDATE resource_version SET superseded_at = ? WHERE resource_type = ? AND id = ? AND version_id = ?`,
      ),
      insert: this.writer.prepare(
        `INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, content)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      // the current-version row: a look-up, then an INSERT or an UPDATE by rid. One
      // INSERT … ON CONFLICT DO UPDATE … RETURNING rid did the same but cost 3× as much CPU inside
      // the group commit's savepoints (HL7 v2 bench: ~0.3 ms a message for three writes)
      addResource: this.writer.prepare<[string, string, number | bigint, string, number]>(
        'INSERT INTO resource (resource_type, id, seq, last_updated, deleted) VALUES (?, ?, ?, ?, ?)',
      ),
      moveResource: this.writer.prepare<[number | bigint, string, number, number]>('UPDATE resource SET seq = ?, last_updated = ?, deleted = ? WHERE rid = ?'),
      rid: this.writer.prepare<[string, string], { rid: number }>('SELECT rid FROM resource WHERE resource_type = ? AND id = ?'),
      begin: this.writer.prepare('BEGIN IMMEDIATE'),
      commit: this.writer.prepare('COMMIT'),
      rollback: this.writer.prepare('ROLLBACK'),
      savepoint: this.writer.prepare('SAVEPOINT tx'),
      release: this.writer.prepare('RELEASE tx'),
      rollbackTo: this.writer.prepare('ROLLBACK TO tx'),
      sensitive: this.reader.prepare<[number], number>('SELECT 1 FROM sp_sensitive WHERE param = ? LIMIT 1').pluck(),
      maxUpdated: this.writer.prepare<[], { m: string | null }>('SELECT MAX(last_updated) AS m FROM resource_version'),
    };
    this.index = new SqliteIndexWriter(this.writer);
    const lookup = (key: string) => this.index.lookup(key);
    this.ledger = options.auditLedger !== false ? new LedgerSearch(this.reader, lookup) : undefined;
    this.txLedger = options.auditLedger !== false ? (memory ? this.ledger : new LedgerSearch(this.writer, lookup)) : undefined;
    this.searcher = new SqliteSearch(this.reader, lookup, this.ledger);
    this.txSearcher = new SqliteSearch(this.writer, lookup, this.txLedger);
    const max = this.stmt.maxUpdated.get()?.m;
    if (max) this.lastIssued = Date.parse(max);
    // the newest event's lastUpdated too: the clock stays past every version written, events included
    const newestEvent = this.ledger ? this.writer.prepare<[], number>('SELECT updated FROM audit_ledger ORDER BY seq DESC LIMIT 1').pluck().get() : undefined;
    if (newestEvent !== undefined) this.lastIssued = Math.max(this.lastIssued, newestEvent);
  }

  async current(resourceType: string, id: string): Promise<StoredVersion | undefined> {
    if (this.ledger && resourceType === AUDIT_TYPE) return this.ledger.current(id);
    const key = `${resourceType}/${id}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const seq = this.stmt.currentSeq.get(resourceType, id);
    const row = seq === undefined ? undefined : this.stmt.bySeq.get(seq);
    if (row) this.remember(toVersion(row));
    return row ? toVersion(row) : undefined;
  }

  private remember(v: StoredVersion): void {
    const key = `${v.resourceType}/${v.id}`;
    this.cache.delete(key);
    this.cache.set(key, v);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }

  async version(resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    // an event has one version
    if (this.ledger && resourceType === AUDIT_TYPE) return versionId === 1 ? this.ledger.current(id) : undefined;
    const row = this.stmt.version.get(resourceType, id, versionId);
    return row ? toVersion(row) : undefined;
  }

  async history(q: HistoryQuery): Promise<HistoryPage> {
    if (this.ledger && q.resourceType === AUDIT_TYPE) return this.ledger.history(q);
    if (this.ledger && q.resourceType === undefined) return systemHistory(q, (v) => this.versionHistory(v), (l) => this.ledger!.history(l));
    return this.versionHistory(q);
  }

  /** History of the version rows (every type but the ledger's AuditEvents). */
  private versionHistory(q: HistoryQuery): HistoryPage {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.resourceType !== undefined) {
      where.push('v.resource_type = ?');
      params.push(q.resourceType);
    }
    if (q.id !== undefined) {
      where.push('v.id = ?');
      params.push(q.id);
    }
    if (q.since !== undefined) {
      where.push('v.last_updated >= ?');
      params.push(q.since);
    }
    if (q.atStart !== undefined && q.atEnd !== undefined) {
      where.push('v.last_updated < ? AND (v.superseded_at IS NULL OR v.superseded_at > ?)');
      params.push(q.atEnd, q.atStart);
    }
    const filter = where.length ? where.join(' AND ') : '1';
    const newerFirst = q.afterSeq === undefined;
    const cursor = q.beforeSeq !== undefined ? ' AND v.seq < ?' : q.afterSeq !== undefined ? ' AND v.seq > ?' : '';
    const cursorParams = q.beforeSeq !== undefined ? [q.beforeSeq] : q.afterSeq !== undefined ? [q.afterSeq] : [];
    const pageSql = `SELECT ${COLUMNS} FROM resource_version v WHERE ${filter}${cursor}
      ORDER BY v.seq ${newerFirst ? 'DESC' : 'ASC'} LIMIT ?`;
    const rows = this.prepared(pageSql).all(...params, ...cursorParams, q.count + 1) as Row[];
    const more = rows.length > q.count;
    if (more) rows.pop();
    if (!newerFirst) rows.reverse();
    let hasOlder: boolean;
    let hasNewer: boolean;
    const exists = (cmp: string, seq: number) =>
      this.prepared(`SELECT 1 FROM resource_version v WHERE ${filter} AND v.seq ${cmp} ? LIMIT 1`).get(...params, seq) !==
      undefined;
    if (newerFirst) {
      hasOlder = more;
      hasNewer = q.beforeSeq !== undefined && exists('>=', q.beforeSeq);
    } else {
      hasNewer = more;
      hasOlder = exists('<=', q.afterSeq!);
    }
    // counted on the first page only (Bundle.total is optional in a history; MongoDB does the
    // same): every version of a 1M store is ~90 ms of counting, against ~0.2 ms for the page
    if (q.beforeSeq !== undefined || q.afterSeq !== undefined) return { entries: rows.map(toEntry), hasOlder, hasNewer };
    const total = (this.prepared(`SELECT COUNT(*) AS n FROM resource_version v WHERE ${filter}`).get(...params) as {
      n: number;
    }).n;
    return { entries: rows.map(toEntry), hasOlder, hasNewer, total };
  }

  async search(query: SearchQuery, cursor?: Cursor): Promise<SearchResult> {
    return this.searcher.search(query, cursor);
  }

  async currentContaining(texts: string[]): Promise<{ resourceType: string; id: string }[]> {
    if (texts.length === 0) return [];
    // one pass over the current versions' text (instr: no LIKE escapes to get wrong)
    const sql = `SELECT r.resource_type AS resourceType, r.id AS id FROM resource r JOIN resource_version v ON v.seq = r.seq
      WHERE r.deleted = 0 AND (${texts.map(() => 'instr(v.content, ?) > 0').join(' OR ')})`;
    return this.writer.prepare<string[], { resourceType: string; id: string }>(sql).all(...texts);
  }

  async hasSensitiveRows(keys: string[]): Promise<boolean> {
    return keys.some((key) => {
      const param = this.index.lookup(key);
      return param !== undefined && this.stmt.sensitive.get(param) !== undefined;
    });
  }

  /** EXPLAIN QUERY PLAN of a search's page query (tests check that indexes are used). */
  explain(query: SearchQuery): string[] {
    if (this.ledger && query.types.length === 1 && query.types[0] === AUDIT_TYPE) return this.ledger.explain(query);
    return this.searcher.explain(query);
  }

  /** History SQL has a handful of shapes; each is prepared once. */
  private prepared(sql: string): Database.Statement {
    let s = this.historyCache.get(sql);
    if (!s) {
      s = this.reader.prepare(sql);
      this.historyCache.set(sql, s);
    }
    return s;
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ work, resolve, reject } as Waiting);
      if (!this.draining) {
        this.draining = true;
        this.drained = this.drain();
      }
    });
  }

  /** Group commit: every transaction waiting when one SQLite transaction begins, or queued while
   * it runs (up to GROUP_MAX), runs inside it under its own SAVEPOINT, and all commit together.
   * A commit writes every page the group touched to the WAL once: one create touches ~20 pages
   * (its index rows sit in many B-trees), so committing ten concurrent creates one by one wrote
   * most of those pages ten times. Each transaction still fails alone (ROLLBACK TO its
   * savepoint), sees the writes of those before it, and is answered only after the COMMIT
   * that makes it durable; if the COMMIT fails, every transaction of the group fails with it. */
  private async drain(): Promise<void> {
    for (;;) {
      if (!this.waiting.length) {
        // cleared here, not in a later callback: a transaction queued after the loop's last look
        // but before a `.finally` ran would otherwise wait for a drain that never comes
        this.draining = false;
        return;
      }
      try {
        this.stmt.begin.run();
      } catch (err) {
        // the database is locked past busy_timeout (another process) or unwritable
        this.waiting.shift()!.reject(err);
        continue;
      }
      const done: { item: Waiting; value: unknown }[] = [];
      const cached: StoredVersion[] = [];
      const issuedAtBegin = this.lastIssued;
      try {
        const began = performance.now();
        for (let n = 0; n < GROUP_MAX; n++) {
          if (!this.waiting.length) {
            // better-sqlite3 blocks the event loop, so requests that arrived meanwhile have not
            // reached the queue yet: one turn of the loop lets them join this commit
            if (performance.now() - began > GROUP_MS) break;
            await new Promise<void>((resolve) => setImmediate(resolve));
            if (!this.waiting.length) break;
          }
          const item = this.waiting.shift()!;
          const issuedBefore = this.lastIssued;
          const mark = this.index.mark();
          this.stmt.savepoint.run();
          try {
            const value = await item.work(this.tx);
            this.stmt.release.run();
            cached.push(...this.pendingCache);
            done.push({ item, value });
          } catch (err) {
            // an error that ended the whole SQLite transaction (SQLITE_FULL, I/O) takes the group with it
            if (!this.writer.inTransaction) {
              item.reject(err);
              throw err;
            }
            this.stmt.rollbackTo.run();
            this.stmt.release.run();
            this.lastIssued = issuedBefore;
            this.index.rolledBackTo(mark);
            item.reject(err);
          } finally {
            this.pendingCache = [];
          }
        }
        this.stmt.commit.run();
      } catch (err) {
        if (this.writer.inTransaction) this.stmt.rollback.run();
        this.lastIssued = issuedAtBegin;
        this.index.rolledBack();
        for (const d of done) d.item.reject(err);
        continue;
      }
      this.index.committed();
      for (const v of cached) if (this.cache.has(`${v.resourceType}/${v.id}`)) this.remember(v);
      for (const d of done) d.item.resolve(d.value);
    }
  }

  /** The rid of a resource's first version's new current-version row, without looking for one
   * first: the version's row was just inserted, so the resource had no version 1 and has no row.
   * undefined if it has one all the same (a store whose versions were removed by hand): then
   * movedResource finds it. */
  private firstResource(v: VersionWrite, seq: number | bigint, deleted: number): number | undefined {
    try {
      return Number(this.stmt.addResource.run(v.resourceType, v.id, seq, v.lastUpdated, deleted).lastInsertRowid);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return undefined;
      throw err;
    }
  }

  /** The rid of a resource's current-version row, pointed at its new version (added if none). */
  private movedResource(v: VersionWrite, seq: number | bigint, deleted: number): number {
    const known = this.stmt.rid.get(v.resourceType, v.id);
    if (!known) return Number(this.stmt.addResource.run(v.resourceType, v.id, seq, v.lastUpdated, deleted).lastInsertRowid);
    this.stmt.moveResource.run(seq, v.lastUpdated, deleted, known.rid);
    return known.rid;
  }

  private readonly tx: StoreTransaction = {
    current: async (resourceType, id) => {
      if (this.txLedger && resourceType === AUDIT_TYPE) return this.txLedger.current(id);
      const seq = this.stmt.currentSeqInTx.get(resourceType, id);
      const row = seq === undefined ? undefined : this.stmt.bySeqInTx.get(seq);
      return row ? toVersion(row) : undefined;
    },
    write: async (v: VersionWrite) => {
      if (this.ledger && v.resourceType === AUDIT_TYPE) throw immutable();
      if (v.versionId > 1) this.stmt.supersede.run(v.lastUpdated, v.resourceType, v.id, v.versionId - 1);
      const info = this.stmt.insert.run(v.resourceType, v.id, v.versionId, v.lastUpdated, v.method, v.json);
      const deleted = v.json === null ? 1 : 0;
      const first = v.versionId === 1 ? this.firstResource(v, info.lastInsertRowid, deleted) : undefined;
      const rid = first ?? this.movedResource(v, info.lastInsertRowid, deleted);
      // a new version's rows replace the last one's, table by table where they differ
      if (first === undefined && v.index && v.json !== null) this.index.replace(rid, v.index);
      else if (first === undefined) this.index.remove(rid);
      else if (v.index && v.json !== null) this.index.insert(rid, v.index);
      this.pendingCache.push({ resourceType: v.resourceType, id: v.id, versionId: v.versionId, lastUpdated: v.lastUpdated, deleted: v.json === null, json: v.json });
    },
    now: () => {
      const t = Math.max(Date.now(), this.lastIssued + 1);
      this.lastIssued = t;
      return new Date(t).toISOString();
    },
    version: async (resourceType, id, versionId) => {
      if (this.txLedger && resourceType === AUDIT_TYPE) return versionId === 1 ? this.txLedger.current(id) : undefined;
      const row = this.stmt.versionInTx.get(resourceType, id, versionId);
      return row ? toVersion(row) : undefined;
    },
    search: async (query, cursor) => this.txSearcher.search(query, cursor),
    rewrite: async (resourceType, id, versionId, json) => {
      if (this.ledger && resourceType === AUDIT_TYPE) throw immutable();
      this.stmt.rewrite.run(json, resourceType, id, versionId);
      const seq = this.stmt.currentSeqInTx.get(resourceType, id);
      const current = seq === undefined ? undefined : this.stmt.bySeqInTx.get(seq);
      if (current && current.version_id === versionId) this.pendingCache.push(toVersion(current));
    },
    reindex: async (resourceType, id, index) => {
      if (this.ledger && resourceType === AUDIT_TYPE) throw immutable();
      const row = this.stmt.rid.get(resourceType, id);
      if (!row) return;
      this.index.remove(row.rid);
      this.index.insert(row.rid, index);
    },
  };

  /** The audit ledger's rows, when this store keeps them (auditLedger: false: AuditEvents are
   * generic resources, and no trail is kept). */
  auditLedger(): AuditRows | undefined {
    if (!this.ledger) return undefined;
    return {
      kind: 'rows',
      file: this.options.path,
      synchronous: this.options.synchronous ?? 'normal',
      append: (events) => this.appendAudit(events),
      sign: (signer) => this.signAudit(signer),
      checkpoint: () => this.checkpointAudit(),
    };
  }

  /** Appends AuditEvents on the writer connection; only inside transaction(), so they commit
   * with the writes of that transaction (src/store/sqlite/audit-ledger.ts). */
  appendAudit(events: QueuedAudit[]): void {
    this.auditTrail ??= new SqliteLedgerTrail(this.ledgerDb());
    this.auditTrail.append(events, this.tx.now);
  }

  /** From now on the trail's appends on this connection write signed checkpoints, and the
   * first is written at once (it anchors the events stored before). */
  async signAudit(signer: CheckpointSigner): Promise<void> {
    const trail = new SqliteLedgerTrail(this.ledgerDb(), signer);
    this.auditTrail = trail;
    await this.transaction(async () => trail.checkpoint(false));
  }

  /** Signs the trail's head if any event came since the last checkpoint (the trail closing). */
  async checkpointAudit(): Promise<void> {
    const trail = this.auditTrail;
    // a store closed before the trail (a test's in-memory store) has nothing left to sign
    if (trail && this.writer.open) await this.transaction(async () => trail.checkpoint(true));
  }

  /** Deletes the trail's events up to the newest signed checkpoint stored before `before`, and
   * records the cut as an event (src/store/sqlite/audit-retention.ts); signAudit first. Run with
   * the server stopped: a running server's cache of current versions would still hold them. */
  async pruneAudit(before: string): Promise<{ base: RetentionBase; removed: number } | undefined> {
    const trail = this.auditTrail;
    if (!trail) throw new Error('pruneAudit needs the signing key (signAudit)');
    const result = await this.transaction(async () => {
      const from = retentionBase(this.writer)?.events ?? 0;
      const base = cutBefore(this.ledgerDb(), before);
      if (!base) return undefined;
      const at = Date.now();
      trail.append([{ interaction: 'delete', action: 'D', status: 200, clientId: RETENTION_CLIENT, query: retentionQuery(before, base), id: `retention-${at}`, at }], this.tx.now);
      return { base, removed: base.events - from };
    });
    if (result) {
      for (const key of this.cache.keys()) if (key.startsWith('AuditEvent/')) this.cache.delete(key);
      await this.checkpointAudit();
    }
    return result;
  }

  /** The writer connection, when this store keeps the audit ledger. */
  private ledgerDb(): Database.Database {
    if (!this.ledger) throw new Error('this store keeps AuditEvents as resources (auditLedger: false) and no audit trail');
    return this.writer;
  }

  /** Where the trail starts after retention cuts (none: at the genesis hash). */
  auditBase(): RetentionBase | undefined {
    return retentionBase(this.reader);
  }

  /** The trail's signed checkpoints, oldest first. */
  auditCheckpoints(): Checkpoint[] {
    return new SqliteCheckpointLog(this.reader).all();
  }

  async scan(types: string[] | undefined, position: number, limit: number): Promise<ScannedResource[]> {
    if (this.ledger && types?.includes(AUDIT_TYPE)) {
      // the ledger's positions are its own: events are scanned alone (chain order)
      if (types.length > 1) throw new Error('AuditEvents are scanned on their own');
      return this.ledger.scan(position, limit);
    }
    const typeFilter = types?.length ? `AND r.resource_type IN (${types.map(() => '?').join(', ')})` : '';
    const rows = this.prepared(
      `SELECT r.rid, r.resource_type, r.id, v.content FROM resource r JOIN resource_version v ON v.seq = r.seq
       WHERE r.rid > ? AND r.deleted = 0 ${typeFilter} ORDER BY r.rid LIMIT ?`,
    ).all(position, ...(types ?? []), limit) as { rid: number; resource_type: string; id: string; content: string }[];
    return rows.map((r) => ({ position: r.rid, resourceType: r.resource_type, id: r.id, json: r.content }));
  }

  async metaInUse(types: string[] | undefined, limit: number): Promise<MetaInUse> {
    const typeFilter = types?.length ? `AND r.resource_type IN (${types.map(() => '?').join(', ')})` : '';
    const distinct = (table: 'sp_token' | 'sp_uri', columns: string, key: string) => {
      const param = this.index.lookup(key);
      if (param === undefined) return [];
      return this.prepared(
        `SELECT DISTINCT ${columns} FROM ${table} t JOIN resource r ON r.rid = t.rid WHERE t.param = ? AND r.deleted = 0 ${typeFilter} ORDER BY 1, 2 LIMIT ${Math.trunc(limit)}`,
      ).all(param, ...(types ?? [])) as Record<string, string | null>[];
    };
    const codings = (key: string) => distinct('sp_token', 't.system AS system, t.code AS code', key).map((r) => ({ ...(r.system ? { system: r.system } : {}), code: r.code! }));
    const found: MetaInUse = {
      tag: codings('Resource._tag'),
      security: codings('Resource._security'),
      profile: distinct('sp_uri', 't.uri AS uri, 1', 'Resource._profile').map((r) => r.uri!),
    };
    // the ledger's AuditEvents have no index rows: it tells its own
    if (!this.ledger || (types && !types.includes(AUDIT_TYPE))) return found;
    return withMetaInUse(found, this.ledger.metaInUse(), limit);
  }

  async health(): Promise<StoreHealth> {
    try {
      this.reader.prepare('SELECT 1').get();
    } catch (err) {
      return { ready: false, detail: `SQLite does not answer: ${(err as Error).message}`, gauges: {} };
    }
    // the WAL's size is the checkpoint lag: what readers must still read past the database file
    const size = (path: string) => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    const memory = this.options.path === ':memory:';
    return {
      ready: true,
      detail: 'SQLite answers',
      gauges: memory ? {} : { sqlite_database_bytes: size(this.options.path), sqlite_wal_bytes: size(`${this.options.path}-wal`) },
    };
  }

  private inbound: MessageLogStore | undefined;

  /** The inbound message log (src/store/sqlite/message-log.ts), opened on first use: on a thread
   * of its own for a database file (message-log-thread.ts), here for an in-memory one. */
  messageLog(): MessageLogStore {
    const path = messageLogPath(this.options.path);
    this.inbound ??= path === ':memory:' ? new SqliteMessageLog(path, this.options.synchronous) : new ThreadedMessageLog(path, this.options.synchronous);
    return this.inbound;
  }

  async close(): Promise<void> {
    while (this.draining) await this.drained;
    await this.inbound?.close();
    await this.checkpointer?.close();
    if (this.reader !== this.writer) this.reader.close();
    this.writer.pragma('optimize');
    this.writer.close();
  }
}

/** `a` and `b` as one MetaInUse: each list without repeats, in the order the SQL gives (by system
 * and code, by url), at most `limit` long. */
function withMetaInUse(a: MetaInUse, b: MetaInUse, limit: number): MetaInUse {
  const codings = (x: MetaInUse['tag'], y: MetaInUse['tag']) => {
    const all = [...new Map([...x, ...y].map((c) => [`${c.system ?? ''}|${c.code}`, c])).values()];
    const cmp = (p: string, q: string) => (p < q ? -1 : p > q ? 1 : 0);
    return all.sort((c, d) => cmp(c.system ?? '', d.system ?? '') || cmp(c.code, d.code)).slice(0, limit);
  };
  return { tag: codings(a.tag, b.tag), security: codings(a.security, b.security), profile: [...new Set([...a.profile, ...b.profile])].sort().slice(0, limit) };
}
