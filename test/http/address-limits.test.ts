// Issue #14, leak 7: requests without a valid token were never rate-limited and each wrote an
// AuditEvent, so anyone could grow the trail without bound; token requests shared one
// per-address count with everything public. Now both are limited per address, and past the
// limit one event per window states how many were refused.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { AuditEvent } from 'fhir/r4.js';
import { WindowLimiter, type Overflow } from '../../src/http/address-limits.ts';
import { buildApp } from '../../src/app.ts';
import { writeClient } from '../../src/auth/clients.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { fhir } from '../helpers/app.ts';
import { AUTH_BASE, authorizedApp } from '../helpers/authorized-app.ts';

const SCOPE = 'system/Patient.rs system/AuditEvent.rs';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

t.test('a window counts per key, refuses past the limit and reports the count when it ends', async (t) => {
  let now = 1_000_000;
  const reported: Overflow[] = [];
  const limiter = new WindowLimiter({ max: 2, windowMs: 60_000, now: () => now, onOverflow: (o) => reported.push(o) });
  t.teardown(() => limiter.close());
  t.equal(limiter.hit('a'), undefined);
  t.equal(limiter.hit('a'), undefined);
  t.equal(limiter.hit('a'), 60, 'the third is refused for the rest of the window');
  now += 30_000;
  t.equal(limiter.hit('a'), 30);
  t.equal(limiter.hit('b'), undefined, 'another key has its own count');
  limiter.sweep();
  t.same(reported, [], 'nothing is reported while the window lasts');
  now += 30_000;
  limiter.sweep();
  t.same(reported, [{ key: 'a', count: 2, first: 1_000_000, last: 1_030_000 }], 'one report for the window, with the count');
  t.equal(limiter.hit('a'), undefined, 'a new window');
  const small = new WindowLimiter({ max: 1, windowMs: 60_000, now: () => now, onOverflow: (o) => reported.push(o), maxKeys: 2 });
  small.hit('x');
  small.hit('y');
  small.hit('z');
  t.equal(small.hit('w'), 60, 'past the tracked keys, new addresses share one count');
  small.close();
  t.same(reported.at(-1), { key: '*', count: 1, first: now, last: now }, 'closing reports the open windows');
});

t.test('requests without a valid token: limited per address, audited one by one, then one event for the rest', async (t) => {
  // the limits' clock is the test's: a loaded machine cannot make the window end mid-test
  let now = Date.now();
  const { app, bearer } = await authorizedApp(t, { id: 'clinic', scope: SCOPE }, { config: { anonymousRateLimit: 5 }, options: { limitWindowMs: 60_000, limitNow: () => now } });
  const auth = await bearer(SCOPE);
  // the attacker shares the address of the legitimate client (inject's 127.0.0.1), as behind a proxy
  const attacker = { remoteAddress: '127.0.0.1' };
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const res = await app.inject({ method: 'GET', url: `/fhir/Patient/p${i}`, headers: i % 2 ? { authorization: 'Bearer not.a.token' } : {}, ...attacker });
    statuses.push(res.statusCode);
    if (res.statusCode === 429) {
      t.equal(JSON.parse(res.body).issue[0].code, 'throttled');
      t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After');
    }
  }
  t.same(statuses, [...Array(5).fill(401), ...Array(35).fill(429)], 'missing and invalid tokens count alike');
  t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient/x', remoteAddress: '198.51.100.1' })).statusCode, 401, 'another address has its own count');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_count=1', undefined, auth)).status, 200, 'a valid token from the same address is not limited by it');
  t.match((await bearer(SCOPE)).authorization, /^Bearer [A-Za-z0-9]/, 'nor is token issuance');
  // the window ends; the attacker's next request opens a new one (and reports the old)
  now += 60_001;
  t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient/again', ...attacker })).statusCode, 401);
  await app.fhir.audit!.flush();
  const trail = await fhir(app, 'GET', '/fhir/AuditEvent?address=127.0.0.1&altid=anonymous&_count=100', undefined, auth);
  const events: AuditEvent[] = trail.body.entry.map((e: any) => e.resource);
  t.equal(events.filter((e) => e.type.code === 'rest').length, 6, 'the five within the limit and the one of the new window, each audited');
  const aggregated = events.filter((e) => e.type.code === '110114');
  t.equal(aggregated.length, 1, 'one event for the 35 refused past the limit');
  t.match(aggregated[0].outcomeDesc, /^35 requests without a valid access token refused past the limit/);
  t.equal(aggregated[0].agent[0].network?.address, '127.0.0.1');
  t.ok(aggregated[0].period?.start && aggregated[0].period.start <= aggregated[0].period.end!, 'with when they came');
});

t.test('the token endpoint: its own count per address and named client; every request audited without its assertion', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'clinic', scope: SCOPE }, { config: { tokenRateLimit: 3, rateLimit: 4 } });
  // the flood comes from the address the registered client uses too (inject's), as behind a proxy
  const proxy = { remoteAddress: '127.0.0.1' };
  const garbage = (i: number) => new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, client_assertion_type: ASSERTION_TYPE, client_assertion: `eyJhbGciOiJSUzM4NCJ9.eyJpc3MiOiJub2JvZHkifQ.secret-signature-${i}` }).toString();
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await app.inject({ method: 'POST', url: '/fhir/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: garbage(i), ...proxy });
    statuses.push(res.statusCode);
    if (res.statusCode === 429) t.ok(Number(res.headers['retry-after']) >= 1);
  }
  t.same(statuses, [...Array(3).fill(401), ...Array(7).fill(429)]);
  // /metadata and discovery floods from the same address do not touch the token count either
  for (let i = 0; i < 6; i++) await app.inject({ method: 'GET', url: '/fhir/.well-known/smart-configuration', ...proxy });
  t.match((await bearer(SCOPE)).authorization, /^Bearer [A-Za-z0-9]/, 'a registered client still gets its token');
  const auth = await bearer(SCOPE);
  await app.fhir.audit!.flush();
  const trail = await fhir(app, 'GET', '/fhir/AuditEvent?type=110114&_count=100', undefined, auth);
  const events: AuditEvent[] = trail.body.entry.map((e: any) => e.resource);
  const failed = events.filter((e) => e.outcome === '4');
  t.equal(failed.length, 3, 'each refused token request within the limit is audited');
  t.ok(failed.every((e) => e.subtype?.[0].code === '110122' && /invalid_client/.test(e.outcomeDesc!) && e.agent[0].altId === 'anonymous'));
  t.notOk(JSON.stringify(events).includes('secret-signature'), 'the assertion is not in the trail');
  t.ok(events.some((e) => e.outcome === '0' && e.agent[0].altId === 'clinic'), 'issued tokens are audited under their client');
});

t.test('at shutdown the open windows leave their events', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-limits-'));
  const clientsFile = join(dir, 'clients.json');
  const keys = await generateKeyPair('RS384', { extractable: true });
  writeClient(clientsFile, { clientId: 'clinic', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'RS384' }] }, scope: SCOPE });
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: AUTH_BASE, devOpenAccess: false, dataDir: dir, clientsFile, anonymousRateLimit: 2, tokenRateLimit: 1 }), { store });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 12; i++) await app.inject({ method: 'GET', url: '/fhir/Patient', remoteAddress: '203.0.113.9' });
  const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS384', kid: 'k' }).setIssuer('clinic').setSubject('clinic').setAudience(`${AUTH_BASE}/auth/token`).setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
  for (let i = 0; i < 3; i++) {
    await app.inject({ method: 'POST', url: '/fhir/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }).toString(), remoteAddress: '203.0.113.9' });
  }
  await app.close();
  const events = (await store.scan(['AuditEvent'], 0, 1000)).map((r) => JSON.parse(r.json) as AuditEvent);
  const descriptions = events.filter((e) => e.outcome === '4' && e.type.code === '110114' && e.period).map((e) => e.outcomeDesc);
  t.same(descriptions.sort(), ['10 requests without a valid access token refused past the limit from this address; not audited one by one', '2 token requests naming client clinic refused past the limit from this address; not audited one by one'].sort());
});
