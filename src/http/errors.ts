// The one place where errors become HTTP responses: FhirErrors carry their status and
// OperationOutcome; Fastify's own client errors (body too large, unsupported media type…),
// its routing errors and Node's HTTP parser errors are translated; anything else is a 500 that
// names the request id and never a stack or path. Every error body is an OperationOutcome.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeletedError, FhirError, operationOutcome, type IssueCode } from '../fhir/errors.ts';
import { etagHeaders } from '../rest/common.ts';
import { errorFormat, FHIR_JSON, FHIR_XML } from './negotiation.ts';
import { toXml } from '../fhir/xml/serialize.ts';
import type { OperationOutcome } from 'fhir/r4.js';

/** An OperationOutcome sent in the format the request asked for (JSON when it cannot be told). */
function sendOutcome(request: FastifyRequest, reply: FastifyReply, outcome: OperationOutcome): FastifyReply {
  if (errorFormat(request) === 'xml') return reply.header('content-type', FHIR_XML).send(toXml(outcome));
  return reply.header('content-type', FHIR_JSON).send(JSON.stringify(outcome));
}

const FASTIFY_CODES: Record<string, { status: number; code: IssueCode; diagnostics: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'too-long', diagnostics: 'The request body is larger than this server accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'not-supported', diagnostics: 'Unsupported Content-Type: send application/fhir+json or application/fhir+xml (or application/json-patch+json for PATCH)' },
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
    headers = err instanceof DeletedError ? { ...etagHeaders(err.deletion), ...err.headers } : err.headers;
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
  return sendOutcome(request, reply.code(status).headers(headers), body);
}

/** Errors Fastify raises while routing, before any hook runs (the frameworkErrors option). */
const ROUTING_CODES: Record<string, { status: number; code: IssueCode; diagnostics: string }> = {
  FST_ERR_BAD_URL: { status: 400, code: 'structure', diagnostics: 'The URL path is malformed: percent-escapes must encode UTF-8' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'too-long', diagnostics: 'A segment of the URL path is longer than this server accepts' },
};

export function routingErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const known = ROUTING_CODES[err.code];
  if (!known) return errorHandler(err, request, reply);
  const body = operationOutcome([{ code: known.code, diagnostics: known.diagnostics }]);
  return sendOutcome(request, reply.code(known.status), body);
}

/** A complete HTTP/1.1 response, for sockets Node's parser gave up on (no request object). */
function rawResponse(status: number, code: IssueCode, diagnostics: string): string {
  const body = JSON.stringify(operationOutcome([{ code, diagnostics }]));
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${FHIR_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Node's HTTP parser errors (malformed request line or headers, unknown methods, headers past
 * the size limit) and requests not received within the timeouts: answered on the raw socket,
 * which is then closed, as Node itself does. */
export function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  this.log.debug({ code: err.code }, 'client error');
  if (socket.writable) {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.write(rawResponse(408, 'timeout', 'The request was not received in time'));
    else if (err.code === 'HPE_HEADER_OVERFLOW') socket.write(rawResponse(431, 'too-long', 'The request line and headers are larger than this server accepts'));
    else socket.write(rawResponse(400, 'structure', 'Malformed HTTP request'));
  }
  socket.destroy();
}

/** CONNECT asks the server to be a proxy, which it never is. */
export function connectHandler(_request: unknown, socket: Socket): void {
  if (socket.writable) socket.write(rawResponse(405, 'not-supported', 'CONNECT is not supported: this is not a proxy'));
  socket.destroy();
}

/** The methods of FHIR's RESTful API; any other gets 405. */
const FHIR_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  if (!FHIR_METHODS.split(', ').includes(request.method)) {
    const body = operationOutcome([{ code: 'not-supported', diagnostics: `The method ${request.method.slice(0, 20)} is not part of this FHIR API` }]);
    return sendOutcome(request, reply.code(405).header('allow', FHIR_METHODS), body);
  }
  const path = request.url.split('?')[0].slice(0, 200);
  const body = operationOutcome([{ code: 'not-found', diagnostics: `No FHIR interaction at ${request.method} ${path}` }]);
  return sendOutcome(request, reply.code(404), body);
}
