// Request bodies: a nesting-depth check that runs over the raw text before parsing (so a
// 10,000-deep body costs one linear scan and no recursion), then JSON parsing that refuses
// prototype-pollution keys.
import { badRequest } from '../fhir/errors.ts';

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

export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.length === 0 || /^\s*$/.test(text)) return undefined;
  if (jsonDepthExceeds(text, maxDepth)) {
    throw badRequest(`The JSON body nests deeper than ${maxDepth} levels`, 'too-long');
  }
  try {
    // The reviver costs a call per value; only bodies that mention a risky key pay for it.
    return RISKY.test(text) ? JSON.parse(text, reviver) : JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw badRequest(`Malformed JSON: ${err.message.slice(0, 200)}`, 'structure');
    }
    throw err;
  }
}
