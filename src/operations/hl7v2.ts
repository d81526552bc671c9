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
import { mapMessage, type MappedMessage } from '../mapping/hl7v2/to-fhir.ts';
import type { MapResult } from '../transport/hl7v2-mapper.ts';
import { applyAdapterBundle, writtenPatient, type PreparedAdapterBundle } from '../mapping/apply.ts';
import { AbsentMatches } from '../mapping/absent-matches.ts';
import { resourceOf } from '../fhir/body.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';

export const HL7_MEDIA_TYPES = ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'];

export interface Ingested {
  response: FhirResponse;
  ack: string;
  /** AA, AE or AR */
  ackCode: AckInput['code'];
  /** the patient written, for the audit trail */
  patient?: string;
}

export function ackId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 20);
}

/** The issue that refused the message: a validation outcome (the write pipeline's 422) also
 * carries warnings, which come first. */
function cause(err: FhirError) {
  return err.outcome.issue.find((i) => i.severity === 'error' || i.severity === 'fatal') ?? err.outcome.issue[0];
}

/** FhirErrors of the transaction in HL7 terms: duplicate keys, unknown keys, the rest (an
 * invalid resource — the write pipeline's 422 — is AE with 102, data type error). Fields the
 * mapping cannot use are dropped with a warning before this (src/mapping/hl7v2); what reaches
 * the pipeline and fails is a resource the server must not store, so nothing is. */
function hl7CodeOf(err: FhirError): string {
  const code = cause(err)?.code;
  if (err.status === 412 || code === 'multiple-matches') return HL7_ERROR.duplicateKey;
  if (code === 'not-found') return HL7_ERROR.unknownKey;
  if (err.status === 403) return HL7_ERROR.internal;
  return err.status < 500 ? HL7_ERROR.dataType : HL7_ERROR.internal;
}

function withWarnings(body: Bundle, issues: IssueInput[]): Bundle {
  if (!issues.length) return body;
  const first = body.entry?.[0];
  if (first?.response) first.response.outcome = operationOutcome(issues.map((i) => ({ ...i, severity: 'warning' })));
  return body;
}

/** The answer to a message that could not be applied (nothing was stored). */
export function failed(err: unknown, header: Partial<Header> | undefined, now: string): Ingested {
  header ??= (err as { header?: Header }).header;
  if (err instanceof Hl7Error) {
    const ack = buildAck({ code: err.ack, header, controlId: ackId(), now, text: err.message, errors: [{ code: err.code, location: err.location, message: err.message, severity: 'E' }] });
    const fhir = err.toFhir();
    return { ackCode: err.ack, ack, response: { status: fhir.status, body: fhir.outcome } };
  }
  const fhir = err instanceof FhirError ? err : new FhirError(500, { code: 'exception', diagnostics: 'Internal error while applying the message; nothing was stored' });
  const message = cause(fhir)?.diagnostics ?? 'error';
  const ack = buildAck({ code: 'AE', header, controlId: ackId(), now, text: message, errors: [{ code: hl7CodeOf(fhir), message, severity: 'E' }] });
  return { ackCode: 'AE', ack, response: { status: fhir.status, body: fhir.outcome } };
}

/** Applies a mapped message inside the caller's transaction; throws when it cannot be applied. */
async function apply(req: FhirRequest, ctx: Context, mapped: MappedMessage, now: string, prepared?: PreparedAdapterBundle, absent?: AbsentMatches): Promise<Ingested> {
  const header = mapped.header;
  const applied = await applyAdapterBundle(req, ctx, mapped.bundle, mapped.source, prepared, absent);
  const warnings = mapped.warnings;
  if (applied.duplicateOf) {
    const text = `Message ${header.controlId} was applied before (${applied.duplicateOf}); nothing was written again`;
    const outcome: OperationOutcome = operationOutcome([{ severity: 'information', code: 'duplicate', diagnostics: text }]);
    return { ackCode: 'AA', ack: buildAck({ code: 'AA', header, controlId: ackId(), now, text: 'duplicate message: already applied' }), response: { status: 200, body: outcome } };
  }
  const issues: IssueInput[] = warnings.map((w) => ({ code: 'informational', diagnostics: w.message, expression: [w.location] }));
  const body = withWarnings(resourceOf<Bundle>(applied.response.body!), issues);
  const patient = writtenPatient(body);
  return { ackCode: 'AA', ack: buildAck({ code: 'AA', header, controlId: ackId(), now, errors: warningErrors(warnings) }), response: { status: 200, body }, patient };
}

/** Called inside the message's transaction once it is applied (e.g. to audit it). */
export type OnApplied = (result: Ingested, index: number) => Promise<void>;

/** Maps and applies one message in its own transaction; never throws. */
export async function ingestHl7v2(req: FhirRequest, ctx: Context, input: Hl7v2Input, onApplied?: OnApplied, index = 0): Promise<Ingested> {
  const now = new Date().toISOString();
  let mapped: MappedMessage;
  try {
    mapped = mapMessage({ ...input, received: now });
  } catch (err) {
    return failed(err, undefined, now);
  }
  return applyAlone(req, ctx, mapped, now, onApplied, index);
}

/** Applies one mapped message in its own transaction; never throws. */
async function applyAlone(req: FhirRequest, ctx: Context, mapped: MappedMessage, now: string, onApplied?: OnApplied, index = 0): Promise<Ingested> {
  try {
    return await ctx.repo.transaction(async () => {
      const r = await apply(req, ctx, mapped, now);
      await onApplied?.(r, index);
      return r;
    });
  } catch (err) {
    return failed(err, mapped.header, now);
  }
}

class BatchAbort extends Error {}

/**
 * Several messages in one store transaction (group commit: a commit costs more than applying
 * a message), each with the result it would get alone: messages are mapped first (mapping
 * errors are answered without touching the batch), applied in order, and if one of them fails
 * while being applied the batch is rolled back and every message is applied on its own.
 * `premapped`: the messages as the MLLP listener's mapping thread mapped them (same order),
 * with their Bundles' entries prepared ahead when it could (src/transport/hl7v2-mapper.ts).
 */
export async function ingestBatch(req: FhirRequest, ctx: Context, inputs: Hl7v2Input[], onApplied?: OnApplied, premapped?: MapResult[]): Promise<Ingested[]> {
  if (inputs.length === 1 && !premapped) return [await ingestHl7v2(req, ctx, inputs[0], onApplied)];
  const now = new Date().toISOString();
  const results: (Ingested | undefined)[] = new Array(inputs.length);
  const prepared: (PreparedAdapterBundle | undefined)[] = [];
  const mapped: (MappedMessage | undefined)[] = inputs.map((input, i) => {
    const pre = premapped?.[i];
    if (pre) {
      if ('prepared' in pre) prepared[i] = pre.prepared;
      if ('mapped' in pre) return pre.mapped;
      results[i] = failed(pre.error, undefined, now);
      return undefined;
    }
    try {
      return mapMessage({ ...input, received: now });
    } catch (err) {
      results[i] = failed(err, undefined, now);
      return undefined;
    }
  });
  try {
    const applied = await ctx.repo.transaction(async () => {
      // the batch's look-ups that match nothing, found with one search a type (absent-matches.ts)
      const present = mapped.filter((m): m is MappedMessage => !!m);
      const absent = present.length > 1 ? await AbsentMatches.prove(req, ctx, present.map((m) => m.bundle.entry ?? []), present.map((m) => m.source)) : undefined;
      const out: (Ingested | undefined)[] = [];
      for (const [i, m] of mapped.entries()) {
        if (!m) {
          out.push(undefined);
          continue;
        }
        try {
          const r = await apply(req, ctx, m, now, prepared[i], absent);
          await onApplied?.(r, i);
          out.push(r);
        } catch {
          throw new BatchAbort();
        }
      }
      return out;
    });
    return applied.map((r, i) => r ?? results[i]!);
  } catch (err) {
    if (!(err instanceof BatchAbort)) throw err;
    // each message alone, as it was mapped (its Provenance keeps the time it was received), and
    // written the ordinary way (what was prepared ahead was prepared for the batch)
    const out: Ingested[] = [];
    for (const [i, m] of mapped.entries()) out.push(results[i] ?? (await applyAlone(req, ctx, m!, now, onApplied, i)));
    return out;
  }
}

