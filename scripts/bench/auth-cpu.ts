// CPU per read, thread by thread, of one server: open mode, authorized with every read audited,
// or authorized with auditing off — what the authorized read's cost is made of, apart from the
// ratio that scripts/bench/auth.ts measures (which on a shared machine moves with other load far
// more than CPU a request does). `--root DIR` runs the server of another checkout of migfhir (a
// worktree of the commit before a change), so that old and new code can be alternated in the
// same minutes. Linux only (/proc).
//   node scripts/bench/auth-cpu.ts [--mode open|audited|unaudited] [--seconds 5] [--root DIR]
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { writeClient } from '../../src/auth/clients.ts';
import { numberOption, option } from '../lib/args.ts';
import { threadCpuSeconds } from '../lib/proc-cpu.ts';
import { spawn } from 'node:child_process';

const MODE = option('mode', 'audited');
const SECONDS = numberOption('seconds', 5);
const ROOT = resolve(option('root', new URL('../..', import.meta.url).pathname));
if (!['open', 'audited', 'unaudited'].includes(MODE)) throw new Error('--mode open, audited or unaudited');

const dir = mkdtempSync(join(tmpdir(), 'migfhir-bench-auth-cpu-'));
const keys = await generateKeyPair('RS384', { extractable: true });
writeClient(join(dir, 'clients.json'), { clientId: 'bench', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'RS384' }] }, scope: 'system/Patient.cruds' });
const child = spawn(process.execPath, ['src/cli/main.ts', 'serve', ...(MODE === 'open' ? ['--dev-open-access'] : [])], {
  cwd: ROOT,
  env: { ...process.env, MIGFHIR_HOST: '127.0.0.1', MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: dir, MIGFHIR_LOG_LEVEL: 'warn', MIGFHIR_RATE_LIMIT: '0', MIGFHIR_AUDIT: MODE === 'unaudited' ? 'off' : 'auto' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const base = await new Promise<string>((resolveBase, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening at (http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData).resume();
      resolveBase(m[1]);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const token = async (scope: string) => {
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS384', kid: 'k' }).setIssuer('bench').setSubject('bench').setAudience(`${base}/auth/token`).setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
    const res = await fetch(`${base}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }) });
    return { authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
  };
  const headers: Record<string, string> = MODE === 'open' ? {} : await token('system/Patient.rs');
  const write = MODE === 'open' ? {} : await token('system/Patient.cu');
  await fetch(`${base}/Patient/p1`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json', ...write }, body: JSON.stringify({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad', given: ['Amal'] }], birthDate: '1990' }) });
  const load = () => new Promise<autocannon.Result>((ok, fail) => autocannon({ url: `${base}/Patient/p1`, connections: 10, duration: SECONDS, headers }, (e, r) => (e ? fail(e) : ok(r))));
  await load(); // warm-up
  await new Promise((r) => setTimeout(r, 1000)); // the warm-up's events stored
  const before = threadCpuSeconds(child.pid);
  const result = await load();
  const after = threadCpuSeconds(child.pid);
  // thread names: main, WorkerThread (the audit worker and the WAL checkpointer), V8Worker (GC helpers)
  const per = [...after].map(([name, s]) => [name, ((s - (before.get(name) ?? 0)) * 1e6) / result.requests.total] as const).filter(([, us]) => us > 0.05);
  const total = per.reduce((a, [, us]) => a + us, 0);
  console.log(`${MODE.padEnd(9)} ${Math.round(result.requests.average)} req/s, ${result.non2xx} non-2xx, load ${loadavg()[0].toFixed(1)}; server CPU a read ${total.toFixed(1)} µs: ${per.map(([n, us]) => `${n} ${us.toFixed(1)}`).join(', ')}`);
} finally {
  await new Promise((r) => {
    child.once('exit', r);
    child.kill('SIGTERM');
  });
  rmSync(dir, { recursive: true, force: true });
}
