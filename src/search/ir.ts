// The typed query IR between parsing (parse.ts, pure) and the engine compilers (sqlite.ts and
// the MongoDB one). Values in the IR are already normalized (folded strings, epoch-ms ranges,
// decimal precision ranges); no engine re-interprets query text.
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

export interface RangeValue {
  prefix: Prefix;
  /** inclusive low and exclusive high of the search value's implied range */
  low: number;
  high: number;
  /** the number as written (numbers and quantities) */
  value?: number;
}

export interface QuantityValue extends RangeValue {
  /** undefined: any system; the code matches Quantity.code or unit */
  system?: string;
  code?: string;
  /** a UCUM value whose code has a canonical form (src/terminology/ucum.ts): the same value,
   * prefix and implied range in base units, compared with the stored canonical values instead of
   * the value as written in the same code */
  canonical?: RangeValue & { code: string };
}

/** system undefined: any; null: no system (`|code`); code undefined: `system|` */
export interface TokenValue {
  system?: string | null;
  code?: string;
  /** also match rows without a system (code-typed elements, whose system is implicit): :in */
  orNoSystem?: boolean;
}

export type ReferenceValue =
  | { kind: 'local'; type?: string; id: string }
  | { kind: 'url'; url: string; version?: string }
  | { kind: 'identifier'; system?: string; value?: string };

/** One condition on the resource being searched. `params` are index keys: one per resource type
 * searched (Patient.name, Practitioner.name for `_type=Patient,Practitioner&name=…`). */
export type Condition =
  /** the value starts the folded string (search.html#string); values folded (normalize.ts) */
  | { kind: 'string'; params: string[]; values: string[] }
  /** :exact — the whole string as written */
  | { kind: 'stringExact'; params: string[]; values: string[] }
  /** :contains — anywhere in the folded string; values folded */
  | { kind: 'stringContains'; params: string[]; values: string[] }
  /** the `phonetic` parameter: values are name keys (src/mpi/names.ts) compared for equality */
  | { kind: 'phonetic'; params: string[]; values: string[] }
  /** code, system|code, |code, system|; :not negates; :in, :not-in, :below and :above arrive
   * here too, as the codes the terminology gave */
  | { kind: 'token'; params: string[]; not: boolean; values: TokenValue[] }
  /** :text — anywhere in the folded display text; values folded */
  | { kind: 'tokenText'; params: string[]; values: string[] }
  /** :of-type — an Identifier with this type coding and value */
  | { kind: 'tokenOfType'; params: string[]; values: { system?: string; code?: string; value: string }[] }
  | { kind: 'date'; params: string[]; values: RangeValue[] }
  | { kind: 'number'; params: string[]; values: RangeValue[] }
  | { kind: 'quantity'; params: string[]; values: QuantityValue[] }
  | { kind: 'reference'; params: string[]; values: ReferenceValue[] }
  | { kind: 'uri'; params: string[]; values: string[] }
  /** :above — the uri or one of its ancestors (cut at each `/`) */
  | { kind: 'uriAbove'; params: string[]; values: string[] }
  /** :below — uris that start with the value */
  | { kind: 'uriBelow'; params: string[]; values: string[] }
  | { kind: 'missing'; params: string[]; table: IndexTable; missing: boolean }
  | { kind: 'id'; values: string[]; not: boolean }
  | { kind: 'lastUpdated'; values: RangeValue[] }
  /** the resource references (through `param`) a resource of `targetTypes` that meets `condition` */
  | { kind: 'chain'; params: string[]; targetTypes: string[]; condition: Condition }
  /** some `sourceType` resource references this one through `param` and meets `condition`.
   * semiJoin: an engine's plan hint (set by the engine after probing): many referring resources
   * match, so test each candidate (EXISTS) instead of materialising the referring set */
  | { kind: 'has'; sourceType: string; params: string[]; condition: Condition; semiJoin?: boolean }
  /** composite: each alternative is a tuple of component values that one occurrence must meet */
  | { kind: 'composite'; params: string[]; values: ComponentValue[][] }
  /** at least one of the conditions holds (used by operations, e.g. $everything's date window) */
  | { kind: 'any'; conditions: Condition[] }
  /** the resource is in the compartment of targetType/targetId through any of `params` */
  | { kind: 'compartment'; params: string[]; targetType: string; targetId: string };

export type ComponentValue =
  | { type: 'token'; value: TokenValue }
  | { type: 'quantity'; value: QuantityValue }
  | { type: 'number'; value: RangeValue }
  | { type: 'date'; value: RangeValue }
  | { type: 'string'; value: string }
  | { type: 'reference'; value: ReferenceValue }
  | { type: 'uri'; value: string };

export type IndexTable = 'string' | 'token' | 'date' | 'number' | 'quantity' | 'reference' | 'uri';

export interface SortKey {
  /** '_id' and '_lastUpdated' sort on the resource itself; otherwise index parameter keys */
  params: string[];
  table?: IndexTable;
  descending: boolean;
}

export interface IncludeSpec {
  /** resource type whose references are followed (revinclude: the referring type) */
  sourceType: string;
  /** reference parameter key; '*' for every reference parameter */
  param: string;
  targetType?: string;
  iterate: boolean;
  /** for canonical references: the `url` parameter keys of the target types, which the
   * reference's url is looked up in */
  canonical?: string[];
}

/** Keyset position: the sort values of a row, then its rid. `after` pages forward (next),
 * `before` pages backward (previous). */
export interface Cursor {
  after?: (string | number | null)[];
  before?: (string | number | null)[];
}

export interface SearchQuery {
  types: string[];
  conditions: Condition[];
  sort: SortKey[];
  count: number;
  total: 'none' | 'estimate' | 'accurate';
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  cursor?: Cursor;
  /** whose view of the resources the search runs over (src/search/sensitive-rows.ts):
   * 'redacted' for a client without the migration-data scope, whose index rows from
   * status-revealing identifiers are not read; absent: the stored resources (server-side
   * searches, clients with the scope) */
  view?: 'redacted';
}

// An engine-neutral rewrite every compiler applies, so the engines answer alike.
export type DateRange = { kind: 'dateRange'; params: string[]; values: RangeValue[] };

/**
 * `date=ge2024-03-01&date=lt2024-04-01` reads as a range: the two bounds are applied to the same
 * index row or entry (one indexed range scan) rather than intersecting two half-open sets, each of which
 * can hold most of the table. For elements with one date per resource — nearly all — this is
 * exactly the AND of the two; for repeating dates it asks that one of them lies in the range.
 */
export function mergeDateRanges(conditions: Condition[]): (Condition | DateRange)[] {
  const out: (Condition | DateRange)[] = [];
  const ranges = new Map<string, Extract<Condition, { kind: 'date' }>[]>();
  for (const c of conditions) {
    if (c.kind === 'date' && c.values.length === 1 && c.values[0].prefix !== 'ne' && c.values[0].prefix !== 'ap') {
      const key = c.params.join(',');
      ranges.set(key, [...(ranges.get(key) ?? []), c]);
    } else out.push(c);
  }
  for (const group of ranges.values()) {
    if (group.length === 1) out.push(group[0]);
    else out.push({ kind: 'dateRange', params: group[0].params, values: group.map((g) => g.values[0]) });
  }
  return out;
}
