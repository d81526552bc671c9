// Search value syntax (https://hl7.org/fhir/R4/search.html#escaping): commas separate OR'd
// values, `|` and `$` separate parts, and `\` escapes any of them.

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
