// What the store's part of an HL7 v2 message costs, in isolation, and what leaving out the index
// rows of some parameters would save. The feed of scripts/bench/hl7v2.ts is applied in process
// (batches of 24 messages, one store transaction each, as the MLLP listener batches them) on an
// in-memory store, recording every version written with its index rows, commit by commit; the
// commits are then replayed into a fresh file store for each variant, the variants alternated
// round after round (this machine's speed drifts within minutes). Measured a message: the main
// thread's CPU inside the store's transactions (versions, current-version rows, index rows,
// commit), the WAL frames written (a second connection checkpoints after every commit, so the
// WAL starts over each time and holds one commit's frames) and that checkpoint's CPU.
// A variant `name=Key,Key…` leaves out the rows of those parameter keys before the write
// (`*`: every row) — what storing them costs; it answers no search, so it says nothing of what
// a search would need instead. Defaults: base, none (no index row at all), and the candidate
// cuts of #16 (rows that duplicate other rows of the same resource, and the $match keys).
// --save FILE keeps the recording (--rounds 0: and replays nothing), --from FILE replays one
// instead of recording (its own message count), --warm-up 0 skips the uncounted first replay:
// with them, one process a variant under
// `valgrind --tool=callgrind --toggle-collect='*Statement::JS_run*' --toggle-collect='*Statement::JS_all*'
// --toggle-collect='*Statement::JS_get*'` counts the instructions of the store's SQLite calls alone.
//   node scripts/bench/hl7v2-writes.ts [--messages 3000] [--rounds 3] [--variants 'base;none=*;alias=Encounter.patient,Provenance.patient']
//     [--save FILE | --from FILE] [--warm-up 0]
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberOption, option } from '../lib/args.ts';
import { message } from './hl7v2-feed.ts';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { ingestBatch } from '../../src/operations/hl7v2.ts';
import { mapHere } from '../../src/transport/hl7v2-mapper.ts';
import { ROW_TABLES, type IndexRows } from '../../src/search/index-rows.ts';
import type { Context, FhirRequest } from '../../src/rest/types.ts';
import type { VersionWrite } from '../../src/store/types.ts';

const FROM = option('from', '');
const SAVE = option('save', '');
const WARM_UP = numberOption('warm-up', 1);
const ROUNDS = numberOption('rounds', 3);
const BATCH = 24;
const DEFAULT_VARIANTS = [
  'base',
  'none=*',
  'alias=Encounter.patient,Provenance.patient',
  'match=Patient._match',
  'strings=Patient.address-city,Patient.address-country,Patient.address-postalcode,Patient.family,Patient.given',
  'all=Encounter.patient,Provenance.patient,Patient._match,Patient.address-city,Patient.address-country,Patient.address-postalcode,Patient.family,Patient.given',
].join(';');
const VARIANTS = option('variants', DEFAULT_VARIANTS)
  .split(';')
  .map((v) => {
    const [name, keys = ''] = v.split('=');
    return { name, drop: new Set(keys.split(',').filter(Boolean)) };
  });

/** The feed's versions, as the store was asked to write them, one list a commit. */
async function record(): Promise<VersionWrite[][]> {
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: 'http://bench.local/fhir', prepareThreads: 0 }), { store });
  try {
    const ctx = (app as unknown as { fhir: Context }).fhir;
    const commits: VersionWrite[][] = [];
    ctx.repo.onCommit((written) => commits.push([...written]));
    const req: FhirRequest = { method: 'POST', baseUrl: 'http://bench.local/fhir', query: Object.create(null), headers: {} };
    for (let from = 0; from < MESSAGES; from += BATCH) {
      const frames = Array.from({ length: Math.min(BATCH, MESSAGES - from) }, (_, k) => Buffer.from(message(from + k), 'utf8'));
      const received = new Date().toISOString();
      const results = await ingestBatch({ ...req }, ctx, frames.map((bytes) => ({ bytes })), undefined, frames.map((bytes) => mapHere(bytes, received)));
      const refused = results.find((r) => r.ackCode !== 'AA');
      if (refused) throw new Error(`a message of the feed was refused: ${refused.ack}`);
    }
    return commits;
  } finally {
    await app.close();
    await store.close();
  }
}

function without(rows: IndexRows, drop: Set<string>): IndexRows {
  const out = { ...rows };
  for (const t of ROW_TABLES) (out as Record<string, unknown>)[t] = drop.has('*') ? [] : (rows[t] as { param: string }[]).filter((r) => !drop.has(r.param));
  return out;
}

const cpuMs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

interface Measure { rows: number; frames: number; writeMs: number; checkpointMs: number }

async function replay(commits: VersionWrite[][], drop: Set<string>): Promise<Measure> {
  const writes = commits.map((c) => c.map((w) => (w.index ? { ...w, index: without(w.index, drop) } : w)));
  const rows = writes.flat().reduce((n, w) => n + (w.index ? ROW_TABLES.reduce((m, t) => m + w.index![t].length, 0) : 0), 0);
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-bench-hl7v2-writes-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  const checkpointer = new Database(path);
  let writeMs = 0;
  let checkpointMs = 0;
  let frames = 0;
  try {
    for (const commit of writes) {
      const a = cpuMs();
      await store.transaction(async (tx) => {
        for (const w of commit) await tx.write(w);
      });
      const b = cpuMs();
      const [r] = checkpointer.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      checkpointMs += cpuMs() - b;
      writeMs += b - a;
      frames += r.log;
    }
  } finally {
    checkpointer.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, frames, writeMs, checkpointMs };
}

const recording: { messages: number; commits: VersionWrite[][] } = FROM ? JSON.parse(readFileSync(FROM, 'utf8')) : { messages: numberOption('messages', 3000), commits: [] };
const MESSAGES = recording.messages;
const commits = FROM ? recording.commits : await record();
if (SAVE) writeFileSync(SAVE, JSON.stringify({ messages: MESSAGES, commits }));
console.log(`${FROM ? 'read' : 'recorded'} ${MESSAGES} messages: ${commits.length} commits, ${commits.flat().length} versions; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (ROUNDS === 0) process.exit(0);
// one replay first, not counted: the writer's code is compiled by then for every variant
if (WARM_UP) await replay(commits, new Set());
const results = new Map(VARIANTS.map((v) => [v.name, [] as Measure[]]));
for (let round = 0; round < ROUNDS; round++) {
  for (const v of VARIANTS) results.get(v.name)!.push(await replay(commits, v.drop));
}
const per = (x: number) => x / MESSAGES;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = results.get(VARIANTS[0].name)!;
for (const v of VARIANTS) {
  const m = results.get(v.name)!;
  const write = m.map((x) => (1000 * per(x.writeMs)).toFixed(0)).join(' / ');
  const checkpoint = m.map((x) => (1000 * per(x.checkpointMs)).toFixed(0)).join(' / ');
  // the difference with the first variant of the same round, where the drift is smallest
  const diff = v === VARIANTS[0] ? '' : `, ${m.map((x, i) => `${x.writeMs - base[i].writeMs > 0 ? '+' : ''}${(1000 * per(x.writeMs - base[i].writeMs)).toFixed(0)}`).join(' / ')} against ${VARIANTS[0].name}`;
  console.log(`${v.name.padEnd(8)} index rows ${per(m[0].rows).toFixed(1)} a message, WAL frames ${per(m[0].frames).toFixed(1)}; store CPU (main thread) µs a message ${write} (median ${(1000 * per(median(m.map((x) => x.writeMs)))).toFixed(0)}${diff}); checkpoint µs ${checkpoint}`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
