// Patient/$summary latency for a patient with a long record (default 500 resources), on a
// store that also holds other patients' records (default 20 more of the same size), through
// the whole HTTP stack (fastify.inject, in-memory SQLite).
// node scripts/bench/summary.ts [--resources 500] [--others 20] [--runs 30]
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { clinicalRecord, recordTransaction } from '../clinical-record.ts';
import { numberOption } from '../lib/args.ts';

const RESOURCES = numberOption('resources', 500);
const OTHERS = numberOption('others', 20);
const RUNS = numberOption('runs', 30);

const store = new SqliteStore({ path: ':memory:' });
const app = await buildApp(testConfig({ baseUrl: 'http://bench/fhir' }), { store });
const post = async (body: unknown) => {
  const res = await app.inject({ method: 'POST', url: '/fhir', headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(body) });
  if (res.statusCode !== 200) throw new Error(res.body.slice(0, 500));
};
const t0 = performance.now();
for (let p = 0; p <= OTHERS; p++) await post(recordTransaction(clinicalRecord(`p${p}`, 'many', RESOURCES, p + 1)));
console.log(`loaded ${(OTHERS + 1) * RESOURCES} resources in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const times: number[] = [];
let entries = 0;
let bytes = 0;
for (let i = 0; i < RUNS + 3; i++) {
  const t = performance.now();
  const res = await app.inject({ method: 'GET', url: '/fhir/Patient/p0/$summary' });
  const ms = performance.now() - t;
  if (res.statusCode !== 200) throw new Error(res.body.slice(0, 500));
  if (i >= 3) times.push(ms); // the first runs warm the JIT and SQLite's statement cache
  entries = JSON.parse(res.body).entry.length;
  bytes = res.body.length;
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
console.log(`Patient/$summary, ${RESOURCES} resources in the record: ${entries} Bundle entries, ${(bytes / 1024).toFixed(0)} KiB`);
console.log(`p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${times[times.length - 1].toFixed(1)} ms over ${RUNS} runs (target < 300 ms)`);
await app.close();
