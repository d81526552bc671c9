// FHIR's search prefixes (https://hl7.org/fhir/R4/search.html#prefix) as comparisons on an index
// row, written once for both engines: sqlite.ts renders them as SQL, mongo.ts as a filter. The
// row's columns are named here by role (a range's low and high, a number's value, an instant).
import type { RangeValue } from './ir.ts';

export type Column = 'low' | 'high' | 'value' | 'at';
export type Op = '>' | '>=' | '<' | '<=';

export type Comparison =
  | { column: Column; op: Op; value: number | string }
  | { all: Comparison[] }
  | { any: Comparison[] }
  | { not: Comparison };

const cmp = (column: Column, op: Op, value: number | string): Comparison => ({ column, op, value });
const all = (...parts: Comparison[]): Comparison => ({ all: parts });

/** A range target [low, high) against the search value's range [sl, sh). eq, ge and le also
 * state a bound that follows from low < high (`low < sh`, `high > sl`): it gives an index on
 * (param, low) or (param, high) a range to seek instead of every row of the param. */
export function rangeComparison(v: RangeValue): Comparison {
  const sl = v.low;
  const sh = v.high;
  const within = all(cmp('low', '>=', sl), cmp('high', '<=', sh));
  switch (v.prefix) {
    case 'eq':
      return all(cmp('low', '>=', sl), cmp('low', '<', sh), cmp('high', '<=', sh));
    case 'ne':
      return { not: within };
    case 'gt':
      return cmp('high', '>', sh);
    case 'lt':
      return cmp('low', '<', sl);
    case 'ge':
      return all(cmp('high', '>', sl), { any: [cmp('high', '>', sh), within] });
    case 'le':
      return all(cmp('low', '<', sh), { any: [cmp('low', '<', sl), within] });
    case 'sa':
      return cmp('low', '>=', sh);
    case 'eb':
      return cmp('high', '<=', sl);
    case 'ap': {
      const now = Date.now();
      const widen = (x: number) => Math.abs(x - now) * 0.1;
      return all(cmp('high', '>', v.low - widen(v.low)), cmp('low', '<', v.high + widen(v.high)));
    }
  }
}

/** A point target (one `column` value) against a search value: within [low, high) for eq and
 * ne; for the other prefixes, the comparison `bounds` gives (sa and eb read as gt and lt). */
function pointComparison(
  column: Column,
  v: RangeValue,
  low: number | string,
  high: number | string,
  bounds: { gt: [Op, number | string]; lt: [Op, number | string]; ge: [Op, number | string]; le: [Op, number | string]; ap: [Comparison, Comparison] },
): Comparison {
  const inRange = all(cmp(column, '>=', low), cmp(column, '<', high));
  switch (v.prefix) {
    case 'eq':
      return inRange;
    case 'ne':
      return { not: inRange };
    case 'gt':
    case 'sa':
      return cmp(column, ...bounds.gt);
    case 'lt':
    case 'eb':
      return cmp(column, ...bounds.lt);
    case 'ge':
      return cmp(column, ...bounds.ge);
    case 'le':
      return cmp(column, ...bounds.le);
    case 'ap':
      return all(...bounds.ap);
  }
}

/** Numbers and quantities compare the stored value with the number as written; eq and ne use
 * its implied precision range; ap is within 10 % of it. */
export function numberComparison(v: RangeValue): Comparison {
  const x = v.value ?? v.low;
  const d = Math.abs(x) * 0.1;
  return pointComparison('value', v, v.low, v.high, {
    gt: ['>', x], lt: ['<', x], ge: ['>=', x], le: ['<=', x],
    ap: [cmp('value', '>=', x - d), cmp('value', '<=', x + d)],
  });
}

function iso(ms: number): string {
  return new Date(Math.max(-8.64e15, Math.min(8.64e15, ms))).toISOString();
}

/** meta.lastUpdated, an instant stored as ISO text (which compares as time): the target is the
 * point `at`, the search value the range [sl, sh); ap widens it by 10 % of its distance from now. */
export function instantComparison(v: RangeValue): Comparison {
  const sl = iso(v.low);
  const sh = iso(v.high);
  const d = Math.abs(v.low - Date.now()) * 0.1;
  return pointComparison('at', v, sl, sh, {
    gt: ['>=', sh], lt: ['<', sl], ge: ['>=', sl], le: ['<', sh],
    ap: [cmp('at', '>=', iso(v.low - d)), cmp('at', '<', iso(v.high + d))],
  });
}
