// HL7 v2 ADT ingest, shared by both transports: POST [base]/$hl7v2-ingest (one message per
// request; FHIR has no standard operation for v2 input — $process-message takes FHIR message
// Bundles) and the MLLP listener (src/transport/mllp.ts). A message is mapped by the hl7v2-adt
// adapter and applied in one transaction; the answer is both a FHIR response (transaction-
// response, or an OperationOutcome) and an HL7 ACK (AA/AE/AR), so each transport picks its own.
// Errors never escape as crashes: anything unexpected becomes AE / 500 and nothing is stored.
import { randomUUID } from 'node:crypto';
import type { Bundle, OperationOutcome } from 'fhir/r4.js';
import { FhirError, operationOutcome, type IssueInput } from '../fhir/errors.ts';
import { buildAck, warningErrors, type AckInput } from '../mapping/hl7v2/ack.ts';
import { Hl7Error, HL7_ERROR } from '../mapping/hl7v2/errors.ts';
import type { Header, Hl7v2Input } from '../mapping/hl7v2/header.ts';
import { mapMessage } from '../mapping/hl7v2/to-fhir.ts';
import { applyAdapterBundle } from '../mapping/apply.ts';
import { OPERATIONS } from '../rest/capabilities.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';

OPERATIONS.push({ name: 'hl7v2-ingest', definition: 'https://migfhir.org/fhir/OperationDefinition/hl7v2-ingest', types: [] });

export const HL7_MEDIA_TYPES = ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'];

export interface Ingested {
  response: FhirResponse;
  ack: string;
  /** AA, AE or AR */
  ackCode: AckInput['code'];
  /** the patient written, for the audit trail */
  patient?: string;
}

function ackId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 20);
}

/** FhirErrors of the transaction in HL7 terms: duplicate keys, unknown keys, the rest. */
function hl7CodeOf(err: FhirError): string {
  const code = err.outcome.issue[0]?.code;
  if (err.status === 412 || code === 'multiple-matches') return HL7_ERROR.duplicateKey;
  if (code === 'not-found') return HL7_ERROR.unknownKey;
  if (err.status === 403) return HL7_ERROR.internal;
  return err.status < 500 ? HL7_ERROR.dataType : HL7_ERROR.internal;
}

function withWarnings(text: string, issues: IssueInput[]): string {
  if (!issues.length) return text;
  const body = JSON.parse(text) as Bundle;
  const first = body.entry?.[0];
  if (first?.response) first.response.outcome = operationOutcome(issues.map((i) => ({ ...i, severity: 'warning' })));
  return JSON.stringify(body);
}

/** Maps and applies one message; never throws. */
export async function ingestHl7v2(req: FhirRequest, ctx: Context, input: Hl7v2Input): Promise<Ingested> {
  const now = new Date().toISOString();
  let header: Partial<Header> | undefined;
  try {
    const mapped = mapMessage({ ...input, received: now });
    header = mapped.header;
    const applied = await applyAdapterBundle(req, ctx, mapped.bundle, mapped.source);
    const warnings = mapped.warnings;
    const issues: IssueInput[] = warnings.map((w) => ({ code: 'informational', diagnostics: w.message, expression: [w.location] }));
    if (applied.duplicateOf) {
      const text = `Message ${mapped.header.controlId} was applied before (${applied.duplicateOf}); nothing was written again`;
      const outcome: OperationOutcome = operationOutcome([{ severity: 'information', code: 'duplicate', diagnostics: text }]);
      return { ackCode: 'AA', ack: buildAck({ code: 'AA', header, controlId: ackId(), now, text: 'duplicate message: already applied' }), response: { status: 200, body: outcome } };
    }
    const body = withWarnings(applied.response.body as string, issues);
    const patient = /"location":"[^"]*?\/(Patient\/[A-Za-z0-9\-.]{1,64})\/_history/.exec(body)?.[1];
    return {
      ackCode: 'AA',
      ack: buildAck({ code: 'AA', header, controlId: ackId(), now, errors: warningErrors(warnings) }),
      response: { status: 200, body },
      patient,
    };
  } catch (err) {
    header ??= (err as { header?: Header }).header;
    if (err instanceof Hl7Error) {
      const ack = buildAck({ code: err.ack, header, controlId: ackId(), now, text: err.message, errors: [{ code: err.code, location: err.location, message: err.message, severity: 'E' }] });
      const fhir = err.toFhir();
      return { ackCode: err.ack, ack, response: { status: fhir.status, body: fhir.outcome } };
    }
    const fhir = err instanceof FhirError ? err : new FhirError(500, { code: 'exception', diagnostics: 'Internal error while applying the message; nothing was stored' });
    const message = fhir.outcome.issue[0]?.diagnostics ?? 'error';
    const ack = buildAck({ code: 'AE', header, controlId: ackId(), now, text: message, errors: [{ code: hl7CodeOf(fhir), message, severity: 'E' }] });
    return { ackCode: 'AE', ack, response: { status: fhir.status, body: fhir.outcome } };
  }
}

/** POST [base]/$hl7v2-ingest with one message as text/plain or x-application/hl7-v2+er7. */
export async function hl7v2Ingest(req: FhirRequest, ctx: Context): Promise<Ingested> {
  if (!Buffer.isBuffer(req.body)) {
    throw new FhirError(415, { code: 'not-supported', diagnostics: `$hl7v2-ingest takes one HL7 v2 message as ${HL7_MEDIA_TYPES.join(' or ')}` });
  }
  const charset = /charset=("?)([A-Za-z0-9_.:\-]+)\1/i.exec(req.headers['content-type'] ?? '')?.[2];
  return ingestHl7v2(req, ctx, { bytes: req.body, charset });
}
