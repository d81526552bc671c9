import { readFileSync } from 'node:fs';
const T = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') T[c.charCodeAt(0)] = 1;
function base64Chars(v: string) { let n = v.length; if (n > 0 && v.charCodeAt(n - 1) === 61) n--; if (n > 0 && v.charCodeAt(n - 1) === 61) n--; for (let i = 0; i < n; i++) { const c = v.charCodeAt(i); if (c > 127 || T[c] === 0) return false; } return true; }
function oldOk(v: string) { const plain = base64Chars(v); const compact = plain ? v : /\s/.test(v) ? v.replace(/\s+/g, '') : undefined; return !(compact === undefined || compact.length % 4 !== 0 || (!plain && !base64Chars(compact))); }
const OUTSIDE = /[^A-Za-z0-9+/=\s]/;
const PADDING = /^=\s*(?:=\s*)?$/;
const SPACE = /\s/;
function newOk(v: string) {
  if (OUTSIDE.test(v)) return false;
  const eq = v.indexOf('=');
  if (eq >= 0 && !PADDING.test(v.slice(eq))) return false;
  const significant = SPACE.test(v) ? v.replace(/\s+/g, '').length : v.length;
  return significant % 4 === 0;
}
const alpha = 'AQz09+/=  \n\t\u00a0é-_';
let bad = 0;
for (let k = 0; k < 300000; k++) { const n = Math.floor(Math.random() * 10); let s = ''; for (let i = 0; i < n; i++) s += alpha[Math.floor(Math.random() * alpha.length)]; if (s.length === 0) continue; if (oldOk(s) !== newOk(s)) { bad++; if (bad < 10) console.log('DIFF', JSON.stringify(s), oldOk(s), newOk(s)); } }
console.log('differences', bad);
const d = JSON.parse(readFileSync('node_modules/hl7.fhir.r4.examples/DiagnosticReport-gingival-mass.json', 'utf8'));
const s: string = d.presentedForm[0].data;
for (const [name, f] of [['old', oldOk], ['new', newOk]] as const) {
  for (let i = 0; i < 20; i++) f(s);
  const t = process.hrtime.bigint(); for (let i = 0; i < 100; i++) f(s);
  console.log(name, (Number(process.hrtime.bigint() - t) / 100 / s.length).toFixed(2), 'ns/char', f(s));
}
const compact = s.replace(/\s+/g, '');
for (const [name, f] of [['old compact', oldOk], ['new compact', newOk]] as const) {
  for (let i = 0; i < 20; i++) f(compact);
  const t = process.hrtime.bigint(); for (let i = 0; i < 100; i++) f(compact);
  console.log(name, (Number(process.hrtime.bigint() - t) / 100 / s.length).toFixed(2), 'ns/char', f(compact));
}
const parts: [string, (v: string) => unknown][] = [
  ['OUTSIDE', (v) => OUTSIDE.test(v)],
  ['OUTSIDE ascii ws', (v) => /[^A-Za-z0-9+/=\t\n\r ]/.test(v)],
  ['SPACE+replace', (v) => v.replace(/\s+/g, '').length],
  ['table on compact', (v) => base64Chars(v)],
  ['isAscii via Buffer', (v) => require('node:buffer').isAscii(Buffer.from(v, 'latin1'))],
];
import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
for (const [name, f] of parts) {
  const x = name === 'table on compact' ? compact : s;
  for (let i = 0; i < 20; i++) f(x);
  const t = process.hrtime.bigint(); for (let i = 0; i < 100; i++) f(x);
  console.log(name, (Number(process.hrtime.bigint() - t) / 100 / s.length).toFixed(2), 'ns/char');
}
