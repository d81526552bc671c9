// Request bodies: the bytes must be uncompressed UTF-8 (R4 http.html: UTF-8 SHALL be used; a
// decoder that replaced bad bytes with U+FFFD would store a changed name without anyone
// knowing), one scan of the raw text before parsing refuses deep nesting and duplicate keys,
// then JSON parsing refuses prototype-pollution keys,
// strings with lone surrogates and numbers beyond a double (both would be stored changed).
import { isUtf8 } from 'node:buffer';
import { badRequest, FhirError } from '../fhir/errors.ts';

/** The body's text, or 415 for a compressed body and 400 for bytes that are not UTF-8. */
export function bodyText(body: Buffer, contentEncoding: string | undefined): string {
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity') {
    throw new FhirError(415, { code: 'not-supported', diagnostics: `Content-Encoding ${contentEncoding.slice(0, 40)} is not supported: send the body uncompressed` });
  }
  if (!isUtf8(body)) throw badRequest('The request body is not valid UTF-8', 'structure');
  return body.toString('utf8');
}

/** What the scan also notes for the parse that follows: whether the text holds a key the
 * reviver must refuse (then JSON.parse runs with it), and whether it may hold a lone surrogate or
 * a number beyond a double (then the parsed value is searched for one). Both only choose the
 * slower path; the verdict stays with the reviver and the search. */
export interface ScanNotes {
  riskyKey: boolean;
  oddValue: boolean;
}

const RISKY_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** What one linear pass over JSON text finds before parsing: nesting deeper than `limit` (so a
 * 10,000-deep body costs no recursion), or an object with the same key twice. JSON.parse keeps
 * the last of duplicate keys silently: `"gender":"male","gender":"female"` would be stored as
 * female while whoever read the text saw male. Malformed text is left to JSON.parse. With
 * `notes`, the same pass notes what parseJsonBody needs (ScanNotes), so the text is read once
 * before JSON.parse instead of once more by a regular expression per check. */
export function scanJson(text: string, limit: number, notes?: ScanNotes): { tooDeep: true } | { duplicate: string } | undefined {
  // The keys of the open objects, flat: level n's keys are keys[from[n]…]; an array's level has
  // from[n] = -1. FHIR objects hold a handful of keys, so a linear look-up is cheaper than a Set
  // per object; an object past LINEAR keys gets a Set (no quadratic cost for a hostile body).
  const LINEAR = 16;
  const keys: string[] = [];
  const from: number[] = [];
  const large: (Set<string> | undefined)[] = [];
  let expectKey = false;
  const n = text.length;
  // the next backslash at or after a string's start, found once per stretch (a search per
  // string to the end of a text without any would be quadratic)
  let nextSlash = -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: its closing quote is the next one not escaped. indexOf runs natively, so long
      // values (narratives, base64 data) cost little; escapes are looked at only where there are
      const start = i + 1;
      let end = text.indexOf('"', start);
      let escaped = false;
      for (;;) {
        if (end < 0) return undefined; // unterminated: JSON.parse says so
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 92) slashes++;
        if (slashes > 0) escaped = true;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (!escaped) {
        if (nextSlash < start) {
          nextSlash = text.indexOf('\\', start);
          if (nextSlash < 0) nextSlash = n;
        }
        escaped = nextSlash < end;
      }
      // \uD800–\uDFFF written as an escape is the only way a lone surrogate gets into a parsed string
      if (escaped && notes && !notes.oddValue && SURROGATE_ESCAPE.test(text.slice(start, end))) notes.oddValue = true;
      i = end;
      if (expectKey) {
        expectKey = false;
        let key = text.slice(start, end);
        if (notes && RISKY_KEYS.has(key)) notes.riskyKey = true;
        if (escaped) {
          try {
            key = JSON.parse(`"${key}"`) as string;
          } catch {
            return undefined;
          }
        }
        const level = from.length - 1;
        const set = large[level];
        if (set) {
          if (set.has(key)) return { duplicate: key };
          set.add(key);
          continue;
        }
        const first = from[level];
        for (let k = first; k < keys.length; k++) if (keys[k] === key) return { duplicate: key };
        keys.push(key);
        if (keys.length - first > LINEAR) {
          large[level] = new Set(keys.slice(first));
          keys.length = first;
        }
      }
    } else if (c === 123 || c === 91) {
      if (from.length >= limit) return { tooDeep: true };
      from.push(c === 123 ? keys.length : -1);
      large.push(undefined);
      expectKey = c === 123;
    } else if (c === 125 || c === 93) {
      const first = from.pop();
      large.pop();
      if (first !== undefined && first >= 0) keys.length = first;
      expectKey = false;
    } else if (c === 44) expectKey = from.length > 0 && from[from.length - 1] >= 0;
    else if (notes && !notes.oddValue && (c === 101 || c === 69)) {
      // an exponent outside a string (true/false hold no e… false does: its e is followed by no digit)
      let d = i + 1;
      const sign = text.charCodeAt(d);
      if (sign === 43 || sign === 45) d++;
      let digits = 0;
      while (isDigit(text.charCodeAt(d + digits))) digits++;
      if (digits >= 3) notes.oddValue = true;
    } else if (notes && !notes.oddValue && isDigit(c)) {
      // a run of digits: 309 in a row can overflow a double
      let d = i;
      while (isDigit(text.charCodeAt(d))) d++;
      if (d - i >= 309) notes.oddValue = true;
      i = d - 1;
    }
  }
  return undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

function reviver(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
    throw badRequest(`The JSON key '${key}' is not allowed`, 'structure');
  }
  return value;
}

// in a /u pattern a surrogate pair is one code point: only lone surrogates match
const LONE_SURROGATE = /\p{Cs}/u;

/** The first lone surrogate or non-finite number in a parsed value (keys included). */
function oddValue(value: unknown): string | undefined {
  if (typeof value === 'string') return !LONE_SURROGATE.test(value) ? undefined : 'a string with a lone surrogate (\\uD800-\\uDFFF)';
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'a number beyond the range of a double';
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const odd = oddValue(v);
      if (odd) return odd;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const odd = oddValue(k) ?? oddValue(v);
    if (odd) return odd;
  }
  return undefined;
}

export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.length === 0 || /^\s*$/.test(text)) return undefined;
  const notes: ScanNotes = { riskyKey: false, oddValue: false };
  const found = scanJson(text, maxDepth, notes);
  if (found && 'tooDeep' in found) throw badRequest(`The JSON body nests deeper than ${maxDepth} levels`, 'too-long');
  if (found) throw badRequest(`The JSON body has the key '${found.duplicate.slice(0, 64)}' twice in one object`, 'structure');
  try {
    // The reviver costs a call per value; only bodies with a risky key pay for it.
    const value: unknown = notes.riskyKey ? JSON.parse(text, reviver) : JSON.parse(text);
    const odd = notes.oddValue ? oddValue(value) : undefined;
    if (odd) throw badRequest(`The JSON body holds ${odd}, which cannot be stored unchanged`, 'value');
    return value;
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw badRequest(`Malformed JSON: ${err.message.slice(0, 200)}`, 'structure');
    }
    throw err;
  }
}
