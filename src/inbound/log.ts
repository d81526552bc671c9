// The inbound message log: one entry for every HL7 v2 message (over HTTP, $hl7v2-ingest, and
// MLLP) and every national import ($import-national) the server receives, accepted or refused
// — when, through which door, from whom, its control id and event, the ACK code and the issues
// the sender was answered, the resources it wrote, and the message as received — so that the
// integration engineer sees the refused messages too and can replay one (src/console/
// integration.js; served by $inbound-messages, src/operations/inbound-messages.ts).
//
// Bounded: entries older than --message-log-days or past the newest --message-log-max are
// pruned with every append and once an hour; 0 for either turns the log off (nothing is
// stored). The raw text is the most sensitive thing the server holds (status-revealing
// identifiers that no redaction reaches): it is never logged, never put in an error, and read
// only with both the integration and the migration-data scopes.
import { randomFillSync } from 'node:crypto';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { resourceOf } from '../fhir/body.ts';
import { FhirError } from '../fhir/errors.ts';
import { decodeMessage } from '../mapping/hl7v2/charset.ts';
import type { Ingested } from '../operations/hl7v2.ts';
import type { FhirResponse } from '../rest/types.ts';
import type { InboundAck, InboundDoor, InboundMessage, InboundSummary, MessageLogQuery, MessageLogStore, PruneBounds } from '../store/message-log.ts';

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** the longest sender, control id or event kept (MSH fields are the sender's to fill) */
const MAX_FIELD = 200;
/** the largest content kept: an HL7 v2 message is far smaller (--mllp-max-bytes, 1 MiB); a
 * national Bundle of hundreds of MiB is logged without its content (no replay from the log) */
export const MAX_CONTENT_BYTES = 8 * 1024 * 1024;

export interface MessageLogBounds {
  /** days an entry is kept; 0: no log */
  days: number;
  /** most entries kept; 0: no log */
  max: number;
}

/** One HL7 v2 message as received and what it was answered. */
export interface ReceivedHl7v2 {
  bytes: Buffer;
  /** the HTTP charset parameter, when the sender gave one */
  charset?: string;
  received: string;
  result: Ingested;
}

let lastMs = 0;
let sequence = 0;

/** Random bytes drawn 8 at a time from a pool filled 4 KiB at once: a call into the system's
 * generator per entry cost more than the rest of the id (~0.06 ms under load, MLLP bench). */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function random8(): string {
  if (poolAt + 8 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 8;
  return pool.toString('hex', poolAt - 8, poolAt);
}

/** A UUID (version 7 layout) that sorts in the order this process made them: milliseconds, then
 * a counter within the millisecond, then random bits. Messages received in the same
 * millisecond (an MLLP batch) keep their order in the log on every engine. */
export function timeOrderedId(now = Date.now()): string {
  if (now <= lastMs) sequence++;
  else {
    lastMs = now;
    sequence = 0;
  }
  const hex = lastMs.toString(16).padStart(12, '0') + (0x7000 | (sequence & 0xfff)).toString(16) + random8();
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const clip = (s: string | undefined) => (s ? s.slice(0, MAX_FIELD) : undefined);

/** MSH-3/4, MSH-9 and MSH-10 as the sender wrote them, read from the bytes without the
 * mapping (a refused message may be refused for its MSH). Delimiters from MSH-1 and MSH-2.
 * A batch file refused whole (src/operations/hl7v2-batch.ts) is named by its first FHS or BHS:
 * fields 3/4, the segment's name as the event and FHS-11/BHS-11 as the control id. */
export function headerFields(bytes: Buffer, charset?: string): { sender?: string; controlId?: string; event?: string } {
  let text: string;
  try {
    text = decodeMessage(bytes, charset).text;
  } catch {
    text = bytes.toString('latin1');
  }
  const batch = /^\uFEFF?\s*(FHS|BHS)/.exec(text)?.[1];
  const at = text.indexOf(batch ?? 'MSH');
  if (at < 0 || text.length < at + 8) return {};
  const field = text[at + 3];
  const component = text[at + 4];
  const msh = text.slice(at).split(/[\r\n]/, 1)[0].split(field);
  // msh[0] is 'MSH', msh[1] MSH-2 (the encoding characters): MSH-n is msh[n - 1]
  const first = (n: number) => (msh[n - 1] ?? '').split(component)[0];
  const sender = [first(3), first(4)].filter(Boolean).join('^');
  if (batch) return { sender: clip(sender), controlId: clip(msh[10]), event: batch };
  const event = (msh[8] ?? '').split(component).slice(0, 2).filter(Boolean).join('^');
  return { sender: clip(sender), controlId: clip(msh[9]), event: clip(event) };
}

/** The issues of an answer: a refusal's OperationOutcome, or the warnings a transaction-response
 * carries on its first entry (src/operations/hl7v2.ts, national.ts). */
export function issuesOf(response: FhirResponse): OperationOutcomeIssue[] {
  if (response.body === undefined) return [];
  const body = resourceOf<OperationOutcome | Bundle>(response.body);
  if (body.resourceType === 'OperationOutcome') return body.issue ?? [];
  const outcome = body.resourceType === 'Bundle' ? body.entry?.[0]?.response?.outcome : undefined;
  return outcome?.resourceType === 'OperationOutcome' ? ((outcome as OperationOutcome).issue ?? []) : [];
}

/** Type/id of every resource a transaction-response wrote (its locations, without base or version). */
export function writtenBy(response: FhirResponse): string[] {
  if (response.body === undefined || response.status >= 300) return [];
  const body = resourceOf(response.body);
  if (body.resourceType !== 'Bundle') return [];
  const out: string[] = [];
  for (const e of (body as Bundle).entry ?? []) {
    const m = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/.exec(e.response?.location ?? '');
    if (m) out.push(m[1]);
  }
  return out;
}

export class InboundLog {
  readonly bounds: MessageLogBounds;
  private readonly store: MessageLogStore | undefined;
  private readonly onError: (err: Error) => void;
  private readonly now: () => number;
  private timer?: ReturnType<typeof setInterval>;

  constructor(store: MessageLogStore | undefined, bounds: MessageLogBounds, onError: (err: Error) => void, now: () => number = Date.now) {
    this.store = bounds.days > 0 && bounds.max > 0 ? store : undefined;
    this.bounds = bounds;
    this.onError = onError;
    this.now = now;
  }

  /** whether what is read of the log after recordHl7v2 was called includes those messages
   * before its promise settled (MessageLogStore.ordered), or if the log is off */
  get ordered(): boolean {
    return this.store?.ordered ?? true;
  }

  /** whether messages are logged (a bound of 0, or an engine without a log, turns it off) */
  get enabled(): boolean {
    return this.store !== undefined;
  }

  /** Prunes now and then once an hour, so that entries past their days go even when no message comes. */
  start(): void {
    if (!this.store) return;
    void this.prune();
    this.timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** HL7 v2 messages and their answers, in the order received. Never throws: a failure to log
   * is reported (without the message) and the ACKs go out as they are. */
  async recordHl7v2(door: InboundDoor, received: ReceivedHl7v2[]): Promise<void> {
    if (!this.store) return;
    await this.append(
      received.map(({ bytes, charset, received: at, result }) => ({
        id: timeOrderedId(), received: at, door, kind: 'hl7v2', ...headerFields(bytes, charset),
        ack: result.ackCode, issues: issuesOf(result.response), written: writtenBy(result.response), size: bytes.length,
        contentKept: bytes.length <= MAX_CONTENT_BYTES, ...(bytes.length <= MAX_CONTENT_BYTES ? { content: Buffer.from(bytes) } : {}),
        ...(charset ? { charset: clip(charset) } : {}),
      })),
    );
  }

  /** A national import ($import-national): its JSON body and the answer, or the error that refused it. */
  async recordNational(input: { body: unknown; adapter?: string; sender?: string; received: string; declaredBytes?: number }, outcome: { response: FhirResponse } | { error: unknown }): Promise<void> {
    if (!this.store) return;
    const refused = 'error' in outcome;
    const issues = refused
      ? outcome.error instanceof FhirError ? outcome.error.outcome.issue : [{ severity: 'error' as const, code: 'exception' as const, diagnostics: 'Internal error; nothing was stored' }]
      : issuesOf(outcome.response);
    const ack: InboundAck = refused ? 'AE' : 'AA';
    // the body as JSON text (a large one is measured by its Content-Length, not serialized)
    const content = (input.declaredBytes ?? 0) > MAX_CONTENT_BYTES ? undefined : Buffer.from(JSON.stringify(input.body ?? null), 'utf8');
    await this.append([{
      id: timeOrderedId(), received: input.received, door: 'http', kind: 'national', ...(input.sender ? { sender: clip(input.sender) } : {}), ...(input.adapter ? { event: clip(input.adapter) } : {}),
      ack, issues, written: refused ? [] : writtenBy(outcome.response), size: content?.length ?? input.declaredBytes ?? 0,
      contentKept: !!content && content.length <= MAX_CONTENT_BYTES, ...(content && content.length <= MAX_CONTENT_BYTES ? { content } : {}),
    }]);
  }

  list(query: MessageLogQuery): Promise<InboundSummary[]> {
    return this.store ? this.store.list(query) : Promise.resolve([]);
  }

  read(id: string): Promise<InboundMessage | undefined> {
    return this.store ? this.store.read(id) : Promise.resolve(undefined);
  }

  /** What is past the bounds now. */
  private pruneBounds(): PruneBounds {
    return { before: new Date(this.now() - this.bounds.days * DAY_MS).toISOString(), keep: this.bounds.max };
  }

  /** Deletes what is past the bounds; returns how many entries went. */
  async prune(): Promise<number> {
    if (!this.store) return 0;
    try {
      const { before, keep } = this.pruneBounds();
      return await this.store.prune(before, keep);
    } catch (err) {
      this.onError(err as Error);
      return 0;
    }
  }

  /** Stores the entries and prunes, in one call on the store. */
  private async append(entries: InboundMessage[]): Promise<void> {
    try {
      await this.store!.append(entries, this.pruneBounds());
    } catch (err) {
      this.onError(err as Error);
    }
  }
}
