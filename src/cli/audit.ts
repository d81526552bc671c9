// `migfhir audit verify|anchor`: checks the audit trail of a data directory — its hash chain,
// its signed checkpoints, and optionally an anchor kept elsewhere — or prints its latest
// checkpoint for keeping elsewhere (docs/audit.md).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { verifyChain } from '../audit/audit.ts';
import { publicKeyFromPem, publicKeyPem, type Checkpoint } from '../audit/checkpoint.ts';
import { auditKeyFile } from '../audit/sinks.ts';
import { SqliteStore } from '../store/sqlite/index.ts';

const USAGE = `Usage: migfhir audit verify [--data-dir DIR] [--audit-key FILE] [--anchor FILE]
       migfhir audit anchor [--data-dir DIR]`;

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
  if (sub !== 'verify' && sub !== 'anchor') throw new Error(USAGE);
  const dir = resolve(option(rest, '--data-dir') ?? process.env.MIGFHIR_DATA_DIR ?? './data');
  const path = join(dir, 'migfhir.sqlite');
  // opening would create an empty database, and an empty trail verifies: a wrong folder must not
  // read as "intact"
  if (!existsSync(path)) return fail(`no database at ${path} (--data-dir or MIGFHIR_DATA_DIR names the server's data folder)`);
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
  const store = new SqliteStore({ path });
  try {
    const checkpoints = store.auditCheckpoints();
    if (sub === 'anchor') {
      const last = checkpoints.at(-1);
      if (!last) return fail('the trail has no checkpoint yet (the server writes the first when it starts with auditing on)');
      const out: Anchor = { ...last, publicKey: publicKeyPem(publicKey) };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    const report = await verifyChain(store, { checkpoints, publicKey, ...(anchor ? { anchor } : {}) });
    if (report.ok) {
      const last = checkpoints.at(-1)!;
      process.stdout.write(`migfhir: audit trail intact: ${report.events} events, every hash link verified; ${report.checkpoints} signed checkpoints, the last of ${last.events} events at ${last.at}${anchor ? `; passes through the anchor of ${anchor.events} events at ${anchor.at}` : ''}\n`);
      return 0;
    }
    const where = report.broken!.id ? ` (AuditEvent/${report.broken!.id})` : '';
    process.stdout.write(`migfhir: audit trail BROKEN at event ${report.events}${where}: ${report.broken!.reason}\n`);
    return 1;
  } finally {
    await store.close();
  }
}
