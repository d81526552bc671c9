// The write pipeline (src/store/write-pipeline.ts) holds whichever door a write comes through:
// with a mandatory Patient profile that requires a photo, a Patient without one is refused with
// 422 — over REST and in Bundles as before, and now also by Patient/$merge, the HL7 v2 adapter
// (HTTP and MLLP: ACK AE, ERR 102), $import-national, $import-summary, $import-csv (the row is
// rejected), and `migfhir sync`'s local writes — and nothing is stored. A server without the
// profile takes the same input, so the refusal is the profile's. $reindex writes no version and
// passes no check: it keeps working on records stored before the profile was made mandatory.
// An update by a client without the migration-data scope is checked on what it sent, so no
// issue about a migration status it cannot see tells it one exists.
import t, { type Test } from 'tap';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Bundle, Composition, Parameters, Patient, StructureDefinition } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { FhirError } from '../../src/fhir/errors.ts';
import { localWriter } from '../../src/sync/local.ts';
import { pull } from '../../src/sync/pull.ts';
import { RemoteFhir } from '../../src/sync/remote.ts';
import { AMKA, QUIET, endpoint, http, listeningServer } from '../sync/helpers.ts';
import { msh, evn, pid, pv1 } from '../mapping/hl7v2/fixtures.ts';
import { FIXTURES as NATIONAL } from '../mapping/national/fixtures.ts';

const PROFILE = 'https://camp.example/fhir/StructureDefinition/patient-with-photo';
const RULE = /Patient\.photo: minimum required = 1/;
const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

/** R4's Patient, constrained: a photo is required (a camp that issues photo cards). */
function photoProfile(): StructureDefinition {
  const sd = JSON.parse(readFileSync(join(examples, 'StructureDefinition-Patient.json'), 'utf8')) as StructureDefinition;
  delete sd.text;
  delete sd.differential;
  Object.assign(sd, { id: 'patient-with-photo', url: PROFILE, name: 'PatientWithPhoto', derivation: 'constraint', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient' });
  sd.snapshot!.element.find((e) => e.id === 'Patient.photo')!.min = 1;
  return sd;
}

/** A server on which every Patient must meet the photo profile. */
async function strictApp(t: Test, overrides = {}): Promise<FastifyInstance> {
  const app = await testApp({ mandatoryProfiles: { Patient: [PROFILE] }, ...overrides });
  t.teardown(() => app.close());
  const r = await fhir(app, 'PUT', '/fhir/StructureDefinition/patient-with-photo', photoProfile());
  t.equal(r.status, 201, 'the profile is stored');
  return app;
}

async function laxApp(t: Test): Promise<FastifyInstance> {
  const app = await testApp();
  t.teardown(() => app.close());
  return app;
}

const count = async (app: FastifyInstance, type: string) => (await fhir(app, 'GET', `/fhir/${type}?_summary=count`)).body.total as number;
const refusedByProfile = (outcome: any) => outcome?.resourceType === 'OperationOutcome' && outcome.issue.some((i: any) => i.severity === 'error' && RULE.test(i.diagnostics));

t.test('REST and Bundles: 422 as before', async (t) => {
  const app = await strictApp(t);
  let r = await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', gender: 'female' });
  t.equal(r.status, 422);
  t.ok(refusedByProfile(r.body), 'refused by the mandatory profile');
  r = await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', gender: 'female', photo: [{ contentType: 'image/jpeg', url: 'https://camp.example/photo/1' }] });
  t.equal(r.status, 201, 'a Patient with a photo is stored');
  r = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Patient', gender: 'male' }, request: { method: 'POST', url: 'Patient' } }] });
  t.equal(r.body.entry[0].response.status, '422 Unprocessable Entity', 'batch entry');
  r = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', gender: 'male' }, request: { method: 'POST', url: 'Patient' } }] });
  t.equal(r.status, 422, 'transaction');
  r = await fhir(app, 'PATCH', `/fhir/Patient/${(await fhir(app, 'GET', '/fhir/Patient')).body.entry[0].resource.id}`, [{ op: 'remove', path: '/photo' }], { 'content-type': 'application/json-patch+json' });
  t.equal(r.status, 422, 'a patch that removes the photo');
  t.equal(await count(app, 'Patient'), 1);
});

t.test('a JSON shape error: 400 on create and update, 422 on patch, as the spec has it', async (t) => {
  const app = await laxApp(t);
  t.equal((await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', gender: 7 })).status, 400);
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/a', { resourceType: 'Patient', id: 'a', nickname: 'x' })).status, 400);
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/a', { resourceType: 'Patient', id: 'a' })).status, 201);
  const r = await fhir(app, 'PATCH', '/fhir/Patient/a', [{ op: 'add', path: '/nickname', value: 'x' }], { 'content-type': 'application/json-patch+json' });
  t.equal(r.status, 422);
});

t.test('Patient/$merge: 422 when the linked records would not meet the profile; neither is changed', async (t) => {
  // the records were stored before the profile was known (an unknown profile is only a warning)
  const app = await testApp({ mandatoryProfiles: { Patient: [PROFILE] } });
  t.teardown(() => app.close());
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/paaypa', { resourceType: 'Patient', id: 'paaypa', name: [{ family: 'Haddad' }] })).status, 201);
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/amka', { resourceType: 'Patient', id: 'amka', name: [{ family: 'Haddad' }] })).status, 201);
  t.equal((await fhir(app, 'PUT', '/fhir/StructureDefinition/patient-with-photo', photoProfile())).status, 201);
  const params: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: 'Patient/paaypa' } }, { name: 'target-patient', valueReference: { reference: 'Patient/amka' } }] };
  const r = await fhir(app, 'POST', '/fhir/Patient/$merge', params);
  t.equal(r.status, 422);
  t.ok(refusedByProfile(r.body), 'refused by the mandatory profile');
  for (const id of ['paaypa', 'amka']) {
    const p = await fhir(app, 'GET', `/fhir/Patient/${id}`);
    t.equal(p.body.meta.versionId, '1', `Patient/${id} unchanged`);
    t.notOk(p.body.link, `Patient/${id} not linked`);
  }
});

const ADT = [msh('A04', 'PIPE-1'), evn('A04'), pid({ ids: 'MRN9^^^ATTIKON^MR', names: 'Haddad^Amal', dob: '19900101', sex: 'F' }), pv1({ cls: 'O', visit: 'V9^^^ATTIKON' })].join('\r');

t.test('HL7 v2 over HTTP: 422 OperationOutcome, or ACK AE with ERR 102; nothing stored', async (t) => {
  const lax = await laxApp(t);
  const post = (app: FastifyInstance, accept = 'application/fhir+json') =>
    app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': 'x-application/hl7-v2+er7', accept }, payload: Buffer.from(ADT) });
  t.equal((await post(lax)).statusCode, 200, 'taken without the profile');
  const app = await strictApp(t);
  const r = await post(app);
  t.equal(r.statusCode, 422);
  t.ok(refusedByProfile(JSON.parse(r.body)), 'refused by the mandatory profile');
  const ack = (await post(app, 'x-application/hl7-v2+er7')).body.split('\r');
  t.match(ack.find((s) => s.startsWith('MSA|')), /^MSA\|AE\|PIPE-1/, 'application error');
  const err = ack.find((s) => s.startsWith('ERR|'));
  t.match(err, /^ERR\|\|\|102\^/, 'ERR: data type error (table 0357)');
  t.match(err, RULE, 'quoting the error, not a warning that came before it');
  for (const type of ['Patient', 'Encounter', 'Provenance']) t.equal(await count(app, type), 0, `no ${type} stored`);
});

t.test('HL7 v2 over MLLP: ACK AE, nothing stored', async (t) => {
  const app = await strictApp(t, { mllpPort: 0, mllpHost: '127.0.0.1' });
  const socket = net.connect(app.mllp!.port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  t.teardown(() => socket.destroy());
  const ack = await new Promise<string>((resolve) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf(0x1c);
      if (end >= 0) resolve(buf.subarray(1, end).toString('utf8'));
    });
    socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(ADT), Buffer.from([0x1c, 0x0d])]));
  });
  t.match(ack, /MSA\|AE\|PIPE-1/);
  t.match(ack, /ERR\|\|\|102\^/);
  t.equal(await count(app, 'Patient'), 0);
});

t.test('$import-national: 422, nothing stored', async (t) => {
  const f = NATIONAL.find((x) => x.adapter === 'se')!;
  const lax = await laxApp(t);
  t.equal((await fhir(lax, 'POST', `/fhir/$import-national?adapter=${f.adapter}`, f.body)).status, 200, 'taken without the profile');
  const app = await strictApp(t);
  const r = await fhir(app, 'POST', `/fhir/$import-national?adapter=${f.adapter}`, f.body);
  t.equal(r.status, 422);
  t.ok(refusedByProfile(r.body), 'refused by the mandatory profile');
  t.equal(await count(app, 'Patient'), 0);
  t.equal(await count(app, 'Provenance'), 0);
});

t.test('$import-summary: 422, nothing stored', async (t) => {
  const patient = 'urn:uuid:6f2c1a9e-0000-4000-8000-000000000001';
  const doc: Bundle = {
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:6f2c1a9e-0000-4000-8000-0000000000aa' },
    timestamp: '2026-12-01T10:00:00Z',
    entry: [
      { fullUrl: 'urn:uuid:6f2c1a9e-0000-4000-8000-000000000002', resource: { resourceType: 'Composition', status: 'final', type: { coding: [{ system: 'http://loinc.org', code: '60591-5' }] }, subject: { reference: patient }, date: '2026-12-01T10:00:00Z', author: [{ display: 'Lesvos clinic' }], title: 'Patient summary' } as Composition },
      { fullUrl: patient, resource: { resourceType: 'Patient', identifier: [{ system: AMKA, value: '12038801234' }], name: [{ family: 'Haddad' }] } as Patient },
    ],
  };
  const lax = await laxApp(t);
  t.equal((await fhir(lax, 'POST', '/fhir/$import-summary', doc)).status, 200, 'taken without the profile');
  const app = await strictApp(t);
  const r = await fhir(app, 'POST', '/fhir/$import-summary', doc);
  t.equal(r.status, 422);
  t.ok(refusedByProfile(r.body), 'refused by the mandatory profile');
  t.equal(await count(app, 'Patient'), 0);
  t.equal(await count(app, 'Composition'), 0);
});

t.test('$import-csv: each row is rejected with the profile issue, nothing stored', async (t) => {
  const DIR = 'docs/examples/ngo-register';
  const params: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'csv', valueBase64Binary: readFileSync(`${DIR}/register.csv`).toString('base64') },
      { name: 'mapping', valueString: readFileSync(`${DIR}/mapping.json`, 'utf8') },
    ],
  };
  const lax = await laxApp(t);
  const ok = await fhir(lax, 'POST', '/fhir/$import-csv', params);
  t.equal(ok.body.parameter.find((p: any) => p.name === 'rejected').valueInteger, 0, 'taken without the profile');
  const app = await strictApp(t);
  const r = await fhir(app, 'POST', '/fhir/$import-csv', params);
  t.equal(r.status, 200, 'the file is answered; its rows are not stored');
  const value = (name: string) => r.body.parameter.find((p: any) => p.name === name).valueInteger;
  t.equal(value('imported'), 0);
  t.equal(value('rejected'), value('rows'));
  const outcome = r.body.parameter.find((p: any) => p.name === 'outcome').resource;
  t.ok(outcome.issue.filter((i: any) => i.severity === 'error').every((i: any) => RULE.test(i.diagnostics)), 'every row refused by the mandatory profile');
  t.equal(await count(app, 'Patient'), 0);
});

t.test('migfhir sync pull into this store: 422, nothing stored', async (t) => {
  const remote = await listeningServer();
  t.teardown(() => remote.app.close());
  const seeded = await http('POST', remote.base, { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: AMKA, value: '12038801234' }], name: [{ family: 'Haddad' }] }, request: { method: 'POST', url: 'Patient' } }] });
  t.equal(seeded.status, 200);
  const app = await strictApp(t);
  const writer = localWriter(app.fhir, { method: 'POST', baseUrl: 'http://test.local/fhir', query: Object.create(null), headers: {} }, 'sync:test');
  const err = await pull(new RemoteFhir(endpoint('remote', remote.base)), `${AMKA}|12038801234`, writer, QUIET).catch((e: unknown) => e);
  t.ok(err instanceof FhirError, 'the pull fails');
  t.equal((err as FhirError).status, 422);
  t.ok(refusedByProfile((err as FhirError).outcome), 'refused by the mandatory profile');
  t.equal(await count(app, 'Patient'), 0);
  t.equal(await count(app, 'Provenance'), 0);
});

t.test('$reindex writes no version: it completes over records stored before the profile', async (t) => {
  const app = await testApp({ mandatoryProfiles: { Patient: [PROFILE] } });
  t.teardown(() => app.close());
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/old', { resourceType: 'Patient', id: 'old', name: [{ family: 'Haddad' }] })).status, 201);
  t.equal((await fhir(app, 'PUT', '/fhir/StructureDefinition/patient-with-photo', photoProfile())).status, 201);
  const task = await app.fhir.jobs.start(['Patient']);
  await app.fhir.jobs.idle();
  const done = await fhir(app, 'GET', `/fhir/Task/${task.id}`);
  t.equal(done.body.status, 'completed');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?family=Haddad')).body.entry.length, 1, 'the record is still found');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/old')).body.meta.versionId, '1', 'and not rewritten');
});

t.test('a client without the migration-data scope is checked on what it sent, never told of what it cannot see', async (t) => {
  const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
  // StructureDefinitions stored unvalidated: the IG's own, tightened below, is one
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read' }, { config: { validation: { default: 'profiles', types: { StructureDefinition: 'off' } } } });
  const full = await bearer('system/*.cruds migfhir/migration-data.read');
  const plain = await bearer('system/Patient.cruds');
  const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [{ url: STATUS, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] }] };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient, full)).status, 201);
  // later, the extension requires the granting country: the stored status no longer meets it
  const sd = JSON.parse(readFileSync('ig/package/StructureDefinition-migration-status.json', 'utf8')) as StructureDefinition;
  sd.snapshot!.element.find((e) => e.id === 'Extension.extension:grantingCountry')!.min = 1;
  t.equal((await fhir(app, 'PUT', '/fhir/StructureDefinition/migration-status', sd, full)).status, 201);
  const again = await fhir(app, 'PUT', '/fhir/Patient/p1', { ...patient, active: true }, full);
  t.equal(again.status, 422, 'the rule holds for a client that sees the status');
  t.match(JSON.stringify(again.body), /grantingCountry/);
  const seen = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, plain)).body;
  const put = await fhir(app, 'PUT', '/fhir/Patient/p1', { ...seen, active: false }, plain);
  t.equal(put.status, 200, 'what the client without the scope sent is valid');
  t.notMatch(put.raw, /grantingCountry|migration-status/, 'and nothing in the answer tells it a status exists');
  let stored = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, full)).body;
  t.equal(stored.active, false, 'its change is stored');
  t.ok(stored.extension.some((e: any) => e.url === STATUS), 'the status it could not see is kept');
  const patched = await app.inject({ method: 'PATCH', url: '/fhir/Patient/p1', headers: { ...plain, 'content-type': 'application/json-patch+json' }, payload: JSON.stringify([{ op: 'replace', path: '/active', value: true }]) });
  t.equal(patched.statusCode, 200, 'the same for a patch');
  t.notMatch(patched.body, /grantingCountry|migration-status/);
  stored = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, full)).body;
  t.ok(stored.active && stored.extension.some((e: any) => e.url === STATUS), 'patched, the status kept');
});
