#!/usr/bin/env node
// The `migfhir` command: sub-commands dispatch here.
// first: the modules below are compiled from the cache when it holds them
import './compile-cache.ts';
// config.ts is imported by the commands that read it: it loads ajv (to check match-config.json),
// ~50 ms that `migfhir validate` does not need
type Options = (typeof import('../config.ts'))['OPTIONS'];

const help = (OPTIONS: Options) => `migfhir: FHIR R4 server and adapter for migrant and refugee health records

Usage:
  migfhir serve [options]    start the FHIR server
  migfhir clients add|list   register SMART backend-service clients (see migfhir clients)
  migfhir validate <files|dirs|-> [--profile URL] [--ig DIR|package.tgz] [--format text|json] [--threads N]
                             validate resources, Bundles and NDJSON offline (exit 1 on errors)
  migfhir audit verify       check the audit trail's hash chain and signed checkpoints (--data-dir DIR, --audit-key FILE, --anchor FILE, --mongodb-uri URI)
  migfhir audit anchor       print the trail's latest signed checkpoint, to keep elsewhere (--data-dir DIR)
  migfhir audit export --since INSTANT --output DIR
                             write the events since INSTANT as NDJSON with their signed checkpoints
  migfhir audit prune --before INSTANT
                             retention: remove the events up to a signed checkpoint before INSTANT (server stopped)
  migfhir adapters           list the national-format adapters (id, country/system, formats, directions)
  migfhir sync pull|push     copy a patient's record from or to a remote FHIR endpoint (see migfhir sync)
  migfhir import-csv <file> --mapping <json> [--dry-run] [--server URL [--token T]] [--data-dir DIR]
                             import an NGO clinic register (CSV) into a server or the local data folder
  migfhir token --server URL --client ID --key KEY.jwk.json --scope "…" [--assertion]
                             an access token of a registered client (SMART Backend Services), for curl
  migfhir export --out DIR [--type A,B] [--since T] [--type-filter 'Type?q'] [--group ID | --patients]
                [--without-migration-data] [--data-dir DIR]
                             Bulk Data export of the local data folder to NDJSON files (progress bar)
  migfhir import FILE.ndjson|DIR [--data-dir DIR]
                             import NDJSON into the local data folder through the write pipeline
  migfhir seed [--data-dir DIR | --server URL [--token T]]
                             load a small demo population (invented people, through the server's own doors)
  migfhir help               show this text

Options (flag, environment variable, default):
${OPTIONS.map((o) => `  ${o.flag.padEnd(22)} ${o.env.padEnd(28)} ${(o.default || '-').padEnd(10)} ${o.description}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { startServer } = await import('../server.ts');
      const { loadConfig } = await import('../config.ts');
      await startServer(loadConfig(rest));
      return -1;
    }
    case 'validate': {
      const { validateCommand } = await import('./validate.ts');
      return validateCommand(rest);
    }
    case 'audit': {
      const { auditCommand } = await import('./audit.ts');
      return auditCommand(rest);
    }
    case 'adapters': {
      const { describeAdapters } = await import('../mapping/registry.ts');
      process.stdout.write(`${describeAdapters().join('\n')}\n`);
      return 0;
    }
    case 'sync': {
      const { syncCommand } = await import('./sync.ts');
      return syncCommand(rest);
    }
    case 'import-csv': {
      const { importCsvCommand } = await import('./import-csv.ts');
      return importCsvCommand(rest);
    }
    case 'export': {
      const { exportCommand } = await import('./export.ts');
      return exportCommand(rest);
    }
    case 'import': {
      const { importCommand } = await import('./import.ts');
      return importCommand(rest);
    }
    case 'seed': {
      const { seedCommand } = await import('./seed.ts');
      return seedCommand(rest);
    }
    case 'token': {
      const { tokenCommand } = await import('./token.ts');
      return tokenCommand(rest);
    }
    case 'clients': {
      const { clientsCommand } = await import('./clients.ts');
      return clientsCommand(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(help((await import('../config.ts')).OPTIONS));
      return 0;
    default:
      process.stderr.write(`migfhir: unknown command '${command}'\n\n${help((await import('../config.ts')).OPTIONS)}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`migfhir: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
