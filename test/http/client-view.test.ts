// The edge's view of an answer for the client that asked (src/http/client-view.ts): sensitive
// elements redacted for a client without the migration-data scope and other clients' Bulk Data
// job requests removed, in one pass — the answer's text parsed once and serialized once (when
// it is sent), not parsed, re-serialized and parsed again by a second filter.
import t from 'tap';
import { fhir } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { JOB_SYSTEM } from '../../src/operations/reindex.ts';
import { EXPORT_CODE } from '../../src/bulk/export-jobs.ts';

const SCOPES = 'system/*.cruds migfhir/migration-data.read';
const STATUS_EXT = 'https://migfhir.org/fhir/StructureDefinition/migration-status';

t.test('a history with a labelled Patient and another client\'s job Task: one parse, one serialization', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' });
  const Y = await bearer(SCOPES);
  const X = await bearer('system/*.cruds');
  const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [{ url: STATUS_EXT, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] }] };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient, Y)).status, 201);
  const job = {
    resourceType: 'Task', id: 'job1', status: 'completed', intent: 'order', code: { coding: [{ system: JOB_SYSTEM, code: EXPORT_CODE }] },
    input: [{ type: { text: 'request' }, valueString: JSON.stringify({ clientId: 'another-client', typeFilter: ['Patient?family=Haddad'] }) }],
  };
  t.equal((await fhir(app, 'PUT', '/fhir/Task/job1', job, Y)).status, 201);

  const parse = JSON.parse;
  const stringify = JSON.stringify;
  let parsed = 0;
  let serialized = 0;
  t.teardown(() => {
    JSON.parse = parse;
    JSON.stringify = stringify;
  });
  JSON.parse = ((text: string, reviver?: never) => {
    if (typeof text === 'string' && text.startsWith('{"resourceType":"Bundle"')) parsed++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  JSON.stringify = ((value: unknown, ...rest: never[]) => {
    // a Bundle with its entries (bundle.ts writes the head alone around the stored texts)
    const v = value as { resourceType?: unknown; entry?: unknown } | null;
    if (v?.resourceType === 'Bundle' && Array.isArray(v.entry)) serialized++;
    return stringify(value, ...rest);
  }) as typeof JSON.stringify;
  const res = await app.inject({ method: 'GET', url: '/fhir/_history', headers: X });
  JSON.parse = parse;
  JSON.stringify = stringify;

  t.equal(res.statusCode, 200);
  const body = parse(res.body);
  const p = body.entry.find((e: any) => e.resource?.resourceType === 'Patient').resource;
  const task = body.entry.find((e: any) => e.resource?.resourceType === 'Task').resource;
  t.notOk(p.extension, 'the migration status is redacted');
  t.notOk(task.input, 'the other client\'s job request is removed');
  t.equal(task.status, 'completed', 'the job\'s status stays');
  t.equal(parsed, 1, 'the Bundle is parsed once');
  t.equal(serialized, 1, 'and serialized once, to be sent');
});
