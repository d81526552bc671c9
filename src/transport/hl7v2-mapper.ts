// ER7 mapping for the MLLP listener on a thread of its own (src/transport/hl7v2-map-worker.ts):
// each frame is decoded, parsed and mapped as it arrives, while the main thread applies the
// messages before it, so that the main thread — the server's bottleneck under an interface
// engine's feed — only applies. Messages keep their order: one thread maps them first come,
// first served, and the listener applies them in arrival order whatever order they are mapped
// in. The answer is the one mapMessage gives on the main thread (the mapping is a pure function
// of the bytes and the time received); refusals cross back as the same Hl7Error. If the thread
// fails, the frames it held and every later one are mapped on the main thread.
// Given the prepare pool (src/store/prepare), the thread also prepares the mapped Bundle for the
// store, as the pool's threads prepare an import: it guesses the ids of the resources the
// message creates, rewrites the references between them (src/rest/bundle-prepared.ts) and runs
// the write pipeline's store-free steps on them (checks, labels, stored JSON, index rows) with
// a Preparer built from the pool's settings and stored conformance resources; the transaction
// then writes each entry whose guess holds as prepared (most of a new patient's registration),
// the rest as ever. The pool's own threads are not used: a second hand-over through the main
// thread cost it more than it saved. When the pool's stamp moves (a SearchParameter or profile
// stored), the thread is rebuilt at the new one; what it prepared at an older stamp is written
// the ordinary way (src/mapping/apply.ts). A pool without threads (--prepare-threads 0) means
// nothing is prepared ahead.
import { Worker } from 'node:worker_threads';
import { Hl7Error } from '../mapping/hl7v2/errors.ts';
import { mapMessage, type MappedMessage } from '../mapping/hl7v2/to-fhir.ts';
import type { PreparedAdapterBundle } from '../mapping/apply.ts';
import type { LineRules } from '../bulk/ndjson-line.ts';
import type { PreparePool, PrepareSnapshot } from '../store/prepare/pool.ts';

/** A mapped message, or what mapMessage threw (an Hl7Error: the message's AE/AR). */
export type MapResult = { mapped: MappedMessage; prepared?: PreparedAdapterBundle } | { error: unknown };

/** What the thread posts back. */
export type MapReply = { id: number } & ({ mapped: MappedMessage; prepared?: PreparedAdapterBundle } | { hl7: { ack: 'AE' | 'AR'; code: string; message: string; location?: string; header?: unknown } } | { internal: true });

/** A frame to map (and prepare, when the thread can). */
export interface MapFrame {
  id: number;
  bytes: Uint8Array;
  received: string;
  prepare: boolean;
}

/** What the thread is sent: the frames read in one turn of the event loop (one message each way
 * a turn, not one a frame: on a loaded machine each hand-over between threads costs the main
 * thread tens of microseconds), or what to prepare with. */
export type MapTask = { frames: MapFrame[] } | { build: PrepareSnapshot; rules: LineRules };

/** mapMessage on this thread, as a MapResult. */
export function mapHere(bytes: Uint8Array, received: string): MapResult {
  try {
    return { mapped: mapMessage({ bytes, received }) };
  } catch (error) {
    return { error };
  }
}

/** The Hl7Error the thread reported, as mapMessage threw it there (message, codes, header). */
function hl7Error(e: { ack: 'AE' | 'AR'; code: string; message: string; location?: string; header?: unknown }): Hl7Error {
  const err = new Hl7Error(e.ack, e.code, '', e.location);
  err.message = e.message;
  if (e.header) (err as Hl7Error & { header?: unknown }).header = e.header;
  return err;
}

export class Hl7v2Mapper {
  private worker: Worker | undefined;
  /** the thread has loaded the mapping: until then (its first second or so, much longer on a
   * loaded machine) frames are mapped here, so that none waits for the thread to start */
  private ready = false;
  private markStarted!: () => void;
  private readonly startedOrFailed = new Promise<void>((resolve) => (this.markStarted = resolve));
  private next = 0;
  private readonly waiting = new Map<number, { bytes: Uint8Array; received: string; done: (r: MapResult) => void }>();
  private readonly pool?: PreparePool;
  private readonly rules: LineRules;
  /** the pool stamp of the last Preparer the thread was sent (it builds it before the next frame) */
  private sentStamp?: number;
  /** a snapshot of the pool's conformance resources being read for the thread */
  private building?: Promise<void>;
  /** frames to send at the end of this turn of the event loop */
  private outbox: MapFrame[] = [];

  /** `pool`: the settings and conformance resources to prepare with (nothing is prepared ahead
   * without it, or when it has no threads); `rules`: the server's rules for a resource to store
   * (LineRules.audit) */
  constructor(options: { pool?: PreparePool; rules?: LineRules } = {}) {
    this.pool = options.pool?.size ? options.pool : undefined;
    this.rules = options.rules ?? { audit: false };
    const worker = new Worker(new URL('./hl7v2-map-worker.ts', import.meta.url));
    // the listener's sockets keep the process alive, not this thread
    worker.unref();
    worker.on('message', (replies: MapReply[] | { ready: true }) => {
      if ('ready' in replies) {
        this.ready = true;
        this.markStarted();
        return;
      }
      for (const r of replies) {
        const w = this.waiting.get(r.id);
        if (!w) continue;
        this.waiting.delete(r.id);
        w.done('mapped' in r ? { mapped: r.mapped, ...(r.prepared ? { prepared: r.prepared } : {}) } : 'hl7' in r ? { error: hl7Error(r.hl7) } : mapHere(w.bytes, w.received));
      }
    });
    const failed = () => this.fallBack();
    worker.on('error', failed);
    worker.on('exit', failed);
    this.worker = worker;
    void this.preparing();
  }

  /** Resolves once frames go to the thread (or the thread failed to start). */
  started(): Promise<void> {
    return this.startedOrFailed;
  }

  /** Sends the thread what to prepare with, when the pool's stamp moved since it was last sent;
   * resolves once sent (frames sent after it are prepared at that stamp). */
  preparing(): Promise<void> {
    const pool = this.pool;
    if (!pool || !this.worker || this.sentStamp === pool.stamp) return this.building ?? Promise.resolve();
    this.building ??= pool
      .snapshot()
      .then((snapshot) => {
        this.worker?.postMessage({ build: snapshot, rules: this.rules } satisfies MapTask);
        this.sentStamp = snapshot.stamp;
      })
      .catch(() => undefined)
      .finally(() => (this.building = undefined));
    return this.building;
  }

  /** Maps a frame's bytes; `received` is Provenance.recorded. Never rejects. */
  map(bytes: Uint8Array, received: string): Promise<MapResult> {
    if (!this.worker || !this.ready) return Promise.resolve(mapHere(bytes, received));
    if (this.pool && this.sentStamp !== this.pool.stamp) void this.preparing();
    return new Promise((done) => {
      const id = this.next++;
      this.waiting.set(id, { bytes, received, done });
      // a copy of its own: a Buffer read from a socket is often a view of a larger pooled
      // buffer, which would be cloned whole; the copy is moved to the thread, not cloned
      if (!this.outbox.length) queueMicrotask(() => this.flush());
      this.outbox.push({ id, bytes: new Uint8Array(bytes), received, prepare: this.sentStamp !== undefined });
    });
  }

  private flush(): void {
    const frames = this.outbox;
    this.outbox = [];
    if (!this.worker) return; // fallBack mapped them here
    this.worker.postMessage({ frames } satisfies MapTask, frames.map((f) => f.bytes.buffer as ArrayBuffer));
  }

  /** The thread is gone: what it held, and all that follows, is mapped here. */
  private fallBack(): void {
    this.worker = undefined;
    this.ready = false;
    this.markStarted();
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      w.done(mapHere(w.bytes, w.received));
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.fallBack();
    // referenced again while it ends: an unreferenced thread's exit would not keep the event
    // loop alive, and the app's close would never finish
    worker?.ref();
    await worker?.terminate();
  }
}
