// The remote client's behaviour on bad days: retries with back-off on 503, Retry-After on 429,
// network errors, no retry on 4xx, one clear line per failure, credentials on every request
// (a static header from the environment; SMART Backend Services against a migfhir instance with
// authorization on), and no `next` link followed off the endpoint's origin.
import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type { Observation, Patient } from 'fhir/r4.js';
import { writeClient } from '../../src/auth/clients.ts';
import { credentialsFor } from '../../src/sync/auth.ts';
import { pull } from '../../src/sync/pull.ts';
import { RemoteFhir, retryAfterMs, type RetryNotice } from '../../src/sync/remote.ts';
import { AMKA, QUIET, endpoint, http, listeningServer } from './helpers.ts';

type Reply = { status: number; headers?: Record<string, string>; body?: unknown };

/** A tiny HTTP server answering from a script of replies, recording what it was sent. */
async function stub(script: Reply[]): Promise<{ base: string; seen: IncomingMessage[]; close: () => Promise<void> }> {
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    const reply = script[Math.min(seen.length - 1, script.length - 1)];
    res.writeHead(reply.status, { 'content-type': 'application/fhir+json', ...reply.headers });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { base: `http://127.0.0.1:${port}/fhir`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

const CS = { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'], date: '2026-01-01' };
const oo = (code: string, diagnostics: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });

t.test('503 then 200: retried with back-off, and the answer is returned', async (t) => {
  const s = await stub([{ status: 503, body: oo('transient', 'busy') }, { status: 503 }, { status: 200, body: CS }]);
  t.teardown(s.close);
  const notices: RetryNotice[] = [];
  const remote = new RemoteFhir(endpoint('flaky', s.base), { onRetry: (n) => notices.push(n) });
  const cs = await remote.capabilityStatement();
  t.equal(cs.resourceType, 'CapabilityStatement');
  t.equal(s.seen.length, 3);
  t.same(notices.map((n) => [n.attempt, n.reason]), [[1, 'HTTP 503'], [2, 'HTTP 503']]);
  t.ok(notices.every((n) => n.delayMs <= 20), 'back-off within the policy');
});

t.test('429 with Retry-After: waits as long as asked', async (t) => {
  const s = await stub([{ status: 429, headers: { 'retry-after': '1' }, body: oo('throttled', 'slow down') }, { status: 200, body: CS }]);
  t.teardown(s.close);
  const notices: RetryNotice[] = [];
  const remote = new RemoteFhir(endpoint('busy', s.base), { onRetry: (n) => notices.push(n) });
  const started = Date.now();
  await remote.capabilityStatement();
  t.ok(Date.now() - started >= 990, `waited ${Date.now() - started} ms`);
  t.equal(notices[0].delayMs, 1000);
  t.equal(notices[0].reason, 'HTTP 429');
  t.equal(retryAfterMs(new Date(Date.now() + 5000).toUTCString())! > 3000, true, 'an HTTP date works too');
});

t.test('a Retry-After beyond the policy fails at once, with one line', async (t) => {
  const s = await stub([{ status: 503, headers: { 'retry-after': '3600' } }]);
  t.teardown(s.close);
  await t.rejects(new RemoteFhir(endpoint('down', s.base)).capabilityStatement(), { message: 'down: GET /metadata failed: HTTP 503, and Retry-After asks for 3600 s (more than 5 s)' });
  t.equal(s.seen.length, 1);
});

t.test('attempts run out: the error says how many and why', async (t) => {
  const s = await stub([{ status: 502 }]);
  t.teardown(s.close);
  await t.rejects(new RemoteFhir(endpoint('gw', s.base)).request('GET', 'Patient?identifier=x%7Cy'), { message: 'gw: GET /Patient failed after 4 attempts: HTTP 502', status: 502 });
  t.equal(s.seen.length, 4);
});

t.test('4xx is not retried; the OperationOutcome is summarised; the query is not echoed', async (t) => {
  const s = await stub([{ status: 400, body: oo('invalid', 'unknown parameter') }]);
  t.teardown(s.close);
  await t.rejects(new RemoteFhir(endpoint('strict', s.base)).request('GET', 'Patient?identifier=secret%7C123'), { message: 'strict: GET /Patient failed: HTTP 400: invalid — unknown parameter' });
  t.equal(s.seen.length, 1);
});

t.test('network errors are retried, then reported', async (t) => {
  const s = await stub([{ status: 200 }]);
  const dead = s.base;
  await s.close(); // nothing listens there any more
  const notices: RetryNotice[] = [];
  await t.rejects(new RemoteFhir(endpoint('gone', dead), { onRetry: (n) => notices.push(n) }).capabilityStatement(), { message: /^gone: GET \/metadata failed after 4 attempts: network error \(ECONNREFUSED\)$/ });
  t.equal(notices.length, 3);
});

t.test('a next link to another origin is not followed', async (t) => {
  const s = await stub([{ status: 200, body: { resourceType: 'Bundle', type: 'searchset', entry: [], link: [{ relation: 'next', url: 'http://evil.example/fhir?page=2' }] } }]);
  t.teardown(s.close);
  const remote = new RemoteFhir(endpoint('x', s.base, { auth: { type: 'header', env: 'X_SYNC_TOKEN' } }), { credentials: credentialsFor(endpoint('x', s.base, { auth: { type: 'header', env: 'X_SYNC_TOKEN' } }), { X_SYNC_TOKEN: 't' }) });
  const pages = async () => {
    for await (const _ of remote.pages('Patient')) void _;
  };
  await t.rejects(pages(), { message: 'x: refused to follow a link to another origin (http://evil.example)' });
  t.equal(s.seen.length, 1);
});

t.test('a static auth header is read from the environment and sent on every request', async (t) => {
  const s = await stub([{ status: 200, body: CS }]);
  t.teardown(s.close);
  const e = endpoint('national', s.base, { auth: { type: 'header', header: 'Authorization', env: 'NATIONAL_TOKEN', prefix: 'Bearer ' } });
  const remote = new RemoteFhir(e, { credentials: credentialsFor(e, { NATIONAL_TOKEN: 's3cret-token' }) });
  await remote.request('GET', 'metadata');
  await remote.request('GET', 'Patient');
  t.same(s.seen.map((r) => r.headers.authorization), ['Bearer s3cret-token', 'Bearer s3cret-token']);
  const unset = new RemoteFhir(e, { credentials: credentialsFor(e, {}) });
  await t.rejects(unset.request('GET', 'metadata'), { message: 'national: the environment variable NATIONAL_TOKEN (the endpoint\'s Authorization header) is not set' });
  t.equal(s.seen.length, 2, 'nothing sent without the credential');
});

t.test('SMART Backend Services: a token is fetched with a signed assertion and sent; pull works against an instance with authorization on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-sync-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  writeFileSync(join(dir, 'key.jwk.json'), JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES384' }));
  const clientsFile = join(dir, 'clients.json');
  writeClient(clientsFile, { clientId: 'lesvos', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' }] }, scope: 'system/*.rs system/Patient.cruds' });
  const { app, base } = await listeningServer({ devOpenAccess: false, dataDir: dir, clientsFile, audit: 'off', rateLimit: 0 });
  t.teardown(() => app.close());
  // seed through the store: the API would need a token
  const store = app.fhir.repo;
  const patient: Patient = { resourceType: 'Patient', id: 'p1', identifier: [{ system: AMKA, value: '11111111111' }] };
  const observation: Observation = { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'bp' }, subject: { reference: 'Patient/p1' } };
  await store.create(patient);
  await store.create(observation);

  t.equal((await http('GET', `${base}/Patient`)).status, 401, 'the instance demands a token');
  const e = endpoint('national', base, { auth: { type: 'smart-backend-services', clientId: 'lesvos', privateKeyFile: join(dir, 'key.jwk.json'), scope: 'system/*.rs' } });
  const remote = new RemoteFhir(e);
  const r = await pull(remote, `${AMKA}|11111111111`, undefined, QUIET);
  t.equal(r.fetched, 2, 'the patient and its observation');

  const wrong = endpoint('national', base, { auth: { type: 'smart-backend-services', clientId: 'nobody', privateKeyFile: join(dir, 'key.jwk.json'), scope: 'system/*.rs' } });
  await t.rejects(new RemoteFhir(wrong).capabilityStatement().then(() => new RemoteFhir(wrong).request('GET', 'Patient')), { message: /^national: the token endpoint refused client 'nobody' \(invalid_client/ });
});
