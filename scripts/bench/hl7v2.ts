// HL7 v2 ADT messages per second through MLLP into the embedded store: a real server (child
// process, --mllp-port 0, fresh data dir), a feed of A04 registrations (patient + encounter),
// A08 updates and A03 discharges from several interface connections, each keeping a window of
// frames in flight as interface engines do; every ACK must be AA, and the store must hold one
// Provenance per message afterwards. On Linux the server's CPU time per message is printed too:
// on a shared machine it moves far less than messages/s with the other load.
// --cpu-prof DIR runs the server under `node --cpu-prof` and leaves its .cpuprofile in DIR (written
// when the server exits at the end) with window.json, the timed load's window, which
// scripts/lib/cpuprofile-summary.ts reads to sum only the timed part.
// --rows prints the search index rows the run left stored, a message and a resource of each type
// by parameter (read from the data directory once the server has stopped).
// --prepare-threads 0 starts the server without a prepare pool: messages are then not prepared
// ahead on the mapping thread (src/transport/hl7v2-mapper.ts), to compare.
//   node scripts/bench/hl7v2.ts [--messages 10000] [--connections 4] [--window 16] [--cpu-prof DIR] [--prepare-threads N] [--rows]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberOption, option } from '../lib/args.ts';
import { processCpu, threadCpuSeconds } from '../lib/proc-cpu.ts';
import { isRegistration, message } from './hl7v2-feed.ts';
import Database from 'better-sqlite3';
import { INDEX_TABLES } from '../../src/store/sqlite/schema.ts';

const MESSAGES = numberOption('messages', 10000);
const CONNECTIONS = numberOption('connections', 4);
const WINDOW = numberOption('window', 16);
const CPU_PROF = option('cpu-prof', '');
const PREPARE_THREADS = option('prepare-threads', '');
const ROWS = process.argv.includes('--rows');
const ROOT = new URL('../..', import.meta.url).pathname;

function frame(text: string): Buffer {
  return Buffer.concat([Buffer.from([0x0b]), Buffer.from(text, 'utf8'), Buffer.from([0x1c, 0x0d])]);
}

/** Ends the server and waits for it to exit (a CPU profile is written on the way out). */
function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function startServer(dataDir: string): Promise<{ base: string; mllp: number; pid?: number; stop: () => Promise<void> }> {
  const profile = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
  const child = spawn(process.execPath, [...profile, 'src/cli/main.ts', 'serve', '--dev-open-access', '--port', '0', '--mllp-port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...(PREPARE_THREADS ? ['--prepare-threads', PREPARE_THREADS] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const base = /listening at (http:\/\/\S+)/.exec(out)?.[1];
      const mllp = /MLLP listener at [^:]+:(\d+)/.exec(out)?.[1];
      if (base && mllp) resolve({ base, mllp: Number(mllp), pid: child.pid, stop: () => stopped(child) });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

/** One interface connection sending its share of messages with `WINDOW` frames in flight; the
 * frames are encoded before the clock starts (the client shares the server's cores). */
function feed(port: number, ids: number[], frames = ids.map((n) => frame(message(n)))): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const codes: Record<string, number> = {};
    let sent = 0;
    let acked = 0;
    let buf = Buffer.alloc(0);
    const pump = () => {
      while (sent < ids.length && sent - acked < WINDOW) socket.write(frames[sent++]);
    };
    socket.on('connect', pump);
    socket.on('error', reject);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (let end = buf.indexOf(0x1c); end >= 0; end = buf.indexOf(0x1c)) {
        const ack = buf.subarray(1, end).toString('utf8');
        buf = buf.subarray(end + 2);
        const code = /\rMSA\|(\w\w)/.exec(ack)?.[1] ?? '??';
        codes[code] = (codes[code] ?? 0) + 1;
        acked++;
      }
      if (acked === ids.length) socket.end(() => resolve(codes));
      else pump();
    });
  });
}

/** MLLP messages answered and store transactions they were applied in, from /metrics (undefined
 * when the server does not count batches). */
async function batches(base: string): Promise<{ messages: number; batches: number } | undefined> {
  const text = await (await fetch(`${new URL(base).origin}/metrics`)).text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  if (!/^migfhir_mllp_batches_total /m.test(text)) return undefined;
  return { messages: sum(/^migfhir_hl7v2_messages_total\{[^}]*door="mllp"[^}]*\} (\S+)$/gm), batches: sum(/^migfhir_mllp_batches_total (\S+)$/gm) };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-bench-hl7v2-'));
  const server = await startServer(dir);
  try {
    // the first registrations go first, so updates always find their patient
    await feed(server.mllp, Array.from({ length: 100 }, (_, i) => i));
    const rest = Array.from({ length: MESSAGES - 100 }, (_, i) => i + 100);
    const shares = Array.from({ length: CONNECTIONS }, (_, c) => rest.filter((n) => (n - 100) % CONNECTIONS === c));
    const frames = shares.map((ids) => ids.map((n) => frame(message(n))));
    const batches0 = await batches(server.base);
    const t0 = performance.now();
    // the timed window on the monotonic clock V8's profiles use, for scripts/lib/cpuprofile-summary.ts
    const from = process.hrtime.bigint() / 1000n;
    const client0 = process.cpuUsage();
    const cpu0 = processCpu(server.pid);
    const threads0 = threadCpuSeconds(server.pid);
    const results = await Promise.all(shares.map((ids, c) => feed(server.mllp, ids, frames[c])));
    if (CPU_PROF) writeFileSync(join(CPU_PROF, 'window.json'), JSON.stringify({ from: Number(from), to: Number(process.hrtime.bigint() / 1000n) }));
    const seconds = (performance.now() - t0) / 1000;
    const client = process.cpuUsage(client0);
    const cpu1 = processCpu(server.pid);
    const threads1 = threadCpuSeconds(server.pid);
    const batches1 = await batches(server.base);
    const codes: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r)) codes[k] = (codes[k] ?? 0) + v;
    const count = async (type: string) => ((await (await fetch(`${server.base}/${type}?_summary=count`)).json()) as { total: number }).total;
    const timed = MESSAGES - 100;
    console.log(`HL7 v2 ADT over MLLP: ${timed} messages in ${seconds.toFixed(1)} s = ${Math.round(timed / seconds)} messages/s (${CONNECTIONS} connections, window ${WINDOW}); ACKs ${JSON.stringify(codes)}`);
    if (cpu0 !== undefined && cpu1 !== undefined) {
      const perMessage = (seconds: number) => ((1000 * seconds) / timed).toFixed(2);
      const user = cpu1.user - cpu0.user;
      const system = cpu1.system - cpu0.system;
      console.log(`server CPU: ${perMessage(user + system)} ms/message (user ${perMessage(user)}, system ${perMessage(system)}); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      const threads = [...threads1].map(([name, t]) => [name, t - (threads0.get(name) ?? 0)] as const).filter(([, t]) => t > 0).sort((a, b) => b[1] - a[1]);
      // WorkerThread sums two threads: the MLLP mapping thread and SQLite's checkpoint thread
      console.log(`  by thread: ${threads.map(([name, t]) => `${name} ${perMessage(t)}`).join(', ')} ms/message`);
      // below 100 %, the main thread waited (for frames to be mapped, or for senders' next frames)
      const main = threads.find(([name]) => name === 'main')?.[1] ?? 0;
      console.log(`  main thread busy ${Math.round((100 * main) / seconds)} % of the run; this bench client ${perMessage((client.user + client.system) / 1e6)} ms/message`);
      if (batches0 && batches1) console.log(`  ${((batches1.messages - batches0.messages) / (batches1.batches - batches0.batches)).toFixed(1)} messages a store transaction (MLLP batch)`);
    }
    const registrations = Array.from({ length: MESSAGES }, (_, n) => n).filter(isRegistration).length;
    console.log(`stored: ${await count('Patient')} Patient, ${await count('Encounter')} Encounter (expected ${registrations} each), ${await count('Provenance')} Provenance (expected ${MESSAGES})`);
  } finally {
    await server.stop();
    try {
      if (ROWS) for (const line of storedRows(join(dir, 'migfhir.sqlite'))) console.log(line);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The search index rows of the feed's resources (current versions: an update's rows replace its
 * record's), a message and a resource of each type, by parameter. */
function storedRows(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    const types = ['Patient', 'Encounter', 'Provenance'];
    const resources = new Map(types.map((t) => [t, db.prepare<[string], number>('SELECT COUNT(*) FROM resource WHERE resource_type = ? AND deleted = 0').pluck().get(t) ?? 0]));
    const byParam = new Map<string, { type: string; table: string; n: number }>();
    for (const table of INDEX_TABLES) {
      const sql = `SELECT r.resource_type AS type, p.key AS key, COUNT(*) AS n FROM ${table} t JOIN resource r ON r.rid = t.rid JOIN search_param p ON p.id = t.param
        WHERE r.resource_type IN (${types.map(() => '?').join(', ')}) GROUP BY 1, 2`;
      for (const row of db.prepare<string[], { type: string; key: string; n: number }>(sql).all(...types)) byParam.set(`${row.type} ${row.key}`, { type: row.type, table, n: row.n });
    }
    const all = [...byParam.values()].reduce((n, r) => n + r.n, 0);
    const tables = INDEX_TABLES.map((t) => [t, [...byParam.values()].filter((r) => r.table === t).reduce((n, r) => n + r.n, 0)] as const).filter(([, n]) => n > 0);
    const out = [`index rows stored: ${(all / MESSAGES).toFixed(1)} a message (${tables.map(([t, n]) => `${t} ${(n / MESSAGES).toFixed(1)}`).join(', ')})`];
    for (const type of types) {
      const count = resources.get(type) || 1;
      const mine = [...byParam.entries()].filter(([, r]) => r.type === type).sort((a, b) => b[1].n - a[1].n);
      const total = mine.reduce((n, [, r]) => n + r.n, 0);
      out.push(`  ${type}: ${(total / count).toFixed(1)} a resource: ${mine.map(([k, r]) => `${k.slice(type.length + 1)} ${(r.n / count).toFixed(2)}`).join(', ')}`);
    }
    return out;
  } finally {
    db.close();
  }
}

await main();
