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
