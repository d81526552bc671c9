// Logs are a path out of the server too: at the most verbose level, requests that succeed, fail
// validation, fail to parse or are refused leave no resource body, no query value and no stored
// value in the log lines — only method, path, status and request id.
import t from 'tap';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { fhir } from '../helpers/app.ts';

const SECRET_NAME = 'Xanthopoulou';
const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';

t.test('no patient data in the logs, at trace level', async (t) => {
  const lines: string[] = [];
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', logLevel: 'trace' }), { store, logStream: { write: (line) => void lines.push(line) } });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  const patient = {
    resourceType: 'Patient', id: 'p1', name: [{ family: SECRET_NAME, given: ['Eleni'] }], birthDate: '1991-03-07',
    extension: [{ url: STATUS, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'irregular' }] } }] }],
  };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient)).status, 201);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p1')).status, 200);
  { const r = await fhir(app, 'GET', `/fhir/Patient?family=${SECRET_NAME}&birthdate=1991-03-07`); t.equal(r.status, 200, r.raw.slice(0, 300)); }
  // failures whose answer quotes the caller's input
  const invalid = await fhir(app, 'POST', '/fhir/Patient', { ...patient, id: undefined, gender: `${SECRET_NAME}-gender` });
  t.ok(invalid.status >= 400 && invalid.status < 500, `an invalid gender is refused (${invalid.status})`);
  t.equal((await fhir(app, 'POST', '/fhir/Patient', `{"resourceType":"Patient","name":[{"family":"${SECRET_NAME}"`)).status, 400);
  t.equal((await fhir(app, 'GET', `/fhir/Patient?birthdate=${SECRET_NAME}`)).status, 400);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/missing')).status, 404);
  const log = lines.join('');
  t.ok(lines.length >= 7, `the requests were logged (${lines.length} lines)`);
  t.ok(log.includes('"path":"/fhir/Patient"'), 'paths are logged');
  for (const secret of [SECRET_NAME, 'Eleni', '1991-03-07', 'irregular', 'birthdate=']) t.notOk(log.includes(secret), `no "${secret}" in the logs`);
});
