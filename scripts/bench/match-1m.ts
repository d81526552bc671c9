// $match latency against a large MPI: loads `--people` generated people (~1.6 stored records each,
// scripts/match-population.ts) straight into a data dir, then times `--requests` $match calls.
//   node scripts/bench/match-1m.ts --data-dir /tmp/mpi --people 625000 [--requests 200] [--skip-load]
import { join, resolve } from 'node:path';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { SearchParamRegistry } from '../../src/search/registry.ts';
import { extractIndex } from '../../src/search/extract.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { withMeta } from '../../src/store/repository.ts';
import { population } from '../match-population.ts';
import { startServer } from '../lib/server-process.ts';
import { option } from '../lib/args.ts';

const DIR = resolve(option('data-dir', './data-bench-mpi'));
const PEOPLE = Number(option('people', '625000'));
const N = Number(option('requests', '200'));
const regs = population(PEOPLE, 99).records;

if (!process.argv.includes('--skip-load')) {
  const defs = loadDefinitions();
  const registry = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
  const store = new SqliteStore({ path: join(DIR, 'migfhir.sqlite') });
  const t0 = performance.now();
  for (let k = 0; k < regs.length; k += 1000) {
    await store.transaction(async (tx) => {
      for (const x of regs.slice(k, k + 1000)) {
        const lastUpdated = tx.now();
        const stored = withMeta(x.patient, 1, lastUpdated);
        await tx.write({ resourceType: 'Patient', id: x.patient.id!, versionId: 1, lastUpdated, method: 'POST', json: JSON.stringify(stored), index: extractIndex(stored, registry) });
      }
    });
  }
  await store.close();
  console.log(`${regs.length} patients loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const server = await startServer(['src/cli/main.ts', 'serve', '--dev-open-access'], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: DIR, MIGFHIR_LOG_LEVEL: 'warn' });
try {
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const x = regs[Math.floor((i * 7919) % regs.length)];
    const { id: _id, ...input } = x.patient;
    void _id;
    const t = performance.now();
    const res = await fetch(`${server.base}/Patient/$match`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: input }] }) });
    await res.json();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`$match over ${regs.length} patients, ${N} calls: p50 ${times[Math.floor(N * 0.5)].toFixed(1)} ms, p95 ${times[Math.floor(N * 0.95)].toFixed(1)} ms, p99 ${times[Math.floor(N * 0.99)].toFixed(1)} ms (target p95 < 200 ms)`);
} finally {
  server.child.kill('SIGTERM');
}
