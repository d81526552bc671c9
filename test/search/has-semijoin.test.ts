// The two plans of `_has` on the embedded engine give the same answers: every `_has` case of the
// search case table run with the semi-join plan forced (threshold 1) — paging both ways,
// totals and includes compared with the table's expectations.
import t from 'tap';
import { testApp } from '../helpers/app.ts';
import { answer, loadFixtures } from '../helpers/search-cases.ts';
import { CASES } from './cases.ts';
import { PLAN } from '../../src/store/sqlite/search.ts';

const cases = CASES.filter((c) => c.query.includes('_has') || c.body?.includes('_has'));

t.test('_has cases with the semi-join plan', async (t) => {
  const saved = PLAN.semiJoinFrom;
  PLAN.semiJoinFrom = 1;
  t.teardown(() => {
    PLAN.semiJoinFrom = saved;
  });
  const apps = new Map<string, Awaited<ReturnType<typeof testApp>>>();
  t.teardown(async () => {
    for (const a of apps.values()) await a.close();
  });
  for (const c of cases) {
    const set = c.fixtures ?? 'core';
    let app = apps.get(set);
    if (!app) {
      app = await testApp();
      await loadFixtures(app, set);
      apps.set(set, app);
    }
    const a = await answer(app, c);
    if (c.status && c.status >= 400) {
      t.equal(a.status, c.status, c.name);
      continue;
    }
    if (c.ordered) t.same(a.matches, c.expected, c.name);
    else t.same([...a.matches].sort(), [...c.expected].sort(), c.name);
  }
  t.ok(cases.length >= 10, `${cases.length} _has cases`);
});
