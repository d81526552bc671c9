// Names across scripts. Migrants are registered in Greek at a Lesbos hotspot, in Cyrillic in
// Poland, in Arabic on a Syrian document and in Latin letters in Germany: the same Mohammed is
// محمد, Μωχάμεντ, Мухаммед and Mohamad. Names are transliterated to Latin with any-ascii (a
// maintained table covering every Unicode script, Ge'ez included), after a few script-specific
// rules that any-ascii's letter-by-letter tables cannot know (Greek μπ/ντ/γκ write foreign
// b/d/g; Cyrillic х writes the Arabic h), then reduced to a loose consonant skeleton — vowels
// dropped (Arabic script does not write them), similar consonants merged (kh/ch/h/g/k, b/p,
// d/t, s/z, v/w/f) — which is the blocking key. Scoring compares the Latin forms finely.
import anyAscii from 'any-ascii';

// applied to lower-cased Greek: digraphs for foreign sounds first
const GREEK: [RegExp, string][] = [
  [/μπ/g, 'b'], [/ντ/g, 'd'], [/γκ/g, 'g'], [/γγ/g, 'ng'], [/τζ/g, 'j'], [/τσ/g, 'ch'], [/ου/g, 'u'], [/αι/g, 'e'], [/ει|οι/g, 'i'], [/χ/g, 'h'],
];
const CYRILLIC: [RegExp, string][] = [[/[хХ]/g, 'h'], [/[ьъЬЪ]/g, '']];

/** Latin letters, lower case, no marks: "Μωχάμεντ" → "mohamed", "Ёлкина" → "elkina". */
export function latinize(name: string): string {
  let s = name.normalize('NFC');
  if (/[\u0370-\u03ff\u1f00-\u1fff]/.test(s)) {
    s = s.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').normalize('NFC');
    for (const [re, to] of GREEK) s = s.replace(re, to);
  }
  if (/[\u0400-\u04ff]/.test(s)) for (const [re, to] of CYRILLIC) s = s.replace(re, to);
  return anyAscii(s)
    .toLowerCase()
    .replace(/[^a-z\s-]/g, '')
    .replace(/[\s-]+/g, ' ')
    .trim();
}

const CLASS: Record<string, string> = {
  b: 'p', p: 'p', d: 't', t: 't', g: 'k', k: 'k', q: 'k', c: 'k', h: 'k', x: 'k', j: 'j',
  s: 's', z: 's', v: 'f', w: 'f', f: 'f', l: 'l', m: 'm', n: 'n', r: 'r',
};

/** The loose consonant skeleton of one name word: "mohammed", "mhmd", "mukhammed" → "mkmt". */
export function skeleton(word: string): string {
  const w = latinize(word)
    .replace(/ /g, '')
    .replace(/^y(?=[aeiou])/, 'j') // Yusuf / Jusuf, Yonas / Jonas
    .replace(/dzh|dj|dsch|tsch/g, 'j')
    .replace(/kh|ch|gh|cz/g, 'h') // Arabic kh, Slavic ch / Polish cz, Greek χ: merged on purpose
    .replace(/x/g, 'ks')
    .replace(/ph/g, 'f')
    .replace(/th/g, 't')
    .replace(/sh|sch|sz/g, 's');
  let out = '';
  for (const ch of w) {
    const c = CLASS[ch];
    if (c && out[out.length - 1] !== c) out += c;
  }
  return out;
}

/** Blocking keys of a name: the skeleton of each word of at least two consonant classes. */
export function nameKeys(name: string): string[] {
  return [...new Set(latinize(name).split(' ').map(skeleton).filter((k) => k.length >= 2))];
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
