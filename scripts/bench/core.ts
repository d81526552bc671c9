// Read-by-id and create throughput of migfhir against a bare Fastify server returning the same
// bytes from memory, measured in one run with autocannon (servers in child processes, so the
// load generator does not share their event loop). Reported as ratios; targets: read ≥ 0.50,
// create ≥ 0.25 of the bare figures.
//   node scripts/bench/core.ts [--seconds 10] [--connections 10] [--json]
import type autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { startServer } from '../lib/server-process.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberOption } from '../lib/args.ts';
import { loadRun, scenarioRow, type LoadResult } from '../lib/load.ts';

const SECONDS = numberOption('seconds', 10);
const CONNECTIONS = numberOption('connections', 10);
const PATIENTS = 1000;

function patient(i: number) {
  const names = [['Haddad', 'Amal'], ['Müller', 'Jonas'], ['Özdemir', 'Ayşe'], ['Nguyễn', 'Lan'], ['Ёлкина', 'Ольга'], ['Παπαδόπουλος', 'Γιώργος'], ['محمد', 'علي']];
  const [family, given] = names[i % names.length];
  return {
    resourceType: 'Patient',
    identifier: [
      { system: 'http://hl7.it/sid/stp', value: `STP${100000 + i}`, use: 'temp' },
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] }, system: 'urn:iso:std:iso:3166:-1:SY:passport', value: `N${2000000 + i}` },
    ],
    active: true,
    name: [{ use: 'official', family, given: [given] }, { use: 'usual', family: 'Haddad', given: ['Amal'] }],
    telecom: [{ system: 'phone', value: `+30 69${String(i).padStart(8, '0')}`, use: 'mobile' }],
    gender: i % 2 ? 'female' : 'male',
    birthDate: `19${70 + (i % 30)}-0${1 + (i % 9)}`,
    address: [{ use: 'temp', line: ['Reception and Identification Centre'], city: 'Mytilene', postalCode: '81100', country: 'GR' }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ar' }] }, preferred: true }],
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { country: 'SY' } }],
  };
}


async function load(url: string, method: 'GET' | 'POST', seconds: number, requests?: autocannon.Request[], body?: string) {
  return loadRun({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method,
    headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
    ...(body ? { body } : {}),
    ...(requests ? { requests } : {}),
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-bench-core-'));
  const servers: ChildProcess[] = [];
  try {
    const fhir = await startServer(['src/cli/main.ts', 'serve', '--dev-open-access'], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: dir, MIGFHIR_LOG_LEVEL: 'warn' });
    servers.push(fhir.child);
    const ids: string[] = [];
    for (let i = 0; i < PATIENTS; i++) {
      const res = await fetch(`${fhir.base}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(patient(i)) });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const sample = await (await fetch(`${fhir.base}/Patient/${ids[0]}`)).text();
    const bare = await startServer(['scripts/bench/bare-server.ts'], { BARE_BODY: sample });
    servers.push(bare.child);
    const readRequests = ids.map((id) => ({ method: 'GET' as const, path: `/fhir/Patient/${id}` }));
    const createBody = JSON.stringify(patient(7));
    // warm up both, then alternate the measured runs
    await load(`${bare.base}/Patient/x`, 'GET', 2);
    await load(fhir.base, 'GET', 2, readRequests);
    const results: Record<string, LoadResult> = {};
    results.bareRead = await load(`${bare.base}/Patient/x`, 'GET', SECONDS);
    results.read = await load(fhir.base, 'GET', SECONDS, readRequests);
    results.bareCreate = await load(`${bare.base}/Patient`, 'POST', SECONDS, undefined, createBody);
    results.create = await load(`${fhir.base}/Patient`, 'POST', SECONDS, undefined, createBody);
    const table = [scenarioRow('bare Fastify GET (same bytes)', results.bareRead), scenarioRow('migfhir read by id', results.read), scenarioRow('bare Fastify POST (parse + 201)', results.bareCreate), scenarioRow('migfhir create', results.create)];
    const readRatio = results.read.requests.average / results.bareRead.requests.average;
    const createRatio = results.create.requests.average / results.bareCreate.requests.average;
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify({ table, readRatio, createRatio, seconds: SECONDS, connections: CONNECTIONS }));
    } else {
      console.log(`${CONNECTIONS} connections, ${SECONDS} s per run, ${PATIENTS} patients\n`);
      console.log('scenario                          req/s   p50 ms  p97.5 ms  p99 ms  errors');
      for (const r of table) console.log(`${r.scenario.padEnd(32)} ${String(r.rps).padStart(6)}  ${String(r.p50).padStart(6)}  ${String(r.p97_5).padStart(8)}  ${String(r.p99).padStart(6)}  ${r.errors}`);
      console.log(`\nread / bare read     ${readRatio.toFixed(2)}  (target ≥ 0.50)`);
      console.log(`create / bare create ${createRatio.toFixed(2)}  (target ≥ 0.25)`);
    }
  } finally {
    for (const s of servers) s.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
