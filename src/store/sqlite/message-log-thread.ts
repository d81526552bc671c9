// The inbound message log on a thread of its own (src/store/sqlite/message-log-worker.ts), for
// a database file: an MLLP feed logs every message it answers, and the log's inserts and commits
// were ~5–10 % of the main thread's time a message (scripts/bench/hl7v2.ts: 1,009–1,028 messages/s
// with the log, 1,052–1,137 without). The thread runs the calls in the order made, so what is
// read after an append includes it; each call's promise settles when the thread has run it.
// Should the thread fail, its unanswered calls and every later one run on this thread, on a
// connection of its own to the same file (thread-calls.ts; an append the thread had committed
// is then skipped by its ids: the insert ignores an id stored already).
import { Worker } from 'node:worker_threads';
import type { InboundMessage, InboundSummary, MessageLogQuery, MessageLogStore, PruneBounds } from '../message-log.ts';
import { SqliteMessageLog } from './message-log.ts';
import { ThreadCalls } from './thread-calls.ts';

/** What the thread is asked (`n` numbers the calls). */
export type LogCall =
  | { n: number; op: 'append'; entries: InboundMessage[]; bounds?: PruneBounds }
  | { n: number; op: 'list'; query: MessageLogQuery }
  | { n: number; op: 'read'; id: string }
  | { n: number; op: 'prune'; before: string; keep: number }
  | { op: 'close' };

export type { ThreadAnswer as LogReply } from './thread-calls.ts';

/** A call as made, without its number. */
type Request = Exclude<LogCall, { op: 'close' }> extends infer C ? (C extends { n: number } ? Omit<C, 'n'> : never) : never;

/** Runs a call on a log (the thread's, or this thread's once it took over). A content that
 * crossed threads is a Uint8Array, which the driver binds as a BLOB as it binds a Buffer. */
export function runCall(log: MessageLogStore, call: Request): Promise<unknown> {
  switch (call.op) {
    case 'append':
      return log.append(call.entries, call.bounds);
    case 'list':
      return log.list(call.query);
    case 'read':
      return log.read(call.id);
    case 'prune':
      return log.prune(call.before, call.keep);
  }
}

export class ThreadedMessageLog implements MessageLogStore {
  /** the thread runs the calls in the order made (and so does this thread, once it took over) */
  readonly ordered = true;
  private readonly path: string;
  private readonly synchronous: 'normal' | 'full';
  private readonly thread: ThreadCalls<Request>;
  /** where calls run once the thread is gone */
  private local: SqliteMessageLog | undefined;
  private closed = false;

  constructor(path: string, synchronous: 'normal' | 'full' = 'normal') {
    this.path = path;
    this.synchronous = synchronous;
    const worker = new Worker(new URL('./message-log-worker.ts', import.meta.url), { workerData: { path, synchronous } });
    this.thread = new ThreadCalls<Request>(worker, { here: (call) => runCall(this.here(), call) });
  }

  private here(): SqliteMessageLog {
    this.local ??= new SqliteMessageLog(this.path, this.synchronous);
    return this.local;
  }

  /** `transfer`: buffers of the request moved to the thread; `here`: the request to run on this
   * thread should the thread fail before answering (when the moved buffers were copies) */
  private call<T>(request: Request, transfer: ArrayBuffer[] = [], here: Request = request): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the inbound message log is closed'));
    return this.thread.call<T>(here, (n) => ({ ...request, n }) as LogCall, transfer);
  }

  append(entries: InboundMessage[], bounds?: PruneBounds): Promise<void> {
    // each content as a buffer of its own, moved to the thread: a small Buffer is usually a view
    // of Node's shared 8 KiB pool, which a clone would copy whole (~20 µs a message on an MLLP feed)
    const moved: ArrayBuffer[] = [];
    const own = entries.map((e) => {
      if (!e.content) return e;
      const content = new Uint8Array(e.content);
      moved.push(content.buffer);
      return { ...e, content: content as Buffer };
    });
    const request = { op: 'append' as const, entries, ...(bounds ? { bounds } : {}) };
    // should the thread fail, the call runs here with the Buffers given (those sent are moved)
    return this.call({ ...request, entries: own }, moved, request);
  }

  list(query: MessageLogQuery): Promise<InboundSummary[]> {
    return this.call({ op: 'list', query });
  }

  async read(id: string): Promise<InboundMessage | undefined> {
    const m = await this.call<InboundMessage | undefined>({ op: 'read', id });
    // the content comes back as a Uint8Array
    return m?.content ? { ...m, content: Buffer.from(m.content.buffer, m.content.byteOffset, m.content.byteLength) } : m;
  }

  /** Once the log is closed, prunes nothing (the hourly prune may come while the server stops). */
  prune(before: string, keep: number): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return this.call({ op: 'prune', before, keep });
  }

  /** Runs every call made before it, then closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // the thread answers in order: `close` comes after every call made before it
    await this.thread.close({ op: 'close' } satisfies LogCall);
    await this.local?.close();
  }
}
