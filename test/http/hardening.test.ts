import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

t.test('security headers on every response, no stack traces or paths in errors', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await fhir(app, 'GET', '/fhir/Patient/nope');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.match(String(res.headers['content-security-policy']), /default-src 'none'/);
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
  t.ok(res.headers['x-request-id'], 'request id echoed');
  t.notOk(res.raw.includes('/work/') || res.raw.includes('at '), 'no paths or stack frames');
  t.notOk(res.headers['access-control-allow-origin'], 'CORS is off by default');
  // an answer redacted for one token must not be served from a cache to another
  await fhir(app, 'PUT', '/fhir/Patient/c1', { resourceType: 'Patient', id: 'c1' });
  for (const url of ['/fhir/Patient/c1', '/fhir/Patient?_id=c1', '/fhir/Patient/c1/_history', '/fhir/metadata']) {
    t.equal((await fhir(app, 'GET', url)).headers['cache-control'], 'no-store', `no-store on ${url}`);
  }
  const conditional = await app.inject({ method: 'GET', url: '/fhir/Patient/c1', headers: { 'if-none-match': 'W/"1"' } });
  t.equal(conditional.statusCode, 304, 'conditional reads still work');
});

t.test('CORS only for configured origins', async (t) => {
  const app = await testApp({ corsOrigins: ['https://clinic.example.org'] });
  t.teardown(() => app.close());
  const ok = await fhir(app, 'GET', '/fhir/metadata', undefined, { origin: 'https://clinic.example.org' });
  t.equal(ok.headers['access-control-allow-origin'], 'https://clinic.example.org');
  const other = await fhir(app, 'GET', '/fhir/metadata', undefined, { origin: 'https://evil.example' });
  t.notOk(other.headers['access-control-allow-origin']);
});

t.test('rate limits answer 429 with an OperationOutcome and Retry-After', async (t) => {
  const app = await testApp({ rateLimit: 3 });
  t.teardown(() => app.close());
  for (let i = 0; i < 3; i++) t.equal((await fhir(app, 'GET', '/fhir/Patient/x')).status, 404);
  const limited = await fhir(app, 'GET', '/fhir/Patient/x');
  t.equal(limited.status, 429);
  t.equal(limited.body.resourceType, 'OperationOutcome');
  t.equal(limited.body.issue[0].code, 'throttled');
  t.ok(Number(limited.headers['retry-after']) > 0);
});
