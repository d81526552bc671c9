// The request body checks that run before and around JSON.parse: UTF-8, Content-Encoding, one
// scan for depth and duplicate keys (which must not be fooled by strings or escapes), lone
// surrogates and numbers beyond a double.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bodyText, parseJsonBody, scanJson } from '../../src/http/json.ts';
import { thrownStatus } from '../helpers/errors.ts';

const status = thrownStatus;

t.test('scanJson: depth and duplicate keys in one pass', async (t) => {
  const cases: [string, string, ReturnType<typeof scanJson>][] = [
    ['flat', '{"a":1,"b":2}', undefined],
    ['same key in sibling objects', '{"a":[{"x":1},{"x":2}],"b":{"x":1,"y":{"x":1}}}', undefined],
    ['duplicate', '{"a":1,"a":2}', { duplicate: 'a' }],
    ['duplicate after a nested object', '{"a":{"b":1,"c":[1,{"d":2}]},"a":2}', { duplicate: 'a' }],
    ['duplicate spelled with an escape', '{"gender":"male","\\u0067ender":"female"}', { duplicate: 'gender' }],
    ['braces, commas and quotes inside strings', '{"a":"{\\"a\\":1,","b":"}]","c":"\\\\"}', undefined],
    ['a value equal to a key', '{"a":"a","b":"a"}', undefined],
    ['array of strings equal to keys', '{"a":["a","a"]}', undefined],
    ['keys that differ only by an escaped backslash', '{"a":1,"a\\\\":2}', undefined],
    ['nesting at the limit', `${'['.repeat(10)}${']'.repeat(10)}`, undefined],
    ['nesting past the limit', `${'{"a":'.repeat(11)}1${'}'.repeat(11)}`, { tooDeep: true }],
    ['malformed text is left to JSON.parse', '{"a":1,"\\u00zz":2}', undefined],
  ];
  for (const [name, text, expected] of cases) t.same(scanJson(text, 10), expected, name);
});

t.test('parseJsonBody refuses what would be stored changed', async (t) => {
  const cases: [string, string, number | undefined][] = [
    ['a surrogate pair escape is a character', '{"a":"\\ud83d\\ude00"}', undefined],
    ['lone high surrogate', '{"a":"\\ud800"}', 400],
    ['lone low surrogate in a key', '{"\\udc00":1}', 400],
    ['1e999', '{"a":1e999}', 400],
    ['-1e999 in an array', '{"a":[1,-1e999]}', 400],
    ['400 digits', `{"a":${'9'.repeat(400)}}`, 400],
    ['large but finite', '{"a":1.7e308,"b":"e123"}', undefined],
    ['duplicate key', '{"a":1,"a":1}', 400],
    ['too deep', `${'['.repeat(101)}${']'.repeat(101)}`, 400],
    ['a risky key nested', '{"a":{"b":[{"__proto__":{"x":1}}]}}', 400],
    ['constructor as a key', '{"constructor":1}', 400],
    ['risky words as values', '{"a":"__proto__","b":["constructor","prototype"]}', undefined],
    ['a three-digit exponent that fits', '{"a":1e-300,"b":[2.5E+100]}', undefined],
    ['a long decimal fraction', `{"a":0.${'1'.repeat(400)}}`, undefined],
    ['digits and an exponent inside strings', `{"a":"${'9'.repeat(400)}","b":"1e999","c":"\\\\ud800"}`, undefined],
    ['a lone surrogate after an escaped quote', '{"a":"x\\"\\ud800"}', 400],
    ['a duplicate after a string ending in an escaped backslash', '{"a":"x\\\\","a":1}', 400],
  ];
  for (const [name, text, expected] of cases) t.equal(status(() => parseJsonBody(text, 100)), expected, name);
});

t.test('parseJsonBody gives what JSON.parse gives for every R4 example', async (t) => {
  const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
  let n = 0;
  // every 4th file under 200 kB: a few seconds under load, and every kind of resource
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'package.json').filter((_, i) => i % 4 === 0);
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    if (text.length > 200_000) continue;
    // compact and pretty-printed, as clients send them
    for (const body of [text, JSON.stringify(JSON.parse(text))]) {
      if (JSON.stringify(parseJsonBody(body, 1000)) !== JSON.stringify(JSON.parse(body))) t.fail(f);
      else n++;
    }
  }
  t.ok(n > 2000, `${n} bodies parsed alike`);
});

t.test('bodyText: UTF-8 only, uncompressed only', async (t) => {
  t.equal(bodyText(Buffer.from('{"a":"Müller Nguyễn محمد"}'), undefined), '{"a":"Müller Nguyễn محمد"}', 'UTF-8 passes unchanged');
  t.equal(bodyText(Buffer.from('x'), 'identity'), 'x', 'identity is no encoding');
  for (const [name, bytes] of [['0xff', [0xff]], ['overlong /', [0xc0, 0xaf]], ['encoded surrogate', [0xed, 0xa0, 0x80]], ['truncated', [0xe2, 0x82]], ['Latin-1 ü', [0xfc]]] as const) {
    t.equal(status(() => bodyText(Buffer.from([0x61, ...bytes, 0x62]), undefined)), 400, name);
  }
  t.equal(status(() => bodyText(Buffer.from('x'), 'gzip')), 415, 'gzip');
  t.equal(status(() => bodyText(Buffer.from('x'), 'br')), 415, 'br');
});
