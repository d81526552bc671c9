// Conditional look-ups of a batch of adapter Bundles that are known to match nothing, found with
// one search per resource type for the whole batch instead of one search per look-up.
// An HL7 v2 feed applies messages in batches (src/operations/hl7v2.ts ingestBatch); each message
// looks up whether it was applied before (Provenance?_source=…) and its records by their business
// identifiers (Patient?identifier=…, Encounter?identifier=…). Each look-up is a search — parsed,
// compiled and run — and most of them find nothing: a registration's patient and visit are new,
// and so is every message id. Here the batch's look-ups of one type and parameter are asked as
// one search (the union of their values), at the start of the batch's transaction; a look-up
// none of whose values appears in any of the union's matches provably matches nothing:
// - the union matches every resource any of its look-ups matches (same type, parameter, client
//   view and sensitive-search guard; an OR of the same values), and
// - a resource a look-up matches has an index row whose value is one of the look-up's values
//   exactly (token codes and uris are indexed as written), read by the parameter's plain path
//   (the parameters used here are checked to be the standard ones), whose last member is found
//   in the matches' stored JSON text without parsing it.
// A look-up that may match (its value is among the matches' strings, or the union had more
// matches than read) is searched on its own as ever; so is one whose value a resource written
// earlier in the same batch carries (the batch's writes are told to wrote()). The answer of each
// look-up is therefore the one its own search would give at that point of the transaction.
import type { BundleEntry, Resource } from 'fhir/r4.js';
import { criteria, queryFromHeader } from '../rest/conditional.ts';
import type { Context, FhirRequest } from '../rest/types.ts';
import { splitUnescaped, unescape } from '../search/values.ts';
import { WRITE_MODE } from './conventions.ts';

/** The look-ups proven here: the parameter, the standard expression it must have, the JSON
 * member its values are in, and the values a resource carries under it (that expression). */
const PARAMS = {
  identifier: { expression: (type: string) => `${type}.identifier`, key: 'value', values: (r: Resource) => ((r as { identifier?: { value?: string }[] }).identifier ?? []).map((i) => i.value) },
  _source: { expression: () => 'Resource.meta.source', key: 'source', values: (r: Resource) => [r.meta?.source] },
} as const;

/** Every member named `key` in stored JSON, its value as written (a string with its quotes, or
 * a number or literal). Stored JSON is JSON.stringify's (src/store/prepare/prepared.ts
 * storedJson): no whitespace, and `"key":"` occurs nowhere else, since inside a string its
 * quotes would be escaped. A superset of the parameter's values (other elements have such
 * members too), read without parsing the resource. */
function membersNamed(json: string, key: keyof typeof MEMBER, out: Set<string>): void {
  for (const m of json.matchAll(MEMBER[key])) out.add(m[1]);
}
const member = (key: string) => new RegExp(`"${key}":("(?:[^"\\\\]|\\\\.)*"|[^,\\]}]+)`, 'g');
const MEMBER = { value: member('value'), source: member('source') };
type Param = keyof typeof PARAMS;

/** Union searches have a multiple of this many values (see proveGroup). */
const PAD = 32;

/** Matches read of one union search at most; past it, none of its look-ups is proven. */
const MAX_MATCHES = 200;

/** One look-up: its type, parameter and values (as the index holds them). */
interface LookUp {
  type: string;
  param: Param;
  /** the parameter's value as sent (comma-separated, escaped) */
  raw: string;
  values: string[];
}

/** The values of `Type?identifier=…` (token system|code: the codes), when it is only that. */
function identifierLookUp(type: string, url: string): LookUp | undefined {
  let query: Record<string, string[]>;
  try {
    query = queryFromHeader(url);
  } catch {
    return undefined; // not a query this can read: searched on its own (and refused there)
  }
  const names = Object.keys(query);
  const raw = query.identifier;
  if (names.length !== 1 || raw?.length !== 1) return undefined;
  const values: string[] = [];
  for (const token of splitUnescaped(raw[0], ',')) {
    const parts = splitUnescaped(token, '|');
    const code = unescape(parts[parts.length - 1]);
    if (parts.length > 2 || !code) return undefined;
    values.push(code);
  }
  return { type, param: 'identifier', raw: raw[0], values };
}

export class AbsentMatches {
  /** look-up key (`type param raw`) → proven to match nothing at the batch's start */
  private readonly absent = new Set<string>();
  /** `type param` → values written by the batch so far */
  private readonly written = new Map<string, Set<string>>();

  private static key(type: string, param: Param, raw: string): string {
    return `${type} ${param} ${raw}`;
  }

  /**
   * Proves what it can about the conditional look-ups of these adapter Bundles (and the
   * Provenance look-ups of their `sources`), inside the caller's transaction. Never throws: a
   * union the server refuses (a client that may not search so) proves nothing, and each look-up
   * then runs, and is refused, on its own.
   */
  static async prove(req: FhirRequest, ctx: Context, entries: BundleEntry[][], sources: string[]): Promise<AbsentMatches> {
    const out = new AbsentMatches();
    const groups = new Map<string, LookUp[]>();
    const add = (l: LookUp) => {
      const g = `${l.type} ${l.param}`;
      groups.set(g, [...(groups.get(g) ?? []), l]);
    };
    for (const bundle of entries) {
      for (const e of bundle) {
        const url = e.request?.url;
        const type = e.resource?.resourceType;
        if (!type || !url?.includes('?') || e.request?.method !== 'PUT' || !e.extension?.some((x) => x.url === WRITE_MODE)) continue;
        const l = identifierLookUp(type, url);
        if (l) add(l);
      }
    }
    // a source is a parameter value as it is (apply.ts): one with separators is left to its own search
    for (const s of sources) if (s && !/[\\,|$]/.test(s)) add({ type: 'Provenance', param: '_source', raw: s, values: [s] });
    for (const lookUps of groups.values()) {
      try {
        await out.proveGroup(req, ctx, lookUps);
      } catch {
        // nothing proven for this group
      }
    }
    return out;
  }

  private async proveGroup(req: FhirRequest, ctx: Context, lookUps: LookUp[]): Promise<void> {
    const { type, param } = lookUps[0];
    const def = PARAMS[param];
    if (ctx.search.get(type, param)?.expression !== def.expression(type)) return;
    // in chunks the search limits allow
    const max = Math.max(1, ctx.config.maxSearchValues);
    for (let at = 0; at < lookUps.length; ) {
      const chunk: LookUp[] = [];
      let n = 0;
      while (at < lookUps.length && (chunk.length === 0 || n + lookUps[at].values.length <= max)) {
        n += lookUps[at].values.length;
        chunk.push(lookUps[at++]);
      }
      // padded to a multiple of PAD values with a repeated one (the same OR): the engine's SQL,
      // and so its prepared statement, is the same from one batch to the next
      const raws = chunk.map((l) => l.raw);
      const last = splitUnescaped(raws[raws.length - 1], ',').pop()!;
      for (let k = n; k < Math.min(max, Math.ceil(n / PAD) * PAD); k++) raws.push(last);
      const q = await criteria(req, ctx, type, { [param]: [raws.join(',')] });
      // a client's redacted view has its own rule for conditional look-ups (conditional.ts)
      if (q.view !== undefined) return;
      const found = await ctx.repo.search({ ...q, count: MAX_MATCHES, total: 'none', include: [], revinclude: [], sort: [] });
      if (found.hasMore) continue;
      // what the matches carry under the parameter's last step, as written in their JSON; a
      // value is there as a JSON string (or, were it stored as a number, as its digits)
      const present = new Set<string>();
      for (const m of found.matches) membersNamed(m.json, def.key, present);
      for (const l of chunk) if (!l.values.some((v) => present.has(JSON.stringify(v)) || present.has(v))) this.absent.add(AbsentMatches.key(l.type, l.param, l.raw));
    }
  }

  /** Whether `Type?identifier=…` (an adapter entry's url) is known to match nothing now. */
  identifierAbsent(type: string, url: string): boolean {
    if (!this.absent.size) return false;
    const l = identifierLookUp(type, url);
    return !!l && this.stillAbsent(l);
  }

  /** Whether no Provenance has this meta.source now. */
  sourceAbsent(source: string): boolean {
    return this.stillAbsent({ type: 'Provenance', param: '_source', raw: source, values: [source] });
  }

  private stillAbsent(l: LookUp): boolean {
    if (!this.absent.has(AbsentMatches.key(l.type, l.param, l.raw))) return false;
    const written = this.written.get(`${l.type} ${l.param}`);
    return !written || !l.values.some((v) => written.has(v));
  }

  /** The resources a message of the batch is about to write (before the next one looks up). */
  wrote(resources: (Resource | undefined)[]): void {
    for (const r of resources) {
      if (!r) continue;
      for (const [param, def] of Object.entries(PARAMS) as [Param, (typeof PARAMS)[Param]][]) {
        const values = def.values(r).flatMap((v) => (v === undefined || v === null ? [] : [String(v)]));
        if (!values.length) continue;
        const g = `${r.resourceType} ${param}`;
        let set = this.written.get(g);
        if (!set) this.written.set(g, (set = new Set()));
        for (const v of values) set.add(v);
      }
    }
  }
}
