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
  const redacted = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, plain)).body;
  t.notOk(redacted.extension.some((e: any) => e.url === STATUS_EXT), 'removed without the scope');
  t.ok(redacted.extension.some((e: any) => e.url.endsWith('patient-nationality')), 'other extensions stay');
  t.ok(redacted.meta.security.some((s: any) => s.code === 'REDACTED'), 'marked REDACTED');
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
