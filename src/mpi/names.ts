// Names across scripts. Migrants are registered in Greek at a Lesbos hotspot, in Cyrillic in
// Poland, in Arabic on a Syrian document and in Latin letters in Germany: the same Mohammed is
// محمد, Μωχάμεντ, Мухаммед and Mohamad. Each name word becomes:
//   - its candidate Latin forms, several per word: a native-script word is read with the tables
//     of src/mpi/transliteration.ts, keeping every reading a letter has (و = w or u, ج = j or g,
//     Ukrainian г = h or Russian g); a Latin word is kept as written plus its rewrites from the
//     Somali, German, Polish and French orthographies (Xirsi → hirsi, Jegorow → yegorov);
//   - phonetic keys, one per form: consonant classes only (Arabic script does not write short
//     vowels, so "mhmd" must meet "mohammed"): kh/ch/gh/h/g/k/q/c, b/p, d/t, s/z/sh/th, f/v/w,
//     j/dj/zh — these are the blocking keys and the `phonetic` search index;
//   - shapes, one per form of a script that writes vowels: the consonant classes with vowels
//     reduced to a/i/u, so Hassan and Hussein (the same consonants) stay apart while Mohammed
//     and Muhammad meet. Jaro-Winkler on the shapes grades spelling variants and typos.
import anyAscii from 'any-ascii';
import { ARABIC_SCRIPT, ARABIC_SCRIPT_GROUPS, CYRILLIC, GIVEN_NAME_EQUIVALENTS, GREEK, LATIN_LETTERS, LATIN_ORTHOGRAPHIES } from './transliteration.ts';

const MAX_FORMS = 16;
const ARABIC_RE = /[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]/;
const GREEK_RE = /[\u0370-\u03ff\u1f00-\u1fff]/;
const CYRILLIC_RE = /[\u0400-\u04ff]/;
/** words that are particles, not names: "Al-Hassan" and "Hassan" share "hassan", not "al" */
const PARTICLES = new Set(['al', 'el', 'ul', 'bin', 'ibn', 'bint', 'de', 'da', 'van', 'von']);

export interface NameWord {
  /** the word as written, lower case without marks */
  plain: string;
  /** candidate Latin forms (English-style), the commonest reading first */
  forms: string[];
  /** written in a script without short vowels (Arabic script): shapes say nothing */
  abjad: boolean;
  /** phonetic keys (consonant classes) of all forms */
  keys: string[];
  /** vowel-class shapes of all forms (for abjad words: the long vowels only, the letters و ي ا read as vowels) */
  shapes: string[];
}

/**
 * Every combination of per-unit alternatives, commonest first, at most MAX_FORMS. Units are
 * joined with "|" so that the encoder never reads two letters as one digraph (زهرا is z-h-r-a,
 * not "zh"); the bar is dropped from the forms compared as spellings.
 */
function expand(units: string[][]): string[] {
  let out = [''];
  for (const alts of units) {
    const next: string[] = [];
    for (const alt of alts) for (const prefix of out) if (next.length < MAX_FORMS) next.push(prefix ? `${prefix}|${alt}` : alt);
    out = next;
  }
  return [...new Set(out)];
}

function arabicForms(word: string): string[] {
  let w = word.normalize('NFKC');
  for (const [group, i] of ARABIC_GROUPS) w = w.replaceAll(group, String.fromCharCode(0xe000 + i));
  const unit = (ch: string) => ARABIC_GROUP_READINGS[ch.charCodeAt(0) - 0xe000] ?? ARABIC_SCRIPT[ch] ?? [anyAscii(ch).toLowerCase().replace(/[^a-z]/g, '')];
  const read = (s: string) => expand([...s].map(unit));
  const forms = read(w);
  // the definite article: الحسن is "al-Hassan" and "Hassan"
  if (w.startsWith('ال') && w.length > 3) forms.push(...read(w.slice(2)));
  return forms;
}

// letter groups read as one (src/mpi/transliteration.ts ARABIC_SCRIPT_GROUPS), as private-use characters while reading
const ARABIC_GROUPS: [string, number][] = Object.keys(ARABIC_SCRIPT_GROUPS).map((g, i) => [g, i]);
const ARABIC_GROUP_READINGS: string[][] = Object.values(ARABIC_SCRIPT_GROUPS);

function greekForms(word: string): string[] {
  const w = word.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').normalize('NFC');
  const units: string[][] = [];
  for (let i = 0; i < w.length; ) {
    const hit = GREEK.find(([g]) => w.startsWith(g, i));
    if (hit) {
      units.push(hit[1]);
      i += hit[0].length;
    } else {
      units.push([anyAscii(w[i]).toLowerCase()]);
      i++;
    }
  }
  return expand(units);
}

function cyrillicForms(word: string): string[] {
  return expand([...word.toLowerCase()].map((ch) => CYRILLIC[ch] ?? [anyAscii(ch).toLowerCase()]));
}

function latinForms(plain: string): string[] {
  const forms = [plain];
  for (const [, when, rewrites] of LATIN_ORTHOGRAPHIES) {
    if (!when.test(plain)) continue;
    let s = plain;
    for (const [re, to] of rewrites) s = s.replace(re, to);
    forms.push(s);
  }
  // a joined article: "Alhassan", "Elhabib"
  const joined = /^(al|el)(.{3,})$/.exec(plain);
  if (joined) forms.push(joined[2]);
  return forms;
}

/** Lower case, marks and strokes removed, Latin letters only: "Şêrko" → "sherko", "Nguyễn" → "nguyen". */
function plainLatin(s: string): string {
  return [...s.toLowerCase()]
    .map((ch) => LATIN_LETTERS[ch] ?? ch)
    .join('')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

// consonant classes, applied after the digraphs below
const CLASS: Record<string, string> = {
  b: 'P', p: 'P', d: 'T', t: 'T', g: 'K', k: 'K', q: 'K', c: 'K', h: 'K', j: 'J', s: 'S', z: 'S', v: 'F', w: 'F', f: 'F', l: 'L', m: 'M', n: 'N', r: 'R',
};
const DIGRAPHS: [RegExp, string][] = [
  [/shch/g, 'S'], [/tch/g, 'K'], [/dzh|dj|zh/g, 'J'], [/dz/g, 'S'], [/kh|gh|ch|ck/g, 'K'], [/ph/g, 'F'], [/th/g, 'S'], [/dh/g, 'T'], [/sh/g, 'S'], [/x/g, 'KS'],
];
const DIPHTHONGS: [RegExp, string][] = [[/ai|ay|ei|ey|ee|ie|iy/g, 'i'], [/ou|oo|uu/g, 'u'], [/ae|ea/g, 'a']];

/** The phonetic encoding of one Latin form: consonant classes, and vowel classes when `vowels`. */
function encode(form: string, vowels: boolean): string {
  let s = form.replace(/[^a-z|]/g, '');
  s = vowels ? s.replace(/^[yi]\|?(?=[aeiou])/, 'j') : s.replace(/^[yi]\|?(?=[aeiou])/, '');
  for (const [re, to] of DIGRAPHS) s = s.replace(re, to);
  s = s.replace(/\|/g, '').replace(/h$/, ''); // a final h is silent: Fatimah, Fatemeh, Saleh, Farah
  if (vowels) for (const [re, to] of DIPHTHONGS) s = s.replace(re, to);
  let out = '';
  for (const ch of s) {
    const c = ch >= 'A' && ch <= 'Z' ? ch : (CLASS[ch] ?? (vowels ? ({ a: 'a', e: 'e', i: 'i', y: 'i', o: 'u', u: 'u' } as Record<string, string>)[ch] : undefined));
    if (c && out[out.length - 1] !== c) out += c;
  }
  return out;
}

/** Phonetic keys of one Latin form; an initial j before a vowel is read both as English j and as German/Polish y. */
function keysOf(form: string): string[] {
  const k = encode(form, false);
  return /^j\|?[aeiou]/.test(form) ? [k, encode(form.replace(/^j\|?/, ''), false)] : [k];
}

const EQUIVALENT = new Map<string, string[]>();
for (const group of GIVEN_NAME_EQUIVALENTS) for (const name of group) EQUIVALENT.set(name, group);

/** The Ukrainian, Russian and Polish forms of the same given name (doubled letters ignored). */
function equivalents(forms: string[]): string[] {
  return forms.flatMap((f) => EQUIVALENT.get(f.replace(/(.)\1/g, '$1')) ?? []);
}

const cache = new Map<string, NameWord>();

/** One name word, read in its script. */
export function nameWord(word: string): NameWord {
  const hit = cache.get(word);
  if (hit) return hit;
  let forms: string[];
  let abjad = false;
  if (ARABIC_RE.test(word)) {
    forms = arabicForms(word);
    abjad = true;
  } else if (GREEK_RE.test(word)) forms = greekForms(word);
  else if (CYRILLIC_RE.test(word)) forms = cyrillicForms(word);
  else {
    const plain = plainLatin(word);
    // other scripts (Ge'ez, …) and Latin: any-ascii, then the Latin orthographies
    forms = latinForms(/^[a-z' -]*$/.test(plain) ? plain : anyAscii(plain).toLowerCase());
  }
  let raw = forms.map((f) => f.replace(/[^a-z|]/g, '')).filter((f) => f.replace(/\|/g, ''));
  const spelled = raw.map((f) => f.replace(/\|/g, ''));
  raw = [...new Set([...raw, ...equivalents(spelled)])];
  const w: NameWord = {
    plain: spelled[0] ?? '',
    forms: [...new Set(raw.map((f) => f.replace(/\|/g, '')))],
    abjad,
    keys: [...new Set(raw.flatMap(keysOf))],
    shapes: [...new Set(raw.map((f) => encode(f, true)))],
  };
  if (cache.size > 20000) cache.clear();
  cache.set(word, w);
  return w;
}

/** The words of a name (split at spaces and hyphens), particles and single letters left out. */
export function splitName(name: string): string[] {
  return name
    .normalize('NFC')
    .split(/[\s\-‐_.,'’ʼ]+/)
    .filter((w) => w && !PARTICLES.has(plainLatin(w)) && (w.length > 1 || ARABIC_RE.test(w)));
}

/** Latin letters, lower case, no marks, the commonest reading: "Μωχάμεντ" → "mochament"… */
export function latinize(name: string): string {
  return splitName(name)
    .map((w) => nameWord(w).plain)
    .join(' ');
}

/** Blocking keys of a name: every phonetic key of every word, of at least two consonant classes. */
export function nameKeys(name: string): string[] {
  return [...new Set(splitName(name).flatMap((w) => nameWord(w).keys.filter((k) => k.length >= 2)))];
}

export type WordAgreement = 'exact' | 'phonetic' | 'similar' | 'different';

/** Similarity thresholds (Jaro-Winkler) for the word agreement levels; see docs/match.md. */
export const WORD_THRESHOLDS = { typoShape: 0.93, similarShape: 0.85, similarKey: 0.88 };

function best(a: string[], b: string[]): number {
  let s = 0;
  for (const x of a) for (const y of b) s = Math.max(s, jaroWinkler(x, y));
  return s;
}

/** Two vowel slots agree when equal, or when one is a lone e: Arabic fatha and kasra are written e as often as a or i (Mohammed/Mohammad, Tarek/Tariq). */
function slotAgrees(x = '', y = ''): boolean {
  return x === y || (x === 'e' && (y === 'a' || y === 'i')) || (y === 'e' && (x === 'a' || x === 'i'));
}

/**
 * Two shapes with the same consonants: do their vowels agree? Each vowel slot after a consonant
 * counts; a different vowel costs 1, a vowel written on one side only (Fatma/Fatima, Saba/Sba)
 * costs ½, and the cost may be at most a third of the slots. The vowel before the first
 * consonant is not counted (Osman/Cismaan, Elmi/Cilmi, Ibrahim/Ebrahim). So Mohammed/Mahamed,
 * Abdallah/Abdullah, Volodymyr/Vladimir agree; Hassan/Hussein, Rana/Rania, Mykola/Mykhailo differ.
 */
function vowelsAgree(a: string, b: string): boolean {
  const slots = (s: string) => s.replace(/^[a-z]+/, '').split(/[A-Z]/).slice(1);
  const va = slots(a);
  const vb = slots(b);
  const total = Math.max(va.length, vb.length);
  let cost = 0;
  for (let i = 0; i < total; i++) {
    if (slotAgrees(va[i], vb[i])) continue;
    cost += !va[i] || !vb[i] ? 0.5 : 1;
  }
  return cost * 3 <= total;
}

/** Every long vowel an abjad shape writes is among the vowels of the other spelling's slot. */
function longVowelsFit(abjad: string, other: string): boolean {
  const slots = (s: string) => s.replace(/^[a-z]+/, '').split(/[A-Z]/).slice(1);
  const va = slots(abjad);
  const vo = slots(other);
  return va.every((v, i) => !v || [...v].every((ch) => (vo[i] ?? '').includes(ch) || slotAgrees(ch, vo[i])));
}

const consonants = (shape: string) => shape.replace(/[a-z]/g, '');

/**
 * How well two name words agree: exact (a common form), phonetic (a common key, and the vowels
 * agree where both scripts write them, or a one-letter typo), similar (close shapes or keys:
 * names that merely sound alike, or a larger slip), or different.
 */
export function compareWord(a: NameWord, b: NameWord): WordAgreement {
  if (a.forms.some((f) => b.forms.includes(f))) return 'exact';
  const sharedKey = a.keys.some((k) => b.keys.includes(k));
  if (a.abjad && b.abjad) return sharedKey ? 'phonetic' : best(a.keys, b.keys) >= WORD_THRESHOLDS.similarKey ? 'similar' : 'different';
  if (a.abjad || b.abjad) {
    // no short vowels on one side: the consonants decide, and the long vowels the abjad writes
    // must be in the other spelling (لينا is Lina, not Lana; رانيا is Rania, not Rana)
    if (!sharedKey) return best(a.keys, b.keys) >= WORD_THRESHOLDS.similarKey ? 'similar' : 'different';
    const [ab, other] = a.abjad ? [a, b] : [b, a];
    let comparable = false;
    for (const x of ab.shapes) {
      for (const y of other.shapes) {
        if (consonants(x) !== consonants(y)) continue;
        comparable = true;
        if (longVowelsFit(x, y)) return 'phonetic';
      }
    }
    return comparable ? 'similar' : 'phonetic';
  }
  for (const x of a.shapes) for (const y of b.shapes) if (consonants(x) === consonants(y) && vowelsAgree(x, y)) return 'phonetic';
  const shape = best(a.shapes, b.shapes);
  // a one-letter slip (Zahid/Zaid, Tseegay/Tseggay) is judged on the spellings themselves too
  if (shape >= WORD_THRESHOLDS.typoShape || best(a.forms, b.forms) >= WORD_THRESHOLDS.typoShape) return 'phonetic';
  return sharedKey || shape >= WORD_THRESHOLDS.similarShape ? 'similar' : 'different';
}

/** Jaro-Winkler similarity in [0, 1]. */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return a.length ? 1 : 0;
  if (!a.length || !b.length) return 0;
  const range = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  const am = new Array<boolean>(a.length).fill(false);
  const bm = new Array<boolean>(b.length).fill(false);
  let matches = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = Math.max(0, i - range); j < Math.min(b.length, i + range + 1); j++) {
      if (!bm[j] && a[i] === b[j]) {
        am[i] = bm[j] = true;
        matches++;
        break;
      }
    }
  }
  if (!matches) return 0;
  let t = 0;
  for (let i = 0, k = 0; i < a.length; i++) {
    if (!am[i]) continue;
    while (!bm[k]) k++;
    if (a[i] !== b[k]) t++;
    k++;
  }
  const jaro = (matches / a.length + matches / b.length + (matches - t / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < 4 && a[prefix] === b[prefix]) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}
