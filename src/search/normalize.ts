// String search folding (https://hl7.org/fhir/R4/search.html#string): case- and
// accent-insensitive matching, so "muller" finds "Müller", "ozdemir" finds "Özdemir" and
// "nguyen" finds "Nguyễn". Unicode NFKD splits letters from their combining marks, which are
// dropped; scripts without case or marks (Arabic, Ge'ez) pass through unchanged apart from
// the Arabic tatweel and diacritics (harakat), which are dropped too since names are written
// with and without them. Letters NFKD does not decompose are mapped explicitly.
const SPECIAL: Record<string, string> = {
  ß: 'ss', ẞ: 'ss', ı: 'i', İ: 'i', ø: 'o', Ø: 'o', đ: 'd', Đ: 'd', ł: 'l', Ł: 'l', æ: 'ae', Æ: 'ae',
  œ: 'oe', Œ: 'oe', þ: 'th', Þ: 'th', ð: 'd', Ð: 'd', ħ: 'h', Ħ: 'h', ŋ: 'n', Ŋ: 'n', ſ: 's',
  ς: 'σ', // Greek final sigma folds with sigma
};
const SPECIAL_RE = new RegExp(`[${Object.keys(SPECIAL).join('')}]`, 'g');
// combining marks, Arabic harakat and tatweel
const MARKS_RE = /[\u0300-\u036f\u0483-\u0489\u064b-\u065f\u0670\u0640\u06d6-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;

// printable ASCII words separated by single spaces: folding only lowers the case
const PLAIN_ASCII = /^[\x21-\x7e]*(?: [\x21-\x7e]+)*$/;

export function foldString(value: string): string {
  if (PLAIN_ASCII.test(value)) return value.toLowerCase();
  return value
    .replace(SPECIAL_RE, (c) => SPECIAL[c])
    .normalize('NFKD')
    .replace(MARKS_RE, '')
    .toLowerCase()
    .replace(SPECIAL_RE, (c) => SPECIAL[c])
    .replace(/\s+/g, ' ')
    .trim();
}

/** The smallest string greater than every string starting with `prefix` (by code point, which
 * is also UTF-8 byte order): prefix ranges become `value >= prefix AND value < upper`, which an
 * index answers without a scan. Undefined for the empty prefix (no upper bound). */
export function prefixUpperBound(prefix: string): string | undefined {
  const chars = Array.from(prefix);
  if (chars.length === 0) return undefined;
  const last = chars.pop()!.codePointAt(0)!;
  let next = last + 1;
  if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // skip the surrogate range
  return chars.join('') + String.fromCodePoint(next);
}

/** The uri and the uris above it, cut at each `/` after the authority (uri :above). */
export function uriAncestors(uri: string): string[] {
  const out = [uri];
  let u = uri;
  for (;;) {
    const i = u.lastIndexOf('/');
    if (i <= u.indexOf('//') + 1 || i < 0) break;
    u = u.slice(0, i);
    out.push(u);
  }
  return out;
}
