// $validate takes bodies as large as the Bundle endpoint does (--max-bundle-bytes), so a whole
// Bundle can be validated: the 34 MB Bundle of R4's resource definitions gets its
// OperationOutcome, not 413.
import t from 'tap';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FHIR_JSON, testApp } from '../helpers/app.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

t.test('the 34 MB R4 Bundle of resource definitions is validated whole', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const payload = readFileSync(join(dir, 'Bundle-resources.json'));
  t.ok(payload.length > 30 * 1024 * 1024, `${(payload.length / 1024 / 1024).toFixed(1)} MB`);
  const res = await app.inject({ method: 'POST', url: '/fhir/Bundle/$validate', headers: { 'content-type': FHIR_JSON }, payload });
  t.equal(res.statusCode, 200);
  const oo = JSON.parse(res.body);
  t.equal(oo.resourceType, 'OperationOutcome');
  t.same(oo.issue.filter((i: { severity: string }) => i.severity === 'error' || i.severity === 'fatal'), [], 'R4 definitions have no errors');
});

t.test('the limit is --max-bundle-bytes, for $validate as for the Bundle endpoint', async (t) => {
  const app = await testApp({ maxBundleBytes: 64 * 1024, maxBodyBytes: 16 * 1024 });
  t.teardown(() => app.close());
  const bundle = (n: number) => JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: Array.from({ length: n }, (_, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resource: { resourceType: 'Basic', code: { text: `item ${i} ${'x'.repeat(100)}` } } })) });
  const medium = bundle(150);
  t.ok(medium.length > 16 * 1024 && medium.length < 64 * 1024);
  const ok = await app.inject({ method: 'POST', url: '/fhir/Bundle/$validate', headers: { 'content-type': FHIR_JSON }, payload: medium });
  t.equal(ok.statusCode, 200, 'above --max-body-bytes, within --max-bundle-bytes');
  const big = await app.inject({ method: 'POST', url: '/fhir/Bundle/$validate', headers: { 'content-type': FHIR_JSON }, payload: bundle(600) });
  t.equal(big.statusCode, 413, 'above --max-bundle-bytes');
  const resource = await app.inject({ method: 'POST', url: '/fhir/Basic', headers: { 'content-type': FHIR_JSON }, payload: JSON.stringify({ resourceType: 'Basic', code: { text: 'x'.repeat(20 * 1024) } }) });
  t.equal(resource.statusCode, 413, 'other writes keep --max-body-bytes');
});
