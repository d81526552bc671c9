// HTTP side of the HL7 v2 adapter, in its own Fastify scope so that its media types
// (x-application/hl7-v2+er7, text/plain: raw bytes, decoded per MSH-18) reach only these routes:
//   POST [base]/$hl7v2-ingest           one message → transaction-response or OperationOutcome
//                                       (Accept: x-application/hl7-v2+er7 → the ACK instead)
//   GET  [base]/Patient/[id]/$hl7v2-export?event=A28|A31   → the ADT message for that Patient
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Patient } from 'fhir/r4.js';
import { authorize } from '../auth/authorize.ts';
import { viewFor } from '../auth/sensitive.ts';
import { badRequest } from '../fhir/errors.ts';
import { assertValidId } from '../fhir/reference.ts';
import { serialize } from '../fhir/body.ts';
import { fromFhir } from '../mapping/hl7v2/from-fhir.ts';
import { HL7_MEDIA_TYPES, hl7v2Ingest } from '../operations/hl7v2.ts';
import { OPERATIONS } from '../rest/capabilities.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';
import { auditInput } from './audit.ts';
import { FHIR_JSON } from './negotiation.ts';
import { baseUrlOf } from './routes.ts';
import { metricsOf } from './metrics.ts';

OPERATIONS.push({ name: 'hl7v2-export', definition: 'https://migfhir.org/fhir/OperationDefinition/hl7v2-export', types: ['Patient'] });

const ER7 = 'x-application/hl7-v2+er7; charset=utf-8';

function fhirRequest(request: FastifyRequest, ctx: Context): FhirRequest {
  return {
    method: request.method,
    baseUrl: baseUrlOf(request, ctx),
    query: request.query as Record<string, string[]>,
    headers: request.headers as Record<string, string | undefined>,
    body: request.body,
    contentType: request.headers['content-type']?.split(';')[0].trim().toLowerCase(),
    auth: request.fhirAuth,
  };
}

function send(reply: FastifyReply, res: FhirResponse): FastifyReply {
  reply.code(res.status).header('content-type', FHIR_JSON);
  return reply.send(res.body === undefined ? undefined : serialize(res.body));
}

export function registerHl7v2Routes(ctx: Context) {
  return async (app: FastifyInstance) => {
    app.addContentTypeParser(HL7_MEDIA_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    app.post('/$hl7v2-ingest', async (request, reply) => {
      request.auditInteraction = 'transaction';
      const req = fhirRequest(request, ctx);
      const audit = ctx.audit;
      // the writes and their AuditEvent commit together, as for every other write
      const result = await hl7v2Ingest(req, ctx, audit && (async (r) => audit.inTransaction({ ...auditInput(request, 'transaction', r.response.status, req, r.response), patient: r.patient })));
      if (audit && result.ackCode !== 'AA') await audit.later({ ...auditInput(request, 'transaction', result.response.status, req), description: `HL7 v2 message not applied (${result.ackCode})` });
      metricsOf(ctx)?.message('http', result.ackCode);
      if (/hl7-v2/i.test(request.headers.accept ?? '')) {
        // HL7 over HTTP: clients that speak v2 only get the ACK
        return reply.code(result.ackCode === 'AA' ? 200 : result.response.status).header('content-type', ER7).send(result.ack);
      }
      return send(reply, result.response);
    });

    app.get('/Patient/:id/$hl7v2-export', async (request, reply) => {
      request.auditInteraction = 'operation';
      const { id } = request.params as { id: string };
      assertValidId(id);
      authorize(request.fhirAuth, 'Patient', 'r');
      const event = (request.query as Record<string, string[]>).event?.[0] ?? 'A31';
      if (event !== 'A28' && event !== 'A31') throw badRequest("event must be A28 (add person) or A31 (update person)", 'value');
      // the message is built from what the client may see of the patient (src/auth/sensitive.ts viewFor)
      const patient = viewFor(request.fhirAuth)(JSON.parse((await ctx.repo.read('Patient', id)).json!) as Patient);
      const message = fromFhir([patient], { event, controlId: randomUUID().replace(/-/g, '').slice(0, 20), now: new Date().toISOString() });
      await ctx.audit?.later({ ...auditInput(request, 'operation', 200), what: `Patient/${id}`, patient: `Patient/${id}` });
      return reply.code(200).header('content-type', ER7).send(message);
    });
  };
}
