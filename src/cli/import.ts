// `migfhir import FILE.ndjson|DIR [--data-dir DIR]`: imports NDJSON files (a folder: its
// *.ndjson files, Patient files first so that references find their patients) into the local
// data folder through the same write pipeline and audit as the server's $import
// (src/bulk/ndjson-import.ts), with a progress bar on a terminal. A line that fails is printed
// to stderr with its file and line number; the other lines are imported. Exit 0 when every
// line was imported, 1 when some failed, 2 on usage errors.
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../config.ts';
import { Progress } from '../sync/progress.ts';
import { cliArgs } from './export.ts';

const USAGE = 'Usage: migfhir import FILE.ndjson|DIR [--data-dir DIR] [server options]';

function inputsOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const files = readdirSync(path).filter((f) => f.endsWith('.ndjson') && f !== 'manifest.json');
  // patients first (others refer to them), then by name: Observation-1, Observation-2 …
  return files.sort((a, b) => Number(!a.startsWith('Patient')) - Number(!b.startsWith('Patient')) || a.localeCompare(b, 'en', { numeric: true })).map((f) => join(path, f));
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) for (const b of chunk as Buffer) if (b === 10) n++;
  return n;
}

export async function importCommand(argv: string[]): Promise<number> {
  const args = cliArgs(argv, new Set(), new Set());
  if (args.positional.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let files: string[];
  try {
    files = inputsOf(args.positional[0]);
  } catch {
    process.stderr.write(`migfhir import: ${args.positional[0]} is neither a file nor a folder\n`);
    return 2;
  }
  const loaded = loadConfig([...args.rest, '--log-level', 'silent']);
  // the folder's operator, in-process; every written resource is audited unless --audit off
  const config = { ...loaded, devOpenAccess: true, audit: loaded.audit === 'off' ? ('off' as const) : ('on' as const) };
  const { buildApp } = await import('../app.ts');
  const { importLines } = await import('../bulk/ndjson-import.ts');
  const app = await buildApp(config);
  // the prepare threads build their definitions while the lines are counted
  app.fhir.prepare?.start();
  const progress = new Progress();
  let imported = 0;
  let failed = 0;
  try {
    let total = 0;
    for (const f of files) total += await countLines(f);
    let before = 0;
    for (const file of files) {
      const name = basename(file);
      const result = await importLines(app.fhir, createInterface({ input: createReadStream(file), crlfDelay: Infinity }), {
        input: name,
        skip: 0,
        onError: async (e) => {
          // the errors (the warnings that came with them are in the outcome, not repeated here)
          const errors = e.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
          progress.note(`migfhir import: ${[...new Set((errors.length ? errors : e.outcome.issue).map((i) => i.diagnostics))].join('; ')}`);
        },
        onProgress: (p) => progress.update('import', before + p.line, total),
      });
      before += result.line;
      imported += result.imported;
      failed += result.failed;
    }
    progress.clear();
    process.stdout.write(`migfhir import: ${imported} resources imported from ${files.length} file${files.length === 1 ? '' : 's'}${failed ? `, ${failed} lines failed` : ''}\n`);
    return failed ? 1 : 0;
  } finally {
    progress.clear();
    await app.close();
  }
}
