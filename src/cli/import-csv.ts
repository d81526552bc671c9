// `migfhir import-csv <file> --mapping <mapping.json> [--dry-run] [--server URL [--token T]]
//  [--data-dir DIR]`: imports an NGO clinic register through the $import-csv operation, either
// into a running server (--server) or straight into a local data folder (the server's app is
// built in-process on it; no port is opened). Prints a summary and one line per rejected row
// and column; --dry-run prints the transaction Bundles instead of writing. Exit 0 when every
// row was imported, 1 when rows were rejected, 2 on usage errors.
import { readFileSync } from 'node:fs';
import type { OperationOutcome, Parameters } from 'fhir/r4.js';
import { loadConfig } from '../config.ts';

const USAGE = 'Usage: migfhir import-csv <file.csv> --mapping <mapping.json> [--dry-run] [--server URL [--token TOKEN]] [--data-dir DIR]';

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function call(argv: string[], body: Parameters): Promise<{ status: number; json: unknown }> {
  const server = option(argv, '--server');
  if (server) {
    const token = option(argv, '--token');
    const res = await fetch(`${server.replace(/\/+$/, '')}/$import-csv`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }
  const dataDir = option(argv, '--data-dir');
  const { buildApp } = await import('../app.ts');
  // the operator of the data folder: in-process, no listener, so no access control to pass
  const config = { ...loadConfig([...(dataDir ? ['--data-dir', dataDir] : []), '--log-level', 'silent']), devOpenAccess: true };
  const app = await buildApp(config);
  try {
    const res = await app.inject({ method: 'POST', url: `${config.basePath}/$import-csv`, headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(body) });
    return { status: res.statusCode, json: JSON.parse(res.body) };
  } finally {
    await app.close();
  }
}

export async function importCsvCommand(argv: string[]): Promise<number> {
  const file = argv.find((a, i) => !a.startsWith('--') && !['--mapping', '--server', '--token', '--data-dir'].includes(argv[i - 1]));
  const mappingFile = option(argv, '--mapping');
  if (!file || !mappingFile) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const dryRun = argv.includes('--dry-run');
  const body: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'csv', valueBase64Binary: readFileSync(file).toString('base64') },
      { name: 'mapping', valueString: readFileSync(mappingFile, 'utf8') },
      { name: 'dryRun', valueBoolean: dryRun },
    ],
  };
  const { status, json } = await call(argv, body);
  if (status !== 200) {
    const issues = (json as OperationOutcome).issue ?? [];
    process.stderr.write(`migfhir import-csv: ${status}: ${issues.map((i) => i.diagnostics).join('; ') || 'failed'}\n`);
    return 1;
  }
  const params = (json as Parameters).parameter ?? [];
  const outcome = params.find((p) => p.name === 'outcome')?.resource as OperationOutcome;
  if (dryRun) {
    const bundles = params.filter((p) => p.name === 'bundle').map((p) => p.resource);
    process.stdout.write(`${JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: bundles.map((resource) => ({ resource })) }, null, 2)}\n`);
  }
  const out = dryRun ? process.stderr : process.stdout;
  for (const issue of outcome.issue) out.write(`${issue.severity === 'error' ? 'rejected ' : ''}${issue.diagnostics}\n`);
  return params.find((p) => p.name === 'rejected')?.valueInteger ? 1 : 0;
}
