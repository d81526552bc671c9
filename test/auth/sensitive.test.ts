import t from 'tap';
import { fhir } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';

const STATUS_EXT = 'https://migfhir.org/fhir/StructureDefinition/migration-status';

t.test('migration status is labelled, redacted without the scope, and not searchable', async (t) => {
  const { app, bearer: token } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read', alg: 'ES384' });
  const full = await token('system/*.cruds migfhir/migration-data.read');
  const plain = await token('system/Patient.rs');
  const patient = {
    resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }],
    extension: [
      { url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'SY' }] } }] },
      { url: STATUS_EXT, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] },
    ],
  };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient, full)).status, 201);
  const seen = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, full)).body;
  t.ok(seen.extension.some((e: any) => e.url === STATUS_EXT), 'the scope sees migration status');
  t.ok(seen.meta.security.some((s: any) => s.code === 'R'), 'labelled restricted');
  t.ok(seen.meta.security.some((s: any) => s.code === 'migration'), 'labelled as migration data');
  const read = await fhir(app, 'GET', '/fhir/Patient/p1', undefined, plain);
  const redacted = read.body;
  t.notOk(redacted.extension.some((e: any) => e.url === STATUS_EXT), 'removed without the scope');
  t.ok(redacted.extension.some((e: any) => e.url.endsWith('patient-nationality')), 'other extensions stay');
  t.notOk(redacted.meta.security, 'no label, REDACTED included, tells that this record held something');
  t.equal(read.headers['x-sensitive-data'], 'withheld; scope="migfhir/migration-data.read"', 'the answer says what this client is not shown');
  const search = (await fhir(app, 'GET', '/fhir/Patient?name=haddad', undefined, plain)).body;
  t.notOk(JSON.stringify(search).includes('asylum-applicant'), 'search results are redacted too');
  const sp = { resourceType: 'SearchParameter', id: 'ms', url: 'https://migfhir.org/fhir/SearchParameter/migration-status', name: 'migration-status', status: 'active', description: 'x', code: 'migration-status', base: ['Patient'], type: 'token', expression: `Patient.extension('${STATUS_EXT}').extension('status').value` };
  t.equal((await fhir(app, 'PUT', '/fhir/SearchParameter/ms', sp, full)).status, 201);
  await fhir(app, 'PUT', '/fhir/Patient/p1', { ...patient, active: true }, full);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?migration-status=asylum-applicant', undefined, full)).body.total, 1);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?migration-status=asylum-applicant', undefined, plain)).status, 403, 'no searching on it without the scope');
  const unlabelled = await fhir(app, 'PUT', '/fhir/Patient/p2', { resourceType: 'Patient', id: 'p2' }, full);
  t.notOk(unlabelled.body.meta.security, 'resources without sensitive elements get no labels');
});

t.test('writes by a client without the scope keep the migration data it cannot see', async (t) => {
  const { app, bearer: token } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read', alg: 'ES384' });
  const full = await token('system/*.cruds migfhir/migration-data.read');
  const plain = await token('system/Patient.cruds');
  const status = { url: STATUS_EXT, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] };
  const nationality = { url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'SY' }] } }] };
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [nationality, status] }, full);
  const stored = async () => (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, full)).body;
  const hasStatus = (p: any, code = 'asylum-applicant') => p.extension?.some((e: any) => e.url === STATUS_EXT && JSON.stringify(e).includes(code));

  // PUT back what it read (redacted, without the labels), with a change of its own
  const seen = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, plain)).body;
  const put = await fhir(app, 'PUT', '/fhir/Patient/p1', { ...seen, active: true }, plain);
  t.equal(put.status, 200, 'PUT of the redacted view', { body: put.body });
  let now = await stored();
  t.ok(now.active, 'its change is stored');
  t.ok(hasStatus(now), 'the migration status it could not see is kept');
  t.ok(now.extension.some((e: any) => e.url.endsWith('patient-nationality')), 'other extensions as written');
  t.notOk(now.meta.security.some((s: any) => s.code === 'REDACTED'), 'no REDACTED label is stored');
  t.ok(now.meta.security.some((s: any) => s.code === 'migration'), 'still labelled');

  // PATCH (JSON Patch and FHIRPath Patch) works on the view it can see
  const jp = await app.inject({ method: 'PATCH', url: '/fhir/Patient/p1', headers: { ...plain, 'content-type': 'application/json-patch+json' }, payload: JSON.stringify([{ op: 'replace', path: '/active', value: false }]) });
  t.equal(jp.statusCode, 200);
  const probe = await app.inject({ method: 'PATCH', url: '/fhir/Patient/p1', headers: { ...plain, 'content-type': 'application/json-patch+json' }, payload: JSON.stringify([{ op: 'test', path: '/extension/1/url', value: STATUS_EXT }]) });
  t.equal(probe.statusCode, 422, 'a test operation cannot probe what it cannot see');
  const del = await fhir(app, 'PATCH', '/fhir/Patient/p1', { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: `Patient.extension.where(url='${STATUS_EXT}')` }] }] }, plain);
  t.equal(del.status, 200, 'deleting what it cannot see changes nothing');
  now = await stored();
  t.equal(now.active, false);
  t.ok(hasStatus(now), 'migration status survives both patches');

  // its own migration status does not overwrite the stored one
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1', extension: [{ ...status, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'refugee' }] } }] }] }, plain);
  now = await stored();
  t.ok(hasStatus(now) && !hasStatus(now, 'refugee'), 'the stored migration status wins');
  t.equal(now.name, undefined, 'the rest is what it wrote');

  // a client with the scope replaces it
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' }, full);
  t.notOk(hasStatus(await stored()), 'a client with the scope can remove it');

  // sensitive data below the root cannot be merged: refused, nothing changes
  const nested = { resourceType: 'Patient', id: 'p2', address: [{ city: 'Mytilene', extension: [{ url: 'http://example.org/fhir/StructureDefinition/asylum-centre', valueString: 'x' }] }] };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p2', nested, full)).status, 201, 'a sensitive extension below the root, from elsewhere');
  const before = (await fhir(app, 'GET', '/fhir/Patient/p2', undefined, full)).body;
  const refused = await fhir(app, 'PUT', '/fhir/Patient/p2', { resourceType: 'Patient', id: 'p2', active: true }, plain);
  t.equal(refused.status, 403, 'refused rather than losing data', { body: refused.body });
  t.same((await fhir(app, 'GET', '/fhir/Patient/p2', undefined, full)).body, before);
});
