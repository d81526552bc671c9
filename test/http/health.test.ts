// /healthz, /readyz and /metrics (src/http/health.ts, src/http/metrics.ts): outside the FHIR
// base path, no authorization, no data; /metrics counts what the server answered and is
// readable only as --metrics-access says.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { readiness } from '../../src/http/health.ts';
import type { Context } from '../../src/rest/types.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { bytesOf, FIXTURES } from '../mapping/hl7v2/fixtures.ts';

const TOKEN = 'x'.repeat(40);

t.test('/healthz and /readyz answer without a token, outside the base path, with no data', async (t) => {
  const { app } = await authorizedApp(t, { id: 'c', scope: 'system/*.rs' });
  t.equal((await fhir(app, 'GET', '/fhir/Patient')).status, 401, 'the API wants a token');
  const live = await fhir(app, 'GET', '/healthz');
  t.equal(live.status, 200);
  t.same(live.body, { status: 'alive' });
  const ready = await fhir(app, 'GET', '/readyz');
  t.equal(ready.status, 200);
  t.equal(ready.body.status, 'ready');
  t.same(Object.keys(ready.body.checks).sort(), ['audit', 'ig', 'store']);
  t.ok(Object.values(ready.body.checks).every((c: any) => c.ok === true));
  t.equal(ready.headers['cache-control'], 'no-store');
});

t.test('/readyz is 503 naming the check that fails: the database gone', async (t) => {
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig(), { store });
  t.teardown(() => app.close());
  await store.close();
  const res = await fhir(app, 'GET', '/readyz');
  t.equal(res.status, 503);
  t.equal(res.body.status, 'not ready');
  t.equal(res.body.checks.store.ok, false);
  t.equal(res.body.checks.ig.ok, true);
});

t.test('readiness: no IG, or an audit backlog at its bound, is not ready', async (t) => {
  const store = { health: async () => ({ ready: true, detail: 'SQLite answers', gauges: {} }) };
  const ctx = (extra: object) => ({ repo: { store }, ...extra }) as unknown as Context;
  t.match(await readiness(ctx({})), { ready: false, checks: { ig: { ok: false }, audit: { ok: true } } });
  const ig = { name: 'migfhir.fhir.ig', version: '0.1.0' };
  t.match(await readiness(ctx({ ig, audit: { pending: 9, bound: 10 } })), { ready: true });
  t.match(await readiness(ctx({ ig, audit: { pending: 10, bound: 10 } })), { ready: false, checks: { audit: { ok: false, detail: /bound/ } } });
});

t.test('/metrics counts requests, invalid writes, HL7 v2 ACKs, the audit trail and the database, without data', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-metrics-'));
  const store = new SqliteStore({ path: join(dir, 'migfhir.sqlite') });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const created = await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Haidari-Metrics' }] });
  t.equal(created.status, 201);
  await fhir(app, 'GET', `/fhir/Patient/${created.body.id}`);
  await fhir(app, 'GET', `/fhir/Patient/${created.body.id}`);
  t.equal((await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', gender: 'sometimes' })).status, 422, 'a code outside a required value set');
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'X' }] } }] })).status, 200);
  const f = FIXTURES.find((x) => x.name.startsWith('A01 Greek inpatient'))!;
  const ingested = await app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': 'x-application/hl7-v2+er7' }, payload: bytesOf(f) });
  t.equal(ingested.statusCode, 200);

  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  t.match(text, /migfhir_http_requests_total\{interaction="create",type="Patient",status="201"\} 1\n/);
  t.match(text, /migfhir_http_requests_total\{interaction="read",type="Patient",status="200"\} 2\n/);
  t.match(text, /migfhir_http_requests_total\{interaction="create",type="Patient",status="422"\} 1\n/);
  t.match(text, /migfhir_validation_failures_total\{interaction="create",type="Patient"\} 1\n/);
  t.match(text, /migfhir_http_requests_total\{interaction="operation",type="Patient",status="200"\} 1\n/, 'a fixed route ($match) names its type');
  t.match(text, /migfhir_http_request_duration_seconds_count\{interaction="read",type="Patient"\} 2\n/);
  t.match(text, /migfhir_hl7v2_messages_total\{door="http",ack="AA"\} 1\n/);
  t.match(text, /migfhir_audit_backlog \d+\n/);
  t.match(text, /migfhir_audit_lag_seconds [\d.e-]+\n/);
  t.match(text, /migfhir_store_gauge\{name="sqlite_database_bytes"\} [1-9]\d*\n/);
  t.match(text, /migfhir_store_gauge\{name="sqlite_wal_bytes"\} \d+\n/);
  t.match(text, /migfhir_store_ready 1\n/);
  t.match(text, /migfhir_process_cpu_seconds_total/, 'process metrics');
  t.notMatch(text, /Haidari|Παπαδοπούλου/, 'no patient data');
  t.notMatch(text, new RegExp(created.body.id), 'no ids');
});

t.test('/metrics access: loopback by default, a token when asked, or off', async (t) => {
  const loopback = await testApp();
  t.teardown(() => loopback.close());
  t.equal((await loopback.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'from 127.0.0.1');
  t.equal((await loopback.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7' })).statusCode, 403, 'not from another address');
  t.equal((await loopback.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': '127.0.0.1' } })).statusCode, 403, 'a forwarded header does not make a caller local');
  const token = await testApp({ metricsAccess: 'token', metricsToken: TOKEN });
  t.teardown(() => token.close());
  t.equal((await token.inject({ method: 'GET', url: '/metrics' })).statusCode, 403, 'no token');
  t.equal((await token.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${'y'.repeat(40)}` } })).statusCode, 403, 'a wrong token');
  t.equal((await token.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200, 'the token, from anywhere');
  const off = await testApp({ metricsAccess: 'off' });
  t.teardown(() => off.close());
  t.equal((await off.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
});
