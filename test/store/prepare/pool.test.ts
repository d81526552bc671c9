// The prepare pool (src/store/prepare/pool.ts) as an import uses it: its threads see the custom
// SearchParameters and profiles committed after they were built (a SearchParameter PUT between
// two imports, one inside an import whose later lines were prepared before it committed, a
// StructureDefinition PUT between two imports); a thread that
// stops fails its lines cleanly — nothing of them stored, the position before them kept, the
// job failed with a reason that holds no data — and is replaced for the next import.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { BATCH, importLines } from '../../../src/bulk/ndjson-import.ts';
import { SqliteStore } from '../../../src/store/sqlite/index.ts';
import { MingoSearchStore } from '../../helpers/mingo-store.ts';
import type { ResourceStore } from '../../../src/store/types.ts';
import { fhir } from '../../helpers/app.ts';
import { bulkApp, kickOff, poll } from '../../helpers/bulk-client.ts';

const VILLAGE = 'urn:example:village';
const villageParam = (id: string, code: string) => ({
  resourceType: 'SearchParameter', id, url: `http://example.org/SearchParameter/${id}`, name: code, status: 'active', description: 'x', code, base: ['Patient'], type: 'string',
  expression: `Patient.extension('${VILLAGE}').value`,
});
const patient = (id: string, village?: string) => JSON.stringify({ resourceType: 'Patient', id, gender: 'female', ...(village ? { extension: [{ url: VILLAGE, valueString: village }] } : {}) });

async function* linesOf(texts: string[]): AsyncIterable<string> {
  yield* texts;
}

async function appOn(t: Test, store: ResourceStore): Promise<FastifyInstance> {
  const app = await buildApp(testConfig({ prepareThreads: 1 }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  return app;
}

const ids = (body: any): string[] => (body.entry ?? []).map((e: any) => e.resource.id).sort();

/** Every stored Patient's id, page after page (an import holds more than a page). */
async function patientIds(app: FastifyInstance): Promise<string[]> {
  const out: string[] = [];
  let url: string | undefined = '/fhir/Patient?_count=1000&_elements=id';
  while (url) {
    const body: any = (await fhir(app, 'GET', url)).body;
    for (const e of body.entry ?? []) out.push(e.resource.id);
    const next: string | undefined = body.link?.find((l: any) => l.relation === 'next')?.url;
    url = next ? next.slice(next.indexOf('/fhir/')) : undefined;
  }
  return out.sort();
}

for (const [name, open] of [['SQLite', () => new SqliteStore({ path: ':memory:' })], ['MongoDB layout on mingo', () => new MingoSearchStore()]] as const) {
  t.test(`${name}: a SearchParameter stored after the threads were built indexes what they prepare`, async (t) => {
    const app = await appOn(t, open());
    const noError = async () => void t.fail('no line fails');
    // the thread is built by this import, before the parameter exists
    await importLines(app.fhir, linesOf([patient('a1', 'Tessit')]), { input: 'a.ndjson', skip: 0, onError: noError });
    const stamp = app.fhir.prepare!.stamp;
    t.equal((await fhir(app, 'PUT', '/fhir/SearchParameter/village', villageParam('village', 'village'))).status, 201);
    t.ok(app.fhir.prepare!.stamp > stamp, 'the stamp moved when the parameter was committed');
    await importLines(app.fhir, linesOf([patient('a2', 'Tessit')]), { input: 'b.ndjson', skip: 0, onError: noError });
    t.same(ids((await fhir(app, 'GET', '/fhir/Patient?village=Tessit')).body), ['a2'], 'the line imported after the PUT is indexed for it (a1 was stored before it existed)');

    // in one import: the parameter in the first batch, patients in the second, prepared before the first committed
    const lines = [JSON.stringify(villageParam('hamlet', 'hamlet')), ...Array.from({ length: BATCH - 1 }, (_, i) => patient(`f${i}`)), patient('a3', 'Ber'), patient('a4', 'Ber')];
    const pool = app.fhir.prepare!;
    const prepare = pool.prepare.bind(pool);
    const sent: number[] = [];
    pool.prepare = (texts, rules) => {
      sent.push(texts.length);
      return prepare(texts, rules);
    };
    const count = await importLines(app.fhir, linesOf(lines), { input: 'c.ndjson', skip: 0, onError: noError });
    t.equal(count.imported, lines.length);
    t.same(sent, [BATCH, 2, 2], 'the second chunk, prepared before the first batch committed, was prepared again');
    t.same(ids((await fhir(app, 'GET', '/fhir/Patient?hamlet=Ber')).body), ['a3', 'a4'], 'lines prepared before the parameter committed are prepared again before they are written');
  });
}

t.test('a profile stored after the threads were built checks what they prepare', async (t) => {
  const app = await appOn(t, new SqliteStore({ path: ':memory:' }));
  const url = 'http://example.org/StructureDefinition/born';
  const lines = [JSON.stringify({ resourceType: 'Patient', id: 'b1', meta: { profile: [url] } }), JSON.stringify({ resourceType: 'Patient', id: 'b2', meta: { profile: [url] }, birthDate: '1990' })];
  // built before the profile exists: its lines are checked against R4 alone (an unknown profile is a warning)
  const before = await importLines(app.fhir, linesOf([JSON.stringify({ resourceType: 'Patient', id: 'b0', meta: { profile: [url] } })]), { input: 'a.ndjson', skip: 0, onError: async () => void t.fail('no line fails') });
  t.equal(before.imported, 1, 'without the profile stored, a line that names it is imported');
  const sd = {
    resourceType: 'StructureDefinition', id: 'born', url, name: 'Born', status: 'active', kind: 'resource', abstract: false, type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient', derivation: 'constraint',
    differential: { element: [{ id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 }] },
  };
  t.equal((await fhir(app, 'PUT', '/fhir/StructureDefinition/born', sd)).status, 201);
  const errors: number[] = [];
  const count = await importLines(app.fhir, linesOf(lines), { input: 'b.ndjson', skip: 0, onError: async (e) => void errors.push(e.line) });
  t.same(errors, [1], 'the line without the birth date the profile asks for is refused');
  t.equal(count.imported, 1);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/b1')).status, 404);
});

t.test('a thread that stops fails its lines cleanly and is replaced', async (t) => {
  const app = await appOn(t, new SqliteStore({ path: ':memory:' }));
  const pool = app.fhir.prepare!;
  const lines = Array.from({ length: BATCH * 4 }, (_, i) => patient(`s${i + 1}`));
  // the thread stops while it holds the third chunk (it is the only one)
  const prepare = pool.prepare.bind(pool);
  let calls = 0;
  let first: unknown;
  pool.prepare = (texts, rules) => {
    const done = prepare(texts, rules);
    if (++calls === 3) {
      first = pool.workers[0];
      void pool.workers[0].terminate();
    }
    return done;
  };
  let position = 0;
  const failed = importLines(app.fhir, linesOf(lines), { input: 's.ndjson', skip: 0, onError: async () => void t.fail('no line fails'), onProgress: (p) => void (position = p.line) });
  await t.rejects(failed, /a prepare thread stopped/, 'the import fails');
  t.ok(position < lines.length, `the position (${position}) stays before the lost lines`);
  const stored = await patientIds(app);
  t.same(stored, lines.slice(0, position).map((_, i) => `s${i + 1}`).sort(), 'exactly the lines before the position are stored: nothing of the lost ones');
  pool.prepare = prepare;
  // resumed from the position, on a new thread
  const rest = await importLines(app.fhir, linesOf(lines), { input: 's.ndjson', skip: position, onError: async () => void t.fail('no line fails') });
  t.equal(rest.imported, lines.length - position);
  t.not(pool.workers[0], first, 'a new thread');
  t.equal((await patientIds(app)).length, lines.length);
});

t.test('$import: a job whose prepare thread stops is failed, with a reason that holds no data', async (t) => {
  const files = new Map<string, string>();
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/fhir+ndjson' }).end(files.get(req.url!) ?? ''));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const app = await bulkApp(t, new SqliteStore({ path: ':memory:' }), { importTrustedUrls: [`${base}/`], prepareThreads: 1 });
  files.set('/p.ndjson', Array.from({ length: BATCH * 3 }, (_, i) => patient(`j${i + 1}`, 'Secret-Village')).join('\n'));
  const pool = app.fhir.prepare!;
  const prepare = pool.prepare.bind(pool);
  pool.prepare = (texts, rules) => {
    const done = prepare(texts, rules);
    void pool.workers[0]?.terminate();
    return done;
  };
  const kick = await kickOff(app, 'POST', '/fhir/$import', {}, { resourceType: 'Parameters', parameter: [{ name: 'inputFormat', valueCode: 'application/fhir+ndjson' }, { name: 'input', part: [{ name: 'url', valueUri: `${base}/p.ndjson` }] }] });
  t.equal(kick.statusCode, 202);
  const { res } = await poll(app, kick.headers['content-location'] as string);
  t.equal(res.statusCode, 500, 'the status answers the failure');
  t.match(res.body, /a prepare thread stopped/);
  t.notMatch(res.body, /Secret-Village/);
});
