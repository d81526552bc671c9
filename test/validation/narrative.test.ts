// The one-pass narrative scanner may only accept what sax (the full check) accepts: every
// narrative of the official R4 examples, and each of them broken in ways a scanner could miss,
// is read by both; wherever the scanner says "plain", sax must find nothing wrong. The scanner
// must also take the common case (most official narratives), or it buys nothing.
import t from 'tap';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { narrativeError, plainNarrative } from '../../src/validation/narrative.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

function divsOf(v: unknown, out: string[]): void {
  if (Array.isArray(v)) for (const x of v) divsOf(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'div' && typeof x === 'string') out.push(x);
      else divsOf(x, out);
    }
  }
}

const divs: string[] = [];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'package.json')) divsOf(JSON.parse(readFileSync(join(dir, f), 'utf8')), divs);

/** Ways to break a narrative a one-pass scanner might overlook. */
const MUTATIONS: ((d: string) => string)[] = [
  (d) => d.replace('</', '</x'),
  (d) => d.replace(/<\/div>\s*$/, ''),
  (d) => `${d}<div xmlns="http://www.w3.org/1999/xhtml"/>`,
  (d) => `${d}text`,
  (d) => d.replace('>', ' onclick="x">'),
  (d) => d.replace('>', ' bogus="x">'),
  (d) => d.replace('>', ' class=x>'),
  (d) => d.replace('>', ' class="a" class="b">'),
  (d) => d.replace('>', '><script>x</script>'),
  (d) => d.replace('>', '>&nbsp;'),
  (d) => d.replace('>', '>&#0160;'),
  (d) => d.replace('>', '>&#1;'),
  (d) => d.replace('>', '>&#x110000;'),
  (d) => d.replace('>', '>a & b'),
  (d) => d.replace('>', '>]]>'),
  (d) => d.replace('>', '><!-- c -->'),
  (d) => d.replace('>', '><![CDATA[x]]>'),
  (d) => d.replace('>', '><a href="javascript:x()">x</a>'),
  (d) => d.replace('>', '><a href="&#106;avascript:x()">x</a>'),
  (d) => d.replace('>', '><p xmlns="http://example.org/other">x</p>'),
  (d) => d.replace('>', '><x:p xmlns:x="http://www.w3.org/1999/xhtml">x</x:p>'),
  (d) => d.replace('>', '><P>x</P>'),
  (d) => d.replace('>', '><p>x</p >'),
  (d) => d.replace('>', '><p title="a<b">x</p>'),
  (d) => d.replace('>', '>\u0001'),
  (d) => d.replace('xmlns="http://www.w3.org/1999/xhtml"', 'xmlns="http://www.w3.org/1999/xhtml2"'),
  (d) => d.replace('xmlns="http://www.w3.org/1999/xhtml"', ''),
  (d) => d.replace(/^<div/, '<span').replace(/<\/div>\s*$/, '</span>'),
  (d) => ` ${d}`,
  (d) => d.slice(0, Math.floor(d.length / 2)),
];

t.test('the scanner accepts only what sax accepts', async (t) => {
  let plain = 0;
  let checked = 0;
  const wrong: string[] = [];
  // every official narrative, and every 8th one broken each way (all of them take half a minute)
  for (const [i, d] of divs.entries()) {
    for (const x of i % 8 === 0 ? [d, ...MUTATIONS.map((m) => m(d))] : [d]) {
      checked++;
      if (!plainNarrative(x)) continue;
      plain++;
      const err = narrativeErrorBySax(x);
      if (err) wrong.push(`${x.slice(0, 120)} → ${err}`);
    }
  }
  t.same(wrong.slice(0, 10), [], `${checked} narratives, ${plain} read as plain`);
  const officialPlain = divs.filter(plainNarrative).length;
  t.ok(officialPlain / divs.length > 0.8, `${officialPlain} of ${divs.length} official narratives read in one pass`);
});

t.test("verdicts and messages are sax's", async (t) => {
  t.equal(narrativeError('<div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; b&#160;</p><br/></div>'), undefined);
  t.match(narrativeError('<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>'), /not well-formed/);
  t.match(narrativeError('<div xmlns="http://www.w3.org/1999/xhtml"><a href="&#106;avascript:x()">x</a></div>'), /script URLs/);
  t.match(narrativeError('<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x">a</p></div>'), /event handler/);
});

/** The full check alone (the scanner bypassed), as narrativeError gave it before. */
function narrativeErrorBySax(x: string): string | undefined {
  // a string the scanner cannot take: the same narrative behind a comment sax skips
  return narrativeError(x.replace(/^<div([^>]*)>/, '<div$1><!---->'));
}
