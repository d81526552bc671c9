// A real FHIR client (fhir-kit-client) against a listening server on an ephemeral loopback port.
import t from 'tap';
import { Client } from 'fhir-kit-client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';

let app: FastifyInstance;
let client: Client;

t.before(async () => {
  app = await buildApp(testConfig({ baseUrl: undefined }), { store: new SqliteStore({ path: ':memory:' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  client = new Client({ baseUrl: `http://127.0.0.1:${port}/fhir` });
});
t.teardown(() => app.close());

t.test('capability statement', async (t) => {
  const cs: any = await client.capabilityStatement();
  t.equal(cs.resourceType, 'CapabilityStatement');
  t.equal(cs.fhirVersion, '4.0.1');
  t.equal(cs.rest[0].resource.length, 146);
});

t.test('create, read, vread, update, patch, delete, history', async (t) => {
  const created: any = await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'Özdemir', given: ['Ayşe'] }], birthDate: '1992' } });
  t.match(created.id, /^[0-9a-f-]{36}$/);
  t.equal(created.meta.versionId, '1');
  const read: any = await client.read({ resourceType: 'Patient', id: created.id });
  t.same(read, created);
  const updated: any = await client.update({ resourceType: 'Patient', id: created.id, body: { ...read, gender: 'female' } });
  t.equal(updated.meta.versionId, '2');
  const patched: any = await client.patch({ resourceType: 'Patient', id: created.id, jsonPatch: [{ op: 'replace', path: '/gender', value: 'other' }] });
  t.equal(patched.gender, 'other');
  t.equal(patched.meta.versionId, '3');
  const v1: any = await client.vread({ resourceType: 'Patient', id: created.id, version: '1' });
  t.notOk(v1.gender);
  const history: any = await client.history({ resourceType: 'Patient', id: created.id });
  t.equal(history.type, 'history');
  t.same(history.entry.map((e: any) => e.resource.meta.versionId), ['3', '2', '1']);
  await client.delete({ resourceType: 'Patient', id: created.id });
  const status = async (p: Promise<unknown>) => p.then(() => 200, (err: { response?: { status?: number } }) => err.response?.status);
  t.equal(await status(client.read({ resourceType: 'Patient', id: created.id })), 410, 'deleted → 410');
  t.equal(await status(client.read({ resourceType: 'Patient', id: 'missing' })), 404);
});

t.test('search with paging through the client', async (t) => {
  for (let i = 0; i < 12; i++) {
    await client.create({ resourceType: 'Observation', body: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, valueQuantity: { value: 60 + i } } });
  }
  let page: any = await client.search({ resourceType: 'Observation', searchParams: { code: 'http://loinc.org|8867-4', _count: 5, _sort: 'value-quantity' } });
  const values: number[] = [];
  while (page) {
    values.push(...page.entry.map((e: any) => e.resource.valueQuantity.value));
    page = await client.nextPage({ bundle: page });
  }
  t.same(values, Array.from({ length: 12 }, (_, i) => 60 + i), 'all pages, in order');
});

t.test('transaction through the client', async (t) => {
  const res: any = await client.transaction({
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:3f1b0c8e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Haddad' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:3f1b0c8e-0000-4000-8000-000000000001' } }, request: { method: 'POST', url: 'Encounter' } },
      ],
    },
  });
  t.equal(res.type, 'transaction-response');
  t.same(res.entry.map((e: any) => e.response.status), ['201 Created', '201 Created']);
});

t.test('$validate and validation on write through the client', async (t) => {
  const outcome: any = await client.operation({ name: '$validate', resourceType: 'Patient', method: 'POST', input: { resourceType: 'Patient', gender: 'M', birthDate: '1990-02-30' } });
  t.equal(outcome.resourceType, 'OperationOutcome', 'an invalid resource: 200 with the issues');
  t.same(outcome.issue.filter((i: any) => i.severity === 'error').map((i: any) => i.expression[0]).sort(), ['Patient.birthDate', 'Patient.gender']);
  try {
    await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', gender: 'M' } });
    t.fail('an invalid create must be refused');
  } catch (err: any) {
    t.equal(err.response?.status, 422, 'create: 422');
    t.equal(err.response?.data?.resourceType, 'OperationOutcome');
  }
});
