// What write-time search indexing costs (issue #3's target: create with indexing ≥ 0.50 of create
// without it), measured in one run, two ways:
// 1. the create interaction, POST [type] through the real server (validation on write as
//    shipped), every R4 search parameter indexed vs the same server storing no index rows;
//    autocannon posts the mix of scripts/lib/population.ts (patients, encounters, vital signs,
//    questionnaire responses, referrals), alternating the two servers twice;
// 2. the storage path alone, in this process: batched store transactions with and without the
//    index rows (as scripts/load-population.ts), against nothing but writing the JSON.
//   node scripts/bench/indexing.ts [--seconds 8] [--connections 10] [--resources 20000]
import type autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from 'fhir/r4.js';
import { startServer } from '../lib/server-process.ts';
import { population } from '../lib/population.ts';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { SearchParamRegistry } from '../../src/search/registry.ts';
import { extractIndex } from '../../src/search/extract.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { withMeta } from '../../src/store/repository.ts';
import { loadRun, type LoadResult } from '../lib/load.ts';
import { numberOption } from '../lib/args.ts';

const SECONDS = numberOption('seconds', 8);
const CONNECTIONS = numberOption('connections', 10);
const RESOURCES = numberOption('resources', 20000);

function sample(n: number): Resource[] {
  const out: Resource[] = [];
  const gen = population();
  while (out.length < n) out.push(gen.next().value as Resource);
  return out;
}

function load(base: string, requests: autocannon.Request[], seconds: number): Promise<LoadResult> {
  return loadRun({ url: base, connections: CONNECTIONS, duration: seconds, requests });
}

/** Resources stored per second through batched store transactions (1,000 a transaction). */
async function storeRate(resources: Resource[], index: boolean, registry: SearchParamRegistry): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-bench-indexing-'));
  const store = new SqliteStore({ path: join(dir, 'migfhir.sqlite') });
  try {
    const t0 = performance.now();
    for (let i = 0; i < resources.length; i += 1000) {
      await store.transaction(async (tx) => {
        for (const r of resources.slice(i, i + 1000)) {
          const lastUpdated = tx.now();
          const stored = withMeta(r, 1, lastUpdated);
          await tx.write({ resourceType: r.resourceType, id: r.id!, versionId: 1, lastUpdated, method: 'POST', json: JSON.stringify(stored), ...(index ? { index: extractIndex(stored, registry) } : {}) });
        }
      });
    }
    return resources.length / ((performance.now() - t0) / 1000);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const dirs = [mkdtempSync(join(tmpdir(), 'migfhir-bench-indexed-')), mkdtempSync(join(tmpdir(), 'migfhir-bench-unindexed-'))];
const servers: ChildProcess[] = [];
try {
  const env = (dir: string) => ({ MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: dir, MIGFHIR_LOG_LEVEL: 'warn', MIGFHIR_RATE_LIMIT: '0' });
  const indexed = await startServer(['scripts/bench/indexing-server.ts'], env(dirs[0]));
  servers.push(indexed.child);
  const unindexed = await startServer(['scripts/bench/indexing-server.ts', '--no-index'], env(dirs[1]));
  servers.push(unindexed.child);
  // creates: the server assigns the ids, so the same bodies can be posted again and again
  const requests = sample(1700).map(({ id: _, ...r }) => ({
    method: 'POST' as const,
    path: `/fhir/${r.resourceType}`,
    headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
    body: JSON.stringify(r),
  }));
  await load(indexed.base, requests, 2);
  await load(unindexed.base, requests, 2);
  const runs: { on: LoadResult; off: LoadResult }[] = [];
  for (let i = 0; i < 2; i++) runs.push({ on: await load(indexed.base, requests, SECONDS), off: await load(unindexed.base, requests, SECONDS) });
  for (const s of servers) s.kill('SIGTERM');
  servers.length = 0;

  const defs = loadDefinitions();
  const registry = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
  const resources = sample(RESOURCES);
  await storeRate(resources.slice(0, 2000), true, registry); // warm-up
  const storeOff = await storeRate(resources, false, registry);
  const storeOn = await storeRate(resources, true, registry);

  console.log(`create interaction (POST [type], validation on write, ${CONNECTIONS} connections, ${SECONDS} s a run)`);
  console.log('run  indexed req/s  p99 ms  errors  unindexed req/s  p99 ms  errors  ratio');
  runs.forEach(({ on, off }, i) => {
    const cells = (r: LoadResult) => `${String(Math.round(r.requests.average)).padStart(13)}  ${String(r.latency.p99).padStart(6)}  ${String(r.errors + r.non2xx).padStart(6)}`;
    console.log(`${String(i + 1).padStart(3)}  ${cells(on)}  ${cells(off).padStart(15)}  ${(on.requests.average / off.requests.average).toFixed(2)}`);
  });
  const total = (k: 'on' | 'off') => runs.reduce((n, r) => n + r[k].requests.total, 0);
  console.log(`create with indexing / without        ${(total('on') / total('off')).toFixed(2)}  (target ≥ 0.50)`);
  console.log(`\nstorage path alone (${RESOURCES} resources, transactions of 1,000, no validation or HTTP)`);
  console.log(`indexed ${Math.round(storeOn)} resources/s, unindexed ${Math.round(storeOff)} resources/s, ratio ${(storeOn / storeOff).toFixed(2)}`);
} finally {
  for (const s of servers) s.kill('SIGTERM');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
