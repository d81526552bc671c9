// migfhir sync against a remote that speaks FHIR XML only (a migfhir instance that refuses JSON
// with 406 and 415, as an XML-only HAPI deployment would): pull and push work the same, found
// out from the first refusal or configured with format "xml".
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { localRecord, localWriter } from '../../src/sync/local.ts';
import { pull } from '../../src/sync/pull.ts';
import { push } from '../../src/sync/push.ts';
import { RemoteFhir } from '../../src/sync/remote.ts';
import type { FhirRequest } from '../../src/rest/types.ts';
import { toXml } from '../../src/fhir/xml/serialize.ts';
import { AMKA, QUIET, endpoint } from './helpers.ts';

const LOCAL = 'http://test.local/fhir';
const req = (): FhirRequest => ({ method: 'POST', baseUrl: LOCAL, query: Object.create(null), headers: {} });
const XML = 'application/fhir+xml';

/** A migfhir instance answering only requests that send and accept FHIR XML. */
async function xmlOnlyServer(): Promise<{ app: FastifyInstance; base: string; jsonRefused: () => number }> {
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: undefined }), { store });
  app.addHook('onClose', async () => store.close());
  let refused = 0;
  app.addHook('onRequest', async (request, reply) => {
    const type = request.headers['content-type'];
    if (type && !type.includes('xml') && !type.includes('form')) {
      refused++;
      return reply.code(415).header('content-type', XML).send('<OperationOutcome xmlns="http://hl7.org/fhir"><issue><severity value="error"/><code value="not-supported"/></issue></OperationOutcome>');
    }
    if (!(request.headers.accept ?? '').includes('xml')) {
      refused++;
      return reply.code(406).header('content-type', XML).send('<OperationOutcome xmlns="http://hl7.org/fhir"><issue><severity value="error"/><code value="not-supported"/></issue></OperationOutcome>');
    }
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${port}/fhir`, jsonRefused: () => refused };
}

t.test('pull from and push to an XML-only endpoint', async (t) => {
  const remote = await xmlOnlyServer();
  t.teardown(() => remote.app.close());
  const seed = {
    resourceType: 'Bundle', type: 'transaction', entry: [
      { fullUrl: 'urn:uuid:0c9b3e2a-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: AMKA, value: '12038801234' }], name: [{ family: 'Haddad', given: ['Rana'] }] }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'urn:uuid:0c9b3e2a-0000-4000-8000-000000000001' }, valueQuantity: { value: 61.5, unit: 'kg' } }, request: { method: 'POST', url: 'Observation' } },
    ],
  };
  const seeded = await fetch(remote.base, { method: 'POST', headers: { 'content-type': XML, accept: XML }, body: toXml(seed) });
  t.equal(seeded.status, 200);

  const local = await testApp();
  t.teardown(() => local.close());
  const found = new RemoteFhir(endpoint('xml-only', remote.base));
  const r = await pull(found, `${AMKA}|12038801234`, localWriter(local.fhir, req(), 'sync:test'), QUIET);
  t.equal(r.fetched, 2, 'patient and observation');
  t.equal(r.created, 3, 'and the Provenance');
  t.equal(remote.jsonRefused(), 1, 'found out from the first refusal, then XML only');
  const obs = (await fhir(local, 'GET', '/fhir/Observation')).body.entry[0].resource;
  t.equal(obs.valueQuantity.value, 61.5, 'values typed as in JSON');

  // push a local record to it, configured as XML from the start
  const tx = await fhir(local, 'POST', '/fhir', {
    resourceType: 'Bundle', type: 'transaction', entry: [
      { fullUrl: 'urn:uuid:7d1f0000-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: AMKA, value: '24079912345' }], name: [{ family: 'Nasser' }] }, request: { method: 'POST', url: 'Patient' } },
    ],
  });
  const localId = /Patient\/([^/]+)/.exec(tx.body.entry[0].response.location)![1];
  const configured = new RemoteFhir(endpoint('xml-only', remote.base, { format: 'xml' }));
  const pushed = await push(configured, localId, await localRecord(local.fhir, req(), localId), LOCAL, false, QUIET);
  t.equal(pushed.created, 2, 'patient and Provenance');
  t.equal(remote.jsonRefused(), 1, 'nothing was sent as JSON');
  const check = await fetch(`${remote.base}/Patient?identifier=${encodeURIComponent(`${AMKA}|24079912345`)}`, { headers: { accept: XML } });
  t.match(await check.text(), '<family value="Nasser"/>', 'stored on the XML-only endpoint');
});
