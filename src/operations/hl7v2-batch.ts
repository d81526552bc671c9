// HL7 v2 batch files ([FHS] BHS MSH… BTS [FTS], HL7 v2.5 §2.10.3) on both doors: the body of
// POST [base]/$hl7v2-ingest and an MLLP frame that holds a batch are answered by this one
// function, so both doors give the same ACKs. The envelope is checked whole first
// (src/mapping/hl7v2/batch.ts): a broken one is refused with one AR and nothing is applied. Each
// message is then applied exactly as if it had come alone and in order — its own transaction
// (ingestHl7v2), its own ACK code, its own entry in the inbound message log, the same
// recognition of a control id applied before — so a message refused (AE/AR) leaves the others
// applied, and a batch sent again applies nothing twice. No group commit across messages, unlike
// the MLLP listener's queue: a batch file is a bulk hand-over, and one message's answer must
// not depend on its neighbours.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Bundle, BundleEntry, OperationOutcome } from 'fhir/r4.js';
import { resourceOf } from '../fhir/body.ts';
import { metricsOf } from '../http/metrics.ts';
import type { ReceivedHl7v2 } from '../inbound/log.ts';
import { buildBatchAck, envelopeAsHeader, readBatch, type BatchFile, type EnvelopeHeader } from '../mapping/hl7v2/batch.ts';
import type { InboundDoor } from '../store/message-log.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';
import { ackId, failed, ingestHl7v2, type Ingested, type OnApplied } from './hl7v2.ts';

/** What differs between the doors: the log's door, the HTTP charset parameter, the audit trail. */
export interface BatchDoor {
  door: InboundDoor;
  /** a character set for messages whose MSH-18 is empty (the HTTP charset parameter) */
  charset?: string;
  /** inside each applied message's transaction (its AuditEvent commits with it) */
  onApplied?: OnApplied;
  /** for a message not applied, or the whole batch refused */
  notApplied?: (result: Ingested, description: string) => Promise<void>;
}

export interface BatchAnswer {
  /** the batch of ACKs, or one AR ACK for a broken batch */
  ack: string;
  /** a batch-response Bundle (200), or the OperationOutcome of a broken batch (400) */
  response: FhirResponse;
  /** each message's own result, in order (none for a broken batch) */
  results: Ingested[];
}

function statusText(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

/** One message's answer as a batch-response entry: its transaction-response as the resource, or
 * its OperationOutcome (a refusal, or "applied before") as the outcome; the status it would get
 * alone. */
function entryOf(r: Ingested): BundleEntry {
  const body = r.response.body === undefined ? undefined : resourceOf<Bundle | OperationOutcome>(r.response.body);
  const status = statusText(r.response.status);
  if (body?.resourceType === 'OperationOutcome') return { response: { status, outcome: body } };
  return { ...(body ? { resource: body } : {}), response: { status } };
}

/** A message's answer counted by the door it came through, and audited when it was not applied
 * (every door answers a message so: $hl7v2-ingest, a batch file, an MLLP frame). */
export async function answered(ctx: Context, door: Pick<BatchDoor, 'door' | 'notApplied'>, result: Ingested, description = `HL7 v2 message not applied (${result.ackCode})`): Promise<void> {
  metricsOf(ctx)?.message(door.door, result.ackCode);
  if (result.ackCode !== 'AA') await door.notApplied?.(result, description);
}

/** A message's entry of the inbound message log, with the door's charset. */
function logEntry(door: BatchDoor, bytes: Buffer, received: string, result: Ingested): ReceivedHl7v2 {
  return { bytes, ...(door.charset ? { charset: door.charset } : {}), received, result };
}

/** One message through a door, as if sent alone: applied in its own transaction (ingestHl7v2),
 * counted, and audited when not applied. Its inbound log entry is the caller's to write (a batch
 * file's entries are written together). */
export async function ingestThroughDoor(req: FhirRequest, ctx: Context, bytes: Buffer, door: BatchDoor, received: string, index = 0): Promise<{ result: Ingested; logged: ReceivedHl7v2 }> {
  const result = await ingestHl7v2(req, ctx, { bytes, ...(door.charset ? { charset: door.charset } : {}) }, door.onApplied, index);
  await answered(ctx, door, result);
  return { result, logged: logEntry(door, bytes, received, result) };
}

/** A batch file's bytes, answered; never throws for what the sender sent. */
export async function ingestHl7v2Batch(req: FhirRequest, ctx: Context, bytes: Buffer, door: BatchDoor): Promise<BatchAnswer> {
  const received = new Date().toISOString();
  let file: BatchFile;
  try {
    file = readBatch(bytes);
  } catch (err) {
    const refused = failed(err, envelopeAsHeader((err as { envelope?: EnvelopeHeader }).envelope), received);
    // the refused file is one entry of the inbound message log, as a refused message is
    await ctx.inbound?.recordHl7v2(door.door, [logEntry(door, bytes, received, refused)]);
    await answered(ctx, door, refused, `HL7 v2 batch refused (${refused.ackCode}): nothing applied`);
    return { ack: refused.ack, response: refused.response, results: [] };
  }
  const messages = file.batches.flatMap((b) => b.messages);
  const results: Ingested[] = [];
  const logged: ReceivedHl7v2[] = [];
  for (const [i, m] of messages.entries()) {
    const one = await ingestThroughDoor(req, ctx, Buffer.from(m.buffer, m.byteOffset, m.byteLength), door, received, i);
    results.push(one.result);
    logged.push(one.logged);
  }
  // accepted or refused, each message is its own entry of the inbound message log
  if (logged.length) await ctx.inbound?.recordHl7v2(door.door, logged);
  const bundle: Bundle = { resourceType: 'Bundle', id: randomUUID(), type: 'batch-response', entry: results.map(entryOf) };
  return { ack: buildBatchAck(file, results.map((r) => r.ack), received, ackId), response: { status: 200, body: bundle }, results };
}
