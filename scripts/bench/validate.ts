// Validator throughput, measured in one run (the machine is noisy, so compare the rows of one
// run, not runs), each rate with the CPU time it took per resource (on a shared machine the
// CPU time is the figure to compare with a target "per core"):
//  1. the official R4 example instances (hl7.fhir.r4.examples, without the definitional
//     resources) against base R4 — target ≥ 3,000 resources/s/core;
//  2. every instance of the package, definitions included (655 StructureDefinitions …);
//  3. resources against profiles with slicing and bindings: the migrant-health IG's
//     MigrantPatient / MigrantEncounter / ReferralServiceRequest examples, and the R4 blood
//     pressure profile (component slices, vital-signs category slice) — target ≥ 1,500/s;
//  4. validate-on-write: create throughput (in process, fastify.inject) with validation on
//     (`profiles`, the default) against `off`, reported as a ratio;
//  5. `POST [type]/$validate` over HTTP with 4 connections (autocannon; the server in a child
//     process, its CPU read from /proc) on the R4 example instances — target ≥ 2,000/s.
// --cpu-prof DIR runs the HTTP server under `node --cpu-prof` and leaves its .cpuprofile in DIR
// (written when the server exits at the end) with window.json, the timed load's window, which
// scripts/lib/cpuprofile-summary.ts reads to sum only the timed part.
//  6. `migfhir validate` on an NDJSON file of 10,000 resources (the R4 example instances cycled)
//     in a child process, wall time and CPU (user + system, from /usr/bin/time where there is one)
//     including start-up, with one thread, two, and as it chooses — target < 5 s wall.
//  --only http-floor posts one minimal resource instead: what a request costs besides validating.
//   node scripts/bench/validate.ts [--seconds 3] [--connections 4] [--only http|http-floor|process|cli] [--cpu-prof DIR]
import autocannon from 'autocannon';
import { loadavg } from 'node:os';
import { startServer } from '../lib/server-process.ts';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadIgPackage } from '../../src/ig/package.ts';
import { offlineValidator } from '../../src/validation/offline.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { numberOption, option } from '../lib/args.ts';
import { processCpu, threadCpuSeconds } from '../lib/proc-cpu.ts';

const SECONDS = numberOption('seconds', 3);
const CONNECTIONS = numberOption('connections', 4);
const ONLY = option('only', '');
const CPU_PROF = option('cpu-prof', '');
const DEFINITIONAL = /^(StructureDefinition|SearchParameter|ValueSet|CodeSystem|ConceptMap|OperationDefinition|CompartmentDefinition|CapabilityStatement|NamingSystem|ImplementationGuide|StructureMap)$/;

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'package.json')
  .map((f) => ({ f, r: JSON.parse(readFileSync(join(dir, f), 'utf8')) }))
  .filter((x) => typeof x.r.resourceType === 'string');
const instances = all.filter((x) => !DEFINITIONAL.test(x.r.resourceType) && !(x.r.resourceType === 'Bundle' && /^Bundle-(types|resources|profiles|valuesets|v2-|v3-|valueset|conceptmaps|dataelements|extensions|searchParams)/.test(x.f)));

const { validator } = offlineValidator();
const ig = loadIgPackage();

/** Resources per second over `seconds`, after one warm-up pass (compiling definitions), and
 * the CPU time per resource (this process: the validator and its garbage collection). */
function rate(items: { r: unknown; profiles?: string[] }[], seconds = SECONDS): { perSecond: number; cpuMicros: number; errors: number } {
  let errors = 0;
  for (const it of items) errors += validator.validate(it.r, { profiles: it.profiles }).filter((i) => i.severity === 'error').length;
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (const it of items) validator.validate(it.r, { profiles: it.profiles });
    n += items.length;
  }
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: Math.round(n / ((performance.now() - t0) / 1000)), cpuMicros: (cpu.user + cpu.system) / n, errors };
}

/** `$validate` over HTTP: the example instances posted in turn by CONNECTIONS connections. */
async function httpRate(resources: unknown[]): Promise<{ perSecond: number; cpuMicros?: number; systemMicros?: number; threads: Record<string, number>; clientMicros: number; p99: number; failures: number }> {
  const data = mkdtempSync(join(tmpdir(), 'migfhir-bench-validate-http-'));
  const profile = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
  const server = await startServer([...profile, 'src/cli/main.ts', 'serve', '--dev-open-access'], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: data, MIGFHIR_LOG_LEVEL: 'warn' });
  try {
    const requests = resources.map((r) => ({ method: 'POST' as const, path: `/fhir/${(r as { resourceType: string }).resourceType}/$validate`, body: JSON.stringify(r) }));
    const load = (duration: number) =>
      new Promise<autocannon.Result>((resolve, reject) =>
        autocannon({ url: server.base, connections: CONNECTIONS, duration, headers: { 'content-type': 'application/fhir+json' }, requests }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    // every type's definitions compiled first (one pass, as in process), then a short warm-up
    for (const r of requests) await fetch(new URL(r.path, server.base), { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: r.body });
    await load(2);
    const cpu0 = processCpu(server.child.pid);
    const threads0 = threadCpuSeconds(server.child.pid);
    const client0 = process.cpuUsage();
    // the timed window on the monotonic clock V8's profiles use, for scripts/lib/cpuprofile-summary.ts
    const from = process.hrtime.bigint() / 1000n;
    const res = await load(SECONDS);
    if (CPU_PROF) writeFileSync(join(CPU_PROF, 'window.json'), JSON.stringify({ from: Number(from), to: Number(process.hrtime.bigint() / 1000n) }));
    const client = process.cpuUsage(client0);
    const cpu1 = processCpu(server.child.pid);
    const threads: Record<string, number> = {};
    for (const [name, seconds] of threadCpuSeconds(server.child.pid)) {
      const used = ((seconds - (threads0.get(name) ?? 0)) * 1e6) / res.requests.total;
      if (used >= 1) threads[name] = Math.round(used);
    }
    return {
      perSecond: Math.round(res.requests.average),
      cpuMicros: cpu0 && cpu1 ? ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1e6) / res.requests.total : undefined,
      // the kernel's part: the socket reads and writes
      systemMicros: cpu0 && cpu1 ? ((cpu1.system - cpu0.system) * 1e6) / res.requests.total : undefined,
      threads,
      clientMicros: (client.user + client.system) / res.requests.total,
      p99: res.latency.p99,
      failures: res.errors + res.non2xx,
    };
  } finally {
    // waited for: a CPU profile is written on the way out
    await new Promise((resolve) => {
      server.child.once('exit', resolve);
      server.child.kill();
    });
    rmSync(data, { recursive: true, force: true });
  }
}

const igExamples = ig
  ? readdirSync(join(dirname(new URL(import.meta.url).pathname), '../../ig/package/example')).map((f) => ({ r: JSON.parse(readFileSync(join(dirname(new URL(import.meta.url).pathname), '../../ig/package/example', f), 'utf8')) }))
  : [];
const bp = JSON.parse(readFileSync(join(dir, 'Observation-blood-pressure.json'), 'utf8'));
const profiled = [...igExamples, { r: bp, profiles: ['http://hl7.org/fhir/StructureDefinition/bp'] }];

async function createRate(validation: string): Promise<number> {
  const data = mkdtempSync(join(tmpdir(), 'migfhir-bench-validate-'));
  const app = await buildApp(loadConfig(['--data-dir', data, '--dev-open-access', '--log-level', 'silent', '--validation', validation]));
  const body = readFileSync(join(dirname(new URL(import.meta.url).pathname), '../../ig/package/example/Patient-paaypa-applicant.json'), 'utf8');
  const post = () => app.inject({ method: 'POST', url: '/fhir/Patient', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, payload: body });
  for (let i = 0; i < 200; i++) await post();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const res = await post();
    if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    n++;
  }
  await app.close();
  rmSync(data, { recursive: true, force: true });
  return Math.round(n / ((performance.now() - t0) / 1000));
}

/** `migfhir validate` on 10,000 NDJSON lines: wall seconds, and CPU seconds when /usr/bin/time can tell. */
function cliRun(file: string, threads: string[]): { wall: number; cpu?: number; maxRssMb?: number; summary: string } {
  const args = ['src/cli/main.ts', 'validate', ...threads, file];
  const timed = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const run = timed
    ? spawnSync('/usr/bin/time', ['-f', 'TIME %U %S %M', process.execPath, ...args], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', maxBuffer: 1 << 30 })
    : spawnSync(process.execPath, args, { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = (performance.now() - t0) / 1000;
  const m = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(run.stderr);
  const summary = /migfhir validate: .*/.exec(run.stderr)?.[0] ?? run.stderr.slice(0, 200);
  return { wall, ...(m ? { cpu: Number(m[1]) + Number(m[2]), maxRssMb: Math.round(Number(m[3]) / 1024) } : {}), summary };
}

function httpFigures(http: Awaited<ReturnType<typeof httpRate>>): string {
  return `server ${http.cpuMicros === undefined ? '?' : Math.round(http.cpuMicros)} µs CPU a request (${http.systemMicros === undefined ? '?' : Math.round(http.systemMicros)} µs of it in the kernel; per thread: ${Object.entries(http.threads).map(([k, v]) => `${k} ${v}`).join(', ')}), autocannon ${Math.round(http.clientMicros)} µs, p99 ${http.p99} ms, ${http.failures} failures`;
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const µs = (x: number | undefined) => (x === undefined ? '?' : `${Math.round(x)} µs CPU a resource = ${Math.round(1e6 / x).toLocaleString('en')}/s/core`);
console.log(`load average ${load()}`);
if (ONLY === 'process' || ONLY === '') {
  const base = rate(instances.map((x) => ({ r: x.r })));
  console.log(`official R4 example instances vs base R4 (${instances.length}): ${base.perSecond}/s, ${µs(base.cpuMicros)} (target ≥ 3,000/s/core), ${base.errors} errors (genuinely invalid examples)`);
  const everything = rate(all.map((x) => ({ r: x.r })));
  console.log(`every package instance incl. definitions (${all.length}): ${everything.perSecond}/s, ${µs(everything.cpuMicros)}`);
  const prof = rate(profiled);
  console.log(`profiles with slicing and bindings (${profiled.length}: IG examples + bp): ${prof.perSecond}/s, ${µs(prof.cpuMicros)} (target ≥ 1,500/s/core), ${prof.errors} errors`);
  const on = await createRate('profiles');
  const off = await createRate('off');
  const on2 = await createRate('profiles');
  console.log(`create with validation ${Math.round((on + on2) / 2)}/s vs without ${off}/s: ratio ${((on + on2) / 2 / off).toFixed(2)}`);
}
if (ONLY === 'http' || ONLY === '') {
  const http = await httpRate(instances.map((x) => x.r));
  console.log(`$validate over HTTP, ${CONNECTIONS} connections, the ${instances.length} R4 example instances in turn: ${http.perSecond}/s (target ≥ 2,000/s), ${httpFigures(http)}`);
}
if (ONLY === 'http-floor') {
  // what a request costs besides validating: HTTP, Fastify, body parse, audit, answer
  const http = await httpRate([{ resourceType: 'Basic', code: { text: 'x' } }]);
  console.log(`$validate over HTTP, ${CONNECTIONS} connections, one minimal Basic (the cost of a request without the validation): ${http.perSecond}/s, ${httpFigures(http)}`);
}
if (ONLY === 'cli' || ONLY === '') {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-bench-validate-cli-'));
  try {
    const file = join(dir, 'instances.ndjson');
    writeFileSync(file, `${Array.from({ length: 10_000 }, (_, i) => JSON.stringify(instances[i % instances.length].r)).join('\n')}\n`);
    for (const [label, threads] of [['one thread', ['--threads', '1']], ['two threads', ['--threads', '2']], ['threads as chosen', []]] as const) {
      const r = cliRun(file, [...threads]);
      console.log(`migfhir validate, 10,000 NDJSON lines, ${label}: ${r.wall.toFixed(2)} s wall (target < 5 s), ${r.cpu === undefined ? '?' : r.cpu.toFixed(2)} s CPU, max RSS ${r.maxRssMb ?? '?'} MB (${r.summary}), load average ${load()}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`load average ${load()}`);
