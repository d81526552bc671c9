// The rules of a Bundle that its invariants (bdl-*) do not state, as the HL7 reference validator
// checks them (its BundleValidator): each entry's fullUrl is the identity of its resource (required
// outside transactions and batches, absolute, and ending in Type/id when it is a RESTful URL); a
// searchset names each paging relation once, says why each entry is there (entry.search.mode) and
// holds what its search asked for; a document starts with its Composition, whose subject, authors,
// sections' entries … resolve inside the Bundle, and holds nothing that cannot be reached from it;
// a message starts with its MessageHeader, whose focus resolves inside the Bundle.
import { withoutVersion } from '../fhir/reference.ts';

type Json = Record<string, unknown>;

export interface BundleIssue {
  severity: 'error' | 'warning';
  code: 'invalid' | 'structure' | 'not-found' | 'business-rule';
  /** relative to the Bundle: `.entry[2].fullUrl` */
  at: string;
  message: string;
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const FULLURL_OPTIONAL = new Set(['transaction', 'transaction-response', 'batch', 'batch-response']);
const PAGING = new Set(['first', 'previous', 'next', 'last', 'self']);
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
/** a RESTful resource URL: [base]/Type/id[/_history/vid] */
const RESTFUL = /^(https?:\/\/.+\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

interface Entry {
  index: number;
  fullUrl?: string;
  resource?: Json;
}

function entriesOf(bundle: Json): Entry[] {
  const entries = Array.isArray(bundle.entry) ? (bundle.entry as unknown[]) : [];
  return entries.map((e, index) => {
    const o = e && typeof e === 'object' ? (e as Json) : {};
    const resource = o.resource && typeof o.resource === 'object' && !Array.isArray(o.resource) ? (o.resource as Json) : undefined;
    return { index, ...(typeof o.fullUrl === 'string' ? { fullUrl: o.fullUrl } : {}), ...(resource ? { resource } : {}) };
  });
}

export function bundleIssues(bundle: Json, resourceTypes: ReadonlySet<string>): BundleIssue[] {
  const out: BundleIssue[] = [];
  const entries = entriesOf(bundle);
  const type = bundle.type;
  for (const e of entries) fullUrlIssues(e, type, out);
  linkIssues(bundle, type, out);
  if (type === 'searchset') searchsetIssues(bundle, entries, resourceTypes, out);
  if (type === 'document') documentIssues(entries, out);
  if (type === 'message') messageIssues(entries, out);
  return out;
}

function fullUrlIssues(e: Entry, bundleType: unknown, out: BundleIssue[]): void {
  const at = `.entry[${e.index}]`;
  if (e.fullUrl === undefined) {
    // outside transactions and batches every entry needs its identity
    // (an OperationOutcome about a search is no resource of the result: it has no identity)
    const outcome = bundleType === 'searchset' && e.resource?.resourceType === 'OperationOutcome';
    if (typeof bundleType === 'string' && !FULLURL_OPTIONAL.has(bundleType) && !outcome) out.push({ severity: 'error', code: 'invalid', at, message: 'Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry' });
    return;
  }
  const url = e.fullUrl;
  if (!ABSOLUTE.test(url)) {
    out.push({ severity: 'error', code: 'invalid', at, message: `The fullUrl must be an absolute URL (not '${url.slice(0, 200)}')` });
    return;
  }
  if (url.startsWith('urn:uuid:') && !UUID.test(url)) out.push({ severity: 'error', code: 'invalid', at: `${at}.fullUrl`, message: `The fullUrl '${url.slice(0, 200)}' is not a valid urn:uuid (lowercase hexadecimal 8-4-4-4-12)` });
  else if (url.startsWith('urn:oid:') && !OID.test(url)) out.push({ severity: 'error', code: 'invalid', at: `${at}.fullUrl`, message: `The fullUrl '${url.slice(0, 200)}' is not a valid urn:oid` });
  const r = e.resource;
  if (!r || typeof r.resourceType !== 'string' || !RESTFUL.test(url)) return;
  // a RESTful fullUrl names its resource: the type and id must be the resource's
  if (typeof r.id !== 'string') out.push({ severity: 'error', code: 'invalid', at, message: `The fullUrl '${url.slice(0, 200)}' looks like a RESTful server URL, but the resource has no id` });
  else if (!withoutVersion(url).endsWith(`/${r.resourceType}/${r.id}`)) out.push({ severity: 'error', code: 'invalid', at, message: `The fullUrl '${url.slice(0, 200)}' looks like a RESTful server URL, so it must end with the correct type and id (/${r.resourceType}/${r.id})` });
}

/** Paging relations only in searches and histories, each relation of those at most once. */
function linkIssues(bundle: Json, type: unknown, out: BundleIssue[]): void {
  const links = Array.isArray(bundle.link) ? (bundle.link as Json[]) : [];
  const paged = type === 'searchset' || type === 'history';
  const seen = new Set<string>();
  links.forEach((l, i) => {
    const rel = l?.relation;
    if (typeof rel !== 'string' || !PAGING.has(rel)) return;
    if (!paged && rel !== 'self') out.push({ severity: 'error', code: 'invalid', at: `.link[${i}]`, message: `The link relation '${rel}' is only allowed in searchset and history Bundles, not in a ${String(type).slice(0, 32)}` });
    else if (seen.has(rel)) out.push({ severity: 'error', code: 'invalid', at: `.link[${i}]`, message: `The link relation '${rel}' appears more than once; each may be given once` });
    seen.add(rel);
  });
}

function selfLink(bundle: Json): string | undefined {
  const links = Array.isArray(bundle.link) ? (bundle.link as Json[]) : [];
  const self = links.find((l) => l?.relation === 'self')?.url;
  return typeof self === 'string' ? self : undefined;
}

function searchsetIssues(bundle: Json, entries: Entry[], resourceTypes: ReadonlySet<string>, out: BundleIssue[]): void {
  const self = selfLink(bundle);
  if (!self) out.push({ severity: 'warning', code: 'invalid', at: '', message: 'SearchSet Bundles should have a self link that specifies what the search was' });
  const expected = self ? searchedTypes(self, resourceTypes) : undefined;
  const modeOf = (e: Entry) => ((bundle.entry as Json[])[e.index]?.search as Json | undefined)?.mode;
  const anyMode = entries.some((e) => modeOf(e) !== undefined);
  for (const e of entries) {
    if (!e.resource) {
      out.push({ severity: 'error', code: 'invalid', at: `.entry[${e.index}]`, message: 'SearchSet Bundle entries must have resources' });
      continue;
    }
    const mode = modeOf(e);
    const rt = e.resource.resourceType;
    if ((mode === 'match' || mode === 'include') && typeof e.resource.id !== 'string') out.push({ severity: 'error', code: 'invalid', at: `.entry[${e.index}].resource`, message: 'Search results must have ids' });
    if (mode === undefined && !anyMode) {
      // no entry says: the types must fit the search, else the reader cannot tell matches from includes
      if (expected && typeof rt === 'string' && !expected.has(rt) && rt !== 'OperationOutcome') out.push({ severity: 'warning', code: 'invalid', at: `.entry[${e.index}]`, message: `This is not a matching resource type for the specified search (${rt} expecting ${[...expected].join(', ')}); entries should say so with search.mode` });
    } else if (mode === undefined) {
      out.push({ severity: 'warning', code: 'invalid', at: `.entry[${e.index}]`, message: 'SearchSet bundles should have search modes on the entries (entry.search.mode)' });
    } else if (mode === 'outcome' && rt !== 'OperationOutcome') {
      out.push({ severity: 'error', code: 'invalid', at: `.entry[${e.index}].resource`, message: `An entry with search mode 'outcome' must be an OperationOutcome, not ${String(rt).slice(0, 64)}` });
    } else if (mode === 'match' && expected && typeof rt === 'string' && !expected.has(rt)) {
      out.push({ severity: 'error', code: 'invalid', at: `.entry[${e.index}].resource`, message: `This is not a matching resource type for the specified search (${rt} expecting ${[...expected].join(', ')})` });
    }
  }
}

/** The types a search URL asks for: the type it searches (Patient?…, Patient/1/Observation?…) and
 * its _type parameter; undefined for a search across all types without _type. */
function searchedTypes(self: string, resourceTypes: ReadonlySet<string>): Set<string> | undefined {
  const q = self.indexOf('?');
  const path = (q < 0 ? self : self.slice(0, q)).replace(/\/+$/, '').replace(/\/_search$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1);
  const out = new Set<string>();
  if (resourceTypes.has(last)) out.add(last);
  if (q >= 0) {
    for (const part of self.slice(q + 1).split('&')) {
      const [k, v] = part.split('=');
      if (k !== '_type' || v === undefined) continue;
      for (const t of decodeURIComponent(v).split(',')) if (resourceTypes.has(t.trim())) out.add(t.trim());
    }
  }
  return out.size ? out : undefined;
}

/** The Reference.reference strings inside a value (contained resources included, a nested
 * Bundle not), each with where it is, relative to the value. */
function referencesIn(v: unknown, path: string, into: { ref: string; path: string }[]): { ref: string; path: string }[] {
  if (Array.isArray(v)) v.forEach((x, i) => referencesIn(x, `${path}[${i}]`, into));
  else if (v && typeof v === 'object') {
    const o = v as Json;
    if (o.resourceType === 'Bundle' && path) return into;
    for (const [k, x] of Object.entries(o)) {
      if (k === 'reference' && typeof x === 'string') into.push({ ref: x, path });
      else if (x && typeof x === 'object' && k !== 'text') referencesIn(x, `${path}.${k}`, into);
    }
  }
  return into;
}

/** The entry a reference from `from` names, by fullUrl: absolute as is, relative against the
 * base of the referring entry's RESTful fullUrl, else by Type/id (the first entry so named). */
function resolve(ref: string, from: Entry, byFullUrl: Map<string, Entry>, byLocal: Map<string, Entry>): Entry | undefined {
  const clean = withoutVersion(ref);
  const direct = byFullUrl.get(clean);
  if (direct || ABSOLUTE.test(clean)) return direct;
  const m = from.fullUrl ? RESTFUL.exec(withoutVersion(from.fullUrl)) : null;
  if (m) return byFullUrl.get(`${m[1]}${clean}`);
  return byLocal.get(clean);
}

/** The Composition's references that must resolve inside a document (the reference validator's
 * list): subject, author, encounter, custodian, attester.party, event.detail and, in every
 * section, author, focus and entry. */
const DOCUMENT_REFERENCE = /^\.(subject|author\[\d+\]|encounter|custodian|attester\[\d+\]\.party|event\[\d+\]\.detail\[\d+\]|(section\[\d+\]\.)+(author\[\d+\]|focus|entry\[\d+\]))$/;

function linksOf(entries: Entry[], rootRule: RegExp, out: BundleIssue[]): Map<number, Set<number>> {
  const byFullUrl = new Map<string, Entry>();
  for (const e of entries) if (e.fullUrl && e.resource) byFullUrl.set(withoutVersion(e.fullUrl), e);
  // Type/id → the first entry whose resource it names (a search of the entries per reference
  // made a document's links quadratic in its entries)
  const byLocal = new Map<string, Entry>();
  for (const e of entries) {
    if (!e.resource) continue;
    const local = `${String(e.resource.resourceType)}/${String(e.resource.id)}`;
    if (!byLocal.has(local)) byLocal.set(local, e);
  }
  const links = new Map<number, Set<number>>();
  for (const e of entries) {
    if (!e.resource) continue;
    const targets = new Set<number>();
    const seen = new Set<string>();
    for (const { ref, path } of referencesIn(e.resource, '', [])) {
      if (ref.startsWith('#')) continue;
      const hit = resolve(ref, e, byFullUrl, byLocal);
      if (hit) {
        if (hit !== e) targets.add(hit.index);
      } else if (e.index === 0 && rootRule.test(path)) {
        out.push({ severity: 'error', code: 'not-found', at: `.entry[0].resource${path}`, message: `Can't find '${ref.slice(0, 200)}' in the bundle` });
      } else if (!seen.has(ref)) {
        out.push({ severity: 'warning', code: 'not-found', at: `.entry[${e.index}].resource${path}`, message: `Can't find '${ref.slice(0, 200)}' in the bundle` });
      }
      seen.add(ref);
    }
    links.set(e.index, targets);
  }
  return links;
}

/** Entries reached from the first one following references forwards, then backwards (an entry
 * that refers to a reached one); answers the reached set and the entries reached only backwards. */
function reach(links: Map<number, Set<number>>): { reached: Set<number>; backwards: number[] } {
  const reached = new Set<number>();
  const visit = (i: number): void => {
    if (reached.has(i)) return;
    reached.add(i);
    for (const t of links.get(i) ?? []) visit(t);
  };
  visit(0);
  const backwards: number[] = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [from, targets] of links) {
      if (reached.has(from) || ![...targets].some((t) => reached.has(t))) continue;
      backwards.push(from);
      visit(from);
      grew = true;
    }
  }
  return { reached, backwards };
}

function documentIssues(entries: Entry[], out: BundleIssue[]): void {
  if (!entries.length) {
    out.push({ severity: 'error', code: 'invalid', at: '', message: 'Documents or messages must contain at least one entry' });
    return;
  }
  if (entries[0].resource?.resourceType !== 'Composition') {
    out.push({ severity: 'error', code: 'invalid', at: '.entry[0]', message: 'The first entry in a document must be a Composition' });
    return;
  }
  const { reached, backwards } = reach(linksOf(entries, DOCUMENT_REFERENCE, out));
  for (const i of backwards) {
    // R4: only a Provenance may point at the document's content without being pointed at
    if (entries[i].resource?.resourceType !== 'Provenance') out.push({ severity: 'warning', code: 'invalid', at: `.entry[${i}]`, message: `Entry ${entries[i].fullUrl ? `'${entries[i].fullUrl!.slice(0, 200)}' ` : ''}is only reachable by traversing backwards from the Composition; in R4 document content should be referenced from the Composition` });
  }
  for (const e of entries) {
    if (e.resource && !reached.has(e.index)) out.push({ severity: 'error', code: 'invalid', at: `.entry[${e.index}]`, message: `Entry ${e.fullUrl ? `'${e.fullUrl.slice(0, 200)}' ` : ''}isn't reachable by traversing links (forward or backward) from the Composition` });
  }
}

function messageIssues(entries: Entry[], out: BundleIssue[]): void {
  if (!entries.length) {
    out.push({ severity: 'error', code: 'invalid', at: '', message: 'Documents or messages must contain at least one entry' });
    return;
  }
  if (entries[0].resource?.resourceType !== 'MessageHeader') {
    out.push({ severity: 'error', code: 'invalid', at: '.entry[0]', message: 'The first entry in a message must be a MessageHeader' });
    return;
  }
  const { reached } = reach(linksOf(entries, /^\.focus\[\d+\]$/, out));
  for (const e of entries) {
    if (e.resource && !reached.has(e.index)) out.push({ severity: 'warning', code: 'invalid', at: `.entry[${e.index}]`, message: `Entry ${e.fullUrl ? `'${e.fullUrl.slice(0, 200)}' ` : ''}isn't reachable by traversing links (forward or backward) from the MessageHeader` });
  }
}
