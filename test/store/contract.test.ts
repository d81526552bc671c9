// The store contract (src/store/types.ts), run against every engine through the REST API:
// CRUD, versioning, history, transactions, $reindex's scan, and every case of the search table.
// SQLite always; MongoDB when MONGODB_URI names a server (a fresh database per run, dropped at
// the end) or testcontainers finds a container runtime (a one-node replica set); otherwise the
// MongoDB engine is skipped with one line saying why.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { fhir } from '../helpers/app.ts';
import { mongoServer } from '../helpers/mongo-server.ts';
import { answer, loadFixtures } from '../helpers/search-cases.ts';
import { CASES } from '../search/cases.ts';

interface Engine {
  name: string;
  open(): Promise<ResourceStore>;
  /** drops what the run created */
  cleanup(): Promise<void>;
}

async function mongoEngine(): Promise<Engine | string> {
  const server = await mongoServer();
  if (typeof server === 'string') return `MongoDB contract tests ${server}`;
  const { MongoStore } = await import('../../src/store/mongo/index.ts');
  return { name: 'mongodb', open: () => MongoStore.open({ uri: server.database() }), cleanup: () => server.cleanup() };
}

async function appOn(t: Test, engine: Engine): Promise<{ app: FastifyInstance; store: ResourceStore }> {
  const store = await engine.open();
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  return { app, store };
}

const patient = (id: string, family: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', id, name: [{ family }], ...extra });

function contract(t: Test, engine: Engine): void {
  t.test('create, read, update, no-op update, If-Match, delete, re-create', async (t) => {
    const { app } = await appOn(t, engine);
    t.equal((await fhir(app, 'PUT', '/fhir/Patient/c1', patient('c1', 'Haddad'))).status, 201, 'created');
    const read = await fhir(app, 'GET', '/fhir/Patient/c1');
    t.equal(read.body.meta.versionId, '1');
    t.equal(read.headers.etag, 'W/"1"');
    t.equal((await fhir(app, 'PUT', '/fhir/Patient/c1', patient('c1', 'Haddad', { gender: 'female' }))).status, 200, 'updated');
    const same = await fhir(app, 'PUT', '/fhir/Patient/c1', patient('c1', 'Haddad', { gender: 'female' }));
    t.equal(same.body.meta.versionId, '2', 'an update that changes nothing writes no version');
    const stale = await fhir(app, 'PUT', '/fhir/Patient/c1', patient('c1', 'Haddad'), { 'if-match': 'W/"1"' });
    t.equal(stale.status, 412, 'If-Match on an old version');
    t.equal(stale.body.resourceType, 'OperationOutcome');
    t.equal((await fhir(app, 'DELETE', '/fhir/Patient/c1')).status, 200);
    t.equal((await fhir(app, 'GET', '/fhir/Patient/c1')).status, 410, 'gone after delete');
    t.equal((await fhir(app, 'GET', '/fhir/Patient/c1/_history/1')).body.name[0].family, 'Haddad', 'vread of an old version');
    t.equal((await fhir(app, 'GET', '/fhir/Patient/c1/_history/3')).status, 410, 'the deletion version');
    t.equal((await fhir(app, 'GET', '/fhir/Patient/c1/_history/9')).status, 404, 'a version that never was');
    const again = await fhir(app, 'PUT', '/fhir/Patient/c1', patient('c1', 'Haddad'));
    t.equal(again.status, 201, 're-created');
    t.equal(again.body.meta.versionId, '4', 'version numbers continue');
    t.equal((await fhir(app, 'GET', '/fhir/Patient?family=haddad')).body.total, 1, 'searchable again');
    t.equal((await fhir(app, 'GET', '/fhir/Patient/none')).status, 404);
  });

  t.test('history: instance, type, system; paging, _since, _at', async (t) => {
    const { app } = await appOn(t, engine);
    for (let i = 1; i <= 3; i++) await fhir(app, 'PUT', '/fhir/Patient/h1', patient('h1', `Name${i}`));
    // the store's clock may run a few ms ahead of Date.now() after quick writes
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await fhir(app, 'PUT', '/fhir/Patient/h2', patient('h2', 'Other'));
    await fhir(app, 'DELETE', '/fhir/Patient/h2');
    const instance = await fhir(app, 'GET', '/fhir/Patient/h1/_history');
    t.same(instance.body.entry.map((e: any) => e.resource.meta.versionId), ['3', '2', '1'], 'newest first');
    t.equal(instance.body.total, 3);
    const seen: string[] = [];
    for (let url: string | undefined = '/fhir/Patient/_history?_count=2'; url; ) {
      const page = await fhir(app, 'GET', url);
      t.ok(page.body.entry.length <= 2, 'page size');
      seen.push(...page.body.entry.map((e: any) => `${e.request.method} ${e.fullUrl.split('/fhir/')[1]}`));
      url = page.body.link.find((l: any) => l.relation === 'next')?.url.replace('http://test.local', '');
    }
    t.same(seen, ['DELETE Patient/h2', 'POST Patient/h2', 'PUT Patient/h1', 'PUT Patient/h1', 'POST Patient/h1'], 'type history over all pages, newest first');
    const since = await fhir(app, 'GET', `/fhir/_history?_since=${encodeURIComponent(between)}`);
    t.equal(since.body.entry.length, 2, '_since: the versions written after the instant');
    const at = await fhir(app, 'GET', `/fhir/Patient/h1/_history?_at=${encodeURIComponent(between.slice(0, 19))}`);
    t.ok(at.status === 200, '_at answers');
  });

  t.test('transactions: all or nothing; conditional creates do not race', async (t) => {
    const { app, store } = await appOn(t, engine);
    const bundle = (entries: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });
    const put = (id: string, family: string, ifMatch?: string) => ({
      resource: patient(id, family), request: { method: 'PUT', url: `Patient/${id}`, ...(ifMatch ? { ifMatch } : {}) },
    });
    if (store.atomicTransactions === false) {
      const refused = await fhir(app, 'POST', '/fhir', bundle([put('t1', 'A')]));
      t.equal(refused.status, 501, 'a standalone server refuses transaction Bundles');
      t.equal(refused.body.resourceType, 'OperationOutcome');
      t.equal((await fhir(app, 'GET', '/fhir/Patient/t1')).status, 404, 'nothing written');
      const batch = await fhir(app, 'POST', '/fhir', { ...bundle([put('t1', 'A')]), type: 'batch' });
      t.equal(batch.status, 200, 'a batch Bundle is served');
      t.equal((await fhir(app, 'GET', '/fhir/Patient/t1')).status, 200, 'and its entry written');
      return;
    }
    const ok = await fhir(app, 'POST', '/fhir', bundle([put('t1', 'A'), put('t2', 'B')]));
    t.equal(ok.status, 200, 'committed');
    const failed = await fhir(app, 'POST', '/fhir', bundle([put('t3', 'C'), put('t1', 'A2', 'W/"7"')]));
    t.equal(failed.status, 412, 'one entry fails');
    t.equal((await fhir(app, 'GET', '/fhir/Patient/t3')).status, 404, 'the other entry was rolled back');
    t.equal((await fhir(app, 'GET', '/fhir/Patient/t1')).body.name[0].family, 'A', 'and t1 is unchanged');
    const body = { resourceType: 'Patient', identifier: [{ system: 'urn:race', value: 'r1' }] };
    const results = await Promise.all(
      Array.from({ length: 6 }, () => fhir(app, 'POST', '/fhir/Patient', body, { 'if-none-exist': 'identifier=urn:race|r1' })),
    );
    t.ok(results.every((r) => r.status === 200 || r.status === 201), 'each one created or found the resource');
    t.equal(results.filter((r) => r.status === 201).length, 1, 'exactly one concurrent conditional create creates');
    t.equal((await fhir(app, 'GET', '/fhir/Patient?identifier=urn:race|r1')).body.total, 1, 'one resource');
  });

  t.test('scan for $reindex: current, not deleted, resumable', async (t) => {
    const { app, store } = await appOn(t, engine);
    for (const id of ['s1', 's2', 's3']) await fhir(app, 'PUT', `/fhir/Patient/${id}`, patient(id, 'Scan'));
    await fhir(app, 'DELETE', '/fhir/Patient/s2');
    const first = await store.scan(['Patient'], 0, 1);
    const rest = await store.scan(['Patient'], first[0].position, 10);
    t.same([...first, ...rest].map((r) => r.id), ['s1', 's3'], 'in write order, without the deleted one');
  });

  t.test('every search case of the table', async (t) => {
    for (const set of [...new Set(CASES.map((c) => c.fixtures ?? 'core'))]) {
      const { app } = await appOn(t, engine);
      await loadFixtures(app, set);
      for (const c of CASES.filter((x) => (x.fixtures ?? 'core') === set)) {
        const got = await answer(app, c);
        const name = `${c.category}: ${c.name}`;
        t.equal(got.status, c.status ?? 200, `${name}: status`, { body: got.error?.slice(0, 300) });
        if (got.status !== 200) continue;
        if (c.ordered) t.same(got.matches, c.expected, `${name}: in order`);
        else t.same([...got.matches].sort(), [...c.expected].sort(), `${name}: matches`);
        t.same(got.included, [...(c.included ?? [])].sort(), `${name}: included`);
        if (c.total !== undefined) t.equal(got.total, c.total, `${name}: total`);
        if (got.back) t.same(got.back, got.matches, `${name}: back over previous links`);
      }
    }
  });
}

t.test('sqlite', async (t) => contract(t, { name: 'sqlite', open: async () => new SqliteStore({ path: ':memory:' }), cleanup: async () => {} }));

t.test('mongodb', async (t) => {
  const engine = await mongoEngine();
  if (typeof engine === 'string') {
    t.comment(engine);
    return;
  }
  t.teardown(() => engine.cleanup());
  contract(t, engine);
});

// The MongoDB engine's own code (write path, transactions and their retries, history, scan,
// $meta, searches) over the test double of the database (test/helpers/mongo-fake.ts): every
// query document it sends evaluated by mingo, with MongoDB's snapshot isolation and write
// conflicts. A replica set, and a standalone server (no transactions).
for (const topology of ['replicaSet', 'standalone'] as const) {
  t.test(`mongodb engine on the test double (${topology})`, async (t) => {
    const { FakeMongo } = await import('../helpers/mongo-fake.ts');
    const { MongoStore } = await import('../../src/store/mongo/index.ts');
    contract(t, { name: `mongodb-fake-${topology}`, open: () => MongoStore.attach(new FakeMongo(), { topology }), cleanup: async () => {} });
  });
}

/** SQLite with the capability a standalone MongoDB declares: what the REST layer does with it. */
class NonAtomicSqlite extends SqliteStore {
  readonly atomicTransactions = false;
}

t.test('a store without atomic transactions: transaction Bundles refused, batches served', async (t) => {
  const { app } = await appOn(t, { name: 'non-atomic', open: async () => new NonAtomicSqlite({ path: ':memory:' }), cleanup: async () => {} });
  const bundle = (type: string) => ({ resourceType: 'Bundle', type, entry: [{ resource: patient('n1', 'A'), request: { method: 'PUT', url: 'Patient/n1' } }] });
  const refused = await fhir(app, 'POST', '/fhir', bundle('transaction'));
  t.equal(refused.status, 501, 'transaction refused');
  t.match(refused.body, { resourceType: 'OperationOutcome', issue: [{ code: 'not-supported', diagnostics: /replica set/ }] });
  t.equal((await fhir(app, 'GET', '/fhir/Patient/n1')).status, 404, 'nothing written');
  t.equal((await fhir(app, 'POST', '/fhir', bundle('batch'))).status, 200, 'a batch is served');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/n1')).status, 200, 'and its entry written');
});
