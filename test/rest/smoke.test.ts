import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

t.test('create then read', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const c = await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', active: true });
  t.equal(c.status, 201);
  const r = await fhir(app, 'GET', `/fhir/Patient/${c.body.id}`);
  t.equal(r.status, 200);
  t.same(r.body, c.body);
});
