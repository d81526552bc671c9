// migfhir sync over loopback: a record of one patient and N observations pulled from a second
// migfhir instance into an in-memory store (page sizes 100 and 1000), pulled again (recognised,
// nothing written), then pushed to a third instance and pushed again.
//   node scripts/bench/sync.ts [--observations 1000]
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { Endpoint } from '../../src/sync/endpoints.ts';
import { localRecord, localRequest, localWriter } from '../../src/sync/local.ts';
import { Progress } from '../../src/sync/progress.ts';
import { pull } from '../../src/sync/pull.ts';
import { push } from '../../src/sync/push.ts';
import { RemoteFhir } from '../../src/sync/remote.ts';
import { numberOption } from '../lib/args.ts';

const N = numberOption('observations', 1000);
const quiet = new Progress(process.stderr, false);

async function server(listen: boolean) {
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: listen ? undefined : 'http://local.test/fhir' }), { store });
  app.addHook('onClose', async () => store.close());
  if (!listen) return { app, base: 'http://local.test/fhir' };
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}/fhir` };
}
const endpoint = (baseUrl: string, pageSize: number): Endpoint => ({ id: 'bench', baseUrl, adapter: 'fhir-r4', timeoutMs: 60_000, pageSize, retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 }, migrationData: false });

const source = await server(true);
const p = 'urn:uuid:9e000000-0000-4000-8000-000000000001';
const entry: Record<string, unknown>[] = [{ fullUrl: p, resource: { resourceType: 'Patient', identifier: [{ system: 'https://www.amka.gr', value: '1' }] }, request: { method: 'POST', url: 'Patient' } }];
for (let n = 0; n < N; n++) entry.push({ resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: p }, valueQuantity: { value: 60 + (n % 40) } }, request: { method: 'POST', url: 'Observation' } });
await fetch(source.base, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });

for (const pageSize of [100, 1000]) {
  const local = await server(false);
  const req = localRequest(local.app.fhir.config);
  const writer = localWriter(local.app.fhir, req, 'bench');
  let t0 = performance.now();
  const r = await pull(new RemoteFhir(endpoint(source.base, pageSize)), 'https://www.amka.gr|1', writer, quiet);
  const first = performance.now() - t0;
  t0 = performance.now();
  const again = await pull(new RemoteFhir(endpoint(source.base, pageSize)), 'https://www.amka.gr|1', writer, quiet);
  console.log(`pull ${r.fetched} resources (_count ${pageSize}): ${first.toFixed(0)} ms, ${r.requests} requests; again: ${(performance.now() - t0).toFixed(0)} ms (${again.duplicate ? 'nothing written' : 'WROTE'})`);
  if (pageSize === 1000) {
    const target = await server(true);
    const id = r.patient!.split('/')[1];
    t0 = performance.now();
    const sent = await push(new RemoteFhir(endpoint(target.base, pageSize)), id, await localRecord(local.app.fhir, req, id), req.baseUrl, false, quiet);
    const pt = performance.now() - t0;
    t0 = performance.now();
    const twice = await push(new RemoteFhir(endpoint(target.base, pageSize)), id, await localRecord(local.app.fhir, req, id), req.baseUrl, false, quiet);
    console.log(`push ${sent.sent} resources (read + one transaction): ${pt.toFixed(0)} ms, ${sent.created} created; again: ${(performance.now() - t0).toFixed(0)} ms (${twice.duplicate ? 'nothing sent' : 'SENT'})`);
    await target.app.close();
  }
  await local.app.close();
}
await source.app.close();
