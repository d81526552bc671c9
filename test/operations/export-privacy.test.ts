// A bulk export is the easiest way to leak a whole population: the same rules as every other
// answer, tested over every line of every file. A client without the migration-data scope gets
// no sensitive element anywhere (resources, Binary content); scopes hold per type; a
// _typeFilter cannot search migration data without the scope; only the client that started an
// export sees it; files need the token; the purpose-of-use firewall applies; the kick-off and
// every download are audited. Both engines.
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import { writeClient } from '../../src/auth/clients.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { fhir } from '../helpers/app.ts';
import { appWithClients, AUTH_BASE } from '../helpers/authorized-app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { kickOff, pathOf, poll, runExport, type ExportRun } from '../helpers/bulk-client.ts';

const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
const ALL = 'system/*.cruds migfhir/migration-data.read';
const REFUSED = 'https://migfhir.org/fhir/CodeSystem/purpose-of-use|immigration-enforcement';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');
const status = (code: string) => ({ url: STATUS, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code }] } }] });
/** what must not appear in anything a client without the scope receives */
const SECRETS = [STATUS, 'asylum-applicant', 'irregular', 'refugee-status'];

async function twoClients(t: Test, store: ResourceStore): Promise<{ app: FastifyInstance; bearer: (client: 'c' | 'd', scope: string) => Promise<{ authorization: string }> }> {
  const keys = { c: await generateKeyPair('ES384', { extractable: true }), d: await generateKeyPair('ES384', { extractable: true }) };
  const app = await appWithClients(t, async (file) => {
    for (const id of ['c', 'd'] as const) writeClient(file, { clientId: id, jwks: { keys: [{ ...(await exportJWK(keys[id].publicKey)), kid: 'k', alg: 'ES384' }] }, scope: ALL });
  }, { store, config: { audit: 'on' } });
  const bearer = async (client: 'c' | 'd', scope: string) => {
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'k' }).setIssuer(client).setSubject(client).setAudience(`${AUTH_BASE}/auth/token`)
      .setExpirationTime('4m').setJti(randomUUID()).sign(keys[client].privateKey);
    const res = await app.inject({
      method: 'POST', url: '/fhir/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString(),
    });
    return { authorization: `Bearer ${JSON.parse(res.body).access_token}` };
  };
  return { app, bearer };
}

async function seed(t: Test, app: FastifyInstance, y: Record<string, string>): Promise<void> {
  const put = async (r: any) => t.equal((await fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r, y)).status, 201, `${r.resourceType}/${r.id}`);
  // the parameter first, so the patients are indexed for it
  await put({ resourceType: 'SearchParameter', id: 'ms', url: 'https://migfhir.org/fhir/SearchParameter/migration-status', name: 'migration-status', status: 'active', description: 'x', code: 'migration-status', base: ['Patient'], type: 'token', expression: `Patient.extension('${STATUS}').extension('status').value` });
  await put({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [status('asylum-applicant')] });
  await put({ resourceType: 'Patient', id: 'p2', name: [{ family: 'Okafor' }], extension: [status('irregular')] });
  await put({ resourceType: 'Patient', id: 'p3', name: [{ family: 'Nowak' }] });
  await put({ resourceType: 'Binary', id: 'b1', contentType: 'application/fhir+json', data: b64({ resourceType: 'Patient', id: 'x', extension: [status('refugee-status')] }) });
  await put({ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' } });
  await put({ resourceType: 'Group', id: 'g1', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: 'Patient/p2' } }] });
}

/** every line of every file, and Binary contents decoded */
function everything(run: ExportRun): string {
  const texts: string[] = [];
  for (const lines of run.files.values()) {
    for (const r of lines) {
      texts.push(JSON.stringify(r));
      if (r.resourceType === 'Binary' && r.data) texts.push(Buffer.from(r.data, 'base64').toString('utf8'));
    }
  }
  return texts.join('\n');
}

const engines: [string, () => ResourceStore][] = [['SQLite', () => new SqliteStore({ path: ':memory:' })], ['MongoDB compiler on mingo', () => new MingoSearchStore()]];

for (const [engine, store] of engines) {
  t.test(`${engine}: an export for a client without the migration-data scope holds no sensitive element in any file`, async (t) => {
    const { app, bearer } = await twoClients(t, store());
    const y = await bearer('c', ALL);
    const x = await bearer('c', 'system/*.read');
    await seed(t, app, y);
    for (const url of ['/fhir/$export?_type=Patient,Binary,Observation,Group', '/fhir/Patient/$export', '/fhir/Group/g1/$export']) {
      const withScope = await runExport(app, 'GET', url, y);
      const all = everything(withScope);
      t.ok(all.includes('asylum-applicant') && all.includes('irregular'), `${url}: the scope's export holds the migration data (the data is there to leak)`);
      const run = await runExport(app, 'GET', url, x);
      t.ok(run.manifest.requiresAccessToken, 'requiresAccessToken');
      t.ok(run.files.size > 0, `${url}: files written`);
      const text = everything(run);
      for (const s of SECRETS) t.notOk(text.includes(s), `${url}: no '${s}' in any line of any file`);
      const patients = [...run.files.values()].flat().filter((r) => r.resourceType === 'Patient');
      for (const p of patients) t.notOk(p.meta?.security?.some((s: any) => s.code === 'REDACTED' || s.code === 'migration' || s.code === 'R'), `${url}: Patient/${p.id}: no line says whose was redacted`);
      const file = await app.inject({ method: 'GET', url: new URL([...run.files.keys()][0]).pathname, headers: x });
      t.match(file.headers['x-sensitive-data'], /^withheld/, `${url}: a file's answer carries the notice instead`);
      t.equal(patients.find((p) => p.id === 'p1')?.name[0].family, 'Haddad', `${url}: the rest of the resource is there`);
    }
  });
}

t.test('scopes per type, sensitive filters, ownership, token, firewall and audit', async (t) => {
  const { app, bearer } = await twoClients(t, new SqliteStore({ path: ':memory:' }));
  const y = await bearer('c', ALL);
  await seed(t, app, y);
  const obsOnly = await bearer('c', 'system/Observation.rs');
  t.equal((await kickOff(app, 'GET', '/fhir/$export?_type=Patient', obsOnly)).statusCode, 403, 'a type named that the token may not read');
  const limited = await runExport(app, 'GET', '/fhir/$export', obsOnly);
  t.same(limited.manifest.output.map((f) => f.type), ['Observation'], 'without _type: only the types the token may read');
  t.equal((await kickOff(app, 'GET', '/fhir/Group/g1/$export', obsOnly)).statusCode, 403, 'Group export needs reading the Group');

  const x = await bearer('c', 'system/*.read');
  const sensitiveFilter = await kickOff(app, 'GET', `/fhir/$export?_type=Patient&_typeFilter=${encodeURIComponent('Patient?migration-status=asylum-applicant')}`, x);
  t.equal(sensitiveFilter.statusCode, 403, 'no filtering on migration data without the scope (the cohort would reveal it)');
  const withScope = await runExport(app, 'GET', `/fhir/$export?_type=Patient&_typeFilter=${encodeURIComponent('Patient?migration-status=asylum-applicant')}`, y);
  t.same([...withScope.files.values()].flat().map((r) => r.id), ['p1'], 'the scope may');

  const run = await runExport(app, 'GET', '/fhir/$export?_type=Patient,Observation', x);
  const file = pathOf(run.manifest.output[0].url);
  t.equal((await app.inject({ method: 'GET', url: file })).statusCode, 401, 'a file needs the access token');
  const other = await bearer('d', ALL);
  t.equal((await app.inject({ method: 'GET', url: file, headers: other })).statusCode, 404, 'another client cannot download it');
  t.equal((await app.inject({ method: 'GET', url: pathOf(run.status), headers: other })).statusCode, 404, 'nor see its status');
  t.equal((await app.inject({ method: 'DELETE', url: pathOf(run.status), headers: other })).statusCode, 404, 'nor delete it');
  const refused = await app.inject({ method: 'GET', url: file, headers: { ...x, 'x-purpose-of-use': REFUSED } });
  t.equal(refused.statusCode, 403, 'the purpose-of-use firewall applies to downloads');
  t.equal((await kickOff(app, 'GET', '/fhir/$export', { ...y, 'x-purpose-of-use': REFUSED })).statusCode, 403, 'and to the kick-off');
  t.equal((await app.inject({ method: 'GET', url: '/fhir/$export-file/../../etc/passwd', headers: x })).statusCode, 404, 'no path but the job\'s own files');

  await app.fhir.audit!.flush();
  const events = (await fhir(app, 'GET', '/fhir/AuditEvent?_count=1000', undefined, y)).body.entry.map((e: any) => e.resource);
  const job = `Task/${run.status.split('/').pop()}`;
  const downloads = events.filter((e: any) => e.agent[0].altId === 'c' && e.action === 'R' && e.outcome === '0' && e.entity?.[0]?.what?.reference === job);
  t.equal(downloads.length, run.manifest.output.length, 'one AuditEvent per file download, naming the export');
  const kicks = events.filter((e: any) => e.subtype?.[0]?.code === 'operation' && e.action === 'E' && e.outcome === '0');
  t.equal(kicks.length, 3, 'each kick-off that started a job is audited (the refused ones as failures)');
  // the job's Task over REST: its request (the cohort asked for, the filters) only for its client
  const jobId = run.status.split('/').pop();
  const mine = (await fhir(app, 'GET', `/fhir/Task/${jobId}`, undefined, x)).body;
  t.ok(mine.input?.length, 'the client that started the job reads its request');
  const theirs = (await fhir(app, 'GET', `/fhir/Task/${jobId}`, undefined, other)).body;
  t.equal(theirs.resourceType, 'Task');
  t.notOk(theirs.input || theirs.output, 'another client reads the job Task without its request and files');
  const searched = (await fhir(app, 'GET', '/fhir/Task?_count=100', undefined, other)).body;
  const jobs = searched.entry.map((e: any) => e.resource).filter((r: any) => r.code?.coding?.some((c: any) => c.system === 'https://migfhir.org/fhir/CodeSystem/server-job'));
  t.ok(jobs.length >= 1, 'job Tasks are listed');
  t.notOk(jobs.some((r: any) => r.input || r.output), 'nor in a search');
  const history = (await fhir(app, 'GET', `/fhir/Task/${jobId}/_history`, undefined, other)).body;
  t.ok(history.entry.length >= 1 && history.entry.every((e: any) => !e.resource.input && !e.resource.output), 'nor in its history');
});

t.test('a job survives a restart of the server: a finished one stays downloadable', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { buildApp } = await import('../../src/app.ts');
  const { testConfig } = await import('../../src/config.ts');
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-export-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = testConfig({ baseUrl: AUTH_BASE, dataDir: dir });
  const first = await buildApp(config);
  await fhir(first, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' });
  const run = await runExport(first, 'GET', '/fhir/$export?_type=Patient');
  const inFlight = await kickOff(first, 'GET', '/fhir/$export?_type=Patient');
  await first.close();
  const second = await buildApp(config);
  t.teardown(() => second.close());
  const again = await app2Manifest(second, run.status);
  t.same(again.output.map((f: any) => f.count), [1], 'the finished job\'s manifest, from the store');
  t.equal((await second.inject({ method: 'GET', url: pathOf(again.output[0].url) })).statusCode, 200, 'and its file');
  const { res } = await poll(second, inFlight.headers['content-location'] as string);
  t.equal(res.statusCode, 200, 'a job in flight at shutdown finished after the restart');
});

async function app2Manifest(app: FastifyInstance, status: string): Promise<any> {
  const { res } = await poll(app, status);
  return JSON.parse(res.body);
}
