// The one place where errors become HTTP responses: FhirErrors carry their status and
// OperationOutcome; Fastify's own client errors (body too large, unsupported media type…) are
// translated; anything else is a 500 that names the request id and never a stack or path.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError, operationOutcome, type IssueCode } from '../fhir/errors.ts';
import { FHIR_JSON } from './negotiation.ts';

const FASTIFY_CODES: Record<string, { status: number; code: IssueCode; diagnostics: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'too-long', diagnostics: 'The request body is larger than this server accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'not-supported', diagnostics: 'Unsupported Content-Type: send application/fhir+json (or application/json-patch+json for PATCH)' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'structure', diagnostics: 'Content-Length does not match the body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'structure', diagnostics: 'The request body is empty' },
};

export function errorHandler(err: FastifyError | FhirError, request: FastifyRequest, reply: FastifyReply) {
  let status: number;
  let body;
  let headers: Record<string, string> = {};
  if (err instanceof FhirError) {
    status = err.status;
    body = err.outcome;
    headers = err.headers;
    if (status >= 500 && status !== 501) request.log.error({ err }, 'request failed');
  } else {
    const known = FASTIFY_CODES[(err as FastifyError).code ?? ''];
    const s = known?.status ?? (err as FastifyError).statusCode ?? 500;
    if (known || (s >= 400 && s < 500)) {
      status = s;
      body = operationOutcome([{ code: known?.code ?? 'invalid', diagnostics: known?.diagnostics ?? err.message.slice(0, 200) }]);
    } else {
      status = 500;
      request.log.error({ err }, 'unexpected error');
      body = operationOutcome([{ code: 'exception', diagnostics: `Internal server error (request ${request.id})` }]);
    }
  }
  return reply.code(status).headers(headers).header('content-type', FHIR_JSON).send(JSON.stringify(body));
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const path = request.url.split('?')[0].slice(0, 200);
  const body = operationOutcome([{ code: 'not-found', diagnostics: `No FHIR interaction at ${request.method} ${path}` }]);
  return reply.code(404).header('content-type', FHIR_JSON).send(JSON.stringify(body));
}
