// UCUM canonical forms (src/terminology/ucum.ts): which codes get one, its unit and factor, the
// rounding that makes equal quantities index equal, and what is left out.
import t from 'tap';
import { canonicalUnit, roundCanonical, toCanonical } from '../../src/terminology/ucum.ts';

t.test('ratio units: base-unit code and factor', async (t) => {
  const cases: [string, string, number][] = [
    ['g', 'g', 1],
    ['kg', 'g', 1000],
    ['mg', 'g', 0.001],
    ['[lb_av]', 'g', 453.59237],
    ['t', 'g', 1e6],
    ['g/L', 'm-3.g', 1000],
    ['mg/dL', 'm-3.g', 10],
    ['kg/m2', 'm-2.g', 1000],
    ['cm', 'm', 0.01],
    ['[in_i]', 'm', 0.0254],
    ['min', 's', 60],
    ['h', 's', 3600],
    ['/min', 's-1', 1 / 60],
    ['mm[Hg]', 'm-1.s-2.g', 133322],
    ['kPa', 'm-1.s-2.g', 1e6],
    ['mL', 'm3', 1e-6],
    // UCUM's mol is the number 6.0221367e23: substance concentrations are per volume
    ['mmol/L', 'm-3', 6.0221367e23],
    ['%', '1', 0.01],
    ['1', '1', 1],
    ['10*3/uL', 'm-3', 1e12],
  ];
  for (const [code, base, factor] of cases) {
    const c = canonicalUnit(code);
    t.equal(c?.code, base, `${code} is in ${base}`);
    t.equal(c && roundCanonical(c.factor), roundCanonical(factor), `${code} × ${factor}`);
  }
});

t.test('commensurable units share the canonical code', async (t) => {
  t.equal(canonicalUnit('mg/dL')?.code, canonicalUnit('g/L')?.code);
  t.equal(canonicalUnit('kPa')?.code, canonicalUnit('mm[Hg]')?.code);
  t.not(canonicalUnit('mg/dL')?.code, canonicalUnit('mmol/L')?.code, 'mass and substance concentration differ');
  t.not(canonicalUnit('g')?.code, canonicalUnit('m')?.code);
});

t.test('equal quantities in different units have equal canonical values', async (t) => {
  t.same(toCanonical(72.5, 'kg'), { code: 'g', value: 72500 });
  t.same(toCanonical(72500, 'g'), { code: 'g', value: 72500 });
  // float noise (10 × 1.1 × 100, 0.0254 × 100) rounds away
  t.equal(toCanonical(110, 'mg/dL')?.value, toCanonical(1.1, 'g/L')?.value);
  t.equal(toCanonical(100, 'mg/dL')?.value, 1000);
  t.equal(toCanonical(2.54, 'cm')?.value, toCanonical(1, '[in_i]')?.value);
  t.equal(toCanonical(5, '10*3/uL')?.value, 5e12);
  t.equal(toCanonical(97, '%')?.value, 0.97);
  t.equal(toCanonical(0.97, '1')?.value, 0.97);
});

t.test('canonical values keep 12 significant digits, at any magnitude', async (t) => {
  t.equal(roundCanonical(1100.0000000000002), 1100);
  t.equal(roundCanonical(0.025400000000000002), 0.0254);
  t.equal(roundCanonical(123456789012.34), 123456789012);
  t.equal(roundCanonical(3.2519538180000004e24), 3.251953818e24, 'mmol/L in m-3');
  t.equal(roundCanonical(1.23456789012345e-30), 1.23456789012e-30, 'beyond exact powers of ten');
  t.equal(roundCanonical(-72.5), -72.5);
  t.equal(roundCanonical(0), 0);
});

t.test('units with offsets or non-ratio scales have no canonical form', async (t) => {
  for (const code of ['Cel', 'mCel', '[degF]', '[degRe]', '[pH]', 'B', 'dB', 'Np', 'B[SPL]', "%[slope]"]) {
    t.equal(canonicalUnit(code), null, code);
  }
  t.equal(toCanonical(39, 'Cel'), null, '39 Cel is not 39 K');
  t.ok(canonicalUnit('K'), 'K itself is a base unit');
});

t.test('annotations, arbitrary units and invalid codes have none', async (t) => {
  for (const code of ['{score}', 'mg{creat}', '{beats}/min', '[IU]', 'm[IU]/L', "[arb'U]", '[iU]/L']) t.equal(canonicalUnit(code), null, code);
  // not UCUM: names, wrong case, free text, spaces, non-ASCII, empty, overlong
  for (const code of ['kilogram', 'KG', 'lb', 'degrees C', 'µg', 'kg/', '((', '', 'g'.repeat(65), 'mEq/L']) t.equal(canonicalUnit(code), null, JSON.stringify(code));
});

t.test('answers are cached per code and the cache is bounded', async (t) => {
  t.equal(canonicalUnit('kg'), canonicalUnit('kg'), 'the same object for the same code');
  t.equal(canonicalUnit('bogus'), null);
  // more distinct codes than the cache holds: evicts the oldest, still answers correctly
  for (let i = 0; i < 3000; i++) canonicalUnit(`10*${i % 50}.g/${i}`);
  t.same(canonicalUnit('kg'), { code: 'g', factor: 1000 });
});

t.test('lookups are cheap once cached', async (t) => {
  const codes = ['kg', 'g', 'mg/dL', 'mmol/L', 'Cel', '%', '/min', 'mm[Hg]'];
  for (const c of codes) canonicalUnit(c);
  const n = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) canonicalUnit(codes[i % codes.length]);
  const perLookupNs = Number(process.hrtime.bigint() - start) / n;
  t.comment(`cached lookup: ${perLookupNs.toFixed(0)} ns`);
  // generous: a Map lookup is ~50 ns; parsing a code is tens of µs
  t.ok(perLookupNs < 2000, 'under 2 µs a lookup');
});
