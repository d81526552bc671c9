// importLines (src/bulk/ndjson-import.ts) on both engines: a batch of lines is one store
// transaction; a line the write pipeline refuses leaves nothing of itself and the others of its
// batch commit in that same transaction, each with its AuditEvent; when the engine fails the
// transaction itself, the lines are written again one by one and only the line that cannot be
// stored fails.
import t, { type Test } from 'tap';
import { MongoServerError } from 'mongodb';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { BATCH, BATCH_BYTES, importLines, type LineError } from '../../src/bulk/ndjson-import.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { MongoStore } from '../../src/store/mongo/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { fhir } from '../helpers/app.ts';
import { FakeMongo } from '../helpers/mongo-fake.ts';

async function appOn(t: Test, store: ResourceStore): Promise<FastifyInstance> {
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  return app;
}

/** counts the store transactions begun from now on */
function countTransactions(store: ResourceStore): () => number {
  let n = 0;
  const inner = store.transaction.bind(store);
  store.transaction = ((work) => {
    n++;
    return inner(work);
  }) as ResourceStore['transaction'];
  return () => n;
}

async function* linesOf(texts: string[]): AsyncIterable<string> {
  yield* texts;
}

const LINES = BATCH + 50;
const REFUSED = [3, 120, BATCH + 40];
/** line n (1-based): Patient qn, refused by validation on the REFUSED lines */
const patients = () =>
  Array.from({ length: LINES }, (_, i) => JSON.stringify({ resourceType: 'Patient', id: `q${i + 1}`, name: [{ family: `F${i + 1}` }], gender: REFUSED.includes(i + 1) ? 'banana' : 'female' }));

async function createEvents(app: FastifyInstance): Promise<string[]> {
  await app.fhir.audit!.flush();
  const out: string[] = [];
  let url: string | undefined = '/fhir/AuditEvent?_count=500';
  while (url) {
    const page: any = (await fhir(app, 'GET', url)).body;
    for (const e of page.entry ?? []) if (e.resource.subtype?.[0]?.code === 'create') out.push(e.resource.entity[0].what.reference);
    const next: string | undefined = page.link?.find((l: any) => l.relation === 'next')?.url;
    url = next ? next.replace('http://test.local', '') : undefined;
  }
  return out.sort();
}

const engines: [string, () => Promise<ResourceStore>][] = [
  ['SQLite', async () => new SqliteStore({ path: ':memory:' })],
  ['MongoDB (test double)', async () => MongoStore.attach(new FakeMongo(), { topology: 'replicaSet' })],
];

for (const [name, open] of engines) {
  t.test(`${name}: refused lines leave nothing and cost their batch nothing`, async (t) => {
    const store = await open();
    const app = await appOn(t, store);
    const transactions = countTransactions(store);
    const errors: LineError[] = [];
    const count = await importLines(app.fhir, linesOf(patients()), { input: 'patients.ndjson', skip: 0, onError: async (e) => void errors.push(e) });
    t.same(count, { line: LINES, imported: LINES - REFUSED.length, failed: REFUSED.length });
    t.same(errors.map((e) => e.line), REFUSED, 'each refused line by its number, in order');
    t.match(errors[0].outcome.issue.find((i) => i.severity === 'error')?.diagnostics, /^patients\.ndjson, line 3: /);
    t.equal(transactions(), 2, `one store transaction per batch of ${BATCH}, none written again`);
    for (const n of REFUSED) t.equal((await fhir(app, 'GET', `/fhir/Patient/q${n}`)).status, 404, `nothing is left of line ${n}`);
    t.equal((await fhir(app, 'GET', `/fhir/Patient/q${REFUSED[0] + 1}`)).status, 200, 'the line after a refused one is stored');
    const expected = Array.from({ length: LINES }, (_, i) => i + 1).filter((n) => !REFUSED.includes(n)).map((n) => `Patient/q${n}`).sort();
    t.same(await createEvents(app), expected, 'one AuditEvent per stored resource, none for a refused line');
  });
}

t.test('MongoDB (test double): an engine failure rolls the batch back; its lines are written one by one', async (t) => {
  const db = new FakeMongo();
  const store = await MongoStore.attach(db, { topology: 'replicaSet' });
  const app = await appOn(t, store);
  // the engine cannot store q7 (twice: in the batch, then alone); not a transient error, so not retried
  db.inject({ op: 'insertOne', when: (doc) => JSON.stringify(doc).includes('"q7"'), times: 2, error: () => new MongoServerError({ message: 'unable to write', code: 14031, codeName: 'OutOfDiskSpace' }) });
  const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ resourceType: 'Patient', id: `q${i + 1}`, gender: 'male' }));
  const errors: LineError[] = [];
  const count = await importLines(app.fhir, linesOf(lines), { input: 'x.ndjson', skip: 0, onError: async (e) => void errors.push(e) });
  t.same(count, { line: 10, imported: 9, failed: 1 });
  t.same(errors.map((e) => e.line), [7]);
  t.match(errors[0].outcome.issue[0].diagnostics, 'x.ndjson, line 7: the line could not be stored', 'the engine\'s message is not passed on');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/q7')).status, 404, 'nothing is left of it');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/q6')).status, 200);
  t.same(await createEvents(app), lines.map((_, i) => `Patient/q${i + 1}`).filter((r) => r !== 'Patient/q7').sort());
});

t.test('a transaction holds at most BATCH_BYTES of lines: large resources are written in several', async (t) => {
  const store = new SqliteStore({ path: ':memory:' });
  const app = await appOn(t, store);
  const transactions = countTransactions(store);
  // base64 of BATCH_BYTES / 4 bytes: a line of a little over BATCH_BYTES / 3
  const data = Buffer.alloc(BATCH_BYTES / 4).toString('base64');
  const lines = Array.from({ length: 3 }, (_, i) => JSON.stringify({ resourceType: 'Binary', id: `b${i}`, contentType: 'application/pdf', data }));
  const count = await importLines(app.fhir, linesOf(lines), { input: 'binaries.ndjson', skip: 0, onError: async (e) => void t.fail(JSON.stringify(e.outcome)) });
  t.same(count, { line: 3, imported: 3, failed: 0 });
  t.equal(transactions(), 2, 'two lines fit one transaction, the third starts the next');
  t.equal((await fhir(app, 'GET', '/fhir/Binary/b2')).status, 200);
});
