// The MongoDB engine against a real server: what the test double (test/helpers/mongo-fake.ts)
// cannot prove — the server's own write conflicts and commit outcomes (through failCommand
// failpoints, which need a server started with --setParameter enableTestCommands=1), the indexes
// MongoDB's planner really picks (explain), the document limit, a large transaction, and change
// streams between two processes. Runs on MONGODB_URI, or a mongo:7 and a mongo:8 one-node replica
// set in containers; skips with one line when neither exists (as on the build machines).
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { MONGO_INDEXES } from '../../../src/search/mongo-layout.ts';
import { MONGO_LIMITS, MongoStore } from '../../../src/store/mongo/index.ts';
import { fhir } from '../../helpers/app.ts';
import { MingoSearchStore } from '../../helpers/mingo-store.ts';
import { mongoServer, type MongoServer } from '../../helpers/mongo-server.ts';

async function processOn(t: Test, uri: string): Promise<{ app: FastifyInstance; store: MongoStore }> {
  const store = await MongoStore.open({ uri });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  return { app, store };
}

/** failCommand, when the server allows test commands; undefined otherwise */
async function failpoint(uri: string, data: Record<string, unknown>): Promise<(() => Promise<void>) | undefined> {
  const client = await MongoClient.connect(uri);
  try {
    await client.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data });
  } catch {
    await client.close();
    return undefined;
  }
  return async () => {
    await client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' }).catch(() => {});
    await client.close();
  };
}

const bundle = (entries: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });
const linked = () => bundle([
  { fullUrl: 'urn:uuid:5f0c7c52-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Nouri' }] }, request: { method: 'POST', url: 'Patient' } },
  { resource: { resourceType: 'Observation', status: 'final', code: { text: 'w' }, subject: { reference: 'urn:uuid:5f0c7c52-0000-4000-8000-000000000001' } }, request: { method: 'POST', url: 'Observation' } },
]);

function suite(t: Test, server: MongoServer): void {
  t.test('failpoints: a write conflict and an unknown commit result in a transaction Bundle', async (t) => {
    const uri = server.database();
    const { app } = await processOn(t, uri);
    for (const data of [
      { failCommands: ['insert'], errorCode: 112, errorLabels: ['TransientTransactionError'] },
      { failCommands: ['commitTransaction'], errorCode: 91, errorLabels: ['UnknownTransactionCommitResult'] },
    ]) {
      const off = await failpoint(server.uri, data);
      if (!off) {
        t.comment('failpoints skipped: the server was not started with enableTestCommands=1');
        return;
      }
      const res = await fhir(app, 'POST', '/fhir', linked());
      await off();
      t.equal(res.status, 200, `${data.failCommands[0]} failing once: committed`);
      const obs = await fhir(app, 'GET', `/fhir/${res.body.entry[1].response.location.replace('http://test.local/fhir/', '').split('/_history')[0]}`);
      t.equal((await fhir(app, 'GET', `/fhir/${obs.body.subject.reference}`)).status, 200, 'its reference resolves');
    }
  });

  t.test('concurrent transaction Bundles on two processes', async (t) => {
    const uri = server.database();
    const [a, b] = [await processOn(t, uri), await processOn(t, uri)];
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => fhir((i % 2 ? a : b).app, 'POST', '/fhir', linked())));
    t.same(results.map((r) => r.status), Array(8).fill(200));
    t.equal((await fhir(a.app, 'GET', '/fhir/Observation?_summary=count')).body.total, 8);
  });

  t.test('explain: the declared indexes are the ones the planner picks', async (t) => {
    const uri = server.database();
    const { app } = await processOn(t, uri);
    const capture = new MingoSearchStore();
    const compiler = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store: capture });
    t.teardown(() => compiler.close());
    for (let i = 0; i < 50; i++) {
      await fhir(app, 'PUT', `/fhir/Patient/p${i}`, { resourceType: 'Patient', id: `p${i}`, gender: i % 2 ? 'female' : 'male', birthDate: `19${50 + i}-01-01` });
      await fhir(app, 'PUT', `/fhir/Observation/o${i}`, { resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/p${i}` } });
    }
    await fhir(compiler, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' });
    const client = await MongoClient.connect(uri);
    t.teardown(() => client.close());
    const resources = client.db().collection('resources');
    const shapes: [string, string, string][] = [
      ['_id', '/fhir/Patient?_id=p1,p2', '_id_'],
      ['token', '/fhir/Patient?gender=female', 'token'],
      ['date', '/fhir/Patient?birthdate=ge1990-01-01', 'date_low'],
      ['_sort=-_lastUpdated', '/fhir/Patient?_sort=-_lastUpdated', 'type_lastUpdated_rid'],
      ['_revinclude', '/fhir/Patient?_id=p1&_revinclude=Observation:subject', 'reference'],
    ];
    t.ok(MONGO_INDEXES.some((i) => i.name === 'reference'));
    for (const [name, url, index] of shapes) {
      capture.pipelines.length = 0;
      await fhir(compiler, 'GET', url);
      const plans = await Promise.all(capture.pipelines.map((p) => resources.aggregate(p).explain()));
      t.ok(plans.some((p) => JSON.stringify(p).includes(`"indexName":"${index}"`)), `${name}: index ${index}`);
    }
  });

  t.test('a resource above the engine limit answers 413; a 5,000-entry Bundle commits', async (t) => {
    const { app } = await processOn(t, server.database());
    const data = Buffer.alloc(Math.ceil(MONGO_LIMITS.documentBytes * 0.75) + 1024).toString('base64');
    t.equal((await fhir(app, 'PUT', '/fhir/Binary/big', { resourceType: 'Binary', id: 'big', contentType: 'application/octet-stream', data })).status, 413);
    const entry = Array.from({ length: MONGO_LIMITS.transactionEntries }, (_, i) => ({ resource: { resourceType: 'Patient', id: `b${i}` }, request: { method: 'PUT', url: `Patient/b${i}` } }));
    t.equal((await fhir(app, 'POST', '/fhir', bundle(entry))).status, 200);
  });

  t.test('a SearchParameter created on one process is used by another', async (t) => {
    const uri = server.database();
    const [a, b] = [await processOn(t, uri), await processOn(t, uri)];
    await fhir(a.app, 'PUT', '/fhir/SearchParameter/lang', {
      resourceType: 'SearchParameter', id: 'lang', url: 'http://example.org/fhir/SearchParameter/lang', name: 'lang', status: 'active',
      description: 'language', code: 'lang', base: ['Patient'], type: 'token', expression: 'Patient.communication.language',
    });
    await fhir(a.app, 'PUT', '/fhir/Patient/s', { resourceType: 'Patient', id: 's', communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ti' }] } }] });
    let total: number | undefined;
    for (let i = 0; i < 50 && total !== 1; i++, await new Promise((r) => setTimeout(r, 100))) {
      total = (await fhir(b.app, 'GET', '/fhir/Patient?lang=ti', undefined, { prefer: 'handling=strict' })).body?.total;
    }
    t.equal(total, 1);
  });
}

t.test('MongoDB server', async (t) => {
  // MONGODB_URI names one server: once is enough
  for (const image of process.env.MONGODB_URI ? ['MONGODB_URI'] : ['mongo:7', 'mongo:8']) {
    const server = await mongoServer(image);
    if (typeof server === 'string') {
      t.comment(`MongoDB server tests ${server}`);
      return;
    }
    await t.test(image, async (t) => {
      t.teardown(() => server.cleanup());
      suite(t, server);
    });
  }
});
