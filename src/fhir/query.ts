// Query strings — of requests, form bodies of POST _search, Bundle entry URLs, If-None-Exist —
// as FHIR reads them: repeated parameters keep their order (FHIR gives both meaning). Percent-escapes must decode to UTF-8 and NUL is refused: URLSearchParams
// would turn a malformed escape (%FF, an encoded lone surrogate %ED%A0%80, %ZZ) into U+FFFD or
// keep it as text, and the server would search for something the client never sent.
import { badRequest, type FhirError } from './errors.ts';

/** Set (as a symbol, invisible to Object.entries) on a query that could not be decoded. */
export const MALFORMED = Symbol('malformed query string');

export type Query = Record<string, string[]> & { [MALFORMED]?: FhirError };

/** A percent-decoded path segment, or 400 when the escapes do not encode UTF-8. */
export function decodeSegment(segment: string): string {
  const decoded = decode(segment.replaceAll('+', '%2B'));
  if (decoded === undefined) throw badRequest('The URL path has a malformed percent-escape: escapes must encode UTF-8', 'structure');
  return decoded;
}

function decode(s: string): string | undefined {
  const text = s.includes('+') ? s.replaceAll('+', ' ') : s;
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

export function parseQuery(qs: string): Query {
  const out: Query = Object.create(null);
  if (qs.length === 0) return out;
  for (const pair of qs.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
    if (name === undefined || value === undefined) {
      out[MALFORMED] ??= badRequest('The query has a malformed percent-escape: escapes must encode UTF-8', 'structure');
      continue;
    }
    if (name.includes('\0') || value.includes('\0')) {
      out[MALFORMED] ??= badRequest('The query contains a NUL character', 'structure');
      continue;
    }
    (out[name] ??= []).push(value);
  }
  return out;
}

/** parseQuery, with 400 for a query that could not be decoded. */
export function queryOf(qs: string): Record<string, string[]> {
  const query = parseQuery(qs);
  if (query[MALFORMED]) throw query[MALFORMED];
  return query;
}
