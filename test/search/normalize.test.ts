// String folding for search (src/search/normalize.ts): case- and accent-insensitive matching
// across the scripts of migrants' names, and the prefix upper bound that turns a prefix search
// into an index range.
import t from 'tap';
import { foldString, prefixUpperBound } from '../../src/search/normalize.ts';

const FOLDS: [string, string, string][] = [
  ['German umlaut', 'Müller', 'muller'],
  ['capitals with umlaut', 'MÜLLER', 'muller'],
  ['decomposed input (NFD)', 'Mu\u0308ller', 'muller'],
  ['sharp s', 'Straße', 'strasse'],
  ['capital sharp s', 'STRAẞE', 'strasse'],
  ['Turkish dotted capital I', 'İstanbul', 'istanbul'],
  ['Turkish dotless i and ğ', 'Iğdır', 'igdir'],
  ['Turkish Ö and ş', 'Özdemir Ayşe', 'ozdemir ayse'],
  ['Vietnamese stacked marks', 'Nguyễn Văn Đức', 'nguyen van duc'],
  ['Polish ł and ź', 'Łódź', 'lodz'],
  ['Danish ø and æ', 'Søren Ærø', 'soren aero'],
  ['French œ and accents', 'Œuvre Bénédicte', 'oeuvre benedicte'],
  ['Icelandic þ and ð', 'Þórður', 'thordur'],
  ['Cyrillic Ё', 'Ёлкина', 'елкина'],
  ['Cyrillic capitals', 'АННА', 'анна'],
  ['Cyrillic й folds to и (the breve is a combining mark)', 'Андрей', 'андреи'],
  ['Greek accents and final sigma', 'Παπαδόπουλος', 'παπαδοπουλοσ'],
  ['Greek capitals', 'ΠΑΠΑΔΌΠΟΥΛΟΣ', 'παπαδοπουλοσ'],
  ['Greek diaeresis', 'Ευΐα', 'ευια'],
  ['Arabic hamza on alef', 'أحمد', 'احمد'],
  ['Arabic harakat', 'مُحَمَّد', 'محمد'],
  ['Arabic tatweel', 'محـــمد', 'محمد'],
  ['Arabic without marks is unchanged', 'محمد', 'محمد'],
  ['Amharic is unchanged', 'ሙሉጌታ', 'ሙሉጌታ'],
  ['Chinese is unchanged', '王小明', '王小明'],
  ['fullwidth Latin (NFKD)', 'ＭＵＬＬＥＲ', 'muller'],
  ['ligature fi (NFKD)', 'ﬁnn', 'finn'],
  ['runs of white space collapse, ends are trimmed', '  van \t de   Heuvel ', 'van de heuvel'],
  ['digits and punctuation stay', "O'Brien-Smith 2nd", "o'brien-smith 2nd"],
  ['SQL and LIKE metacharacters stay', "100%_Care\\' OR 1=1", "100%_care\\' or 1=1"],
  ['empty', '', ''],
];

for (const [name, input, folded] of FOLDS) {
  t.test(`foldString: ${name}`, async (t) => {
    t.equal(foldString(input), folded);
    t.equal(foldString(foldString(input)), folded, 'idempotent');
  });
}

t.test('the same name in different spellings folds to one key', async (t) => {
  t.equal(foldString('Müller'), foldString('MULLER'));
  t.equal(foldString('Nguyễn'), foldString('NGUYEN'));
  t.equal(foldString('Nguyễn'), foldString('Nguye\u0302\u0303n'), 'precomposed and combining');
  t.equal(foldString('Παπαδόπουλος'), foldString('παπαδοπουλοσ'));
  t.not(foldString('Müller'), foldString('Mueller'), 'ü is folded to u, not spelled out as ue');
});

t.test('prefixUpperBound', async (t) => {
  t.equal(prefixUpperBound('abc'), 'abd');
  t.equal(prefixUpperBound('muller'), 'mulles');
  t.equal(prefixUpperBound(''), undefined, 'no bound for the empty prefix');
  t.equal(prefixUpperBound('a\uD7FF'), 'a\uE000', 'skips the surrogate range');
  t.equal(prefixUpperBound('x𝒜'), 'x\u{1D49D}', 'astral characters are one code point');
  t.equal(prefixUpperBound('елк'), 'елл');
});

t.test('prefixUpperBound bounds exactly the strings starting with the prefix (code-point order)', async (t) => {
  const byCodePoint = (a: string, b: string) => {
    const x = Array.from(a, (c) => c.codePointAt(0)!);
    const y = Array.from(b, (c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  const prefixes = ['mul', 'елк', 'παπα', 'محم', 'x𝒜', 'a\uD7FF', 'z'];
  const samples = ['mul', 'mull', 'muller', 'mum', 'mu', 'mulz', 'елкина', 'елл', 'ел', 'παπαδοπουλοσ', 'παπβ', 'محمد', 'محن', 'x𝒜b', 'x\u{1D49D}', 'a\uD7FFq', 'a\uE000', 'z', 'zz', '{', '\u{10FFFF}'];
  for (const p of prefixes) {
    const upper = prefixUpperBound(p)!;
    for (const s of samples) {
      const inRange = byCodePoint(s, p) >= 0 && byCodePoint(s, upper) < 0;
      t.equal(inRange, s.startsWith(p), `${JSON.stringify(s)} in [${JSON.stringify(p)}, ${JSON.stringify(upper)}) iff it starts with the prefix`);
    }
  }
});
