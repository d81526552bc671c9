// Paging while the data changes between pages: keyset cursors continue after the last row seen,
// so resources written, deleted or updated between two page requests neither repeat nor leave
// gaps among the resources that did not move. Expected sequences are worked out by hand from
// the roster fixtures (fixtures.ts): rostova-01 … rostova-23, birth dates 1991-01-01 (01, 04, 07,
// 10, 13, 16, 19, 22), 1992-02-02 (02, 05, … 23) and 1993-03-03 (03, 06, … 21).
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import type { Bundle } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';
import { rosterFixtures } from './fixtures.ts';

const BASE = 'http://test.local/fhir';
const ids = (...n: number[]) => n.map((i) => `Patient/rostova-${String(i).padStart(2, '0')}`);
const matchesOf = (b: Bundle) => (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
const next = (b: Bundle) => b.link?.find((l) => l.relation === 'next')?.url;

async function roster(): Promise<FastifyInstance> {
  const app = await testApp();
  for (const r of rosterFixtures()) {
    const res = await fhir(app, 'PUT', `/fhir/Patient/${r.id}`, r);
    if (res.status !== 201) throw new Error(`PUT ${r.id}: ${res.status}`);
  }
  return app;
}

async function page(app: FastifyInstance, url: string): Promise<Bundle> {
  const res = await fhir(app, 'GET', url.startsWith(BASE) ? `/fhir${url.slice(BASE.length)}` : url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.raw.slice(0, 300)}`);
  return res.body as Bundle;
}

const patient = (n: string, birthDate: string, given = `Irina-${n}`) => ({
  resourceType: 'Patient', id: `rostova-${n}`, name: [{ family: 'Rostova', given: [given] }], gender: 'female', birthDate,
});

t.test('sorted walk: writes, a delete and an update between pages', async (t) => {
  const app = await roster();
  t.teardown(() => app.close());
  const first = await page(app, '/fhir/Patient?family=rostova&_sort=birthdate,_id&_count=5');
  t.same(matchesOf(first), ids(1, 4, 7, 10, 13), 'first page');

  // before the cursor (sorts first): never shown
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/rostova-00', patient('00', '1991-01-01'))).status, 201);
  // after everything: shown at the end
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/rostova-99', patient('99', '1993-03-03'))).status, 201);
  // not yet seen, deleted: gone
  t.equal((await fhir(app, 'DELETE', '/fhir/Patient/rostova-16')).status, 200);
  // seen, updated with the same sort key: not shown again
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/rostova-04', patient('04', '1991-01-01', 'Irina-renamed'))).status, 200);
  // not yet seen, updated with the same sort key: shown once, in its place
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/rostova-08', patient('08', '1992-02-02', 'Irina-renamed'))).status, 200);

  const seen = [...matchesOf(first)];
  let url = next(first);
  let pages = 1;
  while (url) {
    const b = await page(app, url);
    t.ok(matchesOf(b).length <= 5, `page ${++pages} within _count`);
    seen.push(...matchesOf(b));
    url = next(b);
  }
  t.same(seen, ids(1, 4, 7, 10, 13, 19, 22, 2, 5, 8, 11, 14, 17, 20, 23, 3, 6, 9, 12, 15, 18, 21, 99), 'every unmoved resource once, in order');
});

t.test('unsorted walk: resources created during the walk come last', async (t) => {
  const app = await roster();
  t.teardown(() => app.close());
  const first = await page(app, '/fhir/Patient?_count=10');
  const seen = matchesOf(first);
  t.equal(seen.length, 10);
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/rostova-98', patient('98', '1999-09-09'))).status, 201);
  // delete one not yet seen and one already seen
  const unseen = ids(...Array.from({ length: 23 }, (_, i) => i + 1)).find((id) => !seen.includes(id))!;
  t.equal((await fhir(app, 'DELETE', `/fhir/${unseen}`)).status, 200);
  t.equal((await fhir(app, 'DELETE', `/fhir/${seen[0]}`)).status, 200);
  let url = next(first);
  while (url) {
    const b = await page(app, url);
    seen.push(...matchesOf(b));
    url = next(b);
  }
  t.equal(seen.length, new Set(seen).size, 'no duplicates');
  const expected = [...ids(...Array.from({ length: 23 }, (_, i) => i + 1)).filter((id) => id !== unseen), 'Patient/rostova-98'];
  t.same([...seen].sort(), expected.sort(), 'all but the deleted unseen one, plus the new one');
  t.equal(seen[seen.length - 1], 'Patient/rostova-98', 'the new resource comes last');
});

t.test('a previous link after a write before the cursor shows the new resource', async (t) => {
  const app = await roster();
  t.teardown(() => app.close());
  const p1 = await page(app, '/fhir/Patient?family=rostova&_sort=_id&_count=4');
  t.same(matchesOf(p1), ids(1, 2, 3, 4));
  const p2 = await page(app, next(p1)!);
  t.same(matchesOf(p2), ids(5, 6, 7, 8));
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/rostova-00', patient('00', '1991-01-01'))).status, 201);
  const prev = p2.link?.find((l) => l.relation === 'previous')?.url;
  t.ok(prev, 'page 2 has a previous link');
  const back = await page(app, prev!);
  // the four before rostova-05 now are 01…04 (rostova-00 sorts before them), and there is more before
  t.same(matchesOf(back), ids(1, 2, 3, 4));
  t.ok(back.link?.some((l) => l.relation === 'previous'), 'a previous link to rostova-00');
  const front = await page(app, back.link!.find((l) => l.relation === 'previous')!.url);
  t.same(matchesOf(front), ['Patient/rostova-00']);
  t.notOk(front.link?.some((l) => l.relation === 'previous'), 'no previous link before the first resource');
});
