// Loads the synthetic migrant-health population (scripts/lib/population.ts) straight into a
// migfhir data dir (batched store transactions with the same indexing as the server), for the
// search benchmarks.
//   node scripts/load-population.ts --data-dir /tmp/migfhir-1m --resources 1000000 [--no-index]
import { join, resolve } from 'node:path';
import type { Resource } from 'fhir/r4.js';
import { loadDefinitions } from '../src/fhir/definitions.ts';
import { SearchParamRegistry } from '../src/search/registry.ts';
import { extractIndex } from '../src/search/extract.ts';
import { SqliteStore } from '../src/store/sqlite/index.ts';
import { withMeta } from '../src/store/repository.ts';
import { population } from './lib/population.ts';
import { option } from './lib/args.ts';

const DIR = resolve(option('data-dir', './data-bench'));
const TOTAL = Number(option('resources', '1000000'));
const BATCH = 1000;
/** --no-index: store without search index rows, to measure what indexing costs */
const INDEX = !process.argv.includes('--no-index');

const defs = loadDefinitions();
const registry = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
const store = new SqliteStore({ path: join(DIR, 'migfhir.sqlite') });
const t0 = performance.now();
let n = 0;
const gen = population();
while (n < TOTAL) {
  const batch: Resource[] = [];
  while (batch.length < BATCH && n + batch.length < TOTAL) batch.push(gen.next().value as Resource);
  await store.transaction(async (tx) => {
    for (const r of batch) {
      const lastUpdated = tx.now();
      const stored = withMeta(r, 1, lastUpdated);
      await tx.write({ resourceType: r.resourceType, id: r.id!, versionId: 1, lastUpdated, method: 'POST', json: JSON.stringify(stored), ...(INDEX ? { index: extractIndex(stored, registry) } : {}) });
    }
  });
  n += batch.length;
  if (n % 50000 === 0 || n === TOTAL) {
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(`${n} resources, ${Math.round(n / secs)} resources/s\n`);
  }
}
await store.close();
