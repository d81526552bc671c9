// MLLP listener (HL7 v2 Minimal Lower Layer Protocol, release 2): frames are
// 0x0B <message> 0x1C 0x0D over TCP; every frame gets an ACK frame back, in order, on the same
// connection. Off by default (--mllp-port); binds --mllp-host (127.0.0.1 unless set). MLLP has
// no authentication: expose it only on a trusted network or behind a TLS tunnel, like every v2
// interface. Frames larger than --mllp-max-bytes are discarded unread and answered with AR;
// bytes between frames are ignored; a frame cut off by a new start block is answered with AR.
// A frame may hold a batch file ([FHS] BHS MSH… BTS [FTS]): it is answered with the batch of
// ACKs in one frame, as $hl7v2-ingest answers it (src/operations/hl7v2-batch.ts).
// Frames are mapped to FHIR on a thread of their own as they arrive, and their resources
// prepared for the store on the prepare pool's (src/transport/hl7v2-mapper.ts); they are
// applied on the main thread in the order received.
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildAck } from '../mapping/hl7v2/ack.ts';
import { HL7_ERROR } from '../mapping/hl7v2/errors.ts';
import { ingestBatch, type Ingested } from '../operations/hl7v2.ts';
import { answered, ingestHl7v2Batch } from '../operations/hl7v2-batch.ts';
import { isBatch } from '../mapping/hl7v2/batch.ts';
import { metricsOf } from '../http/metrics.ts';
import { Hl7v2Mapper, type MapResult } from './hl7v2-mapper.ts';
import type { Context, FhirRequest } from '../rest/types.ts';
import type { AuditInput } from '../audit/audit.ts';

const SB = 0x0b;
const EB = 0x1c;
const CR = 0x0d;
/** Frames waiting on one connection before it stops reading (back-pressure on pipelining senders). */
const MAX_QUEUED = 64;

/** A frame read, with its mapping under way when a mapper is set. */
export interface Frame {
  bytes: Buffer;
  remote: string;
  mapped?: Promise<MapResult>;
  /** the frame holds an HL7 v2 batch file (FHS/BHS …), not one message */
  batch?: boolean;
}

export interface MllpOptions {
  port: number;
  host: string;
  maxFrameBytes: number;
  /** answers frames (in order) with ACK texts; frames queued together are handled together */
  handle: (frames: Frame[]) => Promise<string[]>;
  /** maps each frame as it arrives, off the main thread (src/transport/hl7v2-mapper.ts) */
  mapper?: Hl7v2Mapper;
}

/** Frames applied in one store transaction at most (group commit under load). */
const MAX_BATCH = 64;

/**
 * How many of the queued frames the next batch may take. Senders keep a window of frames in
 * flight and send more only as ACKs come back, so if a batch took every frame in flight, the
 * mapping thread would idle while it is applied and the main thread while the next is mapped
 * (pure alternation: ~470 messages/s where the main thread alone allows ~650). A batch takes at
 * most half of the frames in flight — those queued plus those the previous batch just answered,
 * which the senders are about to replace — so that the other half is mapped while it is applied
 * (with 4 × 16 frames in flight, batches of up to 32). Of those it takes only the frames already
 * mapped (MllpServer.drain). A lone frame is a batch of one. Smaller batches cost a little more
 * CPU a message (each commit writes its pages to the WAL): scripts/bench/README.md, HL7 v2.
 */
export function batchSize(queued: number, answered: number): number {
  return Math.max(1, Math.min(queued, MAX_BATCH, Math.ceil((queued + answered) / 2)));
}

export function frame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = SB;
  body.copy(out, 1);
  out[body.length + 1] = EB;
  out[body.length + 2] = CR;
  return out;
}

function reject(message: string): string {
  return buildAck({ code: 'AR', controlId: `R${Date.now().toString(36)}`, now: new Date().toISOString(), text: message, errors: [{ code: HL7_ERROR.segmentSequence, message, severity: 'E' }] });
}

export class MllpServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly options: MllpOptions;
  /** frames in arrival order; `settled`: mapped (or needing no mapping), so it can be applied now */
  private readonly queue: (Frame & { done: (ack: string) => void; settled: boolean })[] = [];
  private draining = false;
  port = 0;

  constructor(options: MllpOptions) {
    this.options = options;
    this.server = net.createServer((socket) => this.connection(socket));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /** Stops accepting, lets frames being applied finish, then closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.allSettled([...this.pending]);
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Queues a frame; frames that arrive while a batch is being applied form the next batch. */
  private submit(bytes: Buffer, remote: string): Promise<string> {
    return new Promise((done) => {
      // mapping starts now, on the mapper's thread, while earlier frames are being applied (a
      // batch file's messages are mapped when it is applied, as over HTTP)
      const batch = isBatch(bytes);
      const mapped = batch ? undefined : this.options.mapper?.map(bytes, new Date().toISOString());
      const queued = { bytes, remote, ...(mapped ? { mapped } : {}), ...(batch ? { batch } : {}), done, settled: !mapped };
      if (mapped) void mapped.then(() => (queued.settled = true));
      this.queue.push(queued);
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    let answered = 0;
    try {
      while (this.queue.length) {
        // let frames already read from the sockets join this batch
        await new Promise((resolve) => setImmediate(resolve));
        // a batch takes the frames mapped so far (at least the first, waited for): frames still
        // on the mapping thread join the next batch rather than hold this one up
        if (!this.queue[0].settled) await this.queue[0].mapped;
        let settled = 1;
        while (settled < this.queue.length && this.queue[settled].settled) settled++;
        const batch = this.queue.splice(0, Math.min(settled, batchSize(this.queue.length, answered)));
        answered = batch.length;
        let acks: string[];
        try {
          acks = await this.options.handle(batch.map(({ bytes, remote, mapped, batch: file }) => ({ bytes, remote, ...(mapped ? { mapped } : {}), ...(file ? { batch: file } : {}) })));
        } catch {
          acks = batch.map(() => reject('internal error'));
        }
        batch.forEach((b, i) => b.done(acks[i]));
      }
    } finally {
      this.draining = false;
    }
  }

  private connection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setKeepAlive(true, 60_000);
    socket.setNoDelay(true);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let chunks: Buffer[] = [];
    let size = 0;
    let inFrame = false;
    let oversized = false;
    let afterEnd = false;
    let chain: Promise<void> = Promise.resolve();
    let queued = 0;
    const { maxFrameBytes } = this.options;
    // work starts at once (so a pipelining sender's frames can share a batch); ACKs are written in order
    const reply = (work: () => Promise<string>) => {
      queued++;
      if (queued >= MAX_QUEUED) socket.pause();
      const answer = work().catch(() => reject('internal error'));
      const p = (chain = chain.then(async () => {
        const ack = await answer;
        if (!socket.destroyed) {
          // the ACKs of one batch are ready in the same tick: one write for all of them
          if (!socket.writableCorked) {
            socket.cork();
            process.nextTick(() => socket.uncork());
          }
          socket.write(frame(ack));
        }
        if (--queued < MAX_QUEUED && socket.isPaused()) socket.resume();
      }));
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    };
    socket.on('data', (data: Buffer) => {
      let i = 0;
      if (afterEnd) {
        afterEnd = false;
        if (data[0] === CR) i = 1;
      }
      while (i < data.length) {
        if (!inFrame) {
          const start = data.indexOf(SB, i);
          if (start < 0) return; // bytes outside a frame are ignored
          inFrame = true;
          oversized = false;
          chunks = [];
          size = 0;
          i = start + 1;
          continue;
        }
        const end = data.indexOf(EB, i);
        const restart = data.indexOf(SB, i);
        if (restart >= 0 && (end < 0 || restart < end)) {
          // a new frame began before this one ended: the earlier frame was truncated
          reply(async () => reject('truncated MLLP frame (a start block came before the end block); the message was not read'));
          inFrame = false;
          i = restart;
          continue;
        }
        const stop = end < 0 ? data.length : end;
        if (!oversized) {
          size += stop - i;
          if (size > maxFrameBytes) {
            oversized = true;
            chunks = [];
          } else chunks.push(data.subarray(i, stop));
        }
        if (end < 0) return;
        inFrame = false;
        i = end + 1;
        if (i < data.length && data[i] === CR) i++;
        else if (i === data.length) afterEnd = true;
        if (oversized) {
          reply(async () => reject(`the frame is larger than ${maxFrameBytes} bytes; the message was not read`));
        } else {
          const body = Buffer.concat(chunks);
          chunks = [];
          reply(() => this.submit(body, remote));
        }
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }
}

/** Starts the listener when --mllp-port is set; it closes with the app. */
export async function startMllp(app: FastifyInstance, ctx: Context): Promise<MllpServer | undefined> {
  const { config } = ctx;
  if (config.mllpPort === undefined) return undefined;
  const base: Omit<FhirRequest, 'body'> = {
    method: 'POST',
    baseUrl: config.baseUrl ?? `http://${config.host}:${config.port}${config.basePath}`,
    query: Object.create(null),
    headers: {},
  };
  // the AuditEvent of a message from `remote`: with the patient it wrote, or why it was not applied
  const event = (r: Ingested, remote: string, about: { patient?: string } | { description: string }): AuditInput =>
    ({ interaction: 'transaction', action: 'E', status: r.response.status, clientId: 'mllp', address: remote, ...about });
  const messages = async (frames: Frame[]) => {
    const req: FhirRequest = { ...base, body: undefined };
    const received = new Date().toISOString();
    const audit = ctx.audit;
    // each applied message's AuditEvent commits with it
    const onApplied = audit && (async (r: Ingested, n: number) => audit.inTransaction(event(r, frames[n].remote, { patient: r.patient })));
    const premapped = frames.every((f) => f.mapped) ? await Promise.all(frames.map((f) => f.mapped!)) : undefined;
    const results = await ingestBatch(req, ctx, frames.map((f) => ({ bytes: f.bytes })), onApplied || undefined, premapped);
    metricsOf(ctx)?.mllpBatch();
    // accepted or refused, each message goes to the inbound message log (src/inbound/log.ts).
    // The ACKs wait for it only where a read of the log could otherwise miss it: the embedded
    // engine's log runs its calls in order (on a thread of its own for a file), and logging
    // never fails the ACKs
    const logged = ctx.inbound?.recordHl7v2('mllp', frames.map((f, n) => ({ bytes: f.bytes, received, result: results[n] })));
    if (!ctx.inbound?.ordered) await logged;
    for (const [n, r] of results.entries()) {
      await answered(ctx, { door: 'mllp', ...(audit ? { notApplied: async (x, description) => audit.later(event(x, frames[n].remote, { description })) } : {}) }, r);
    }
    return results.map((r) => r.ack);
  };
  // a frame that holds a batch file gets the batch of ACKs in one frame, from the code that
  // answers $hl7v2-ingest (src/operations/hl7v2-batch.ts); frames keep their order
  const batchFile = async (f: Frame) => {
    const req: FhirRequest = { ...base, body: undefined };
    const audit = ctx.audit;
    const answer = await ingestHl7v2Batch(req, ctx, f.bytes, {
      door: 'mllp',
      ...(audit
        ? {
            onApplied: async (r) => audit.inTransaction(event(r, f.remote, { patient: r.patient })),
            notApplied: async (r, description) => audit.later(event(r, f.remote, { description })),
          }
        : {}),
    });
    return answer.ack;
  };
  const handle = async (frames: Frame[]) => {
    if (!frames.some((f) => f.batch)) return messages(frames);
    const acks: string[] = [];
    let run: Frame[] = [];
    for (const f of frames) {
      if (!f.batch) {
        run.push(f);
        continue;
      }
      if (run.length) acks.push(...(await messages(run)));
      run = [];
      acks.push(await batchFile(f));
    }
    if (run.length) acks.push(...(await messages(run)));
    return acks;
  };
  // mapped Bundles are prepared on the prepare pool's threads (checks, labels, index rows)
  const mapper = new Hl7v2Mapper({ pool: ctx.prepare, rules: { audit: !!ctx.audit } });
  const server = new MllpServer({ port: config.mllpPort, host: config.mllpHost, maxFrameBytes: config.mllpMaxBytes, handle, mapper });
  try {
    await server.listen();
  } catch (err) {
    await mapper.close();
    throw err;
  }
  app.addHook('onClose', async () => {
    await server.close();
    await mapper.close();
  });
  return server;
}
