// Queued read events written field by field into a shared buffer as they happen, instead of
// kept as objects: an event waits up to FLUSH_MS for its batch, long enough for its object, its
// id string and the batch's JSON text to outlive a young-generation collection and be copied and
// promoted on the event loop; bytes in a SharedArrayBuffer are outside V8's heap and cost the
// collector nothing. The audit worker (src/audit/worker.ts) reads the events out of the very
// buffer the main thread wrote (shared, not copied); the buffer goes back to the pool once the
// worker has stored the batch. Should the worker fail, the main thread reads the same bytes.
//
// An event's id is made from its time and a per-trail counter (UUID v7 with a counter, RFC 9562
// §6.2 methods 1 and 2), formatted where the event is stored: both the worker and the main
// thread's fallback make the same id of the same bytes, so a batch written again is skipped by
// id as before, and the event loop makes no random bytes and no id string an event.
import { randomBytes } from 'node:crypto';
import type { AuditInput, QueuedAudit } from './audit.ts';

/** a batch's buffer; an event larger than it gets a buffer of its own size */
export const BATCH_BYTES = 128 * 1024;
/** buffers kept for reuse; more are made when more batches are in flight, and dropped after */
const POOL = 8;

// an event: flags (u16), action (u8), HTTP status (u16), at (f64), counter (f64), the period
// (two f64) when there is one, then the interaction and the strings present, each a u32 byte
// length and its UTF-8, in the order of the flags below; purposes as a u16 count and strings
const KIND_LOGIN = 1;
const SENSITIVE = 1 << 1;
const PERIOD = 1 << 2;
const CLIENT = 1 << 3;
const ADDRESS = 1 << 4;
const WHAT = 1 << 5;
const PATIENT = 1 << 6;
const QUERY = 1 << 7;
const DESCRIPTION = 1 << 8;
const PURPOSES = 1 << 9;
const FIXED = 2 + 1 + 2 + 8 + 8;

/** The source of the events' ids: a random node part and a counter that starts at a random
 * value, so that two trails (processes, or servers on one database) never make the same id. */
export class EventIds {
  /** rand_b's low 32 bits, fixed for this trail */
  readonly node: number;
  /** 42 bits (rand_a's 12 and rand_b's high 30), incremented for each event */
  private counter: number;

  constructor() {
    const r = randomBytes(10);
    this.node = r.readUInt32BE(0);
    // below 2^41: room for 2^41 events before it could wrap
    this.counter = (r.readUInt16BE(4) & 0x1ff) * 2 ** 32 + r.readUInt32BE(6);
  }

  next(): number {
    return ++this.counter;
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The UUID v7 of an event at `at` (epoch ms) with `counter` of a trail whose node is `node`. */
export function eventId(at: number, counter: number, node: number): string {
  const hi = Math.floor(counter / 2 ** 30); // 12 bits: rand_a
  const lo = counter % 2 ** 30; // 30 bits: rand_b's high part, after the variant
  const ms = at % 2 ** 48;
  const t = `${HEX[Math.floor(ms / 2 ** 40) & 0xff]}${HEX[Math.floor(ms / 2 ** 32) & 0xff]}${HEX[(ms >>> 24) & 0xff]}${HEX[(ms >>> 16) & 0xff]}-${HEX[(ms >>> 8) & 0xff]}${HEX[ms & 0xff]}`;
  const a = `${HEX[0x70 | ((hi >>> 8) & 0x0f)]}${HEX[hi & 0xff]}`;
  const b = `${HEX[0x80 | ((lo >>> 24) & 0x3f)]}${HEX[(lo >>> 16) & 0xff]}`;
  const c = `${HEX[(lo >>> 8) & 0xff]}${HEX[lo & 0xff]}${HEX[node >>> 24]}${HEX[(node >>> 16) & 0xff]}${HEX[(node >>> 8) & 0xff]}${HEX[node & 0xff]}`;
  return `${t}-${a}-${b}-${c}`;
}

/** One batch of queued events in a shared buffer. */
export class EventBatch {
  readonly buffer: SharedArrayBuffer;
  private readonly bytes: Buffer;
  private readonly view: DataView;
  /** bytes written */
  size = 0;
  count = 0;
  /** the trail's id node (every event of a batch is of one trail) */
  node = 0;

  constructor(capacity = BATCH_BYTES) {
    this.buffer = new SharedArrayBuffer(capacity);
    this.bytes = Buffer.from(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** The most bytes an event can take: UTF-8 takes at most 3 bytes a UTF-16 unit, so strings
   * are checked against that bound rather than measured. */
  static bound(e: AuditInput): number {
    let need = FIXED + 16 + 2 + 4 + 3 * e.interaction.length;
    for (const s of [e.clientId, e.address, e.what, e.patient, e.query, e.description]) if (s !== undefined) need += 4 + 3 * s.length;
    for (const p of e.purposeOfUse ?? []) need += 4 + 3 * p.length;
    return need;
  }

  get capacity(): number {
    return this.buffer.byteLength;
  }

  /** Appends an event; false (nothing written) when it may not fit in what is left (bound). */
  add(e: AuditInput, at: number, counter: number): boolean {
    if (this.size + EventBatch.bound(e) > this.capacity) return false;
    const strings = [e.clientId, e.address, e.what, e.patient, e.query, e.description];
    let flags = (e.kind === 'login' ? KIND_LOGIN : 0) | (e.sensitive ? SENSITIVE : 0) | (e.period ? PERIOD : 0);
    for (let i = 0; i < strings.length; i++) if (strings[i] !== undefined) flags |= CLIENT << i;
    const purposes = e.purposeOfUse;
    if (purposes?.length) flags |= PURPOSES;
    const v = this.view;
    let o = this.size;
    v.setUint16(o, flags);
    v.setUint8(o + 2, e.action.charCodeAt(0));
    v.setUint16(o + 3, e.status);
    v.setFloat64(o + 5, at);
    v.setFloat64(o + 13, counter);
    o += FIXED;
    if (e.period) {
      v.setFloat64(o, e.period.start);
      v.setFloat64(o + 8, e.period.end);
      o += 16;
    }
    o = this.string(o, e.interaction);
    for (const s of strings) if (s !== undefined) o = this.string(o, s);
    if (purposes?.length) {
      v.setUint16(o, purposes.length);
      o += 2;
      for (const p of purposes) o = this.string(o, p);
    }
    this.size = o;
    this.count++;
    return true;
  }

  private string(o: number, s: string): number {
    const n = s.length;
    const bytes = this.bytes;
    // the short ASCII strings of a read's event (client, address, reference) byte by byte:
    // cheaper than a call into the encoder for a few characters
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        bytes[o + 4 + i] = c;
      }
      if (i === n) {
        this.view.setUint32(o, n);
        return o + 4 + n;
      }
    }
    const written = bytes.write(s, o + 4, 'utf8');
    this.view.setUint32(o, written);
    return o + 4 + written;
  }

  /** The events, as the sinks store them. */
  events(): QueuedAudit[] {
    return decodeEvents(this.buffer, this.size, this.node);
  }

  /** empties it for reuse */
  reset(): void {
    this.size = 0;
    this.count = 0;
  }
}

/** The events of `size` bytes of a batch's buffer (EventBatch.add), ids made with `node`. */
export function decodeEvents(buffer: SharedArrayBuffer | ArrayBuffer, size: number, node: number): QueuedAudit[] {
  const v = new DataView(buffer);
  const bytes = Buffer.from(buffer);
  const out: QueuedAudit[] = [];
  let o = 0;
  const string = (): string => {
    const n = v.getUint32(o);
    const s = bytes.toString('utf8', o + 4, o + 4 + n);
    o += 4 + n;
    return s;
  };
  while (o < size) {
    const flags = v.getUint16(o);
    const action = String.fromCharCode(v.getUint8(o + 2)) as AuditInput['action'];
    const status = v.getUint16(o + 3);
    const at = v.getFloat64(o + 5);
    const counter = v.getFloat64(o + 13);
    o += FIXED;
    let period: AuditInput['period'];
    if (flags & PERIOD) {
      period = { start: v.getFloat64(o), end: v.getFloat64(o + 8) };
      o += 16;
    }
    const e: QueuedAudit = { id: eventId(at, counter, node), at, interaction: string(), action, status };
    if (flags & KIND_LOGIN) e.kind = 'login';
    if (flags & CLIENT) e.clientId = string();
    if (flags & ADDRESS) e.address = string();
    if (flags & WHAT) e.what = string();
    if (flags & PATIENT) e.patient = string();
    if (flags & QUERY) e.query = string();
    if (flags & DESCRIPTION) e.description = string();
    if (flags & PURPOSES) {
      const n = v.getUint16(o);
      o += 2;
      const purposes: string[] = [];
      for (let i = 0; i < n; i++) purposes.push(string());
      e.purposeOfUse = purposes;
    }
    if (flags & SENSITIVE) e.sensitive = true;
    if (period) e.period = period;
    out.push(e);
  }
  return out;
}

/** Batches' buffers for reuse: a steady load writes into the same few buffers over and over. */
export class BatchPool {
  private readonly free: EventBatch[] = [];

  take(need = 0): EventBatch {
    if (need > BATCH_BYTES) return new EventBatch(need);
    return this.free.pop() ?? new EventBatch();
  }

  give(batch: EventBatch): void {
    if (batch.capacity !== BATCH_BYTES || this.free.length >= POOL) return;
    batch.reset();
    this.free.push(batch);
  }
}
