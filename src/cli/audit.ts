// `migfhir audit verify|anchor`: checks the audit trail of a data directory — its hash chain,
// its signed checkpoints, and optionally an anchor kept elsewhere — or prints its latest
// checkpoint for keeping elsewhere (docs/audit.md).
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { AuditEvent } from 'fhir/r4.js';
import { hashOf, verifyChain } from '../audit/audit.ts';
import { publicKeyFromPem, publicKeyPem, signerFromPem, type Checkpoint } from '../audit/checkpoint.ts';
import { auditKeyFile } from '../audit/sinks.ts';
import { SqliteStore } from '../store/sqlite/index.ts';
import { allCheckpoints, verifyLedger, type LedgerStore } from '../audit/ledger/mongo.ts';
import { exportMongoLedger, mongoAnchor } from './audit-mongo.ts';

const USAGE = `Usage: migfhir audit verify [--data-dir DIR] [--audit-key FILE] [--anchor FILE] [--mongodb-uri URI]
       migfhir audit anchor [--data-dir DIR] [--mongodb-uri URI --audit-key FILE]
       migfhir audit export --since INSTANT --output DIR [--data-dir DIR] [--mongodb-uri URI --audit-key FILE]
       migfhir audit prune --before INSTANT [--data-dir DIR] [--audit-key FILE]   (server stopped)`;

/** An anchor as `audit anchor` prints it: a checkpoint with the public key that signed it. */
export interface Anchor extends Checkpoint {
  publicKey: string;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value\n${USAGE}`);
  return v;
}

const fail = (message: string) => {
  process.stderr.write(`migfhir: ${message}\n`);
  return 2;
};

export async function auditCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!['verify', 'anchor', 'export', 'prune'].includes(sub)) throw new Error(USAGE);
  const dir = resolve(option(rest, '--data-dir') ?? process.env.MIGFHIR_DATA_DIR ?? './data');
  const path = join(dir, 'migfhir.sqlite');
  // a MongoDB deployment's ledger (the key: --audit-key, else the data folder's, as the server's)
  const mongoUri = option(rest, '--mongodb-uri') ?? (process.env.MIGFHIR_STORE === 'mongodb' ? process.env.MIGFHIR_MONGODB_URI || undefined : undefined);
  if (mongoUri && sub === 'prune') return fail('audit prune removes events from the embedded database only; on MongoDB the ledger is kept whole (docs/audit.md)');
  // opening would create an empty database, and an empty trail verifies: a wrong folder must not
  // read as "intact"
  if (!mongoUri && !existsSync(path)) return fail(`no database at ${path} (--data-dir or MIGFHIR_DATA_DIR names the server's data folder)`);
  const anchorFile = option(rest, '--anchor');
  let anchor: Anchor | undefined;
  if (anchorFile) {
    try {
      anchor = JSON.parse(readFileSync(anchorFile, 'utf8')) as Anchor;
    } catch (err) {
      return fail(`cannot read the anchor ${anchorFile}: ${(err as Error).message}`);
    }
  }
  // the key that signed the checkpoints: the anchor's public key (a verifier without the
  // server's private key), else the server's key file
  const keyFile = resolve(option(rest, '--audit-key') ?? process.env.MIGFHIR_AUDIT_KEY ?? auditKeyFile(path));
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromPem(anchor?.publicKey ?? readFileSync(keyFile, 'utf8'));
  } catch (err) {
    return fail(`no audit key to check the checkpoints with (${anchor ? 'the anchor\'s publicKey' : keyFile}): ${(err as Error).message.slice(0, 200)}; give --audit-key FILE or --anchor FILE`);
  }
  if (mongoUri) return onMongo(mongoUri, (store) => mongoSubcommand(sub, store, publicKey, anchor, rest));
  const store = new SqliteStore({ path });
  try {
    const checkpoints = store.auditCheckpoints();
    if (sub === 'export') return await exportTrail(store, checkpoints, publicKey, rest);
    if (sub === 'prune') return await prune(store, keyFile, rest);
    if (sub === 'anchor') {
      const last = checkpoints.at(-1);
      if (!last) return fail('the trail has no checkpoint yet (the server writes the first when it starts with auditing on)');
      const out: Anchor = { ...last, publicKey: publicKeyPem(publicKey) };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    const base = store.auditBase();
    const report = await verifyChain(store, { checkpoints, publicKey, ...(anchor ? { anchor } : {}), ...(base ? { base } : {}) });
    if (report.ok) {
      const last = checkpoints.at(-1)!;
      const cut = base ? ` (the first ${base.events} removed by retention, as recorded in the trail)` : '';
      process.stdout.write(`migfhir: audit trail intact: ${report.events} events${cut}, every hash link verified; ${report.checkpoints} signed checkpoints, the last of ${last.events} events at ${last.at}${anchor ? `; passes through the anchor of ${anchor.events} events at ${anchor.at}` : ''}\n`);
      return 0;
    }
    const where = report.broken!.id ? ` (AuditEvent/${report.broken!.id})` : '';
    process.stdout.write(`migfhir: audit trail BROKEN at event ${report.events}${where}: ${report.broken!.reason}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

/** `audit verify|anchor|export --mongodb-uri` on the opened store (src/cli/audit-mongo.ts). */
async function mongoSubcommand(sub: string, store: LedgerStore, publicKey: KeyObject, anchor: Anchor | undefined, argv: string[]): Promise<number> {
  if (sub === 'anchor') {
    const out = await mongoAnchor(store, publicKey);
    if (!out) return fail('the ledger has no checkpoint yet (a server writes the first when it starts with auditing on)');
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  if (sub === 'export') {
    const since = option(argv, '--since');
    const output = option(argv, '--output');
    if (!since || Number.isNaN(Date.parse(since)) || !output) return fail(`export needs --since INSTANT (e.g. 2026-01-01T00:00:00Z) and --output DIR\n${USAGE}`);
    const r = await exportMongoLedger(store, new Date(Date.parse(since)).toISOString(), output, publicKey);
    process.stdout.write(`migfhir: exported ${r.events} AuditEvents (events ${r.after + 1}–${r.after + r.events} of the chain) and ${r.checkpoints} signed checkpoints to ${resolve(output)}\n`);
    return 0;
  }
  const { code, text } = await verifyLedgerOf(store, publicKey, anchor);
  process.stdout.write(`${text}\n`);
  return code;
}

/** Runs `work` on a MongoDB deployment's store. A database with no collection at all is a wrong
 * URI (nothing is created in it); one whose ledger was dropped is checked, and fails for want of
 * its checkpoints. */
async function onMongo(uri: string, work: (store: LedgerStore) => Promise<number>): Promise<number> {
  // the driver is loaded only for a MongoDB deployment
  const { MongoClient } = await import('mongodb');
  const { databaseName, MongoStore } = await import('../store/mongo/index.ts');
  const name = databaseName(uri);
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 15_000 });
  try {
    await client.connect();
    const collections = await client.db(name).listCollections({}, { nameOnly: true }).toArray();
    if (!collections.length) return fail(`no migfhir data in the MongoDB database '${name}' (the database named in --mongodb-uri)`);
  } catch (err) {
    return fail(`cannot read the MongoDB database '${name}': ${(err as Error).message.slice(0, 200)}`);
  } finally {
    await client.close();
  }
  const store = await MongoStore.open({ uri });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** The ledger's verdict as `audit verify` prints it (0 intact, 1 broken): its hash links and
 * stored events, its checkpoints signed by `publicKey`, and an anchor kept elsewhere as one more
 * checkpoint the chain must pass through at its position. */
export async function verifyLedgerOf(store: LedgerStore, publicKey: KeyObject, anchor?: Anchor): Promise<{ code: number; text: string }> {
  const checkpoints: Checkpoint[] = (await allCheckpoints(store.auditCheckpoints())).map(({ events, head, at, keyId, signature }) => ({ events, head, at, keyId, signature }));
  const broken = (events: number, reason: string, id?: string) => ({ code: 1, text: `migfhir: audit ledger BROKEN at event ${events}${id ? ` (AuditEvent/${id})` : ''}: ${reason}` });
  const trusted = [...checkpoints];
  if (anchor) {
    const { events, head, at, keyId, signature } = anchor;
    const same = checkpoints.find((c) => c.events === events);
    if (same && same.head !== head) return broken(events, `the anchor and the ledger's checkpoint of ${events} events name different heads (events were changed, removed or rewritten before it)`);
    trusted.push({ events, head, at, keyId, signature });
  }
  const report = await verifyLedger(store, store.auditLinks(), { checkpoints: trusted, publicKey });
  if (!report.ok) return broken(report.events, report.broken!.reason, report.broken!.id);
  const last = checkpoints.at(-1)!;
  return {
    code: 0,
    text: `migfhir: audit ledger intact: ${report.events} events, every hash link verified; ${checkpoints.length} signed checkpoints, the last of ${last.events} events at ${last.at}${anchor ? `; passes through the anchor of ${anchor.events} events at ${anchor.at}` : ''}`,
  };
}

/** `audit export`: the events stored since an instant, in chain order from the first of them on
 * (so the part exported verifies on its own from `previous`), as NDJSON for a SIEM or an
 * archive, with the signed checkpoints that fall in it and a manifest to check them with. The
 * events are exported whole: labelled events keep their query (the archive is as sensitive as
 * the database). */
async function exportTrail(store: SqliteStore, checkpoints: Checkpoint[], publicKey: KeyObject, argv: string[]): Promise<number> {
  const since = option(argv, '--since');
  const output = option(argv, '--output');
  if (!since || Number.isNaN(Date.parse(since)) || !output) return fail(`export needs --since INSTANT (e.g. 2026-01-01T00:00:00Z) and --output DIR\n${USAGE}`);
  const from = new Date(Date.parse(since)).toISOString();
  mkdirSync(resolve(output), { recursive: true });
  const out = createWriteStream(join(resolve(output), 'AuditEvent.ndjson'));
  let position = 0;
  let events = store.auditBase()?.events ?? 0;
  let first: { events: number; previous: string } | undefined;
  for (;;) {
    const batch = await store.scan(['AuditEvent'], position, 1000);
    if (!batch.length) break;
    for (const row of batch) {
      events++;
      const event = JSON.parse(row.json) as AuditEvent;
      if (!first) {
        if ((event.meta?.lastUpdated ?? '') < from) continue;
        first = { events: events - 1, previous: hashOf(event).previous ?? '' };
      }
      if (!out.write(`${row.json}\n`)) await once(out, 'drain');
    }
    position = batch[batch.length - 1].position;
  }
  out.end();
  await once(out, 'finish');
  const start = first?.events ?? events;
  const kept = checkpoints.filter((c) => c.events >= start);
  writeFileSync(join(resolve(output), 'checkpoints.ndjson'), kept.map((c) => `${JSON.stringify(c)}\n`).join(''));
  const manifest = { since: from, after: start, previous: first?.previous ?? kept[0]?.head ?? null, events: events - start, checkpoints: kept.length, publicKey: publicKeyPem(publicKey) };
  writeFileSync(join(resolve(output), 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`migfhir: exported ${manifest.events} AuditEvents (events ${start + 1}–${events} of the chain) and ${kept.length} signed checkpoints to ${resolve(output)}\n`);
  return 0;
}

/** `audit prune`: deletes the events up to the newest signed checkpoint stored before
 * --before, keeping the rest verifiable from it, and records the cut in the trail. It signs
 * with the server's key, so it needs the private key (never created here). */
async function prune(store: SqliteStore, keyFile: string, argv: string[]): Promise<number> {
  const before = option(argv, '--before');
  if (!before || Number.isNaN(Date.parse(before))) return fail(`prune needs --before INSTANT (e.g. 2025-01-01T00:00:00Z)\n${USAGE}`);
  let pem: string;
  try {
    pem = readFileSync(keyFile, 'utf8');
  } catch {
    return fail(`prune signs with the server's audit key, and there is none at ${keyFile} (--audit-key FILE)`);
  }
  await store.signAudit(signerFromPem(pem));
  const result = await store.pruneAudit(new Date(Date.parse(before)).toISOString());
  if (!result) {
    process.stdout.write('migfhir: nothing to remove: no signed checkpoint of the trail was stored before that date\n');
    return 0;
  }
  process.stdout.write(`migfhir: removed ${result.removed} AuditEvents; the trail now starts after event ${result.base.events} (a signed checkpoint), and the cut is recorded in it\n`);
  return 0;
}
