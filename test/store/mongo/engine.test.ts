// The MongoDB engine (src/store/mongo/index.ts) driven through the REST API over the test double
// of the database (test/helpers/mongo-fake.ts), with faults injected as the driver reports them
// (MongoServerError with TransientTransactionError / UnknownTransactionCommitResult labels,
// WriteConflict 112, DuplicateKey 11000) and with two store instances on one database standing
// for two server processes.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { MONGO_LIMITS, MongoStore, ABANDONED_MS, type MongoEngineSettings } from '../../../src/store/mongo/index.ts';
import { fhir } from '../../helpers/app.ts';
import { Crash, FakeMongo, unknownCommitResult, writeConflict } from '../../helpers/mongo-fake.ts';

async function engine(t: Test, db = new FakeMongo(), settings: Partial<MongoEngineSettings> = {}): Promise<{ app: FastifyInstance; store: MongoStore; db: FakeMongo }> {
  const store = await MongoStore.attach(db, { topology: 'replicaSet', ...settings });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  return { app, store, db };
}

const patient = (id: string, family: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', id, name: [{ family }], ...extra });

/** a transaction Bundle: a new Patient, an Observation about it by its urn:uuid */
const patientWithObservation = () => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    { fullUrl: 'urn:uuid:0b3b4c1e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Nouri' }] }, request: { method: 'POST', url: 'Patient' } },
    {
      fullUrl: 'urn:uuid:0b3b4c1e-0000-4000-8000-000000000002',
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'urn:uuid:0b3b4c1e-0000-4000-8000-000000000001' } },
      request: { method: 'POST', url: 'Observation' },
    },
  ],
});

async function checkLinked(t: Test, app: FastifyInstance, res: Awaited<ReturnType<typeof fhir>>) {
  t.equal(res.status, 200, 'the transaction commits', { body: res.body });
  const [p, o] = res.body.entry.map((e: any) => e.response.location.replace('http://test.local/fhir/', '').split('/_history')[0]);
  const obs = await fhir(app, 'GET', `/fhir/${o}`);
  t.equal(obs.body.subject?.reference, p, 'the Observation refers to the Patient this attempt created');
  t.equal((await fhir(app, 'GET', `/fhir/${p}`)).status, 200, 'which exists: no dangling reference');
  t.equal((await fhir(app, 'GET', '/fhir/Patient')).body.total, 1, 'one Patient');
  t.equal((await fhir(app, 'GET', '/fhir/Observation')).body.total, 1, 'one Observation');
}

t.test('a write conflict inside a transaction Bundle: retried from a fresh plan, not a 500', async (t) => {
  const { app, db } = await engine(t);
  db.inject({ op: 'insertOne', collection: 'history', when: (d) => d.type === 'Observation', error: writeConflict });
  const res = await fhir(app, 'POST', '/fhir', patientWithObservation());
  await checkLinked(t, app, res);
  t.equal(db.transactions.length >= 2, true, 'a second attempt ran');
});

t.test('a conflict at commit: the whole transaction runs again', async (t) => {
  const { app, db } = await engine(t);
  db.inject({ op: 'commitTransaction', error: writeConflict });
  await checkLinked(t, app, await fhir(app, 'POST', '/fhir', patientWithObservation()));
});

t.test('an unknown commit result: the commit is retried, the work is not (no duplicate version)', async (t) => {
  const { app, db } = await engine(t);
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/u1', patient('u1', 'A'))).status, 201);
  // the first commit takes effect but its answer is lost
  db.inject({ op: 'commitTransaction', after: true, error: unknownCommitResult });
  const before = db.transactions.length;
  const res = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient('u1', 'B'), request: { method: 'PUT', url: 'Patient/u1' } }] });
  t.equal(res.status, 200, { body: res.body });
  t.equal(db.transactions.length - before, 1, 'one attempt, committed twice');
  const history = await fhir(app, 'GET', '/fhir/Patient/u1/_history');
  t.same(history.body.entry.map((e: any) => e.resource.meta.versionId), ['2', '1'], 'one new version');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/u1')).body.name[0].family, 'B');
});

t.test('a retried attempt re-evaluates conditional entries against what was committed meanwhile', async (t) => {
  const db = new FakeMongo();
  const { app } = await engine(t, db);
  const { app: other } = await engine(t, db);
  const identifier = [{ system: 'urn:oid:1.2.3', value: 'case-77' }];
  db.inject({
    op: 'insertOne',
    collection: 'history',
    when: (d) => d.type === 'Observation',
    // another process creates the Patient the Bundle's If-None-Exist looks for
    effect: () => fhir(other, 'PUT', '/fhir/Patient/elsewhere', { resourceType: 'Patient', id: 'elsewhere', identifier }),
    error: writeConflict,
  });
  const bundle = patientWithObservation();
  Object.assign(bundle.entry[0].resource, { identifier });
  Object.assign(bundle.entry[0].request, { ifNoneExist: 'identifier=urn:oid:1.2.3|case-77' });
  const res = await fhir(app, 'POST', '/fhir', bundle);
  t.equal(res.status, 200, { body: res.body });
  t.match(res.body.entry[0].response, { status: '200 OK', location: /\/Patient\/elsewhere\// }, 'the retry found the Patient created meanwhile');
  const obs = await fhir(app, 'GET', `/fhir/${res.body.entry[1].response.location.replace('http://test.local/fhir/', '').split('/_history')[0]}`);
  t.equal(obs.body.subject.reference, 'Patient/elsewhere', 'and the reference follows it');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?identifier=urn:oid:1.2.3|case-77')).body.total, 1, 'no duplicate Patient');
});

t.test('conflicts that do not stop: 503 with Retry-After, nothing written', async (t) => {
  const { app, db } = await engine(t, new FakeMongo(), { retry: { deadlineMs: 50, backoffMs: 5 } });
  db.inject({ op: 'commitTransaction', times: 1000, error: writeConflict });
  const res = await fhir(app, 'PUT', '/fhir/Patient/b1', patient('b1', 'A'));
  t.equal(res.status, 503);
  t.equal(res.headers['retry-after'], '1');
  t.equal(res.body.issue[0].code, 'transient');
  db.faults.length = 0;
  t.equal((await fhir(app, 'GET', '/fhir/Patient/b1')).status, 404);
});

t.test('two processes: concurrent updates of one resource, one wins, no duplicate version', async (t) => {
  const db = new FakeMongo({ roundTrip: true });
  const { app: a } = await engine(t, db);
  const { app: b } = await engine(t, db);
  await fhir(a, 'PUT', '/fhir/Patient/c1', patient('c1', 'Start'));
  const results = await Promise.all([
    fhir(a, 'PUT', '/fhir/Patient/c1', patient('c1', 'A'), { 'if-match': 'W/"1"' }),
    fhir(b, 'PUT', '/fhir/Patient/c1', patient('c1', 'B'), { 'if-match': 'W/"1"' }),
  ]);
  t.same(results.map((r) => r.status).sort(), [200, 412], 'one update, the other sees version 2 on its retry');
  const history = await fhir(b, 'GET', '/fhir/Patient/c1/_history');
  t.same(history.body.entry.map((e: any) => e.resource.meta.versionId), ['2', '1']);
});

t.test('two processes: concurrent conditional creates create one resource', async (t) => {
  // without the claim of the criteria, snapshot isolation lets all six see "no match"
  const db = new FakeMongo({ roundTrip: true });
  const apps = [(await engine(t, db)).app, (await engine(t, db)).app];
  const body = { resourceType: 'Patient', identifier: [{ system: 'urn:race', value: 'r2' }] };
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => fhir(apps[i % 2], 'POST', '/fhir/Patient', body, { 'if-none-exist': 'identifier=urn:race|r2' })));
  t.equal(results.filter((r) => r.status === 201).length, 1, 'one created');
  t.equal(results.filter((r) => r.status === 200).length, 5, 'the others found it');
});

t.test('no document is written by every write; history order is total across processes', async (t) => {
  const db = new FakeMongo();
  // both processes at the same millisecond: the node number breaks the tie
  const clock = () => 1_800_000_000_000;
  const a = await engine(t, db, { clock });
  const b = await engine(t, db, { clock });
  t.not(a.store.node, b.store.node, 'each process has its own node number');
  for (let i = 0; i < 5; i++) {
    await fhir(a.app, 'PUT', `/fhir/Patient/a${i}`, patient(`a${i}`, 'A'));
    await fhir(b.app, 'PUT', `/fhir/Patient/b${i}`, patient(`b${i}`, 'B'));
  }
  const busiest = Math.max(...[...db.writeCounts].filter(([k]) => !k.startsWith('nodes/')).map(([, n]) => n));
  t.equal(busiest, 1, 'each document written once: ten creates share none');
  const seqs = [...db.docs('history').values()].map((d) => d.seq as number);
  t.equal(new Set(seqs).size, 10, 'every version has its own sequence number');
  const seen: string[] = [];
  for (let url: string | undefined = '/fhir/Patient/_history?_count=3'; url; ) {
    const page = await fhir(a.app, 'GET', url);
    seen.push(...page.body.entry.map((e: any) => e.resource.id));
    url = page.body.link.find((l: any) => l.relation === 'next')?.url.replace('http://test.local', '');
  }
  t.equal(new Set(seen).size, 10, 'paging over history misses and repeats nothing');
});

t.test("the server's clock, not the process's: lastUpdated follows the database", async (t) => {
  const skew = 3_600_000;
  const { app } = await engine(t, new FakeMongo(), { clockOffsetMs: skew });
  const res = await fhir(app, 'PUT', '/fhir/Patient/k1', patient('k1', 'A'));
  const lu = Date.parse(res.body.meta.lastUpdated);
  t.ok(Math.abs(lu - (Date.now() + skew)) < 60_000, 'lastUpdated is on the server clock');
});

t.test('transactions read at snapshot level, writes wait for a majority with a timeout', async (t) => {
  for (const topology of ['replicaSet', 'sharded'] as const) {
    const { app, db } = await engine(t, new FakeMongo(), { topology });
    await fhir(app, 'PUT', '/fhir/Patient/s1', patient('s1', 'A'));
    t.match(db.transactions.at(-1), { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority', wtimeoutMS: MONGO_LIMITS.writeConcernMs }, maxCommitTimeMS: MONGO_LIMITS.commitMs }, topology);
  }
});

t.test('a resource too large for a MongoDB document: 413 naming the limit', async (t) => {
  const { app } = await engine(t);
  const data = Buffer.alloc(Math.ceil(MONGO_LIMITS.documentBytes * 0.75) + 1024).toString('base64');
  const res = await fhir(app, 'PUT', '/fhir/Binary/big', { resourceType: 'Binary', id: 'big', contentType: 'application/octet-stream', data });
  t.equal(res.status, 413);
  t.match(res.body.issue[0], { code: 'too-costly', diagnostics: /MongoDB engine stores at most 15\.0 MiB/ });
  t.equal((await fhir(app, 'GET', '/fhir/Binary/big')).status, 404);
});

t.test('a transaction Bundle above what one MongoDB transaction holds: 413', async (t) => {
  const { app } = await engine(t);
  const entry = Array.from({ length: MONGO_LIMITS.transactionEntries + 1 }, () => ({ request: { method: 'GET', url: 'Patient' } }));
  const res = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry });
  t.equal(res.status, 413);
  t.match(res.body.issue[0].diagnostics, /mongodb store commits at most 5000/);
  const saved = MONGO_LIMITS.transactionBytes;
  MONGO_LIMITS.transactionBytes = 4096;
  t.teardown(() => void (MONGO_LIMITS.transactionBytes = saved));
  const puts = Array.from({ length: 20 }, (_, i) => ({ resource: patient(`tb${i}`, 'x'.repeat(300)), request: { method: 'PUT', url: `Patient/tb${i}` } }));
  const big = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: puts });
  t.equal(big.status, 413, 'bytes written by one transaction');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/tb0')).status, 404, 'nothing kept');
});

t.test('standalone: a write whose process died between history and resource is taken over, not 409 for ever', async (t) => {
  let now = 1_800_000_000_000;
  const { app, db } = await engine(t, new FakeMongo(), { topology: 'standalone', clock: () => now });
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/d1', patient('d1', 'A'))).status, 201);
  db.inject({ op: 'updateOne', collection: 'resources', error: () => new Crash('the process died') });
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/d1', patient('d1', 'B'))).status, 500, 'the write that died');
  now += 1000;
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/d1', patient('d1', 'C'))).status, 409, 'a write at once still waits for it');
  now += ABANDONED_MS;
  const res = await fhir(app, 'PUT', '/fhir/Patient/d1', patient('d1', 'C'));
  t.equal(res.status, 200, 'later, the abandoned version is replaced');
  t.equal(res.body.meta.versionId, '2');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/d1/_history/2')).body.name[0].family, 'C', 'history holds the version that was applied');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/d1')).body.name[0].family, 'C');
});

t.test('two processes: concurrent transaction Bundles with the same conditional update create one resource', async (t) => {
  // the Bundle resolves the criteria itself (bundle.ts), then writes an ordinary update: the
  // claim of the criteria is what keeps two Bundles from both creating
  const db = new FakeMongo({ roundTrip: true });
  const apps = [(await engine(t, db)).app, (await engine(t, db)).app];
  const conditional = () => {
    const b = patientWithObservation();
    Object.assign(b.entry[0].resource, { identifier: [{ system: 'urn:race', value: 'b1' }] });
    Object.assign(b.entry[0].request, { method: 'PUT', url: 'Patient?identifier=urn:race|b1' });
    return b;
  };
  const results = await Promise.all(Array.from({ length: 4 }, (_, i) => fhir(apps[i % 2], 'POST', '/fhir', conditional())));
  t.same(results.map((r) => r.status), [200, 200, 200, 200]);
  t.equal((await fhir(apps[0], 'GET', '/fhir/Patient?identifier=urn:race|b1')).body.total, 1, 'one Patient');
  const subjects = new Set<string>();
  for (const r of results) subjects.add((await fhir(apps[1], 'GET', `/fhir/${r.body.entry[1].response.location.replace('http://test.local/fhir/', '').split('/_history')[0]}`)).body.subject.reference);
  t.equal(subjects.size, 1, 'every Observation refers to it');
});
