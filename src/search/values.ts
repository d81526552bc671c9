// Search value syntax (https://hl7.org/fhir/R4/search.html#escaping): commas separate OR'd
// values, `|` and `$` separate parts, and `\` escapes any of them; then each type's value
// (prefixed dates and numbers, quantities, tokens, references) read into the IR's values.
import { badRequest } from '../fhir/errors.ts';
import { parseDateRange } from '../fhir/datetime.ts';
import { canonicalUnit, roundCanonical, UCUM_SYSTEM } from '../terminology/ucum.ts';
import { decimalRange } from './extract.ts';
import type { QuantityValue, RangeValue, ReferenceValue, TokenValue } from './ir.ts';
import { ID_PATTERN, parseCanonical, parseReference } from '../fhir/reference.ts';

/** Splits at unescaped `sep`, keeping escapes in the parts. */
export function splitUnescaped(value: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      cur += c + value[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** How many values `splitUnescaped(value, ',')` would give, without building them. */
export function countValues(value: string): number {
  let n = 1;
  for (let i = value.indexOf(','); i >= 0; i = value.indexOf(',', i + 1)) {
    let slashes = 0;
    for (let j = i - 1; j >= 0 && value[j] === '\\'; j--) slashes++;
    if (slashes % 2 === 0) n++;
  }
  return n;
}

export function unescape(value: string): string {
  return value.replace(/\\([\\,|$])/g, '$1');
}

const PREFIXES = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/** `ge2020` → ['ge', '2020']; no prefix → 'eq'. */
export function splitPrefix(value: string): [string, string] {
  const p = value.slice(0, 2);
  if (PREFIXES.has(p) && value.length > 2 && /[\d-]/.test(value[2])) return [p, value.slice(2)];
  return ['eq', value];
}

export function rangeValue(raw: string, name: string, kind: 'date' | 'number'): RangeValue {
  const [prefix, rest] = splitPrefix(raw);
  if (kind === 'date') {
    const r = parseDateRange(rest);
    if (!r) throw badRequest(`'${raw.slice(0, 64)}' is not a valid date for ${name}`, 'value');
    return { prefix: prefix as RangeValue['prefix'], low: r.start, high: r.end };
  }
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(rest)) {
    throw badRequest(`'${raw.slice(0, 64)}' is not a valid number for ${name}`, 'value');
  }
  const value = Number(rest);
  // 1e999999 or a thousand digits: beyond a double, so no stored value could be compared with it
  if (!Number.isFinite(value)) throw badRequest(`'${raw.slice(0, 64)}' is out of range for ${name}`, 'value');
  const { low, high } = decimalRange(value, rest);
  return { prefix: prefix as RangeValue['prefix'], low, high, value };
}

export function quantityValue(raw: string, name: string): QuantityValue {
  const parts = splitUnescaped(raw, '|').map(unescape);
  const base = rangeValue(parts[0], name, 'number');
  const q: QuantityValue = { ...base };
  if (parts.length > 3) throw badRequest(`Quantity '${raw.slice(0, 64)}' must be number, number|system|code or number||code`, 'value');
  if (parts.length > 1) {
    if (parts[1]) q.system = parts[1];
    if (parts[2]) q.code = parts[2];
    if (parts.length === 2) throw badRequest(`Quantity '${raw.slice(0, 64)}' must be number, number|system|code or number||code`, 'value');
  }
  // Only with the UCUM system: without one, the code may be any unit text (search.html#quantity
  // matches it against Quantity.code or Quantity.unit as written), and is compared as written
  const unit = q.system === UCUM_SYSTEM && q.code !== undefined ? canonicalUnit(q.code) : null;
  if (unit) {
    const scale = (x: number) => roundCanonical(x * unit.factor);
    q.canonical = { prefix: q.prefix, low: scale(q.low), high: scale(q.high), value: scale(q.value ?? q.low), code: unit.code };
  }
  return q;
}

export function tokenValue(raw: string): TokenValue {
  const parts = splitUnescaped(raw, '|');
  if (parts.length === 1) return { code: unescape(parts[0]) };
  const [system, code] = [unescape(parts[0]), unescape(parts.slice(1).join('|'))];
  return { system: system === '' ? null : system, ...(code !== '' ? { code } : {}) };
}

export function referenceValue(raw: string, baseUrl: string, typeModifier: string | undefined, targets: string[]): ReferenceValue {
  let v = unescape(raw);
  if (v.startsWith(`${baseUrl}/`)) v = v.slice(baseUrl.length + 1);
  const local = parseReference(v);
  if (local?.kind === 'relative') {
    if (typeModifier && local.type !== typeModifier) throw badRequest(`Reference '${v.slice(0, 64)}' does not match :${typeModifier}`, 'value');
    return { kind: 'local', type: local.type, id: local.id };
  }
  if (ID_PATTERN.test(v)) {
    const type = typeModifier ?? (targets.length === 1 ? targets[0] : undefined);
    return { kind: 'local', ...(type ? { type } : {}), id: v };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(v)) {
    const { url, version } = parseCanonical(v);
    return { kind: 'url', url, ...(version ? { version } : {}) };
  }
  throw badRequest(`'${v.slice(0, 64)}' is not a reference (Type/id, id or an absolute URL)`, 'value');
}
