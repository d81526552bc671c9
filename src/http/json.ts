// Request bodies: the bytes must be uncompressed UTF-8 (R4 http.html: UTF-8 SHALL be used; a
// decoder that replaced bad bytes with U+FFFD would store a changed name without anyone
// knowing), a nesting-depth check runs over the raw text before parsing (so a 10,000-deep body
// costs one linear scan and no recursion), then JSON parsing refuses prototype-pollution keys,
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

/** Deepest object/array nesting in JSON text, stopping early once past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

function reviver(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
    throw badRequest(`The JSON key '${key}' is not allowed`, 'structure');
  }
  return value;
}

const RISKY = /"(?:__proto__|constructor|prototype)"\s*:/;
// a surrogate escape, an exponent of three digits, or 309 digits in a row: only then can a
// parsed string hold a lone surrogate or a number overflow to Infinity
const ODD_VALUES = /\\u[dD][89a-fA-F]|[eE][+-]?\d{3}|\d{309}/;

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
  if (jsonDepthExceeds(text, maxDepth)) {
    throw badRequest(`The JSON body nests deeper than ${maxDepth} levels`, 'too-long');
  }
  try {
    // The reviver costs a call per value; only bodies that mention a risky key pay for it.
    const value: unknown = RISKY.test(text) ? JSON.parse(text, reviver) : JSON.parse(text);
    const odd = ODD_VALUES.test(text) ? oddValue(value) : undefined;
    if (odd) throw badRequest(`The JSON body holds ${odd}, which cannot be stored unchanged`, 'value');
    return value;
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw badRequest(`Malformed JSON: ${err.message.slice(0, 200)}`, 'structure');
    }
    throw err;
  }
}
