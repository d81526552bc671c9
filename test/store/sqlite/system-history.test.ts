// System-level `_history` on SQLite lists the audit ledger's AuditEvents with every other
// version (src/store/sqlite/system-history.ts): merged by the time each was stored, every entry
// once when paging forward and back, with `_since` and `_count` on both.
import t from 'tap';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { SqliteStore } from '../../../src/store/sqlite/index.ts';
import { systemHistory } from '../../../src/store/sqlite/system-history.ts';
import type { HistoryEntry, HistoryPage, HistoryQuery } from '../../../src/store/types.ts';
import type { QueuedAudit } from '../../../src/audit/audit.ts';
import { fhir } from '../../helpers/app.ts';

const event = (i: number): QueuedAudit => ({
  interaction: 'read', action: 'R', status: 200, clientId: `c${i % 3}`, what: `Patient/p${i % 4}`, patient: `Patient/p${i % 4}`, id: `ae-${i}`, at: Date.now(),
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

type App = Awaited<ReturnType<typeof buildApp>>;

/** Every page from `url` by its next links, then back by the previous links. */
async function walk(app: App, url: string) {
  const pages: any[] = [];
  let res = await fhir(app, 'GET', url);
  for (let i = 0; i < 100 && res.status === 200; i++) {
    pages.push(res.body);
    const next = res.body.link?.find((l: any) => l.relation === 'next')?.url;
    if (!next) break;
    res = await fhir(app, 'GET', next.replace('http://test.local', ''));
  }
  const back: any[] = [];
  for (let i = 0; i < 100 && res.status === 200; i++) {
    const previous = res.body.link?.find((l: any) => l.relation === 'previous')?.url;
    if (!previous) break;
    res = await fhir(app, 'GET', previous.replace('http://test.local', ''));
    back.push(res.body);
  }
  return { pages, back };
}

const keys = (bundle: any): string[] => (bundle.entry ?? []).map((e: any) => `${e.resource.resourceType}/${e.resource.id}/${e.resource.meta.versionId}`);

t.test('system _history lists versions and ledger events, newest first, every one once both ways', async (t) => {
  const store = new SqliteStore({ path: ':memory:', auditLedger: true });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'off' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  const expected: string[] = [];
  let since = '';
  for (let round = 0; round < 6; round++) {
    for (let k = 0; k < 4; k++) {
      const res = await fhir(app, 'PUT', `/fhir/Patient/p${k}`, { resourceType: 'Patient', id: `p${k}`, gender: round % 2 ? 'female' : 'male' });
      expected.push(`Patient/p${k}/${res.body.meta.versionId}`);
      if (round === 4 && k === 0) since = res.body.meta.lastUpdated;
      await tick();
    }
    const events = Array.from({ length: 5 }, (_, i) => event(round * 5 + i));
    await store.transaction(async () => store.appendAudit(events));
    expected.push(...events.map((e) => `AuditEvent/${e.id}/1`));
    await tick();
  }
  const first = await fhir(app, 'GET', '/fhir/_history?_count=1000');
  t.equal(first.body.total, 24 + 30, 'Bundle.total counts both');
  t.same(keys(first.body), [...expected].reverse(), 'newest first, interleaved as they were stored');

  for (const count of [1, 4, 7, 13]) {
    const { pages, back } = await walk(app, `/fhir/_history?_count=${count}`);
    const seen = pages.flatMap(keys);
    t.same(seen, [...expected].reverse(), `_count=${count}: every entry once, in order`);
    t.same(back.map(keys), pages.slice(0, -1).map(keys).reverse(), `_count=${count}: the previous links give the same pages back`);
  }
  const recent = await walk(app, `/fhir/_history?_since=${encodeURIComponent(since)}&_count=6`);
  const later = (first.body.entry as any[]).filter((e) => Date.parse(e.resource.meta.lastUpdated) >= Date.parse(since));
  t.ok(later.length >= 18 && later.length < 54, `${later.length} stored since round 4`);
  t.same(recent.pages.flatMap(keys), keys({ entry: later }), '_since applies to both');
  t.equal(recent.pages[0].total, later.length);
  t.equal((await fhir(app, 'GET', '/fhir/AuditEvent/_history?_count=1')).body.total, 30, 'type history: the ledger alone');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/_history?_count=1')).body.total, 24, 'and the versions alone');
});

t.test('the merge pages both sequences by their own keys, whatever the clocks did', async (t) => {
  // two sequences whose times go back now and then (a clock step): paging must still give each entry once
  const stream = (n: number, type: string, at: (i: number) => number) =>
    Array.from({ length: n }, (_, i): HistoryEntry => ({ resourceType: type, id: `${type}${i + 1}`, versionId: 1, lastUpdated: new Date(at(i)).toISOString(), deleted: false, json: '{}', method: 'POST', seq: i + 1 }));
  const vs = stream(23, 'V', (i) => 1_000_000 + i * 10 - (i % 5 === 3 ? 25 : 0));
  const ls = stream(17, 'L', (i) => 1_000_003 + i * 13 - (i % 4 === 1 ? 40 : 0));
  const history = (all: HistoryEntry[]) => (q: HistoryQuery): HistoryPage => {
    const newerFirst = q.afterSeq === undefined;
    const within = all.filter((e) => (q.beforeSeq === undefined || e.seq < q.beforeSeq) && (q.afterSeq === undefined || e.seq > q.afterSeq));
    const ordered = newerFirst ? [...within].reverse() : within;
    const page = ordered.slice(0, q.count);
    return {
      entries: newerFirst ? page : page.reverse(),
      hasOlder: newerFirst ? ordered.length > q.count : all.some((e) => e.seq <= q.afterSeq!),
      hasNewer: newerFirst ? q.beforeSeq !== undefined && all.some((e) => e.seq >= q.beforeSeq!) : ordered.length > q.count,
      total: all.length,
    };
  };
  for (const count of [1, 2, 5, 9, 40]) {
    const pages: HistoryEntry[][] = [];
    let q: HistoryQuery = { count };
    for (let i = 0; i < 100; i++) {
      const page = systemHistory(q, history(vs), history(ls));
      pages.push(page.entries);
      t.equal(page.total, 40);
      if (!page.hasOlder) break;
      const last = page.entries.at(-1)!;
      q = { count, beforeSeq: last.older![0], beforeLedgerSeq: last.older![1] };
    }
    const seen = pages.flat().map((e) => e.id);
    t.equal(new Set(seen).size, 40, `_count=${count}: all 40`);
    t.equal(seen.length, 40, `_count=${count}: none twice`);
    // and back from the last page: where a clock went back the interleaving may differ from
    // the way forward (each direction merges by time from its own end), never the entries
    let page = pages.at(-1)!;
    const back: string[] = [];
    for (let p = 0; p < 100; p++) {
      const previous = systemHistory({ count, afterSeq: page[0].newer![0], afterLedgerSeq: page[0].newer![1] }, history(vs), history(ls));
      back.push(...previous.entries.map((e) => e.id));
      page = previous.entries;
      if (!previous.hasNewer) break;
    }
    t.equal(back.length, 40 - pages.at(-1)!.length, `_count=${count}: back to the first entry`);
    t.same(new Set(back), new Set(pages.slice(0, -1).flat().map((e) => e.id)), `_count=${count}: the same entries back, none twice`);
  }
});
