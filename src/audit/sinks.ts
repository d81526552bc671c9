// Where the Auditor's events go, by the trail the store keeps (ResourceStore.auditLedger):
// - an SQLite file: read events to a worker thread with its own connection to the same WAL
//   database (src/audit/worker.ts), so the event loop that answers reads never renders, hashes or
//   stores an AuditEvent (the worker reads them from the shared buffers the requests wrote them
//   into, src/audit/event-buffer.ts); write events on the server's writer connection, in the write's own
//   transaction. Both append to the audit ledger (src/store/sqlite/audit-ledger.ts). Should the worker fail, its unconfirmed batches are written on the main thread.
// - an in-memory SQLite database (tests): a second connection cannot see it, so batches are
//   written on the main thread, after the responses.
// - MongoDB: each event a resource write through the repository, linked afterwards in the
//   engine's insert-only ledger collection (src/audit/ledger/mongo.ts).
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import type { AuditSink, QueuedAudit } from './audit.ts';
import type { EventBatch } from './event-buffer.ts';
import { LedgerSink } from './ledger/mongo.ts';
import type { Repository } from '../store/repository.ts';
import type { AuditRows } from '../store/types.ts';
import { ephemeralSigner, loadOrCreateSigner, type CheckpointSigner } from './checkpoint.ts';
import { ThreadCalls } from '../store/sqlite/thread-calls.ts';

/** The checkpoint key of a database file when none is given: next to it, in the data folder. */
export const auditKeyFile = (databasePath: string) => join(dirname(databasePath), 'audit-signing-key.pem');

/** `keyFile`: the Ed25519 key that signs the trail's checkpoints (created when absent); by
 * default the data folder's audit-signing-key.pem. An in-memory database gets a key of its own. */
export async function auditSink(repo: Repository, onError: (err: Error) => void, keyFile?: string): Promise<AuditSink> {
  const store = repo.store;
  const ledger = store.auditLedger();
  if (!ledger) throw new Error(`the ${store.engine} engine keeps no audit trail: start with --audit off`);
  if (ledger.kind === 'links') {
    // no file of its own to sit next to: the key given (the app's data folder), else one for the process
    const signer = keyFile ? loadOrCreateSigner(keyFile) : ephemeralSigner();
    const sink = new LedgerSink(repo, ledger.links, onError, { checkpoints: ledger.checkpoints, signer });
    await sink.checkpoint(true);
    return sink;
  }
  const memory = ledger.file === ':memory:';
  const signer = memory ? ephemeralSigner() : loadOrCreateSigner(keyFile ?? auditKeyFile(ledger.file));
  await ledger.sign(signer);
  const local = new SqliteSink(repo, ledger);
  if (memory) return local;
  return new WorkerSink(ledger, local, signer, onError);
}

/** Batches on the server's writer connection. */
class SqliteSink implements AuditSink {
  private readonly repo: Repository;
  private readonly rows: AuditRows;

  constructor(repo: Repository, rows: AuditRows) {
    this.repo = repo;
    this.rows = rows;
  }

  inTransaction(events: QueuedAudit[]): Promise<void> {
    return this.repo.transaction(async () => this.rows.append(events));
  }

  write(batch: QueuedAudit[]): Promise<void> {
    return this.repo.store.transaction(async () => this.rows.append(batch));
  }

  /** the events since the last checkpoint are signed before the server stops */
  close(): Promise<void> {
    return this.rows.checkpoint();
  }
}

class WorkerSink implements AuditSink {
  private readonly local: SqliteSink;
  private readonly thread: ThreadCalls<EventBatch>;

  constructor(rows: AuditRows, local: SqliteSink, signer: CheckpointSigner, onError: (err: Error) => void) {
    this.local = local;
    const worker = new Worker(new URL('./worker.ts', import.meta.url), {
      workerData: { path: rows.file, synchronous: rows.synchronous, key: signer.pem },
    });
    // a batch the worker did not confirm is written here (from its shared buffer); events the
    // worker had committed are skipped by id
    const here = (batch: EventBatch) => this.local.write(batch.events());
    this.thread = new ThreadCalls<EventBatch>(worker, {
      here,
      failed: (batch, error) => {
        onError(new Error(`audit worker: ${error}; the batch is written on the main thread`));
        return here(batch);
      },
      crashed: (err) => onError(new Error(`audit worker failed: ${err.message}`)),
    });
  }

  inTransaction(events: QueuedAudit[]): Promise<void> {
    return this.local.inTransaction(events);
  }

  /** events that come as objects (the Auditor sends shared batches): on the main thread */
  write(batch: QueuedAudit[]): Promise<void> {
    return this.local.write(batch);
  }

  writeShared(batch: EventBatch): Promise<void> {
    // the buffer is shared, not copied: the worker reads the events the request path wrote, and
    // the main thread keeps nothing of them but the buffer (outside V8's heap) until it confirms
    return this.thread.call(batch, (n) => ({ n, buffer: batch.buffer, size: batch.size, node: batch.node }));
  }

  async close(): Promise<void> {
    // the worker answers messages in order: `close` comes after every batch sent before it
    await this.thread.close({ close: true });
    await this.local.close();
  }
}
