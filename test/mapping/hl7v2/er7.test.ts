// The ER7 parser and writer on their own: delimiters, repetitions, components,
// sub-components, escape sequences (both ways) and character sets.
import t from 'tap';
import { TextDecoder } from 'node:util';
import { encodeSegment, escape, parseEr7, unescape, DEFAULT_DELIMITERS } from '../../../src/mapping/hl7v2/er7.ts';
import { decodeMessage, declaredCharset } from '../../../src/mapping/hl7v2/charset.ts';
import { Hl7Error } from '../../../src/mapping/hl7v2/errors.ts';
import { encode } from './fixtures.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

t.test('repetitions, components and sub-components', async (t) => {
  const m = parseEr7('MSH|^~\\&|A|B\rPID|1||111^^^AMKA&1.2.3&ISO^SS~222^^^PPN||Doe^John^Paul', utf8);
  const pid = m.segments[1];
  t.equal(pid.field(3).length, 2);
  t.equal(pid.get(3, 0, 4, 2), '1.2.3');
  t.equal(pid.get(3, 1, 1), '222');
  t.equal(pid.get(5, 0, 3), 'Paul');
  t.equal(pid.get(9), '', 'absent field');
  t.equal(m.segments[0].get(1), '|');
  t.equal(m.segments[0].get(2), '^~\\&', 'MSH-2 is not split');
  t.equal(m.segments[0].get(3), 'A');
});

t.test('other delimiters declared in MSH', async (t) => {
  const m = parseEr7('MSH#$*@%#APP#FAC\nPID#1##X$$$AUTH%9*Y$$$AUTH2##Doe$John@S@', utf8);
  const pid = m.segments[1];
  t.equal(pid.get(3, 0, 4, 2), '9');
  t.equal(pid.get(3, 1, 1), 'Y');
  t.equal(pid.get(5, 0, 2), 'John$', 'escape sequences use the declared escape character');
});

t.test('escape sequences', async (t) => {
  const d = DEFAULT_DELIMITERS;
  t.equal(unescape('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f', d, utf8), 'a|b^c&d~e\\f');
  t.equal(unescape('Caf\\XC3A9\\', d, utf8), 'Café', '\\X..\\ bytes decoded in the message charset');
  t.equal(unescape('\\XD3\\', d, new TextDecoder('iso-8859-7')), 'Σ');
  t.equal(unescape('\\H\\bold\\N\\ line\\.br\\next', d, utf8), 'bold line\nnext');
  t.equal(unescape('\\Zlocal\\ and \\X0\\', d, utf8), '\\Zlocal\\ and \\X0\\', 'unknown or malformed sequences kept as sent');
  t.equal(unescape('trailing \\F', d, utf8), 'trailing \\F', 'unterminated sequence kept');
  const nasty = 'a|b^c&d~e\\f\rg\nh';
  t.equal(unescape(escape(nasty), d, utf8), nasty, 'escape ∘ unescape is the identity');
  t.equal(encodeSegment('PID', ['1', undefined, { reps: [['1', '', '', ['A', '1.2', 'ISO']], ['2']] }, undefined, ['Doe', 'J'], undefined, undefined]), 'PID|1||1^^^A&1.2&ISO~2||Doe^J');
});

t.test('bad headers are rejected with AR', async (t) => {
  for (const [text, where] of [['PID|1', 'MSH'], ['MSH|^~', 'MSH-2'], ['MSH|^^\\&|A', 'MSH-2'], ['MSH|^~\\&A|B', 'MSH-2'], ['MSH|^~\\&|A\rMSH|^~\\&|B', 'segment 2'], ['MSH|^~\\&|A\rpid|1', 'segment 2']] as const) {
    const err = (() => { try { parseEr7(text, utf8); } catch (e) { return e; } })() as Hl7Error;
    t.equal(err?.ack, 'AR', JSON.stringify(text));
    t.equal(err?.location, where);
  }
});

t.test('MSH-18 picks the decoder; undeclared bytes must be UTF-8', async (t) => {
  const greek = encode('MSH|^~\\&|A|B|||20240101||ADT^A28|1|P|2.5||||||8859/7\rPID|1||1^^^X||Αλεξίου', 'iso-8859-7');
  t.equal(declaredCharset(greek), '8859/7');
  t.match(decodeMessage(greek).text, /Αλεξίου/);
  const header = (msh18: string) => Buffer.from(['MSH', '^~\\&', 'A', 'B', ...Array(13).fill(''), msh18].join('|'));
  const arOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return [(e as Hl7Error).ack, (e as Hl7Error).location];
    }
    return undefined;
  };
  t.equal(decodeMessage(header('8859/7~UNICODE UTF-8')).charset.label, 'iso-8859-7', 'first repetition is the default set');
  t.equal(decodeMessage(header('ISO-8859-5')).charset.label, 'iso-8859-5', 'common non-standard spellings');
  t.equal(decodeMessage(header('ISO IR144')).charset.label, 'iso-8859-5');
  t.same(arOf(() => decodeMessage(header('KLINGON'))), ['AR', 'MSH-18']);
  t.same(arOf(() => decodeMessage(header('UNICODE UTF-16'))), ['AR', 'MSH-18']);
  t.same(arOf(() => decodeMessage(Buffer.concat([Buffer.from('MSH|^~\\&|A\r'), Buffer.from([0xc1, 0xeb])]))), ['AR', 'MSH-18'], 'undeclared non-UTF-8 bytes');
  t.equal(decodeMessage(Buffer.concat([Buffer.from('MSH|^~\\&|A\r'), Buffer.from([0xc1, 0xeb])]), 'iso-8859-7').text.slice(-2), 'Αλ', 'HTTP charset when MSH-18 is empty');
});
