// The R4 primitive types in JSON (https://hl7.org/fhir/R4/datatypes.html#primitive): the JSON
// type each one takes and the regular expression its value must match, plus real calendar
// checks that a regular expression cannot make (no 30 February); narrative XHTML in narrative.ts.
import { ID_PATTERN } from '../fhir/reference.ts';
import { narrativeError } from './narrative.ts';

export const PRIMITIVE_TYPES = new Set([
  'boolean', 'integer', 'positiveInt', 'unsignedInt', 'decimal', 'string', 'code', 'id', 'markdown', 'uri', 'url',
  'canonical', 'oid', 'uuid', 'base64Binary', 'date', 'dateTime', 'instant', 'time', 'xhtml',
]);

const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const MONTH = '(0[1-9]|1[0-2])';
const DAY = '(0[1-9]|[1-2][0-9]|3[0-1])';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';

const PATTERNS: Record<string, RegExp> = {
  date: new RegExp(`^${YEAR}(-${MONTH}(-${DAY})?)?$`),
  dateTime: new RegExp(`^${YEAR}(-${MONTH}(-${DAY}(T${TIME}${ZONE})?)?)?$`),
  instant: new RegExp(`^${YEAR}-${MONTH}-${DAY}T${TIME}${ZONE}$`),
  time: new RegExp(`^${TIME}$`),
  code: /^[^\s]+( [^\s]+)*$/,
  id: ID_PATTERN,
  oid: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/,
  uuid: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  uri: /^\S*$/,
  url: /^\S*$/,
  canonical: /^\S*$/,
};

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function realDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
  if (!m) return true;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  return d <= days;
}

/** base64 checked in linear time (R4's regular expression backtracks badly on large data):
 * whitespace allowed anywhere, then groups of four, padding only at the end. */
function base64Error(v: string): string | undefined {
  // most data has no line breaks: one pass over it, no copy; whitespace looked for only then
  const plain = base64Chars(v);
  const compact = plain ? v : /\s/.test(v) ? v.replace(/\s+/g, '') : undefined;
  if (compact === undefined || compact.length % 4 !== 0 || (!plain && !base64Chars(compact))) return `'${v.slice(0, 40)}…' is not valid base64Binary`;
  return undefined;
}

/** The base64 alphabet by character code (ASCII). */
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/** What /^[A-Za-z0-9+/]*={0,2}$/ says — alphabet characters, then at most two '=' — read with a
 * table: a third of the regular expression's time on large attachments. */
function base64Chars(v: string): boolean {
  let n = v.length;
  if (n > 0 && v.charCodeAt(n - 1) === 61) n--;
  if (n > 0 && v.charCodeAt(n - 1) === 61) n--;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c > 127 || BASE64_ALPHABET[c] === 0) return false;
  }
  return true;
}

function jsonKind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Why a JSON value is not a valid instance of an R4 primitive type, or undefined when it is. */
export function primitiveError(type: string, v: unknown): string | undefined {
  switch (type) {
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `must be a JSON boolean, not ${jsonKind(v)}`;
    case 'integer':
    case 'positiveInt':
    case 'unsignedInt': {
      if (typeof v !== 'number') return `must be a JSON number (${type}), not ${jsonKind(v)}`;
      if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) return `'${v}' is not a valid ${type} (a 32-bit integer)`;
      if (type === 'positiveInt' && v < 1) return `positiveInt must be at least 1, not ${v}`;
      if (type === 'unsignedInt' && v < 0) return `unsignedInt must not be negative (${v})`;
      return undefined;
    }
    case 'decimal':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : `must be a JSON number (decimal), not ${jsonKind(v)}`;
    case 'xhtml':
      if (typeof v !== 'string') return `must be a JSON string (xhtml), not ${jsonKind(v)}`;
      return narrativeError(v);
    default: {
      if (typeof v !== 'string') return `must be a JSON string (${type}), not ${jsonKind(v)}`;
      if (v.length === 0) return 'must not be empty';
      if (type === 'base64Binary') return base64Error(v);
      const re = PATTERNS[type];
      if (re && !re.test(v)) return `'${v.slice(0, 100)}' is not a valid ${type}`;
      if ((type === 'date' || type === 'dateTime' || type === 'instant') && !realDate(v)) return `'${v}' is not a valid ${type}: no such day`;
      if (type !== 'markdown' && type !== 'base64Binary' && type !== 'string' && v.trim() !== v) return `'${v.slice(0, 100)}' has leading or trailing whitespace`;
      return undefined;
    }
  }
}

/** Numbers and dates compared for minValue/maxValue (dates as strings of equal precision). */
export function compareValue(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}
