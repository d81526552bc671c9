// Response formats (https://hl7.org/fhir/R4/http.html#mime-type): FHIR JSON or FHIR XML, chosen
// by _format (which wins), else by the Accept header's best quality, else by the request
// body's format, else JSON. A fhirVersion parameter other than R4's (4.0) is not acceptable.
// _format and Accept that ask for neither get 406, answered in JSON.
import type { FastifyRequest } from 'fastify';
import { FhirError } from '../fhir/errors.ts';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
export const FHIR_XML = 'application/fhir+xml; charset=utf-8';

export type Format = 'json' | 'xml';

const FORMATS = new Map<string, Format>([
  ['json', 'json'], ['application/json', 'json'], ['application/fhir+json', 'json'], ['application/json+fhir', 'json'], ['text/json', 'json'],
  ['xml', 'xml'], ['application/xml', 'xml'], ['application/fhir+xml', 'xml'], ['application/xml+fhir', 'xml'], ['text/xml', 'xml'],
]);
// what an Accept header may also name: anything, and JSON as the default
const WILDCARDS = new Set(['*/*', 'application/*']);

/** The media types request bodies may be sent as in XML. */
export const XML_TYPES = ['application/fhir+xml', 'application/xml', 'text/xml', 'application/xml+fhir'];

function notAcceptable(what: string): FhirError {
  return new FhirError(406, {
    code: 'not-supported',
    diagnostics: `${what}: this server answers in FHIR JSON (application/fhir+json) or FHIR XML (application/fhir+xml), FHIR R4 (fhirVersion=4.0)`,
  });
}

/** A media type's parameters say R4, or nothing of the version. */
export function isR4(params: string[]): boolean {
  const v = params.find((p) => p.startsWith('fhirversion='));
  if (!v) return true;
  const version = v.slice('fhirversion='.length).replace(/^"|"$/g, '');
  return version === '4.0' || version === '4.0.1' || version === '4.0.0';
}

/** The format of a media type (with or without parameters), undefined for neither. */
export function formatOf(mediaType: string | undefined): Format | undefined {
  if (!mediaType) return undefined;
  return FORMATS.get(mediaType.split(';')[0].trim().toLowerCase());
}

/** The response format asked for; 406 when _format or Accept names nothing this server writes.
 * `body`: the request body's media type, which decides when the client states no preference. */
export function negotiate(format: string | undefined, accept: string | undefined, body?: string): Format {
  if (format !== undefined) {
    const [type, ...params] = format.split(';').map((s) => s.trim().toLowerCase());
    const f = FORMATS.get(type);
    if (!f || !isR4(params)) throw notAcceptable(`_format=${format.slice(0, 64)}`);
    return f;
  }
  const fallback = formatOf(body) ?? 'json';
  if (!accept || accept.trim() === '') return fallback;
  let best: Format | undefined;
  let bestQ = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const f = WILDCARDS.has(type) ? fallback : FORMATS.get(type);
    if (!f || !isR4(params)) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    // the first of equal qualities wins
    if (q > bestQ) {
      best = f;
      bestQ = q;
    }
  }
  if (!best) throw notAcceptable(`Accept: ${accept.slice(0, 100)}`);
  return best;
}

/** The format an error is answered in: the one asked for when that can be told, else JSON. */
export function errorFormat(request: FastifyRequest): Format {
  try {
    // a query the router never reached (404) is parsed by Fastify's default: a string, not a list
    const value = (request.query as Record<string, string[] | string | undefined> | undefined)?._format;
    const format = Array.isArray(value) ? value[0] : value;
    return negotiate(format, request.headers.accept, request.headers['content-type']);
  } catch {
    return 'json';
  }
}

export function isPretty(value: string | undefined): boolean {
  return value === 'true';
}
