// Caches built from stored resources (custom SearchParameters here) follow writes made by
// another server process on the same MongoDB database: through a change stream on a replica
// set, through a poll on a standalone server (src/store/mongo/watch.ts).
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { MongoStore, type Topology } from '../../../src/store/mongo/index.ts';
import { POLL_MS } from '../../../src/store/mongo/watch.ts';
import { fhir } from '../../helpers/app.ts';
import { FakeMongo } from '../../helpers/mongo-fake.ts';

async function process(t: Test, db: FakeMongo, topology: Topology): Promise<FastifyInstance> {
  const store = await MongoStore.attach(db, { topology });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  return app;
}

const language = {
  resourceType: 'SearchParameter', id: 'lang', url: 'http://example.org/fhir/SearchParameter/lang', name: 'lang', status: 'active',
  description: 'spoken language', code: 'lang', base: ['Patient'], type: 'token', expression: 'Patient.communication.language',
};
const speaker = { resourceType: 'Patient', id: 'p', communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ti' }] } }] };

const strict = { prefer: 'handling=strict' };
const search = (app: FastifyInstance) => fhir(app, 'GET', '/fhir/Patient?lang=ti', undefined, strict);

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) if (await check()) return true;
  return check();
}

for (const topology of ['replicaSet', 'standalone'] as const) {
  t.test(`a SearchParameter stored by one process is used by another (${topology})`, async (t) => {
    const db = new FakeMongo();
    const a = await process(t, db, topology);
    const b = await process(t, db, topology);
    t.equal((await search(b)).status, 400, 'unknown at first (strict handling refuses an unknown parameter)');
    t.equal((await fhir(a, 'PUT', '/fhir/SearchParameter/lang', language)).status, 201);
    t.equal((await fhir(a, 'PUT', '/fhir/Patient/p', speaker)).status, 201);
    const found = await eventually(async () => (await search(b)).body?.total === 1, POLL_MS * 3);
    t.ok(found, 'the other process knows the parameter');
    await fhir(a, 'DELETE', '/fhir/SearchParameter/lang');
    t.ok(await eventually(async () => (await search(b)).status === 400, POLL_MS * 3), 'and forgets it when deleted');
  });
}
