// The prepare pool (src/store/prepare) changes nothing of what an import stores: the same NDJSON
// — refused lines of every kind, sensitive resources, references between lines, a line the
// writer prepares itself (QuestionnaireResponse), an update, an unchanged line, and a client
// without the migration-data scope updating a sensitive resource — imported with the pool
// (--prepare-threads 1) and without it (0) gives the same versions (JSON and index rows, times
// apart), labels, refusals and AuditEvents (ids and times apart), on both engines.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { Scopes } from '../../src/auth/scopes.ts';
import { testConfig } from '../../src/config.ts';
import { importLines, type LineError } from '../../src/bulk/ndjson-import.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { MongoStore } from '../../src/store/mongo/index.ts';
import type { ResourceStore, VersionWrite } from '../../src/store/types.ts';
import { fhir } from '../helpers/app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { FakeMongo } from '../helpers/mongo-fake.ts';

const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
const UNHCR = 'https://migfhir.org/fhir/sid/unhcr-progres';
const status = (code: string) => ({ url: STATUS, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code }] } }] });

const LINES = [
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [status('asylum-applicant')] },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Okafor' }], identifier: [{ system: UNHCR, value: 'UNHCR-555' }] },
  'not JSON',
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' }, valueQuantity: { value: 61, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } },
  { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'height' }, subject: { identifier: { system: UNHCR, value: 'UNHCR-555' } } },
  { resourceType: 'Patient', id: 'p9', gender: 'banana' },
  { resourceType: 'Nope', id: 'n1' },
  '',
  { resourceType: 'QuestionnaireResponse', id: 'qr1', status: 'completed', subject: { reference: 'Patient/p2' }, item: [{ linkId: 'a', answer: [{ valueString: 'x' }] }] },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Okafor-Eze' }], identifier: [{ system: UNHCR, value: 'UNHCR-555' }] },
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [status('asylum-applicant')] },
  { resourceType: 'AuditEvent', id: 'a1' },
  { resourceType: 'Patient', id: 'p3', meta: { versionId: '7', lastUpdated: '2020-01-01T00:00:00Z', tag: [{ system: 'urn:t', code: 'x' }] }, birthDate: '1990-02-03' },
  { resourceType: 'Patient', id: 'bad id!' },
].map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));

/** the second import's client, without the migration-data scope: p1 keeps its status extension */
const UNSCOPED = [JSON.stringify({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad', given: ['Rana'] }] }), JSON.stringify({ resourceType: 'Patient', id: 'p4', gender: 'female' })];

/** Records every version a committed transaction wrote (a retried attempt's writes are dropped). */
function recording(store: ResourceStore): VersionWrite[] {
  const log: VersionWrite[] = [];
  const inner = store.transaction.bind(store);
  store.transaction = (async (work: Parameters<ResourceStore['transaction']>[0]) => {
    let attempt: VersionWrite[] = [];
    const result = await inner((raw) => {
      attempt = [];
      const write = raw.write.bind(raw);
      raw.write = async (v) => {
        attempt.push(structuredClone(v));
        return write(v);
      };
      return work(raw);
    });
    log.push(...attempt);
    return result;
  }) as ResourceStore['transaction'];
  return log;
}

async function* linesOf(texts: string[]): AsyncIterable<string> {
  yield* texts;
}

/** What an import stored and answered, without what differs between two runs (times, event ids). */
async function importAll(t: Test, open: () => Promise<ResourceStore>, threads: number) {
  const store = await open();
  const app: FastifyInstance = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on', prepareThreads: threads }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  t.equal(app.fhir.prepare!.size, threads);
  const log = recording(store);
  // the lines the pool prepared (none without it)
  let prepared = 0;
  const pool = app.fhir.prepare!;
  const prepare = pool.prepare.bind(pool);
  pool.prepare = (texts, rules) => {
    prepared += texts.length;
    return prepare(texts, rules);
  };
  const errors: LineError[] = [];
  const onError = async (e: LineError) => void errors.push(e);
  const first = await importLines(app.fhir, linesOf(LINES), { input: 'a.ndjson', skip: 0, onError });
  const auth = { clientId: 'c', scopes: new Scopes('system/*.cruds'), purposeOfUse: [] };
  const second = await importLines(app.fhir, linesOf(UNSCOPED), { input: 'b.ndjson', skip: 0, auth, onError });
  await app.fhir.audit!.flush();
  const versions = log
    .filter((v) => v.resourceType !== 'AuditEvent')
    .map((v) => ({ ...v, lastUpdated: '', json: v.json && v.json.replace(/"lastUpdated":"[^"]+"/, '"lastUpdated":""') }));
  const events: unknown[] = [];
  for (const e of ((await fhir(app, 'GET', '/fhir/AuditEvent?_count=500')).body as any).entry ?? []) {
    // the trail's hash chain covers the times
    const { id: _i, meta: _m, recorded: _r, period: _p, extension, ...rest } = e.resource;
    events.push({ ...rest, extension: extension?.filter((x: any) => !x.url.endsWith('/audit-chain')) });
  }
  events.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const documents = store instanceof MingoSearchStore ? store.documents().filter((d) => d.type !== 'AuditEvent').map(({ lu: _lu, json, ...d }: any) => JSON.stringify({ ...d, json: json?.replace(/"lastUpdated":"[^"]+"/, '') })) : [];
  return { prepared, counts: [first, second], errors, versions, events, documents: documents.sort() };
}

const engines: [string, () => Promise<ResourceStore>][] = [
  ['SQLite', async () => new SqliteStore({ path: ':memory:' })],
  ['MongoDB (test double)', async () => MongoStore.attach(new FakeMongo(), { topology: 'replicaSet' })],
  ['MongoDB layout on mingo', async () => new MingoSearchStore()],
];

for (const [name, open] of engines) {
  t.test(`${name}: an import stores the same with the prepare pool as without`, async (t) => {
    const inline = await importAll(t, open, 0);
    const pooled = await importAll(t, open, 1);
    t.same(inline.counts, [{ line: LINES.length, imported: 8, failed: 5 }, { line: 2, imported: 2, failed: 0 }], 'the lines imported and refused');
    t.same(inline.errors.map((e) => e.line), [3, 6, 7, 12, 14]);
    t.equal(inline.prepared, 0);
    t.equal(pooled.prepared, LINES.length - 1 + UNSCOPED.length, 'every line but the blank one was prepared by the pool');
    t.same(pooled.counts, inline.counts);
    t.same(pooled.errors, inline.errors, 'the same refusals, in the same order, with the same outcomes');
    t.ok(inline.versions.length >= 8);
    t.same(pooled.versions, inline.versions, 'the same versions: JSON, labels and index rows');
    t.ok(inline.versions.some((v) => v.json?.includes('"security"')), 'sensitive resources are labelled');
    const p1 = inline.versions.filter((v) => v.id === 'p1').pop()!;
    t.match(p1.json, /asylum-applicant/, 'a client without the scope keeps the stored status it cannot see');
    t.match(p1.json, /Rana/);
    t.same(pooled.events, inline.events, 'the same AuditEvents');
    t.equal(inline.events.length, 9, 'one per stored version (none for the unchanged line)');
    t.same(pooled.documents, inline.documents, 'the same documents in the MongoDB layout');
  });
}
