// Issue #14, leaks 1 and 3: a client without the migration-data scope (X) must not learn
// migration status through the search index — by a custom SearchParameter that walks into the
// extension in any way, then $reindex and a search, :missing, :not, a chain, _has, _include or
// _revinclude, a conditional interaction — nor through the order of a _sort. The same attack
// runs on both engines: SQLite, and the MongoDB engine's queries evaluated by mingo.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { fhir } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STATUS_EXT = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
const STATUS_SYSTEM = 'https://migfhir.org/fhir/CodeSystem/migration-status';
const NATIONALITY = 'http://hl7.org/fhir/StructureDefinition/patient-nationality';

const status = (code: string) => ({
  url: STATUS_EXT,
  extension: [
    { url: 'status', valueCodeableConcept: { coding: [{ system: STATUS_SYSTEM, code }] } },
    { url: 'sourceDocument', valueReference: { reference: `DocumentReference/card-${code}` } },
  ],
});
const nationality = { url: NATIONALITY, extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'SY' }] } }] };

const searchParameter = (code: string, type: string, expression: string, base = 'Patient') => ({
  resourceType: 'SearchParameter', id: code, url: `http://example.org/fhir/SearchParameter/${code}`, name: code, status: 'active',
  description: 'test', code, base: [base], type, expression,
});

const engines: [string, () => ResourceStore | undefined][] = [
  ['SQLite', () => undefined],
  ['MongoDB queries on mingo', () => new MingoSearchStore()],
];

for (const [engine, store] of engines) {
  t.test(`${engine}: sensitive parameters cannot be searched, sorted or joined on without the scope`, async (t) => {
    const engineStore = store();
    const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read', alg: 'ES384' }, { store: engineStore });
    const Y = await bearer('system/*.cruds migfhir/migration-data.read');
    const X = await bearer('system/*.cruds');
    const as = (who: Record<string, string>) => (url: string) => fhir(app, 'GET', `/fhir/${url}`, undefined, who);
    const [x, y] = [as(X), as(Y)];

    // Y records the patients; p3's nationality is no migration data
    await put(app, Y, { resourceType: 'Practitioner', id: 'dr' });
    await put(app, Y, { resourceType: 'DocumentReference', id: 'card-irregular', status: 'current', content: [{ attachment: { contentType: 'text/plain' } }] });
    await put(app, Y, { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], generalPractitioner: [{ reference: 'Practitioner/dr' }], extension: [nationality, status('irregular')] });
    await put(app, Y, { resourceType: 'Patient', id: 'p2', name: [{ family: 'Ahmadi' }], extension: [status('refugee')] });
    await put(app, Y, { resourceType: 'Patient', id: 'p3', name: [{ family: 'Nowak' }], extension: [nationality] });
    await put(app, Y, { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' } });

    // X defines parameters that walk into the extension without extension('…'), and reindexes
    const where = `Patient.extension.where(url = '${STATUS_EXT}')`;
    await put(app, X, searchParameter('mstat', 'token', `${where}.extension.where(url = 'status').value`));
    await put(app, X, searchParameter('anyext', 'token', 'Patient.extension.extension.value'));
    await put(app, X, searchParameter('mdoc', 'reference', `${where}.extension.value.ofType(Reference)`));
    await put(app, X, searchParameter('nat', 'token', `Patient.extension.where(url = '${NATIONALITY}').extension.value`));
    t.equal((await fhir(app, 'POST', '/fhir/$reindex', undefined, X)).status, 202);
    await (app as FastifyInstance & { fhir: { jobs: { idle(): Promise<void> } } }).fhir.jobs.idle();

    if (engineStore instanceof MingoSearchStore) {
      const marks = Object.fromEntries(engineStore.documents().filter((d) => d.type === 'Patient').map((d) => [d.id, d.sens]));
      t.same(marks, { p1: ['Patient.anyext', 'Patient.mdoc', 'Patient.mstat'], p2: ['Patient.anyext', 'Patient.mdoc', 'Patient.mstat'], p3: undefined }, 'the documents mark their sensitive parameters');
    }

    // Y, with the scope, searches on them as before
    t.same(ids(await y('Patient?mstat=irregular')), ['p1'], 'the scope finds the status');
    t.same(ids(await y('Patient?anyext=irregular')), ['p1']);
    t.same(ids(await y('Observation?subject:Patient.mstat=irregular')), ['o1']);
    t.same(ids(await y('Patient?_sort=mstat&name=haddad,ahmadi')), ['p1', 'p2']);
    t.same(ids(await y('DocumentReference?_has:Patient:mdoc:_id=p1')), ['card-irregular']);

    // X: every way of reading the parameters' rows is refused
    const refused = [
      'Patient?mstat=irregular',
      'Patient?anyext=irregular',
      `Patient?anyext=${encodeURIComponent(`${STATUS_SYSTEM}|irregular`)}`,
      'Patient?mstat:missing=true',
      'Patient?mstat:missing=false',
      'Patient?mstat:not=irregular',
      'Patient?_sort=mstat',
      'Patient?_sort=-anyext&name=haddad',
      'Observation?subject:Patient.mstat=irregular',
      'Observation?subject:Patient.anyext:missing=false',
      'Practitioner?_has:Patient:general-practitioner:mstat=irregular',
      'DocumentReference?_has:Patient:mdoc:_id=p1',
      'Patient?mdoc=DocumentReference/card-irregular',
      'Patient?_include=Patient:mdoc',
      'Patient?_include=Patient:*',
      'DocumentReference?_revinclude=Patient:mdoc',
      '?_type=Patient&mstat=irregular',
      'Practitioner/dr/Patient?mstat=irregular',
    ];
    for (const url of refused) {
      const res = await x(url);
      t.equal(res.status, 403, `refused: ${url}`);
      t.equal(res.body?.issue?.[0]?.code, 'forbidden', url);
      t.notOk(JSON.stringify(res.body).includes('irregular') && !url.includes('irregular'), 'the refusal tells nothing of the data');
    }
    const post = await app.inject({ method: 'POST', url: '/fhir/Patient/_search', headers: { ...X, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'mstat=irregular' });
    t.equal(post.statusCode, 403, 'POST _search too');
    // conditional interactions search too: their outcome would tell whether a match exists
    const conditional = await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient' }, { ...X, 'if-none-exist': 'mstat=irregular' });
    t.equal(conditional.status, 403, 'If-None-Exist on it');
    t.equal((await fhir(app, 'DELETE', '/fhir/Patient?mstat=irregular', undefined, X)).status, 403, 'conditional delete on it');
    t.equal((await fhir(app, 'PUT', '/fhir/Patient?anyext=irregular', { resourceType: 'Patient' }, X)).status, 403, 'conditional update on it');
    t.same(ids(await y('Patient?mstat=irregular')), ['p1'], 'nothing was deleted');

    // what reads no sensitive rows keeps working for X, custom parameters included
    t.same(ids(await x('Patient?nat=SY&_sort=family')), ['p1', 'p3'], 'a custom parameter on another extension');
    t.same(ids(await x('Patient?_sort=family')), ['p2', 'p1', 'p3']);
    t.same(ids(await x('Observation?subject:Patient.name=haddad')), ['o1']);
    t.same(ids(await x('Practitioner?_has:Patient:general-practitioner:name=haddad')), ['dr']);
    t.equal((await x('Patient?_include=Patient:general-practitioner')).status, 200);
    t.equal((await x('Patient/p1')).status, 200, 'reads are redacted, not refused');

    // the marks follow the data: once no current resource holds a status, nothing is left to hide
    await put(app, Y, { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [nationality] }, 200);
    t.equal((await x('Patient?mstat=irregular')).status, 403, 'p2 still has a status');
    t.equal((await fhir(app, 'DELETE', '/fhir/Patient/p2', undefined, Y)).status, 200);
    if (engineStore instanceof MingoSearchStore) t.notOk(engineStore.documents().some((d) => d.sens), 'no document keeps a mark');
    t.notOk(await (engineStore ?? appStore(app)).hasSensitiveRows(['Patient.mstat', 'Patient.anyext', 'Patient.mdoc']), 'no row is marked');
    // … but these parameters' expressions walk into any extension: they stay refused whatever
    // the data, or the refusal itself would tell whether some patient has a status
    t.equal((await x('Patient?mstat=irregular')).status, 403, 'refused with no sensitive row left');
    t.equal((await x('Patient?anyext=SY&_sort=anyext')).status, 403);
    t.same(ids(await x('Patient?nat=SY&_sort=family')), ['p1', 'p3'], 'the parameter on a named, non-sensitive extension still works');
  });
}

t.test('the refusal is no oracle: a probe on one patient is refused whether or not that patient has the status', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read', alg: 'ES384' });
  const Y = await bearer('system/*.cruds migfhir/migration-data.read');
  const X = await bearer('system/*.cruds');
  await put(app, Y, { resourceType: 'Patient', id: 'p1', extension: [status('irregular')] });
  await put(app, Y, { resourceType: 'Patient', id: 'p2', extension: [status('refugee')] });
  const probe = (id: string) =>
    `Patient.where(id = '${id}' and extension.where(url = '${STATUS_EXT}').extension.where(url = 'status').value.coding.code = 'irregular').id`;
  await put(app, X, searchParameter('probe1', 'token', probe('p1')));
  await put(app, X, searchParameter('probe2', 'token', probe('p2')));
  // R4 Questionnaire answers and base64 content are reached without naming an extension
  await put(app, X, searchParameter('answers', 'string', "QuestionnaireResponse.item.where(linkId = 'legal-situation').item.answer.value", 'QuestionnaireResponse'));
  await put(app, X, searchParameter('content', 'string', 'Binary.data', 'Binary'));
  t.equal((await fhir(app, 'POST', '/fhir/$reindex', undefined, X)).status, 202);
  await (app as FastifyInstance & { fhir: { jobs: { idle(): Promise<void> } } }).fhir.jobs.idle();
  const statuses = [];
  for (const url of ['Patient?probe1=p1', 'Patient?probe2=p2', 'Patient?probe1:missing=true', 'Patient?probe2:missing=true', 'QuestionnaireResponse?answers=asylum', 'Binary?content=x']) {
    statuses.push((await fhir(app, 'GET', `/fhir/${url}`, undefined, X)).status);
  }
  t.same(statuses, [403, 403, 403, 403, 403, 403], 'the same answer for the irregular and the refugee patient');
  t.same(ids(await fhir(app, 'GET', '/fhir/Patient?probe1=p1', undefined, Y)), ['p1'], 'with the scope the parameter works');
});

t.test('the audit trail does not repeat a sensitive query to clients without the scope', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read', alg: 'ES384' });
  const Y = await bearer('system/*.cruds migfhir/migration-data.read');
  const X = await bearer('system/*.cruds');
  await put(app, Y, searchParameter('ms', 'token', `Patient.extension('${STATUS_EXT}').extension('status').value`));
  await put(app, Y, { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [status('irregular')] });
  t.same(ids(await fhir(app, 'GET', '/fhir/Patient?ms=irregular&name=haddad', undefined, Y)), ['p1']);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?ms=refugee', undefined, X)).status, 403);
  t.same(ids(await fhir(app, 'GET', '/fhir/Patient?name=haddad', undefined, Y)), ['p1']);
  await (app as FastifyInstance & { fhir: { audit: { flush(): Promise<void> } } }).fhir.audit.flush();
  const queries = (res: { body: any }) => (res.body.entry ?? [])
    .map((e: any) => e.resource.entity?.find((x: any) => x.query)?.query)
    .filter(Boolean).map((q: string) => Buffer.from(q, 'base64').toString('utf8')).sort();
  const url = '/fhir/AuditEvent?subtype=search-type&_count=100';
  t.same(queries(await fhir(app, 'GET', url, undefined, Y)), ['ms=irregular&name=haddad', 'ms=refugee', 'name=haddad'], 'the scope sees every query');
  const seen = await fhir(app, 'GET', url, undefined, X);
  t.same(queries(seen), [], 'without it, no query is shown: one withheld among others shown would say which were about migration data');
  t.notOk(seen.body.entry.some((e: any) => e.resource.entity?.some((x: any) => x.query || x.detail)), 'no event keeps its query or details: labelled and unlabelled events look alike to it');
  t.notOk(seen.raw.includes('irregular') || seen.raw.includes('refugee'), 'nowhere in the events');
  const marked = seen.body.entry.filter((e: any) => e.resource.meta.security?.some((c: any) => c.code === 'REDACTED' || c.system === 'https://migfhir.org/fhir/CodeSystem/sensitivity'));
  t.equal(marked.length, 0, 'no event says which ones were redacted');
  t.ok((await fhir(app, 'GET', url, undefined, Y)).body.entry.filter((e: any) => e.resource.meta.security?.some((c: any) => c.code === 'migration')).length >= 2, 'the scope sees the two events labelled');
});

t.test('a parameter declared on the extension is refused before any row exists, _sort included', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read', alg: 'ES384' });
  const X = await bearer('system/*.cruds');
  await put(app, X, searchParameter('ms', 'token', `Patient.extension('${STATUS_EXT}').extension('status').value`));
  for (const url of ['Patient?ms=irregular', 'Patient?_sort=ms', 'Patient?_sort=-ms', 'Patient?ms:missing=true']) {
    t.equal((await fhir(app, 'GET', `/fhir/${url}`, undefined, X)).status, 403, url);
  }
});

t.test('a database indexed before rows were marked gets its marks at the next start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-marks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'migfhir.sqlite');
  const scopes = { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read', alg: 'ES384' as const };
  await t.test('an earlier run', async (t) => {
    const { app, bearer } = await authorizedApp(t, scopes, { store: new SqliteStore({ path }) });
    const Y = await bearer('system/*.cruds migfhir/migration-data.read');
    await put(app, Y, searchParameter('anyext', 'token', 'Patient.extension.extension.value'));
    await put(app, Y, { resourceType: 'Patient', id: 'p1', extension: [status('irregular')] });
  });
  // what an earlier version left: the same rows, without marks
  const db = new Database(path);
  db.exec('DROP TABLE sp_sensitive');
  db.close();

  const store = new SqliteStore({ path });
  t.ok(store.unmarkedSensitiveRows, 'the store sees rows without marks');
  const { app, bearer } = await authorizedApp(t, scopes, { store });
  await (app as FastifyInstance & { fhir: { jobs: { idle(): Promise<void> } } }).fhir.jobs.idle();
  const X = await bearer('system/*.cruds');
  t.ok(await store.hasSensitiveRows(['Patient.anyext']), 'marked by the reindex at start');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?anyext=irregular', undefined, X)).status, 403);
  t.same(ids(await fhir(app, 'GET', '/fhir/Patient?anyext=irregular', undefined, await bearer('system/*.cruds migfhir/migration-data.read'))), ['p1']);
  const fresh = new SqliteStore({ path: ':memory:' });
  t.notOk(fresh.unmarkedSensitiveRows, 'a new database has nothing to mark');
  await fresh.close();
});

async function put(app: FastifyInstance, who: Record<string, string>, resource: { resourceType: string; id: string; [element: string]: unknown }, expected?: number) {
  const res = await fhir(app, 'PUT', `/fhir/${resource.resourceType}/${resource.id}`, resource, who);
  if (expected ? res.status !== expected : res.status >= 300) throw new Error(`PUT ${resource.resourceType}/${resource.id}: ${res.status} ${res.raw}`);
  return res;
}

/** The store behind an app built on the default engine. */
function appStore(app: FastifyInstance): ResourceStore {
  return (app as FastifyInstance & { fhir: { repo: { store: ResourceStore } } }).fhir.repo.store;
}

function ids(res: { status: number; body: any }): string[] {
  if (res.status !== 200) return [`status ${res.status}`];
  return (res.body.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id);
}
