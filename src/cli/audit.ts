// `migfhir audit verify`: checks the AuditEvent hash chain of a data directory.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verifyChain } from '../audit/audit.ts';
import { SqliteStore } from '../store/sqlite/index.ts';

export async function auditCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'verify') throw new Error('Usage: migfhir audit verify [--data-dir DIR]');
  const i = rest.indexOf('--data-dir');
  const dir = resolve(i >= 0 ? rest[i + 1] : (process.env.MIGFHIR_DATA_DIR ?? './data'));
  const path = join(dir, 'migfhir.sqlite');
  // opening would create an empty database, and an empty trail verifies: a wrong folder must not
  // read as "intact"
  if (!existsSync(path)) {
    process.stderr.write(`migfhir: no database at ${path} (--data-dir or MIGFHIR_DATA_DIR names the server's data folder)\n`);
    return 2;
  }
  const store = new SqliteStore({ path });
  try {
    const report = await verifyChain(store);
    if (report.ok) {
      process.stdout.write(`migfhir: audit trail intact: ${report.events} events, every hash link verified\n`);
      return 0;
    }
    process.stdout.write(`migfhir: audit trail BROKEN at event ${report.events} (AuditEvent/${report.broken!.id}): ${report.broken!.reason}\n`);
    return 1;
  } finally {
    await store.close();
  }
}
