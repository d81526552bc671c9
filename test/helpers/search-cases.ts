// Runs a case of test/search/cases.ts through the REST API of any app and collects its answer
// over all pages (forward over next links, then back over previous links), so two engines'
// answers can be compared with each other and with the table.
import type { FastifyInstance } from 'fastify';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import type { SearchCase } from '../search/cases.ts';
import { fixtureSet } from '../search/fixtures.ts';

export const BASE = 'http://test.local/fhir';
export const MAX_PAGES = 200;

export interface CaseAnswer {
  status: number;
  /** matches over all pages, in order */
  matches: string[];
  /** included resources, sorted */
  included: string[];
  total?: number;
  /** matches gathered walking back over previous links from the last page */
  back?: string[];
  pages: number;
  /** the OperationOutcome's text for error statuses */
  error?: string;
}

/** `a=b&c=d` written decoded → percent-encoded (split at '&' and each first '='). */
export function encodePairs(qs: string): string {
  return qs
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      return i < 0 ? encodeURIComponent(p) : `${encodeURIComponent(p.slice(0, i))}=${encodeURIComponent(p.slice(i + 1))}`;
    })
    .join('&');
}

export function requestUrl(c: SearchCase): string {
  if (c.raw) return `/fhir/${c.query}`;
  const i = c.query.indexOf('?');
  if (i < 0) return `/fhir/${c.query}`;
  return `/fhir/${c.query.slice(0, i)}?${encodePairs(c.query.slice(i + 1))}`;
}

/** A link of the test base as a path for inject. */
export function local(url: string): string {
  if (!url.startsWith(BASE)) throw new Error(`link outside the base: ${url}`);
  return `/fhir${url.slice(BASE.length)}`;
}

export const linkOf = (b: Bundle, relation: string) => b.link?.find((l) => l.relation === relation)?.url;
const idOf = (e: BundleEntry) => `${e.resource!.resourceType}/${e.resource!.id}`;
const matchesOf = (b: Bundle) => (b.entry ?? []).filter((e) => e.search?.mode === 'match').map(idOf);

export async function loadFixtures(app: FastifyInstance, set: string): Promise<void> {
  for (const r of fixtureSet(set)) {
    const res = await app.inject({
      method: 'PUT',
      url: `/fhir/${r.resourceType}/${r.id}`,
      headers: { 'content-type': 'application/fhir+json' },
      payload: JSON.stringify(r),
    });
    if (res.statusCode !== 201) throw new Error(`PUT ${r.resourceType}/${r.id}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  }
}

async function get(app: FastifyInstance, url: string): Promise<Bundle> {
  const r = await app.inject({ method: 'GET', url });
  if (r.statusCode !== 200) throw new Error(`GET ${url}: ${r.statusCode} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body) as Bundle;
}

export async function answer(app: FastifyInstance, c: SearchCase): Promise<CaseAnswer> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  let payload: string | undefined;
  if (c.method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    payload = encodePairs(c.body ?? '');
  }
  const res = await app.inject({ method: c.method ?? 'GET', url: requestUrl(c), headers, ...(payload !== undefined ? { payload } : {}) });
  if (res.statusCode !== 200) return { status: res.statusCode, matches: [], included: [], pages: 0, error: res.body };
  const first = JSON.parse(res.body) as Bundle;
  const bundles = [first];
  for (let next = linkOf(first, 'next'); next; ) {
    if (bundles.length > MAX_PAGES) throw new Error('too many pages');
    const b = await get(app, local(next));
    bundles.push(b);
    next = linkOf(b, 'next');
  }
  const included = new Set(bundles.flatMap((b) => (b.entry ?? []).filter((e) => e.search?.mode === 'include').map(idOf)));
  const out: CaseAnswer = { status: 200, matches: bundles.flatMap(matchesOf), included: [...included].sort(), total: first.total, pages: bundles.length };
  if (bundles.length > 1) {
    let back = matchesOf(bundles[bundles.length - 1]);
    for (let prev = linkOf(bundles[bundles.length - 1], 'previous'), n = 0; prev; n++) {
      if (n > MAX_PAGES) throw new Error('too many pages');
      const b = await get(app, local(prev));
      back = [...matchesOf(b), ...back];
      prev = linkOf(b, 'previous');
    }
    out.back = back;
  }
  return out;
}
