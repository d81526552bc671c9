// Pieces shared by the interaction handlers: resource bodies from requests, version headers,
// Location, and the Prefer header's return preference.
import type { Resource } from 'fhir/r4.js';
import { badRequest, operationOutcome } from '../fhir/errors.ts';
import type { StoredVersion } from '../store/types.ts';
import type { Context, FhirRequest, FhirResponse } from './types.ts';
import { formatReference } from '../fhir/reference.ts';
import { ResourceJson } from '../fhir/body.ts';

/** The request body as a resource of the URL's type; 400 for anything else. */
export function resourceBody(req: FhirRequest, ctx: Context): Resource {
  const body = req.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a FHIR resource in JSON', 'structure');
  }
  const r = body as Resource;
  if (r.resourceType !== req.resourceType) {
    throw badRequest(
      `The body's resourceType '${String(r.resourceType).slice(0, 64)}' does not match the URL's type '${req.resourceType}'`,
      'invalid',
      ['resourceType'],
    );
  }
  return r;
}

/** Parses a weak or strong ETag version such as W/"3" or "3"; 400 when malformed. */
export function parseVersionTag(value: string, header: string): number {
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(value);
  if (!m) throw badRequest(`${header} must be an ETag such as W/"3"`, 'value');
  return Number(m[1]);
}

export function ifMatch(req: FhirRequest): number | undefined {
  const h = req.headers['if-match'];
  return h === undefined || h === '' ? undefined : parseVersionTag(h, 'If-Match');
}

/** Versions held in the engine's read cache are answered many times: their headers are made once. */
const headerCache = new WeakMap<object, Record<string, string>>();

/** ETag and Last-Modified of a version (also of a deletion, for its 410). */
export function etagHeaders(v: Pick<StoredVersion, 'versionId' | 'lastUpdated'>): Record<string, string> {
  let h = headerCache.get(v);
  if (!h) {
    h = { etag: `W/"${v.versionId}"`, 'last-modified': new Date(v.lastUpdated).toUTCString() };
    headerCache.set(v, h);
  }
  return { ...h };
}

export function location(req: FhirRequest, v: StoredVersion): string {
  return formatReference({ base: req.baseUrl, type: v.resourceType, id: v.id, version: String(v.versionId) });
}

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

export function returnPreference(req: FhirRequest): ReturnPreference {
  const prefer = req.headers.prefer ?? '';
  const m = /(?:^|[;,\s])return\s*=\s*"?(minimal|representation|OperationOutcome)"?/i.exec(prefer);
  if (!m) return 'representation';
  const v = m[1].toLowerCase();
  return v === 'minimal' ? 'minimal' : v === 'operationoutcome' ? 'OperationOutcome' : 'representation';
}

/** The answer to a successful write, shaped by Prefer: return=… */
export function writeResponse(
  req: FhirRequest,
  status: number,
  v: StoredVersion,
  message: string,
  headers: Record<string, string> = {},
): FhirResponse {
  const h = { ...etagHeaders(v), ...headers };
  switch (returnPreference(req)) {
    case 'minimal':
      return { status, headers: h };
    case 'OperationOutcome':
      return { status, headers: h, body: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: message }]) };
    default:
      return { status, headers: h, body: v.json ? new ResourceJson(v.resourceType, v.json) : undefined };
  }
}

export function versionNumber(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw badRequest(`'${value.slice(0, 32)}' is not a version id`, 'value');
  return Number(value);
}

