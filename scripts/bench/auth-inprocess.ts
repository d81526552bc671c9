// The main thread's CPU a read in one process, without sockets or a load generator: three apps
// (open mode, authorized with auditing off, authorized with every read audited), each on its own
// file database, driven over keep-alive sockets from the same thread by turns in the same minutes, so that what the
// authorized read adds on the main thread is measured apart from descheduling and from the
// machine's drift (which the socket benches cannot separate). The main thread's CPU comes from
// process.threadCpuUsage(); the audit worker's and the GC helpers' from /proc (Linux).
// `--compare DIR` also loads the app of another checkout (a worktree of the commit before a
// change) into the same process, and alternates its rounds with this one's.
//   node scripts/bench/auth-inprocess.ts [--reads 20000] [--rounds 5] [--warmup READS/4] [--concurrency 10] [--compare DIR] [--only open|unaudited|audited]
//   valgrind --tool=callgrind --smc-check=all-non-file --separate-threads=yes node scripts/bench/auth-inprocess.ts --only MODE --warmup 2000 --reads 1000 --rounds 1 --callgrind
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import { numberOption, option } from '../lib/args.ts';
import { threadCpuSeconds } from '../lib/proc-cpu.ts';

const READS = numberOption('reads', 20_000);
const ROUNDS = numberOption('rounds', 5);
const CONCURRENCY = numberOption('concurrency', 10);
const WARMUP = numberOption('warmup', READS / 4);
const ONLY = option('only', '');
// under `valgrind --tool=callgrind`: the counters zeroed before each measured round and dumped
// after it (callgrind_control), so that the dumps hold the rounds' instructions and nothing else
const CALLGRIND = process.argv.includes('--callgrind');
const callgrind = (what: '-z' | '-d') => {
  if (CALLGRIND) spawnSync('callgrind_control', [what, String(process.pid)], { stdio: 'ignore' });
};
const ROOT = new URL('../..', import.meta.url).pathname;
const COMPARE = option('compare', '');
const BASE = 'http://bench.local/fhir';

interface Checkout {
  name: string;
  buildApp: typeof import('../../src/app.ts').buildApp;
  testConfig: typeof import('../../src/config.ts').testConfig;
  writeClient: typeof import('../../src/auth/clients.ts').writeClient;
}
async function checkout(name: string, root: string): Promise<Checkout> {
  const { buildApp } = (await import(join(root, 'src/app.ts'))) as typeof import('../../src/app.ts');
  const { testConfig } = (await import(join(root, 'src/config.ts'))) as typeof import('../../src/config.ts');
  const { writeClient } = (await import(join(root, 'src/auth/clients.ts'))) as typeof import('../../src/auth/clients.ts');
  return { name, buildApp, testConfig, writeClient };
}

type Mode = 'open' | 'unaudited' | 'audited';
interface Bench {
  label: string;
  mode: Mode;
  app: FastifyInstance;
  dir: string;
  headers: Record<string, string>;
  port: number;
}

const keys = await generateKeyPair('RS384', { extractable: true });
const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'RS384' };
const patient = JSON.stringify({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad', given: ['Amal'] }], birthDate: '1990' });

async function bench(code: Checkout, mode: Mode): Promise<Bench> {
  const { buildApp, testConfig, writeClient } = code;
  const dir = mkdtempSync(join(tmpdir(), `migfhir-bench-inprocess-${mode}-`));
  const clientsFile = join(dir, 'clients.json');
  writeClient(clientsFile, { clientId: 'bench', jwks: { keys: [jwk] }, scope: 'system/Patient.cruds' });
  const app = await buildApp(testConfig({ baseUrl: BASE, dataDir: dir, clientsFile, devOpenAccess: mode === 'open', audit: mode === 'unaudited' ? 'off' : 'auto', rateLimit: 0, requestTimeout: 600_000 }));
  const token = async (scope: string): Promise<Record<string, string>> => {
    if (mode === 'open') return {};
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS384', kid: 'k' }).setIssuer('bench').setSubject('bench').setAudience(`${BASE}/auth/token`).setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
    const res = await app.inject({ method: 'POST', url: '/fhir/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString() });
    return { authorization: `Bearer ${(JSON.parse(res.body) as { access_token: string }).access_token}` };
  };
  const put = await app.inject({ method: 'PUT', url: '/fhir/Patient/p1', headers: { 'content-type': 'application/fhir+json', ...(await token('system/Patient.cu')) }, payload: patient });
  if (put.statusCode >= 300) throw new Error(`${mode}: PUT ${put.statusCode} ${put.body}`);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { label: `${code.name} ${mode}`, mode, app, dir, headers: await token('system/Patient.rs'), port: (app.server.address() as AddressInfo).port };
}

/** `n` reads over CONCURRENCY keep-alive connections (as autocannon's), one request in flight on
 * each: a raw socket loop whose own work (a write and a scan for the header's end and length a
 * response) is the same in every mode, unlike app.inject's, which makes more garbage than the
 * read itself. */
async function reads(b: Bench, n: number): Promise<void> {
  const request = Buffer.from(`GET /fhir/Patient/p1 HTTP/1.1\r\nhost: bench.local\r\n${Object.entries(b.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  let left = n;
  const lane = () =>
    new Promise<void>((done, fail) => {
      const socket = connect(b.port, '127.0.0.1');
      let pending = '';
      const next = () => (left-- > 0 ? socket.write(request) : socket.end(done));
      socket.setEncoding('latin1');
      socket.on('connect', next);
      socket.on('error', fail);
      socket.on('data', (chunk: string) => {
        pending += chunk;
        for (;;) {
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          if (!pending.startsWith('HTTP/1.1 200')) return fail(new Error(`${b.mode}: ${pending.slice(0, 300)}`));
          const length = /content-length: (\d+)/i.exec(pending.slice(0, end));
          const size = end + 4 + Number(length?.[1] ?? 0);
          if (pending.length < size) return;
          pending = pending.slice(size);
          next();
        }
      });
    });
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

// --only MODE: one app (to profile its read path alone with node --cpu-prof)
const benches: Bench[] = [];
const codes = [await checkout('this', ROOT), ...(COMPARE ? [await checkout('compared', resolve(COMPARE))] : [])];
for (const mode of ['open', 'unaudited', 'audited'] as const) for (const code of codes) if (!ONLY || ONLY === mode) benches.push(await bench(code, mode));
const cpu = () => {
  const t = process.threadCpuUsage();
  const threads = threadCpuSeconds(process.pid);
  return { main: t.user + t.system, worker: (threads.get('WorkerThread') ?? 0) * 1e6, gc: (threads.get('V8Worker') ?? 0) * 1e6 };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = new Map<string, { main: number[]; worker: number[]; gc: number[] }>(benches.map((b) => [b.label, { main: [], worker: [], gc: [] }]));
try {
  for (const b of benches) await reads(b, WARMUP);
  await new Promise((r) => setTimeout(r, 500));
  for (let round = 0; round < ROUNDS; round++) {
    for (const b of benches) {
      callgrind('-z');
      const before = cpu();
      await reads(b, READS);
      // the events of this round stored: the worker's CPU for them counted here
      if (b.mode === 'audited') await b.app.fhir.audit!.flush();
      const after = cpu();
      callgrind('-d');
      const r = results.get(b.label)!;
      r.main.push((after.main - before.main) / READS);
      r.worker.push((after.worker - before.worker) / READS);
      r.gc.push((after.gc - before.gc) / READS);
    }
  }
  const range = (xs: number[]) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  console.log(`${ROOT}${COMPARE ? ` and ${resolve(COMPARE)} (compared)` : ''}: ${ROUNDS} rounds of ${READS} reads a mode over sockets, ${CONCURRENCY} at a time; load ${loadavg()[0].toFixed(1)}`);
  const open = results.has('this open') ? median(results.get('this open')!.main) : 0;
  for (const [label, r] of results) {
    console.log(`${label.padEnd(18)} main thread ${range(r.main)} µs a read (${(median(r.main) - open >= 0 ? '+' : '')}${(median(r.main) - open).toFixed(1)} over this open), worker threads ${range(r.worker)}, GC helpers ${range(r.gc)}`);
  }
  // the same round's runs of the two checkouts, paired: the machine's drift between rounds cancels
  if (COMPARE) {
    for (const mode of ['open', 'unaudited', 'audited']) {
      const mine = results.get(`this ${mode}`);
      const theirs = results.get(`compared ${mode}`);
      if (!mine || !theirs) continue;
      const diffs = mine.main.map((us, i) => us - theirs.main[i]);
      const rel = mine.main.map((us, i) => us / theirs.main[i] - 1);
      console.log(`${mode.padEnd(9)} this − compared, main thread a read, paired by round: median ${median(diffs).toFixed(1)} µs (${(median(rel) * 100).toFixed(0)} %), ${diffs.filter((d) => d < 0).length} of ${diffs.length} rounds lower`);
    }
  }
} finally {
  for (const b of benches) {
    await b.app.close();
    rmSync(b.dir, { recursive: true, force: true });
  }
}
