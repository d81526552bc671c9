// UCUM canonical forms (https://ucum.org/ucum, §3.4 "conversion") for quantity search: a value in
// any UCUM unit is compared in the unit's base units, so 72.5 kg and 72500 g are the same quantity
// (search.html#quantity: "servers may ... compare quantities in canonical form"; compare HAPI's
// HFJ_SPIDX_QUANTITY_NRML). The units are parsed by @lhncbc/ucum-lhc (NLM's implementation of the
// UCUM grammar and tables); the index writer asks on every create, so each code is parsed once and
// its answer cached.
//
// Only ratio-scale units get a canonical form: value × factor in base units. Left out, so that a
// search never matches on a wrong conversion:
// - special units, whose scale has an offset or is not linear (UCUM §3.6: Cel, [degF], [degRe],
//   log units such as [pH], B, dB, Np, and their prefixed forms): 39 Cel is not 39 K;
// - arbitrary units ([IU], [arb'U], …), which UCUM says are not comparable to anything;
// - codes with annotations ({score}, mg{creat}): UCUM reads them as 1, but they name what was
//   measured, and mg{creat} is not mg{protein};
// - codes that are not valid UCUM (names like "kilogram", codes in the wrong case, free text).
import { createRequire } from 'node:module';

export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

export interface Canonical {
  /** the base-unit code: UCUM base units with exponents, in UCUM's dimension order (m, s, g,
   * rad, K, C, cd), e.g. `g`, `m-3.g`, `m.s-2.g`; `1` for dimensionless units (%, mol, 10*3) */
  code: string;
  /** a value in the unit times factor is the value in `code` */
  factor: number;
}

interface UcumUnit {
  magnitude_: number;
  isSpecial_: boolean;
  isArbitrary_: boolean;
  cnv_: string | null;
  dim_?: { dimVec_?: number[] | null } | null;
}
interface UcumUtils {
  getSpecifiedUnit(code: string, mode: 'validate'): { status: string; unit: UcumUnit | null };
}
interface UcumPackage {
  UcumLhcUtils: { getInstance(): UcumUtils };
  UnitTables: { getInstance(): { dimVecIndexToBaseUnit_: string[] } };
}

let ucum: { utils: UcumUtils; baseUnits: string[] } | undefined;

/** The library, loaded on first use (fhirpath loads the same instance for its own quantities). */
function library(): { utils: UcumUtils; baseUnits: string[] } {
  if (!ucum) {
    const pkg = createRequire(import.meta.url)('@lhncbc/ucum-lhc') as UcumPackage;
    ucum = { utils: pkg.UcumLhcUtils.getInstance(), baseUnits: pkg.UnitTables.getInstance().dimVecIndexToBaseUnit_ };
  }
  return ucum;
}

/** UCUM codes are printable ASCII without spaces (UCUM §1); anything else is not parsed at all
 * (the library logs to the console for some such strings). */
const CODE = /^[\x21-\x7e]{1,64}$/;
/** Distinct codes remembered; a write or a search with yet another made-up code beyond this
 * evicts the oldest, so request text cannot grow the cache without bound. */
const CACHE_SIZE = 2000;
const cache = new Map<string, Canonical | null>();

/** Significant digits kept of a canonical value: enough for any measured quantity, few enough
 * that float noise in UCUM's factors (10*3/uL is 999999999999.9999) and in value × factor
 * (2.54 × 0.01) rounds away, so that 100 mg/dL and 1 g/L index the same canonical value. */
const DIGITS = 12;

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** x to DIGITS significant digits. By arithmetic rather than toPrecision (a quarter of the time,
 * on every write of a UCUM quantity): 10^k up to 10^22 is exact, so x × 10^k rounded and divided
 * again is the nearest double to the rounded decimal; only a half-way digit may round the other
 * way than toPrecision would, the same way at write and at search time. */
export function roundCanonical(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const k = DIGITS - 1 - Math.floor(Math.log10(Math.abs(x)));
  if (k > 22 || k < -22) return Number(x.toPrecision(DIGITS));
  return k >= 0 ? Math.round(x * POW10[k]) / POW10[k] : Math.round(x / POW10[-k]) * POW10[-k];
}

function parse(code: string): Canonical | null {
  if (!CODE.test(code) || code.includes('{')) return null;
  const { utils, baseUnits } = library();
  let unit: UcumUnit | null;
  try {
    const r = utils.getSpecifiedUnit(code, 'validate');
    // 'invalid' may still carry a unit: the library's guess for a name like "kilogram"
    unit = r.status === 'valid' ? r.unit : null;
  } catch {
    return null;
  }
  if (!unit || unit.isSpecial_ || unit.isArbitrary_ || unit.cnv_ || !(unit.magnitude_ > 0) || !Number.isFinite(unit.magnitude_)) return null;
  const dims = unit.dim_?.dimVec_ ?? [];
  const parts: string[] = [];
  dims.forEach((exp, i) => {
    if (exp) parts.push(exp === 1 ? baseUnits[i] : `${baseUnits[i]}${exp}`);
  });
  return { code: parts.length ? parts.join('.') : '1', factor: Number(unit.magnitude_.toPrecision(15)) };
}

/** The canonical form of a UCUM code, or null when it has none (see the top of this file). */
export function canonicalUnit(code: string): Canonical | null {
  let c = cache.get(code);
  if (c === undefined) {
    c = parse(code);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(code, c);
  }
  return c;
}

/** `value` in `code` expressed in the code's canonical unit, or null (see canonicalUnit). */
export function toCanonical(value: number, code: string): { code: string; value: number } | null {
  const c = canonicalUnit(code);
  return c ? { code: c.code, value: roundCanonical(value * c.factor) } : null;
}
