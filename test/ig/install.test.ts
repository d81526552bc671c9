// The IG's conformance resources are stored at start-up (--install-ig, on by default outside
// tests): readable and searchable, unchanged on the next start, a deleted one stays deleted, and
// a user's resource with the same id but another url is never overwritten.
import t from 'tap';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { fhir } from '../helpers/app.ts';

t.test('installing the IG', async (t) => {
  const store = new SqliteStore({ path: ':memory:' });
  t.teardown(() => store.close());
  // a resource of the user's that happens to have an IG id
  const own = await buildApp(testConfig(), { store });
  await fhir(own, 'PUT', '/fhir/ValueSet/countries', { resourceType: 'ValueSet', id: 'countries', url: 'https://ngo.example/fhir/ValueSet/countries', status: 'active' });
  await own.close();

  let app = await buildApp(testConfig({ installIg: true }), { store });
  let r = await fhir(app, 'GET', '/fhir/StructureDefinition/migrant-patient');
  t.equal(r.status, 200, 'a profile is readable');
  t.equal(r.body.url, 'https://migfhir.org/fhir/StructureDefinition/migrant-patient');
  r = await fhir(app, 'GET', `/fhir/ValueSet?url=${encodeURIComponent('https://migfhir.org/fhir/ValueSet/migration-status')}`);
  t.equal(r.body.entry?.length, 1, 'a value set is searchable by url');
  r = await fhir(app, 'GET', '/fhir/Questionnaire?_summary=count');
  t.ok(r.body.total >= 3, 'the questionnaires are stored');
  r = await fhir(app, 'GET', '/fhir/ValueSet/countries');
  t.equal(r.body.url, 'https://ngo.example/fhir/ValueSet/countries', "the user's resource with the same id is kept");
  r = await fhir(app, 'GET', '/fhir/StructureDefinition/migrant-patient/_history');
  t.equal(r.body.total ?? r.body.entry.length, 1, 'one version');
  await fhir(app, 'DELETE', '/fhir/StructureDefinition/migrant-encounter');
  r = await fhir(app, 'POST', '/fhir/Encounter/$validate?profile=https://migfhir.org/fhir/StructureDefinition/migrant-encounter', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' } });
  t.equal(r.status, 200, 'the built-in profile still validates: deleting the stored copy does not unload the package');
  await app.close();

  app = await buildApp(testConfig({ installIg: true }), { store });
  t.teardown(() => app.close());
  r = await fhir(app, 'GET', '/fhir/StructureDefinition/migrant-patient/_history');
  t.equal(r.body.total ?? r.body.entry.length, 1, 'a second start writes no new version');
  r = await fhir(app, 'GET', '/fhir/StructureDefinition/migrant-encounter');
  t.equal(r.status, 410, 'a deleted one stays deleted');
});
