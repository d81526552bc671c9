// Bulk Data export and import on a large store (load it first with scripts/load-population.ts).
// Export: the real server (a child process) exports every resource of the data dir with
// GET $export; meanwhile this process reads random patients' records one request after another
// (their Patient, Observations and Encounters: READS) and records the latency; reports resources/s written to NDJSON (kick-off to manifest), the server's peak RSS
// (VmHWM) and the reads' p50/p99 during the export against the same reads before it.
// Import: a second server on an empty data dir imports the first --import resources of those
// files (Patient files first) over $import from a loopback file server, every line validated,
// labelled, indexed and audited as a REST write; reports resources/s from the kick-off to the
// manifest, the server started and idle before (its prepare threads built: src/server.ts).
//   node scripts/load-population.ts --data-dir /tmp/migfhir-bulk --resources 1000000
// Each phase also reports the server process's CPU time (user + system, /proc/<pid>/stat) per
// resource and the load average, since rates on a shared machine say little alone.
//   node scripts/bench/bulk.ts --data-dir /tmp/migfhir-bulk [--import 20000] [--patients N]
//     [--only export|import] [--cpu-prof DIR] (the servers write V8 CPU profiles there)
//     [--prepare-threads N] (the importing server's; 0 = the writer prepares too)
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { option } from '../lib/args.ts';
import { processCpuSeconds, threadCpuSeconds } from '../lib/proc-cpu.ts';
import { startServer } from '../lib/server-process.ts';

const DIR = resolve(option('data-dir', './data-bench'));
const IMPORT = Number(option('import', '20000'));
/** at most this many patients are read (pat-0 …); fewer when the store holds fewer */
const PATIENTS = Number(option('patients', '1000000'));
const ONLY = option('only', '');
/** --prepare-threads of the importing server (default: the server's, cores − 1) */
const PREPARE = option('prepare-threads', '');
const PROFILE = option('cpu-prof', '');
const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${resolve(PROFILE)}`] : [];
const pct = (a: number[], q: number) => a[Math.min(a.length - 1, Math.floor(a.length * q))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** user + system CPU of a process so far, in ms */
const cpuMs = (pid: number): number => (processCpuSeconds(pid) ?? 0) * 1000;

/** Waits until a process uses less than a tenth of a core over a quarter second (at most 60 s). */
async function idle(pid: number): Promise<void> {
  const end = Date.now() + 60_000;
  let before = cpuMs(pid);
  while (Date.now() < end) {
    await sleep(250);
    const now = cpuMs(pid);
    if (now - before < 25) return;
    before = now;
  }
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

let seed = 11;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);

/** What a clinic's users ask while the export runs: a patient's record, their observations,
 * their encounters newest first (half reads, a quarter each search). */
const READS = [
  (p: string) => `Patient/${p}`,
  (p: string) => `Patient/${p}`,
  (p: string) => `Observation?subject=Patient/${p}&_count=20`,
  (p: string) => `Encounter?patient=Patient/${p}&_sort=-date&_count=10`,
];

async function reads(base: string, patients: number, until: () => boolean, max = Infinity): Promise<number[]> {
  const times: number[] = [];
  while (!until() && times.length < max) {
    const path = READS[times.length % READS.length](`pat-${Math.floor(rnd() * patients)}`);
    const t = performance.now();
    const res = await fetch(`${base}/${path}`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    times.push(performance.now() - t);
    await sleep(5);
  }
  return times.sort((a, b) => a - b);
}

interface Manifest { output: { type: string; url: string; count: number }[] }

/** The folder of an earlier export in the data dir (--only import), the newest. */
function lastExport(): { folder: string; files: string[] } {
  const root = join(DIR, 'bulk');
  const folders = readdirSync(root).map((f) => join(root, f)).filter((f) => readdirSync(f).some((n) => n.startsWith('Patient-')));
  if (!folders.length) throw new Error(`no earlier export under ${root}: run the export phase first`);
  const folder = folders.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  return { folder, files: readdirSync(folder).filter((n) => n.endsWith('.ndjson')) };
}

// ---- export
let exported: { folder: string; files: string[] };
if (ONLY === 'import') exported = lastExport();
else {
const exporter = await startServer([...nodeArgs, 'src/cli/main.ts', 'serve', '--dev-open-access'], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: DIR, MIGFHIR_LOG_LEVEL: 'warn', MIGFHIR_INSTALL_IG: 'false' });
let manifest: Manifest;
// an export that did not finish (an error, a timeout) is cancelled: left running, it would resume
// when a server next starts on this data dir and compete with the next run
let statusUrl: string | undefined;
let finished = false;
try {
  // the population's patients are pat-0 … pat-(n−1)
  const count = (await (await fetch(`${exporter.base}/Patient?_summary=count`)).json()) as { total: number };
  const patients = Math.min(PATIENTS, count.total);
  const before = await reads(exporter.base, patients, () => false, 400);
  const rssBefore = peakRss(exporter.child.pid!);
  const cpu0 = cpuMs(exporter.child.pid!);
  const t0 = performance.now();
  const kick = await fetch(`${exporter.base}/$export`, { headers: { prefer: 'respond-async', accept: 'application/fhir+json' } });
  if (kick.status !== 202) throw new Error(`kick-off: ${kick.status} ${await kick.text()}`);
  const status = kick.headers.get('content-location')!;
  statusUrl = status;
  let done = false;
  const during = reads(exporter.base, patients, () => done);
  let seconds = 0;
  for (;;) {
    const res = await fetch(status);
    if (res.status === 200) {
      seconds = (performance.now() - t0) / 1000;
      manifest = (await res.json()) as Manifest;
      finished = true;
      break;
    }
    if (res.status !== 202) throw new Error(`status: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    await sleep(100);
  }
  done = true;
  const cpu = cpuMs(exporter.child.pid!) - cpu0;
  const times = await during;
  const written = manifest.output.reduce((n, f) => n + f.count, 0);
  console.log(`load average: ${load()}`);
  console.log(`export: ${written} resources in ${manifest.output.length} files, ${seconds.toFixed(1)} s, ${Math.round(written / seconds)} resources/s; server CPU ${(cpu / 1000).toFixed(1)} s, ${((cpu * 1000) / written).toFixed(1)} µs per resource (reads during it included)`);
  console.log(`server peak RSS: ${peakRss(exporter.child.pid!).toFixed(0)} MiB (${rssBefore.toFixed(0)} MiB before the export)`);
  console.log(`reads (Patient/id, Observation?subject, Encounter?patient&_sort=-date) before: p50 ${pct(before, 0.5).toFixed(1)} ms, p99 ${pct(before, 0.99).toFixed(1)} ms (${before.length})`);
  console.log(`reads during the export:       p50 ${pct(times, 0.5).toFixed(1)} ms, p99 ${pct(times, 0.99).toFixed(1)} ms (${times.length})`);
} finally {
  if (statusUrl && !finished) await fetch(statusUrl, { method: 'DELETE' }).catch(() => undefined);
  exporter.child.kill('SIGTERM');
}
exported = { folder: join(DIR, 'bulk', manifest!.output[0].url.split('/').slice(-2)[0]), files: manifest!.output.map((f) => f.url.split('/').pop()!) };
}
if (ONLY === 'export') process.exit(0);

// ---- import: the export's files, Patient first, the first IMPORT lines in all
const files = [...exported.files].sort((a, b) => Number(!a.startsWith('Patient-')) - Number(!b.startsWith('Patient-')) || a.localeCompare(b, 'en', { numeric: true }));
const served = new Map<string, string>();
let budget = IMPORT;
for (const name of files) {
  if (budget <= 0) break;
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(join(exported.folder, name)) })) {
    if (lines.length >= budget) break;
    lines.push(line);
  }
  budget -= lines.length;
  served.set(`/${name}`, `${lines.join('\n')}\n`);
}
const fileServer = createServer((req, res) => {
  const body = served.get(req.url!);
  if (body === undefined) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'application/fhir+ndjson' }).end(body);
});
await new Promise<void>((r) => fileServer.listen(0, '127.0.0.1', r));
const filesBase = `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
const empty = mkdtempSync(join(tmpdir(), 'migfhir-bulk-import-'));
const importer = await startServer([...nodeArgs, 'src/cli/main.ts', 'serve', '--dev-open-access'], {
  MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: empty, MIGFHIR_LOG_LEVEL: 'warn', MIGFHIR_INSTALL_IG: 'false', MIGFHIR_AUDIT: 'on', MIGFHIR_IMPORT_TRUSTED_URLS: `${filesBase}/`,
  ...(PREPARE ? { MIGFHIR_PREPARE_THREADS: PREPARE } : {}),
});
/** CPU seconds by thread name since `before` (the prepare pool's threads are 'migfhir-prepare') */
const threadsSince = (pid: number, before: Map<string, number>) => {
  const out = new Map<string, number>();
  for (const [name, s] of threadCpuSeconds(pid)) out.set(name, s - (before.get(name) ?? 0));
  return out;
};
try {
  const body = {
    resourceType: 'Parameters',
    parameter: [{ name: 'inputFormat', valueCode: 'application/fhir+ndjson' }, ...[...served.keys()].map((path) => ({ name: 'input', part: [{ name: 'url', valueUri: `${filesBase}${path}` }] }))],
  };
  // a server started ahead of the import: its prepare threads have built their definitions
  // (src/server.ts starts them when $import is open) before the clock starts
  await idle(importer.child.pid!);
  const cpu0 = cpuMs(importer.child.pid!);
  const threads0 = threadCpuSeconds(importer.child.pid!);
  const t0 = performance.now();
  const kick = await fetch(`${importer.base}/$import`, { method: 'POST', headers: { prefer: 'respond-async', 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
  if (kick.status !== 202) throw new Error(`import kick-off: ${kick.status} ${await kick.text()}`);
  const status = kick.headers.get('content-location')!;
  for (;;) {
    const res = await fetch(status);
    if (res.status === 200) {
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuMs(importer.child.pid!) - cpu0;
      const m = (await res.json()) as { output: { count: number }[]; error: { count: number }[] };
      const imported = m.output.reduce((n, o) => n + o.count, 0);
      const failed = m.error.reduce((n, o) => n + o.count, 0);
      console.log(`import: ${imported} resources validated, labelled, indexed and audited in ${seconds.toFixed(1)} s, ${Math.round(imported / seconds)} resources/s (${failed} lines failed); server CPU ${(cpu / 1000).toFixed(1)} s, ${((cpu * 1000) / imported).toFixed(0)} µs per resource`);
      const threads = threadsSince(importer.child.pid!, threads0);
      const per = (s: number) => `${((s * 1e6) / imported).toFixed(0)} µs`;
      const prepare = threads.get('migfhir-prepare') ?? 0;
      const others = [...threads].filter(([n]) => n !== 'main' && n !== 'migfhir-prepare').reduce((a, [, s]) => a + s, 0);
      const named = [...threads].filter(([n, s]) => n !== 'main' && n !== 'migfhir-prepare' && s > 0).sort((a, b) => b[1] - a[1]).map(([n, s]) => `${n} ${per(s)}`).join(', ');
      console.log(`  per resource: writer (main thread) ${per(threads.get('main') ?? 0)}, prepare threads ${per(prepare)}, other threads ${per(others)} (${named})`);
      console.log(`load average: ${load()}`);
      break;
    }
    if (res.status !== 202) throw new Error(`import status: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    // fine enough that the poll adds little to a 5 s import's wall time
    await sleep(50);
  }
} finally {
  importer.child.kill('SIGTERM');
  fileServer.close();
  await sleep(500);
  rmSync(empty, { recursive: true, force: true });
}
