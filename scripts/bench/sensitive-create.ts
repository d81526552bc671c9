// CPU per create of Patients holding a status-revealing identifier (an LMA number), against
// the same Patients without it: the extra cost of labelling them and marking their index rows
// for the view of clients without the migration-data scope (src/search/sensitive-rows.ts).
// In-process (fastify.inject, in-memory SQLite, no authorization): process.cpuUsage around a
// loop of POSTs, after a warm-up. Usage: node scripts/bench/sensitive-create.ts [creates]
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { loadavg } from 'node:os';

const N = Number(process.argv[2] ?? 2000);
const LMA = 'https://migfhir.org/fhir/sid/se-lma';
const PNR = 'urn:oid:1.2.752.129.2.1.3.1';

function patient(i: number, withLma: boolean) {
  return {
    resourceType: 'Patient',
    identifier: [{ system: PNR, value: `19900101${String(i).padStart(4, '0')}` }, ...(withLma ? [{ system: LMA, value: `12-${String(i).padStart(6, '0')}` }] : [])],
    name: [{ family: `Family${i % 97}`, given: [`Given${i % 89}`] }],
    gender: i % 2 ? 'female' : 'male',
    birthDate: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
    address: [{ city: 'Malmö', country: 'SE' }],
  };
}

async function run(withLma: boolean): Promise<number> {
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: 'http://bench.local/fhir', logLevel: 'silent' }), { store });
  const post = (i: number) => app.inject({ method: 'POST', url: '/fhir/Patient', headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(patient(i, withLma)) });
  for (let i = 0; i < 200; i++) await post(i);
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const res = await post(1000 + i);
    if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}`);
  }
  const used = process.cpuUsage(before);
  await app.close();
  await store.close();
  return (used.user + used.system) / N;
}

// alternated, twice each, to even out the noise of a shared machine
const plain: number[] = [];
const lma: number[] = [];
for (let round = 0; round < 2; round++) {
  plain.push(await run(false));
  lma.push(await run(true));
}
const best = (xs: number[]) => Math.min(...xs);
console.log(`creates: ${N} per run; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`CPU per create, plain Patient: ${best(plain).toFixed(0)} µs (runs: ${plain.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`CPU per create, with an LMA number: ${best(lma).toFixed(0)} µs (runs: ${lma.map((x) => x.toFixed(0)).join(', ')}); +${((best(lma) / best(plain) - 1) * 100).toFixed(1)}%`);
