// POST [base]/$hl7v2-ingest (server-specific; FHIR has no standard operation for v2 input —
// $process-message takes FHIR message Bundles): one HL7 v2 message, or a batch file of them
// (src/operations/hl7v2-batch.ts), as
// x-application/hl7-v2+er7 or text/plain (raw bytes, decoded per MSH-18; src/http/hl7v2.ts
// parses those media types for this route only). The answer is the transaction-response or an
// OperationOutcome, or with Accept: x-application/hl7-v2+er7 the ACK (clients that speak v2
// only). The message is applied in its own transaction (src/operations/hl7v2.ts), which its
// AuditEvent joins.
import { MediaText } from '../fhir/body.ts';
import type { Handler } from '../rest/types.ts';
import { FhirError } from '../fhir/errors.ts';
import { HL7_MEDIA_TYPES } from './hl7v2.ts';
import { defineOperation } from './types.ts';
import { charsetParameter } from '../mapping/hl7v2/charset.ts';
import { isBatch } from '../mapping/hl7v2/batch.ts';
import { ingestHl7v2Batch, ingestThroughDoor, type BatchDoor } from './hl7v2-batch.ts';

export const ER7 = 'x-application/hl7-v2+er7; charset=utf-8';

const ingest: Handler = async (req, ctx) => {
  if (!Buffer.isBuffer(req.body)) {
    throw new FhirError(415, { code: 'not-supported', diagnostics: `$hl7v2-ingest takes one HL7 v2 message as ${HL7_MEDIA_TYPES.join(' or ')}` });
  }
  const audit = req.auditEvent;
  const er7 = /hl7-v2/i.test(req.headers.accept ?? '');
  const door: BatchDoor = {
    door: 'http',
    charset: charsetParameter(req.headers['content-type']),
    ...(audit ? { onApplied: (r) => audit(r.response, { patient: r.patient, inTransaction: true }), notApplied: (r, description) => audit(r.response, { description, inTransaction: false }) } : {}),
  };
  if (isBatch(req.body)) {
    // a batch file: the batch of ACKs, or a batch-response Bundle (200 once the envelope was read)
    const answer = await ingestHl7v2Batch(req, ctx, req.body, door);
    return er7 ? { status: answer.response.status, body: new MediaText(ER7, answer.ack) } : answer.response;
  }
  // one message: applied as each message of a batch file is
  const { result, logged } = await ingestThroughDoor(req, ctx, req.body, door, new Date().toISOString());
  // accepted or refused, the message goes to the inbound message log (src/inbound/log.ts)
  await ctx.inbound?.recordHl7v2('http', [logged]);
  if (er7) {
    return { status: result.ackCode === 'AA' ? 200 : result.response.status, body: new MediaText(ER7, result.ack) };
  }
  return result.response;
};

export const hl7v2IngestOperation = defineOperation({
  code: 'hl7v2-ingest',
  id: 'hl7v2-ingest',
  title: 'Ingest an HL7 v2 ADT message',
  description: 'Maps one HL7 v2 ADT message (ER7) to FHIR and applies it in one transaction; answers the transaction-response, or with Accept: x-application/hl7-v2+er7 the ACK. A batch file ([FHS] BHS MSH… BTS [FTS]) applies each message as if sent alone and answers a batch-response Bundle, or the batch of ACKs.',
  levels: ['system'],
  ownFormats: true,
  affectsState: true,
  // the message's own transaction, which its AuditEvent joins (auditsItself)
  auditAs: 'transaction',
  auditsItself: true,
  notInTransaction: 'applies the message in its own transaction',
  rawBody: true,
  parameters: [{ name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' }],
  handler: ingest,
});
