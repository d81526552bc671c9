// ER7 mapping for the MLLP listener on a thread of its own (src/transport/hl7v2-map-worker.ts):
// each frame is decoded, parsed and mapped as it arrives, while the main thread applies the
// messages before it, so that the main thread — the server's bottleneck under an interface
// engine's feed — only applies. Messages keep their order: one thread maps them first come,
// first served, and the listener applies them in arrival order whatever order they are mapped
// in. The answer is the one mapMessage gives on the main thread (the mapping is a pure function
// of the bytes and the time received); refusals cross back as the same Hl7Error. If the thread
// fails, the frames it held and every later one are mapped on the main thread.
// With a prepare pool (src/store/prepare), a mapped message's Bundle is also prepared before
// the main thread gets it: the mapping thread guesses the ids of the resources it creates and
// rewrites the references between them (src/rest/bundle-prepared.ts), a prepare thread checks,
// labels and indexes those resources, and the transaction writes each one whose guess holds as
// prepared (most of a new patient's registration), the rest as ever. Until the pool's thread
// has answered once (it builds its definitions on its first task, seconds on a loaded machine),
// messages are handed on unprepared rather than held for it.
import { Worker } from 'node:worker_threads';
import { Hl7Error } from '../mapping/hl7v2/errors.ts';
import { mapMessage, type MappedMessage } from '../mapping/hl7v2/to-fhir.ts';
import type { PreparedAdapterBundle } from '../mapping/apply.ts';
import type { PreparedEntry, Speculation } from '../rest/bundle-prepared.ts';
import type { LineRules } from '../bulk/ndjson-line.ts';
import type { PreparePool } from '../store/prepare/pool.ts';

/** A mapped message, or what mapMessage threw (an Hl7Error: the message's AE/AR). */
export type MapResult = { mapped: MappedMessage; prepared?: PreparedAdapterBundle } | { error: unknown };

/** What the thread posts back. */
export type MapReply = { id: number } & ({ mapped: MappedMessage; speculation?: Speculation } | { hl7: { ack: 'AE' | 'AR'; code: string; message: string; location?: string; header?: unknown } } | { internal: true });

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
  /** the pool's thread has prepared a message: from now on messages wait for their preparation */
  private poolReady = false;
  private poolStarting?: Promise<void>;

  /** `pool`: prepares the mapped Bundles' entries (none when absent or without threads);
   * `rules`: the server's rules for a resource to store (LineRules.audit) */
  constructor(options: { pool?: PreparePool; rules?: LineRules } = {}) {
    this.pool = options.pool?.size ? options.pool : undefined;
    this.rules = options.rules ?? { audit: false };
    const worker = new Worker(new URL('./hl7v2-map-worker.ts', import.meta.url));
    // the listener's sockets keep the process alive, not this thread
    worker.unref();
    worker.on('message', (r: MapReply | { ready: true }) => {
      if ('ready' in r) {
        this.ready = true;
        this.markStarted();
        return;
      }
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if ('mapped' in r && r.speculation) this.prepared(r.mapped, r.speculation, w.done);
      else w.done('mapped' in r ? { mapped: r.mapped } : 'hl7' in r ? { error: hl7Error(r.hl7) } : mapHere(w.bytes, w.received));
    });
    const failed = () => this.fallBack();
    worker.on('error', failed);
    worker.on('exit', failed);
    this.worker = worker;
  }

  /** Resolves once frames go to the thread (or the thread failed to start). */
  started(): Promise<void> {
    return this.startedOrFailed;
  }

  /** Maps a frame's bytes; `received` is Provenance.recorded. Never rejects. */
  map(bytes: Uint8Array, received: string): Promise<MapResult> {
    if (!this.worker || !this.ready) return Promise.resolve(mapHere(bytes, received));
    return new Promise((done) => {
      const id = this.next++;
      this.waiting.set(id, { bytes, received, done });
      this.worker!.postMessage({ id, bytes, received, speculate: this.pool !== undefined });
    });
  }

  /** Starts the pool's thread with a first task; resolves once it answered (or failed: the
   * next message tries again). */
  private startPool(texts: string[]): Promise<void> {
    this.poolStarting ??= this.pool!.prepare(texts, this.rules).then(
      () => {
        this.poolReady = true;
      },
      () => {
        this.poolStarting = undefined;
      },
    );
    return this.poolStarting;
  }

  /** Resolves once mapped messages are prepared before they are handed on, or the pool's
   * thread failed to start (at once without a pool). */
  async preparing(): Promise<void> {
    if (this.pool && !this.poolReady) await this.startPool([]);
  }

  /** Hands on a mapped message with its Bundle's entries prepared by the pool; unprepared when
   * the pool's thread is not ready yet or fails (then the transaction prepares them itself). */
  private prepared(mapped: MappedMessage, speculation: Speculation, done: (r: MapResult) => void): void {
    const pool = this.pool!;
    const at = speculation.texts.flatMap((t, i) => (t === undefined ? [] : [i]));
    const texts = at.map((i) => speculation.texts[i]!);
    if (!this.poolReady) {
      // the first message starts the pool's thread and goes on without waiting for it
      void this.startPool(texts);
      done({ mapped });
      return;
    }
    pool.prepare(texts, this.rules).then(
      (r) => {
        const entries: (PreparedEntry | undefined)[] = speculation.ids.map((id) => (id === undefined ? undefined : { id }));
        at.forEach((i, k) => {
          const line = r.lines[k];
          if (line?.kind === 'ready') entries[i]!.write = line;
        });
        done({ mapped, prepared: { stamp: r.stamp, entries, targets: new Map(speculation.targets) } });
      },
      () => done({ mapped }),
    );
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
