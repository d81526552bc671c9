// Authorized read throughput (SMART backend-services token, scopes checked, every read audited)
// as a ratio to open development mode, measured in one run. Target: ≥ 0.70 (issue #19; was 0.80 before every read was audited). Afterwards it counts
// the AuditEvents of the reads (AuditEvent?altid=bench&subtype=read) until the trail has caught
// up: every read must have one, and the time that takes is the audit lag at that load. Open mode
// is measured once the warm-up's events are stored, and each run prints the server's CPU per
// request (Linux), which is what the ratio comes down to when the load generator shares the cores.
// With --cpu-prof DIR both servers run under `node --cpu-prof` (one .cpuprofile per thread, the
// audit worker's included, written to DIR/open and DIR/authorized when they stop) and the request
// counts of the measured runs go to DIR/requests.json: scripts/bench/cpuprofile-diff.ts compares
// the two read paths' self time by function, per request.
//   node scripts/bench/auth.ts [--seconds 8] [--cpu-prof DIR]
import autocannon from 'autocannon';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { startServer } from '../lib/server-process.ts';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { writeClient } from '../../src/auth/clients.ts';
import { numberOption, option } from '../lib/args.ts';
import { threadCpuSeconds } from '../lib/proc-cpu.ts';

const SECONDS = numberOption('seconds', 8);
const PROFILE = option('cpu-prof', '');
if (PROFILE) mkdirSync(PROFILE, { recursive: true });

function start(dir: string, extra: string[], node: string[] = []) {
  return startServer([...node, 'src/cli/main.ts', 'serve', ...extra], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: dir, MIGFHIR_LOG_LEVEL: 'warn', MIGFHIR_RATE_LIMIT: '0' });
}

/** CPU ms the process has used so far, in all threads and in its audit worker (Linux /proc;
 * undefined elsewhere): CPU per request is what the ratio comes down to on a machine whose cores
 * the load generator and the server share, and it moves far less with other load than req/s. */
function cpuMs(pid: number): { all: number; main: number; worker: number } | undefined {
  const threads = threadCpuSeconds(pid);
  if (!threads.size) return undefined;
  return { all: [...threads.values()].reduce((a, b) => a + b, 0) * 1000, main: (threads.get('main') ?? 0) * 1000, worker: (threads.get('WorkerThread') ?? 0) * 1000 };
}

async function measured(pid: number, url: string, headers: Record<string, string>) {
  const before = cpuMs(pid);
  const result = await load(url, headers);
  const after = cpuMs(pid);
  const per = (k: 'all' | 'main' | 'worker') => (before && after ? ((after[k] - before[k]) * 1000) / result.requests.total : NaN);
  return { result, cpu: per('all'), main: per('main'), worker: per('worker') };
}

const load = (url: string, headers: Record<string, string>) =>
  new Promise<autocannon.Result>((resolve, reject) => autocannon({ url, connections: 10, duration: SECONDS, headers }, (e, r) => (e ? reject(e) : resolve(r))));

const dirOpen = mkdtempSync(join(tmpdir(), 'migfhir-bench-open-'));
const dirAuth = mkdtempSync(join(tmpdir(), 'migfhir-bench-auth-'));
const servers: ChildProcess[] = [];
try {
  const keys = await generateKeyPair('RS384', { extractable: true });
  writeClient(join(dirAuth, 'clients.json'), { clientId: 'bench', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'RS384' }] }, scope: 'system/Patient.cruds system/AuditEvent.rs' });
  const profiled = (name: string) => (PROFILE ? ['--cpu-prof', '--cpu-prof-dir', join(PROFILE, name)] : []);
  const open = await start(dirOpen, ['--dev-open-access'], profiled('open'));
  const auth = await start(dirAuth, [], profiled('authorized'));
  servers.push(open.child, auth.child);
  const token = async (scope: string) => {
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS384', kid: 'k' }).setIssuer('bench').setSubject('bench').setAudience(`${auth.base}/auth/token`).setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
    const res = await fetch(`${auth.base}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }) });
    return `Bearer ${((await res.json()) as { access_token: string }).access_token}`;
  };
  const authz = { authorization: await token('system/Patient.rs') };
  const write = await token('system/Patient.cu');
  const auditor = { authorization: await token('system/AuditEvent.rs') };
  const body = JSON.stringify({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad', given: ['Amal'] }], birthDate: '1990' });
  await fetch(`${open.base}/Patient/p1`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body });
  await fetch(`${auth.base}/Patient/p1`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json', authorization: write }, body });
  const audited = async () => ((await (await fetch(`${auth.base}/AuditEvent?altid=bench&subtype=read&_summary=count`, { headers: auditor })).json()) as { total: number }).total;
  const warm = await load(`${open.base}/Patient/p1`, {});
  const w = await load(`${auth.base}/Patient/p1`, authz);
  // the warm-up's events are stored before open mode is measured: a trail still writing them
  // would take CPU from the open-mode run and flatter the ratio
  for (const t0 = performance.now(); (await audited()) < w.requests.total && performance.now() - t0 < 60_000; ) await new Promise((r) => setTimeout(r, 50));
  const { result: o, cpu: oCpu, main: oMain } = await measured(open.child.pid!, `${open.base}/Patient/p1`, {});
  const { result: a, cpu: aCpu, main: aMain, worker: aWorker } = await measured(auth.child.pid!, `${auth.base}/Patient/p1`, authz);
  const cpu = (us: number, main: number) => (Number.isNaN(us) ? '' : `, server CPU ${us.toFixed(0)} µs/request, main thread ${main.toFixed(0)}`);
  console.log(`open mode read        ${Math.round(o.requests.average)} req/s (p99 ${o.latency.p99} ms${cpu(oCpu, oMain)})`);
  // one read, one event: the worker threads' CPU per request is the audit worker's per event
  console.log(`authorized read       ${Math.round(a.requests.average)} req/s (p99 ${a.latency.p99} ms, ${a.non2xx} non-2xx${cpu(aCpu, aMain)}${Number.isNaN(aWorker) ? '' : `, the audit worker ${aWorker.toFixed(0)} µs/event`}) — token verified, scopes checked, every read audited`);
  console.log(`authorized / open     ${(a.requests.average / o.requests.average).toFixed(2)}  (target ≥ 0.70; load average ${loadavg()[0].toFixed(2)})`);
  // the profiles hold the warm-up too: per request of both runs
  if (PROFILE) writeFileSync(join(PROFILE, 'requests.json'), JSON.stringify({ open: o.requests.total + warm.requests.total, authorized: a.requests.total + w.requests.total }));
  // every read the server answered has its AuditEvent; autocannon may stop with up to 10 in flight
  const answered = w.requests.total + a.requests.total;
  const loadEnd = performance.now();
  let n = await audited();
  while (n < answered && performance.now() - loadEnd < 60_000) {
    await new Promise((r) => setTimeout(r, 50));
    n = await audited();
  }
  const lag = performance.now() - loadEnd;
  console.log(`audited reads         ${n} for ${answered} answered (${n >= answered ? `all stored ${Math.round(lag)} ms after the load ended` : 'MISSING EVENTS'})`);
  // a clean shutdown stores what is still queued; the whole trail must then verify
  await new Promise((resolve) => {
    auth.child.once('exit', resolve);
    auth.child.kill('SIGTERM');
  });
  const verify = spawnSync(process.execPath, ['src/cli/main.ts', 'audit', 'verify', '--data-dir', dirAuth], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8' });
  console.log(`audit verify          ${verify.stdout.trim()}`);
} finally {
  // a profiled server writes its profiles as it exits
  await Promise.all(servers.map((s) => (s.exitCode === null && s.signalCode === null ? new Promise((resolve) => s.once('exit', resolve).kill('SIGTERM')) : undefined)));
  rmSync(dirOpen, { recursive: true, force: true });
  rmSync(dirAuth, { recursive: true, force: true });
}
