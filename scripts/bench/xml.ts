// FHIR XML against FHIR JSON for the same resources, in one run (#22: XML costs no more than
// 2× JSON): read by id with Accept JSON vs XML over the same stored patients, and create of the
// same patient (the R4 example Patient: narrative, extensions, contacts) sent as JSON vs XML,
// with autocannon against the real server in a child process. Reported as ratios XML / JSON of
// requests per second (target ≥ 0.50 each). Then, in process, the parse and serialize cost per
// resource over the R4 examples (JSON.parse / JSON.stringify vs src/fhir/xml), for reference.
//   node scripts/bench/xml.ts [--seconds 8] [--connections 10] [--json]
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startServer } from '../lib/server-process.ts';
import { numberOption } from '../lib/args.ts';
import { loadRun, scenarioRow, type LoadResult } from '../lib/load.ts';
import { population } from '../lib/population.ts';
import { toXml } from '../../src/fhir/xml/serialize.ts';
import { fromXml } from '../../src/fhir/xml/parse.ts';

const SECONDS = numberOption('seconds', 8);
const CONNECTIONS = numberOption('connections', 10);
const PATIENTS = 1000;
const JSON_TYPE = 'application/fhir+json';
const XML_TYPE = 'application/fhir+xml';
const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

async function read(base: string, ids: string[], accept: string, seconds: number) {
  return loadRun({ url: base, connections: CONNECTIONS, duration: seconds, requests: ids.map((id) => ({ method: 'GET' as const, path: `/fhir/Patient/${id}`, headers: { accept } })) });
}

async function create(base: string, type: string, body: string, seconds: number) {
  return loadRun({ url: `${base}/Patient`, connections: CONNECTIONS, duration: seconds, method: 'POST', headers: { 'content-type': type, accept: type, prefer: 'return=minimal' }, body });
}

/** ms per resource of parse and serialize, JSON vs XML, over the R4 examples up to 1 MB */
function inProcess() {
  const resources: object[] = [];
  for (const f of readdirSync(examples)) {
    if (!f.endsWith('.json') || f === 'package.json' || statSync(join(examples, f)).size > 1024 * 1024) continue;
    const r = JSON.parse(readFileSync(join(examples, f), 'utf8'));
    if (typeof r.resourceType === 'string') resources.push(r);
  }
  const jsonTexts = resources.map((r) => JSON.stringify(r));
  const xmlTexts = resources.map((r) => toXml(r));
  const time = (f: () => void) => {
    const start = performance.now();
    f();
    return (performance.now() - start) / resources.length;
  };
  return {
    resources: resources.length,
    jsonParse: time(() => jsonTexts.forEach((t) => JSON.parse(t))),
    xmlParse: time(() => xmlTexts.forEach((t) => fromXml(t, { maxDepth: 200 }))),
    jsonWrite: time(() => resources.forEach((r) => JSON.stringify(r))),
    xmlWrite: time(() => resources.forEach((r) => toXml(r))),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-bench-xml-'));
  const servers: ChildProcess[] = [];
  try {
    const fhir = await startServer(['src/cli/main.ts', 'serve', '--dev-open-access'], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: dir, MIGFHIR_LOG_LEVEL: 'warn' });
    servers.push(fhir.child);
    const ids: string[] = [];
    for (const r of population()) {
      if (ids.length === PATIENTS) break;
      if (r.resourceType !== 'Patient') continue;
      const res = await fetch(`${fhir.base}/Patient/${r.id}`, { method: 'PUT', headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(r) });
      if (!res.ok) throw new Error(`PUT Patient/${r.id}: ${res.status}`);
      ids.push(r.id!);
    }
    const { id: _id, ...example } = JSON.parse(readFileSync(join(examples, 'Patient-example.json'), 'utf8'));
    const jsonBody = JSON.stringify(example);
    const xmlBody = toXml(example);
    // warm up, then the measured runs alternate JSON and XML
    await read(fhir.base, ids, JSON_TYPE, 2);
    await read(fhir.base, ids, XML_TYPE, 2);
    const r: Record<string, LoadResult> = {};
    r.readJson = await read(fhir.base, ids, JSON_TYPE, SECONDS);
    r.readXml = await read(fhir.base, ids, XML_TYPE, SECONDS);
    r.createJson = await create(fhir.base, JSON_TYPE, jsonBody, SECONDS);
    r.createXml = await create(fhir.base, XML_TYPE, xmlBody, SECONDS);
    const table = [scenarioRow('read by id, JSON', r.readJson), scenarioRow('read by id, XML', r.readXml), scenarioRow('create, JSON', r.createJson), scenarioRow('create, XML', r.createXml)];
    const readRatio = r.readXml.requests.average / r.readJson.requests.average;
    const createRatio = r.createXml.requests.average / r.createJson.requests.average;
    const local = inProcess();
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify({ table, readRatio, createRatio, inProcess: local, seconds: SECONDS, connections: CONNECTIONS }));
      return;
    }
    console.log(`${CONNECTIONS} connections, ${SECONDS} s per run, ${PATIENTS} patients\n`);
    console.log('scenario              req/s   p50 ms  p99 ms  errors');
    for (const x of table) console.log(`${x.scenario.padEnd(20)} ${String(x.rps).padStart(6)}  ${String(x.p50).padStart(6)}  ${String(x.p99).padStart(6)}  ${x.errors}`);
    console.log(`\nread XML / read JSON     ${readRatio.toFixed(2)}  (target ≥ 0.50)`);
    console.log(`create XML / create JSON ${createRatio.toFixed(2)}  (target ≥ 0.50)`);
    const ms = (n: number) => n.toFixed(3).padStart(7);
    console.log(`\nin process, ${local.resources} R4 examples, ms per resource:`);
    console.log(`  parse  JSON ${ms(local.jsonParse)}  XML ${ms(local.xmlParse)}`);
    console.log(`  write  JSON ${ms(local.jsonWrite)}  XML ${ms(local.xmlWrite)}`);
  } finally {
    for (const s of servers) s.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
