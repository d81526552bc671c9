// $meta, $meta-add and $meta-delete (https://hl7.org/fhir/R4/resource-operation-meta-add.html):
// profiles, tags and security labels change in place (no new version), search sees the change
// at once, a historical version can be changed too, and bad input gets a 4xx.
import t from 'tap';
import { testApp, fhir } from '../helpers/app.ts';

const TAG = { system: 'https://migfhir.org/fhir/tags', code: 'outreach' };
const params = (meta: object) => ({ resourceType: 'Parameters', parameter: [{ name: 'meta', valueMeta: meta }] });
const returned = (body: any) => body.parameter.find((p: any) => p.name === 'return').valueMeta;

t.test('$meta-add and $meta-delete change meta in place', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/p', { resourceType: 'Patient', id: 'p', meta: { tag: [{ system: 'urn:t', code: 'a' }] }, gender: 'female' });

  const read = await fhir(app, 'GET', '/fhir/Patient/p/$meta');
  t.equal(read.status, 200);
  t.same(returned(read.body).tag, [{ system: 'urn:t', code: 'a' }]);
  t.equal(returned(read.body).versionId, '1');

  const added = await fhir(app, 'POST', '/fhir/Patient/p/$meta-add', params({ tag: [TAG, { system: 'urn:t', code: 'a', display: 'again' }], profile: ['http://hl7.org/fhir/StructureDefinition/Patient'] }));
  t.equal(added.status, 200, 'meta-add', { body: added.body });
  t.same(returned(added.body).tag, [{ system: 'urn:t', code: 'a' }, TAG], 'a set by system+code: no duplicate');
  t.same(returned(added.body).profile, ['http://hl7.org/fhir/StructureDefinition/Patient']);
  const stored = (await fhir(app, 'GET', '/fhir/Patient/p')).body;
  t.equal(stored.meta.versionId, '1', 'no new version');
  t.same(stored.meta.tag, [{ system: 'urn:t', code: 'a' }, TAG]);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p/_history')).body.total, 1, 'history has one version');
  t.equal((await fhir(app, 'GET', `/fhir/Patient?_tag=${TAG.system}|${TAG.code}`)).body.total, 1, '_tag finds it at once');

  const deleted = await fhir(app, 'POST', '/fhir/Patient/p/$meta-delete', params({ tag: [{ system: 'urn:t', code: 'a' }], profile: ['http://hl7.org/fhir/StructureDefinition/Patient'] }));
  t.equal(deleted.status, 200);
  t.same(returned(deleted.body).tag, [TAG]);
  t.notOk(returned(deleted.body).profile, 'the profile is gone');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_tag=urn:t|a')).body.total, 0, 'the deleted tag no longer finds it');

  // a historical version
  await fhir(app, 'PUT', '/fhir/Patient/p', { resourceType: 'Patient', id: 'p', gender: 'male' });
  const old = await fhir(app, 'POST', '/fhir/Patient/p/_history/1/$meta-add', params({ security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HTEST' }] }));
  t.equal(old.status, 200);
  t.same((await fhir(app, 'GET', '/fhir/Patient/p/_history/1')).body.meta.security, [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HTEST' }], 'version 1 changed');
  t.notOk((await fhir(app, 'GET', '/fhir/Patient/p')).body.meta.security, 'the current version did not');
  t.same(returned((await fhir(app, 'GET', '/fhir/Patient/p/_history/1/$meta')).body).security[0].code, 'HTEST');

  // bad input and unknown targets
  t.equal((await fhir(app, 'POST', '/fhir/Patient/p/$meta-add', { resourceType: 'Patient' })).status, 400);
  t.equal((await fhir(app, 'POST', '/fhir/Patient/p/$meta-add', params({ tag: [{ system: 'urn:x' }] }))).status, 400, 'a tag without a code');
  t.equal((await fhir(app, 'POST', '/fhir/Patient/p/$meta-add', params({ profile: 'not-a-list' }))).status, 400);
  t.equal((await fhir(app, 'POST', '/fhir/Patient/nobody/$meta-add', params({ tag: [TAG] }))).status, 404);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p/_history/9/$meta')).status, 404);
  await fhir(app, 'DELETE', '/fhir/Patient/p');
  t.equal((await fhir(app, 'POST', '/fhir/Patient/p/$meta-add', params({ tag: [TAG] }))).status, 410);
  const cap = (await fhir(app, 'GET', '/fhir/metadata')).body;
  t.ok(cap.rest[0].resource.find((r: any) => r.type === 'Patient').operation.some((o: any) => o.name === 'meta-add'), 'in the CapabilityStatement');
});

t.test('the migration-data labels cannot be deleted while the content is sensitive', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const status = { url: 'https://migfhir.org/fhir/StructureDefinition/migration-status', extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] };
  await fhir(app, 'PUT', '/fhir/Patient/s', { resourceType: 'Patient', id: 's', extension: [status] });
  const labels = (await fhir(app, 'GET', '/fhir/Patient/s')).body.meta.security;
  t.ok(labels.length >= 2, 'labelled on write');
  const res = await fhir(app, 'POST', '/fhir/Patient/s/$meta-delete', params({ security: labels }));
  t.equal(res.status, 200);
  t.same((await fhir(app, 'GET', '/fhir/Patient/s')).body.meta.security, labels, 'the labels stay');
  const redacted = await fhir(app, 'POST', '/fhir/Patient/s/$meta-add', params({ security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED' }] }));
  t.notOk(returned(redacted.body).security.some((c: any) => c.code === 'REDACTED'), 'REDACTED is a response label, never stored');
});

t.test('$meta at type and system level: what current resources carry', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/a', { resourceType: 'Patient', id: 'a', meta: { tag: [{ system: 'urn:t', code: 'x' }], profile: ['http://example.org/fhir/StructureDefinition/p'] } });
  await fhir(app, 'PUT', '/fhir/Patient/b', { resourceType: 'Patient', id: 'b', meta: { tag: [{ system: 'urn:t', code: 'x' }, { code: 'no-system' }] } });
  await fhir(app, 'PUT', '/fhir/Observation/o', { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] } });
  await fhir(app, 'PUT', '/fhir/Patient/gone', { resourceType: 'Patient', id: 'gone', meta: { tag: [{ system: 'urn:t', code: 'deleted-only' }] } });
  await fhir(app, 'DELETE', '/fhir/Patient/gone');
  const type = returned((await fhir(app, 'GET', '/fhir/Patient/$meta')).body);
  t.same(type.tag, [{ code: 'no-system' }, { system: 'urn:t', code: 'x' }], 'distinct, without deleted resources');
  t.same(type.profile, ['http://example.org/fhir/StructureDefinition/p']);
  t.notOk(type.security, 'no Patient carries a label');
  const system = returned((await fhir(app, 'GET', '/fhir/$meta')).body);
  t.same(system.security, [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }]);
  t.equal(system.tag.length, 2);
  t.equal((await fhir(app, 'GET', '/fhir/Foo/$meta')).status, 404);
});
