// Custom SearchParameters through the API: searchable as soon as they are written; one whose
// expression could make every write evaluate without bound is refused (422 too-costly) on
// create, update and patch, and never registered.
import t from 'tap';
import { testApp, fhir } from '../helpers/app.ts';

const sp = (id: string, expression: string) => ({
  resourceType: 'SearchParameter', id, url: `http://example.org/fhir/SearchParameter/${id}`, name: id, status: 'active',
  description: 'test', code: id, base: ['Patient'], type: 'token', expression,
});

t.test('custom SearchParameters: searchable, or refused when unbounded', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  t.equal((await fhir(app, 'PUT', '/fhir/SearchParameter/lang', sp('lang', 'Patient.communication.language'))).status, 201);
  await fhir(app, 'PUT', '/fhir/Patient/p', { resourceType: 'Patient', id: 'p', communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ti' }] } }] });
  t.equal((await fhir(app, 'GET', '/fhir/Patient?lang=ti')).body.total, 1, 'a custom parameter finds what is written after it');

  for (const expression of ['Patient.name.select(%resource.name.select(%resource.name))', 'Patient.name.where(family = %resource.name.family)', 'Patient.descendants()', 'Patient.repeat(contact)', `Patient.name${'.first()'.repeat(300)}`]) {
    const res = await fhir(app, 'PUT', '/fhir/SearchParameter/bad', sp('bad', expression));
    t.equal(res.status, 422, `refused: ${expression.slice(0, 40)}`);
    t.equal(res.body.issue[0].code, 'too-costly');
  }
  t.equal((await fhir(app, 'GET', '/fhir/SearchParameter/bad')).status, 404, 'nothing stored');
  // R4's own composites start component paths with %resource: allowed outside a function argument
  const composite = { ...sp('lang-and-gender', 'Patient'), type: 'composite', component: [
    { definition: 'http://example.org/fhir/SearchParameter/lang', expression: '%resource.communication.language' },
    { definition: 'http://hl7.org/fhir/SearchParameter/individual-gender', expression: '%resource.gender' },
  ] };
  t.equal((await fhir(app, 'PUT', '/fhir/SearchParameter/lang-and-gender', composite)).status, 201, '%resource at the start of a path is fine');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?bad=x', undefined, { prefer: 'handling=strict' })).status, 400, 'not registered');
  const patched = await app.inject({ method: 'PATCH', url: '/fhir/SearchParameter/lang', headers: { 'content-type': 'application/json-patch+json' }, payload: JSON.stringify([{ op: 'replace', path: '/expression', value: 'Patient.descendants()' }]) });
  t.equal(patched.statusCode, 422, 'nor can a patch make one unbounded');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?lang=ti')).body.total, 1, 'the stored one still works');
});
