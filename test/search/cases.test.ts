// Runs the search case table (cases.ts) through the REST API (fastify.inject) on an in-memory
// SQLite store loaded with the fixtures (PUT each). Every case walks all next links (no
// duplicates, no gaps, page sizes within _count) and, when there are several pages, walks back
// over the previous links; matches are compared as sets unless the case is ordered.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from 'fhir/r4.js';
import { testApp } from '../helpers/app.ts';
import { CASES, CORE_COUNTS, type SearchCase } from './cases.ts';
import { BASE, encodePairs, linkOf, loadFixtures, local, MAX_PAGES, requestUrl } from '../helpers/search-cases.ts';

interface Page {
  bundle: Bundle;
  matches: string[];
  included: string[];
  outcomes: BundleEntry[];
}

function pageOf(bundle: Bundle): Page {
  const entries = bundle.entry ?? [];
  const idOf = (e: BundleEntry) => `${e.resource!.resourceType}/${e.resource!.id}`;
  return {
    bundle,
    matches: entries.filter((e) => e.search?.mode === 'match').map(idOf),
    included: entries.filter((e) => e.search?.mode === 'include').map(idOf),
    outcomes: entries.filter((e) => e.search?.mode === 'outcome'),
  };
}

async function get(app: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'GET', url, headers });
}

function countOf(c: SearchCase): number | undefined {
  const m = /[?&]_count=(\d+)/.exec(`${c.query}&${c.body ?? ''}`.replace(/^[^?]*/, '?'));
  return m ? Number(m[1]) : undefined;
}

async function runCase(t: Test, app: FastifyInstance, c: SearchCase): Promise<void> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  let payload: string | undefined;
  if (c.method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    payload = encodePairs(c.body ?? '');
  }
  const res = await app.inject({ method: c.method ?? 'GET', url: requestUrl(c), headers, ...(payload !== undefined ? { payload } : {}) });
  const status = c.status ?? 200;
  t.equal(res.statusCode, status, `status ${status}`, { body: res.body.slice(0, 500) });
  if (res.statusCode !== status) return;
  const body = JSON.parse(res.body);
  if (status !== 200) {
    t.equal(body.resourceType, 'OperationOutcome', 'an OperationOutcome');
    if (c.errorMentions) t.match(res.body, c.errorMentions, `the error names ${c.errorMentions}`);
    return;
  }
  t.equal(body.resourceType, 'Bundle');
  t.equal(body.type, 'searchset');

  // forward walk over next links
  const pages: Page[] = [pageOf(body)];
  for (let next = linkOf(body, 'next'); next; ) {
    if (pages.length > MAX_PAGES) throw new Error('too many pages');
    const r = await get(app, local(next));
    t.equal(r.statusCode, 200, `next page ${pages.length + 1}`);
    const b = JSON.parse(r.body) as Bundle;
    pages.push(pageOf(b));
    next = linkOf(b, 'next');
  }
  const matches = pages.flatMap((p) => p.matches);
  const included = new Set(pages.flatMap((p) => p.included));

  t.same(matches.length, new Set(matches).size, 'no match appears twice across pages', { matches });
  if (c.ordered) t.same(matches, c.expected, 'matches in order');
  else t.same([...new Set(matches)].sort(), [...c.expected].sort(), 'matches');
  t.same([...included].sort(), [...(c.included ?? [])].sort(), 'included resources');
  for (const id of included) t.notOk(matches.includes(id), `${id} is not both match and include`);

  const count = countOf(c);
  if (count !== undefined) {
    for (const [i, p] of pages.entries()) t.ok(p.matches.length <= count, `page ${i + 1} holds at most _count matches`);
  }
  for (const [i, p] of pages.slice(0, -1).entries()) t.ok(p.matches.length > 0, `page ${i + 1} (with a next link) is not empty`);
  const first = pages[0].bundle;
  if (c.total !== undefined) t.equal(first.total, c.total, 'Bundle.total');
  else if (first.total !== undefined) t.equal(first.total, c.expected.length, 'Bundle.total, when given, is right');
  t.notOk(linkOf(first, 'previous'), 'the first page has no previous link');
  for (const e of pages.flatMap((p) => p.bundle.entry ?? [])) {
    if (e.search?.mode === 'outcome') continue;
    t.equal(e.fullUrl, `${BASE}/${e.resource!.resourceType}/${e.resource!.id}`, 'fullUrl');
  }

  // backward walk over previous links from the last page
  if (pages.length > 1) {
    let back: string[] = [...pages[pages.length - 1].matches];
    for (let prev = linkOf(pages[pages.length - 1].bundle, 'previous'), n = 0; prev; n++) {
      if (n > MAX_PAGES) throw new Error('too many pages');
      const r = await get(app, local(prev));
      const b = JSON.parse(r.body) as Bundle;
      back = [...pageOf(b).matches, ...back];
      prev = linkOf(b, 'previous');
    }
    t.same(back, matches, 'walking back over previous links gives the same sequence');
  }

  // parameters reported as ignored (lenient handling)
  const outcomes = pages[0].outcomes;
  if (c.ignored?.length) {
    t.equal(outcomes.length, 1, 'one outcome entry');
    const oo = outcomes[0]?.resource as OperationOutcome | undefined;
    t.equal(oo?.resourceType, 'OperationOutcome');
    const self = new URL(linkOf(first, 'self')!);
    for (const name of c.ignored) {
      t.ok(oo?.issue.some((i) => i.expression?.includes(name) || i.diagnostics?.includes(name)), `the outcome names ${name}`);
      t.notOk([...self.searchParams.keys()].some((k) => k === name || k.split(':')[0] === name), `${name} is not in the self link`);
    }
  } else {
    t.equal(outcomes.length, 0, 'no outcome entry (nothing ignored)', { outcome: outcomes[0]?.resource });
  }

  // subsetting
  if (c.elements) {
    for (const e of pages[0].bundle.entry ?? []) {
      if (e.search?.mode !== 'match') continue;
      const r = e.resource as Resource & Record<string, unknown>;
      for (const k of c.elements.present ?? []) t.ok(k in r, `${r.id} has ${k}`);
      for (const k of c.elements.absent ?? []) t.notOk(k in r, `${r.id} has no ${k}`);
      if (c.elements.subsetted !== undefined) {
        const tagged = (r.meta?.tag ?? []).some((x) => x.code === 'SUBSETTED');
        t.equal(tagged, c.elements.subsetted, 'SUBSETTED tag');
      }
    }
  }
}

const sets = [...new Set(CASES.map((c) => c.fixtures ?? 'core'))];
const byCategory = new Map<string, number>();
for (const c of CASES) byCategory.set(c.category, (byCategory.get(c.category) ?? 0) + 1);
t.comment(`${CASES.length} cases: ${[...byCategory].map(([k, n]) => `${k} ${n}`).join(', ')}`);

t.test('the table', async (t) => {
  t.ok(CASES.length >= 150, 'at least 150 cases');
  const names = CASES.map((c) => `${c.category}: ${c.name}`);
  t.same(names.length, new Set(names).size, 'case names are unique');
});

for (const set of sets) {
  t.test(`fixture set ${set}`, async (t) => {
    const app = await testApp();
    t.teardown(() => app.close());
    await loadFixtures(app, set);
    for (const c of CASES.filter((x) => (x.fixtures ?? 'core') === set)) {
      await t.test(`${c.category}: ${c.name} — ${c.query}`, (t) => runCase(t, app, c));
    }
    if (set === 'core') {
      // nothing above (injection attempts included) changed the data
      for (const [type, n] of Object.entries(CORE_COUNTS)) {
        const r = await get(app, `/fhir/${type}?_summary=count`);
        t.equal(JSON.parse(r.body).total, n, `${type} count unchanged`);
      }
    }
  });
}
