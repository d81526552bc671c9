// Typed index rows extracted from a resource at write time (compare HAPI's HFJ_SPIDX_* tables):
// engine-neutral, so every storage engine stores the same values.

/** Which view of a labelled resource a row belongs to (src/search/sensitive-rows.ts): absent or 0
 * both, FULL_ONLY only the stored resource (a value from its sensitive elements: an LMA number),
 * VIEW_ONLY only the view of clients without the migration-data scope (a reference that in full
 * also carried a status-revealing identifier). A search reads the rows of the client's view. */
export const FULL_ONLY = 1;
export const VIEW_ONLY = 2;
export type RowSens = typeof FULL_ONLY | typeof VIEW_ONLY;
/** Which rows a search over one view leaves out: the other view's own rows. */
export type SearchView = 'full' | 'redacted';
export function hiddenSens(view: SearchView | undefined): RowSens {
  return view === 'redacted' ? FULL_ONLY : VIEW_ONLY;
}
export interface StringRow { param: string; norm: string; exact: string; sens?: RowSens }
export interface TokenRow {
  param: string;
  sens?: RowSens;
  system: string | null;
  code: string | null;
  /** folded display / text, for :text */
  text: string | null;
  /** Identifier.type's first coding, for :of-type */
  typeSystem?: string | null;
  typeCode?: string | null;
}
/** epoch ms, [low, high) */
export interface DateRow { param: string; low: number; high: number; sens?: RowSens }
export interface NumberRow { param: string; value: number; low: number; high: number; sens?: RowSens }
/** The UCUM canonical form of a quantity in http://unitsofmeasure.org (src/terminology/ucum.ts):
 * its value and precision range in base units; absent when the code has none. */
export interface CanonicalColumns { canonCode?: string; canonValue?: number; canonLow?: number; canonHigh?: number }
export interface QuantityRow extends CanonicalColumns { param: string; sens?: RowSens; value: number; low: number; high: number; system: string | null; code: string | null }
export interface ReferenceRow {
  param: string;
  sens?: RowSens;
  /** resource type and id for local references (Type/id or an absolute URL ending in Type/id) */
  targetType: string | null;
  targetId: string | null;
  /** canonical or absolute URL as written (without |version) */
  url: string | null;
  version: string | null;
  /** Reference.identifier, for :identifier */
  identifierSystem: string | null;
  identifierValue: string | null;
}
export interface UriRow { param: string; uri: string; sens?: RowSens }
/** One component value of the grp-th occurrence of a composite parameter. */
export interface CompositeRow extends CanonicalColumns {
  param: string;
  sens?: RowSens;
  grp: number;
  comp: number;
  system: string | null;
  code: string | null;
  low: number | null;
  high: number | null;
  value: number | null;
  /** folded string */
  text: string | null;
  targetType: string | null;
  targetId: string | null;
}

export interface IndexRows {
  string: StringRow[];
  token: TokenRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  reference: ReferenceRow[];
  uri: UriRow[];
  composite: CompositeRow[];
  /** keys of the parameters whose rows of this resource come (in part) from its sensitive
   * elements: they differ from the rows of its redacted view (src/search/sensitive-rows.ts).
   * Set only for resources that carry the sensitivity label, and only for sensitivity from the
   * extensions: status-revealing identifiers mark rows (`sens`), not parameters. */
  sensitive?: string[];
}

/** The lists of rows in IndexRows (not `sensitive`). */
export const ROW_TABLES = ['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri', 'composite'] as const;

export function emptyRows(): IndexRows {
  return { string: [], token: [], date: [], number: [], quantity: [], reference: [], uri: [], composite: [] };
}

/** Equal rows give equal keys (JSON.stringify did the same at several times the cost; null and
 * absent values are one marker that no string value holds). */
export function rowKey(r: object): string {
  let key = '';
  for (const v of Object.values(r)) key += v === null || v === undefined ? '\u0000\u0001' : `${v}\u0001`;
  return key;
}
