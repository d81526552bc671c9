// The MongoDB document layout that src/search/mongo.ts compiles searches against, and the
// conversion of a write's index rows (index-rows.ts) into it. Driver-free: the engine
// (src/store/mongo) stores these documents, the mingo test evaluates queries over them.
//
// One document per current resource, in `resources`:
//   { _id: 'Patient/p1', type, id, vid, lu, del, seq, rid, json,
//     idx: { string: [{p, n, x}…], token: [{p, s, c}…], date: […], reference: […], … } }
// `idx` carries the extracted search values of the current version (Cosmos' searchIndices,
// Spark's index documents): one small entry per value, null columns left out, short field
// names. Entries are grouped by search type so that each compound multikey index (led by
// `idx.<type>.p`, MONGO_INDEXES) holds only the entries of its type: a resource adds about one
// index key per extracted value (plus one per empty type), not one per value for every index,
// which is how ~250 keys per resource come about. Every version, the current one included,
// is one document in `history`.
import type { IndexTable } from './ir.ts';
import type { IndexRows } from './index-rows.ts';
import type { AuditFields } from '../audit/render.ts';

/** One extracted value. `p` is the parameter key (Patient.name); which other fields are set
 * follows from the parameter's type, since a key has one type:
 * string n (folded), x (as written) · token s, c, d (folded display), ts, tc (Identifier.type) ·
 * date lo, hi (epoch ms, [lo, hi)) · number v, lo, hi · quantity v, lo, hi, s, c, and for UCUM
 * codes with a canonical form (src/terminology/ucum.ts) cc, cv, clo, chi (unit, value, range) ·
 * reference rt, ri (local target), ru, rv (canonical or absolute URL and version), is, iv
 * (Reference.identifier) · uri u · composite k0, k1, … (each component's values). */
export interface IndexEntry {
  p: string;
  /** the view the entry belongs to (index-rows.ts FULL_ONLY, VIEW_ONLY); absent: both */
  z?: number;
  n?: string;
  x?: string;
  s?: string;
  c?: string;
  d?: string;
  ts?: string;
  tc?: string;
  lo?: number;
  hi?: number;
  v?: number;
  cc?: string;
  cv?: number;
  clo?: number;
  chi?: number;
  rt?: string;
  ri?: string;
  ru?: string;
  rv?: string;
  is?: string;
  iv?: string;
  u?: string;
  [component: `k${number}`]: ComponentEntry[];
}

/** One value of one component of a composite occurrence: the fields of its component's type
 * (a component is a token, date, number, quantity, string or reference). */
export type ComponentEntry = Pick<IndexEntry, 's' | 'c' | 'lo' | 'hi' | 'v' | 'cc' | 'cv' | 'clo' | 'chi' | 'x' | 'rt' | 'ri'>;

/** The extracted values by search type; empty types are left out. */
export type IndexArrays = Partial<Record<IndexTable | 'composite', IndexEntry[]>>;

/** The `resources` document of a current version (deleted: no json, no idx). */
export interface ResourceDocument {
  _id: string;
  type: string;
  id: string;
  vid: number;
  /** meta.lastUpdated, ISO text (compares as time) */
  lu: string;
  del: boolean;
  /** write sequence of the current version */
  seq: number;
  /** the resource's row key: the seq of its first version; ties of sort keys break on it */
  rid: number;
  /** null for a deletion, and for a compact AuditEvent (`ae`) */
  json: string | null;
  /** an AuditEvent this server wrote, as its fields (src/store/mongo/audit-documents.ts) */
  ae?: Omit<AuditFields, 'id'>;
  idx?: IndexArrays;
  /** keys of the parameters whose entries come from the resource's sensitive elements
   * (IndexRows.sensitive); absent when none, so the sparse `sensitive` index holds only
   * labelled resources */
  sens?: string[];
}

export function resourceKey(type: string, id: string): string {
  return `${type}/${id}`;
}

/** Copies only the non-null columns. */
function set<T extends object>(target: T, values: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined) (target as Record<string, unknown>)[k] = v;
  return target;
}

export function indexEntries(rows: IndexRows): IndexArrays {
  const out: IndexArrays = {};
  // z only on marked rows (few): `$ne` in the queries treats its absence as "both views"
  const add = (table: keyof IndexArrays, e: IndexEntry, sens?: number) => (out[table] ??= []).push(sens ? { ...e, z: sens } : e);
  for (const r of rows.string) add('string', { p: r.param, n: r.norm, x: r.exact }, r.sens);
  for (const r of rows.token) add('token', set({ p: r.param }, { s: r.system, c: r.code, d: r.text, ts: r.typeSystem, tc: r.typeCode }), r.sens);
  for (const r of rows.date) add('date', { p: r.param, lo: r.low, hi: r.high }, r.sens);
  for (const r of rows.number) add('number', { p: r.param, v: r.value, lo: r.low, hi: r.high }, r.sens);
  for (const r of rows.quantity) {
    add('quantity', set({ p: r.param, v: r.value, lo: r.low, hi: r.high }, { s: r.system, c: r.code, cc: r.canonCode, cv: r.canonValue, clo: r.canonLow, chi: r.canonHigh }), r.sens);
  }
  for (const r of rows.reference) {
    add('reference', set({ p: r.param }, { rt: r.targetType, ri: r.targetId, ru: r.url, rv: r.version, is: r.identifierSystem, iv: r.identifierValue }), r.sens);
  }
  for (const r of rows.uri) add('uri', { p: r.param, u: r.uri }, r.sens);
  // composite rows: one entry per occurrence (param, grp), its components' values under k0, k1, …
  const groups = new Map<string, IndexEntry>();
  for (const r of rows.composite ?? []) {
    // the occurrences of each view are entries of their own (they may share a grp)
    const key = `${r.param}\u0000${r.grp}\u0000${r.sens ?? 0}`;
    let e = groups.get(key);
    if (!e) {
      e = r.sens ? { p: r.param, z: r.sens } : { p: r.param };
      groups.set(key, e);
      add('composite', e);
    }
    const value = set<ComponentEntry>({}, {
      s: r.system, c: r.code, lo: r.low, hi: r.high, v: r.value, x: r.text, rt: r.targetType, ri: r.targetId,
      cc: r.canonCode, cv: r.canonValue, clo: r.canonLow, chi: r.canonHigh,
    });
    (e[`k${r.comp}`] ??= []).push(value);
  }
  return out;
}

/** Indexes of `resources` that the compiled queries use (created at start-up). The multikey ones
 * lead with the parameter key of one search type, then the value fields the compiler's
 * $elemMatch bounds. `serves` names the query shapes an index is meant for; the compiled
 * queries of those shapes are checked to be ones it can serve (test/search/mongo-indexes.test.ts). */
export const MONGO_INDEXES: { name: string; key: Record<string, 1 | -1>; sparse?: boolean; serves?: string[] }[] = [
  { name: 'type_rid', key: { type: 1, del: 1, rid: 1 }, serves: ['unsorted page'] },
  // _lastUpdated conditions, and _sort=(-)_lastUpdated / (-)_id with their rid tie-break:
  // $match → $sort → $limit read in index order, no in-memory sort
  { name: 'type_lastUpdated_rid', key: { type: 1, del: 1, lu: 1, rid: 1 }, serves: ['_sort=-_lastUpdated'] },
  { name: 'type_id_rid', key: { type: 1, del: 1, id: 1, rid: 1 }, serves: ['_sort=_id'] },
  { name: 'rid', key: { rid: 1 } },
  { name: 'string', key: { 'idx.string.p': 1, 'idx.string.n': 1 }, serves: ['string'] },
  { name: 'token', key: { 'idx.token.p': 1, 'idx.token.c': 1, 'idx.token.s': 1 }, serves: ['token'] },
  { name: 'date_low', key: { 'idx.date.p': 1, 'idx.date.lo': 1, 'idx.date.hi': 1 }, serves: ['date'] },
  { name: 'date_high', key: { 'idx.date.p': 1, 'idx.date.hi': 1 } },
  { name: 'number', key: { 'idx.number.p': 1, 'idx.number.v': 1 } },
  { name: 'quantity', key: { 'idx.quantity.p': 1, 'idx.quantity.v': 1 } },
  { name: 'quantity_canonical', key: { 'idx.quantity.p': 1, 'idx.quantity.cc': 1, 'idx.quantity.cv': 1 } },
  { name: 'reference', key: { 'idx.reference.p': 1, 'idx.reference.ri': 1, 'idx.reference.rt': 1 }, serves: ['reference', '_revinclude'] },
  { name: 'reference_url', key: { 'idx.reference.p': 1, 'idx.reference.ru': 1 } },
  { name: 'uri', key: { 'idx.uri.p': 1, 'idx.uri.u': 1 }, serves: ['uri'] },
  // the parameter key only: a second array path (k0) in one compound index risks "parallel arrays"
  { name: 'composite', key: { 'idx.composite.p': 1 } },
  // "does this parameter have sensitive entries" (src/auth/sensitive-search.ts): one seek
  { name: 'sensitive', key: { sens: 1 }, sparse: true },
];

/** Indexes of `history` (its _id, Type/id/vid, finds one version): a resource's, a type's and
 * the system's history by seq, and _since/_at by lastUpdated. None is unique, so the collection
 * can be sharded on its hashed _id (which keeps _id, and so each version number, unique). */
export const MONGO_HISTORY_INDEXES: { name: string; key: Record<string, 1 | -1> }[] = [
  { name: 'instance_seq', key: { type: 1, id: 1, seq: 1 } },
  { name: 'type_seq', key: { type: 1, seq: 1 } },
  { name: 'seq', key: { seq: 1 } },
  { name: 'lastUpdated', key: { lu: 1 } },
];
