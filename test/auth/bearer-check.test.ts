// The bearer check in front of every FHIR interaction (src/http/auth.ts) answers a token it has
// verified before without verifying it again; these requests go through it over HTTP: a known
// token stops working at its expiry, the public paths need none (with trailing slashes and a
// query too, and nothing else that merely starts like them), and the client's registered
// purposes are parsed once yet each request states its own; a connection that shows the token
// it showed before is checked by comparing it, and still refused anything else.
import t from 'tap';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { TOKEN_LIFETIME } from '../../src/auth/tokens.ts';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';

t.test('a token answered from the cache is refused once expired', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/Patient.rs' });
  const headers = await bearer('system/Patient.rs');
  for (let i = 0; i < 2; i++) t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient', headers })).statusCode, 200);
  const realNow = Date.now;
  t.teardown(() => {
    Date.now = realNow;
  });
  Date.now = () => realNow() + (TOKEN_LIFETIME + 120) * 1000;
  const late = await app.inject({ method: 'GET', url: '/fhir/Patient', headers });
  t.equal(late.statusCode, 401);
  t.match(late.headers['www-authenticate'], /error="invalid_token"/);
});

t.test('public paths need no token; paths that only start like them do', async (t) => {
  const { app } = await authorizedApp(t, { id: 'c', scope: 'system/Patient.rs' });
  for (const url of ['/fhir/metadata', '/fhir/metadata/', '/fhir/metadata?_format=json', '/fhir/.well-known/smart-configuration']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
  }
  for (const url of ['/fhir/metadataX', '/fhir/metadata/x', '/fhir/Patient', '/fhir/auth/tokenX']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 401, url);
  }
});

t.test('the registered purposes go with every request, and a stated one is checked and added to that request only', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/Patient.rs system/AuditEvent.rs migfhir/migration-data.read', purposeOfUse: ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT'] }, { config: { refusedPurposes: ['HMARKT'] } });
  const headers = await bearer('system/Patient.rs system/AuditEvent.rs');
  t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient', headers: { ...headers, 'x-purpose-of-use': 'http://terminology.hl7.org/CodeSystem/v3-ActReason|HMARKT' } })).statusCode, 403);
  t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient?stated=1', headers: { ...headers, 'x-purpose-of-use': 'http://terminology.hl7.org/CodeSystem/v3-ActReason|PUBHLTH' } })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient?plain=1', headers })).statusCode, 200);
  await app.fhir.audit!.flush();
  // the trail's query text is shown only with the migration-data scope
  const auditor = await bearer('system/AuditEvent.rs migfhir/migration-data.read');
  const trail = await app.inject({ method: 'GET', url: `/fhir/AuditEvent?subtype=search-type&_count=50`, headers: auditor });
  const events = (JSON.parse(trail.body).entry ?? []).map((e: { resource: { purposeOfEvent?: { coding: { code: string }[] }[]; entity?: { query?: string }[] } }) => e.resource);
  const purposesOf = (q: string) => events.find((e: { entity?: { query?: string }[] }) => e.entity?.some((x) => x.query && Buffer.from(x.query, 'base64').toString() === q))?.purposeOfEvent?.map((p: { coding: { code: string }[] }) => p.coding[0].code);
  t.same(purposesOf('stated=1'), ['TREAT', 'PUBHLTH']);
  t.same(purposesOf('plain=1'), ['TREAT'], 'the stated purpose of another request does not stay with the token');
});

t.test('on a kept-alive connection the token it showed before is compared, not trusted: another token, a refused purpose or an expired token are each refused', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/Patient.rs' }, { config: { refusedPurposes: ['HMARKT'] } });
  const headers = await bearer('system/Patient.rs');
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const get = (h: Record<string, string>) =>
    new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/fhir/Patient', agent, headers: { host: 'test.local', ...h } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });
  t.equal((await get(headers)).status, 200);
  t.same(await get(headers), { status: 200, reused: true }, 'the same connection');
  const forged = `${headers.authorization.slice(0, -4)}AAAA`;
  t.same(await get({ authorization: forged }), { status: 401, reused: true }, 'a changed token on that connection');
  t.same(await get({}), { status: 401, reused: true }, 'no token on that connection');
  t.same(await get(headers), { status: 200, reused: true });
  t.same(await get({ ...headers, 'x-purpose-of-use': 'http://terminology.hl7.org/CodeSystem/v3-ActReason|HMARKT' }), { status: 403, reused: true }, 'a refused purpose stated with the known token');
  t.same(await get(headers), { status: 200, reused: true }, 'the refused purpose did not stay with the token');
  const realNow = Date.now;
  t.teardown(() => {
    Date.now = realNow;
  });
  Date.now = () => realNow() + (TOKEN_LIFETIME + 120) * 1000;
  t.same(await get(headers), { status: 401, reused: true }, 'expired, on the connection that showed it while valid');
});
