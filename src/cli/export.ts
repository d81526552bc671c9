// `migfhir export --out DIR [--type A,B] [--since INSTANT] [--type-filter 'Type?query']…
//  [--group ID | --patients] [--without-migration-data] [--data-dir DIR]`: a Bulk Data export of
// the local data folder into DIR, as the server's $export writes it (the same NDJSON files,
// split at --export-file-lines, and a manifest.json), with a progress bar on a terminal. It runs
// as the folder's operator (in-process, no listener): everything is exported unless
// --without-migration-data writes every line as a client without the migration-data scope
// sees it. Exit 0 when done, 1 when a type could not be exported (see the error file), 2 on
// usage errors.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { Progress } from '../sync/progress.ts';

const USAGE = "Usage: migfhir export --out DIR [--type A,B] [--since INSTANT] [--type-filter 'Type?query']... [--group ID | --patients] [--without-migration-data] [--data-dir DIR] [server options]";
const OWN = new Set(['--out', '--type', '--since', '--type-filter', '--group']);
const SWITCHES = new Set(['--patients', '--without-migration-data']);

export interface CliArgs {
  own: Record<string, string[]>;
  switches: Set<string>;
  /** the rest, for loadConfig (server options such as --data-dir) */
  rest: string[];
  positional: string[];
}

/** Splits a command's own options from the server's options and its positional arguments. */
export function cliArgs(argv: string[], own: Set<string>, switches: Set<string>): CliArgs {
  const out: CliArgs = { own: {}, switches: new Set(), rest: [], positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (own.has(a)) (out.own[a] ??= []).push(argv[++i] ?? '');
    else if (switches.has(a)) out.switches.add(a);
    else if (a.startsWith('--')) {
      out.rest.push(a);
      if (!a.includes('=') && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out.rest.push(argv[++i]);
    } else out.positional.push(a);
  }
  return out;
}

export async function exportCommand(argv: string[]): Promise<number> {
  const args = cliArgs(argv, OWN, SWITCHES);
  const out = args.own['--out']?.[0];
  if (!out || args.positional.length) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = { ...loadConfig([...args.rest, '--log-level', 'silent']), devOpenAccess: true, audit: 'off' as const };
  const { buildApp } = await import('../app.ts');
  const { writeExport } = await import('../bulk/export-writer.ts');
  const { compartmentTypes, filterQuery } = await import('../bulk/export-request.ts');
  const { parseDateRange } = await import('../fhir/datetime.ts');
  const { FhirError } = await import('../fhir/errors.ts');
  const app = await buildApp(config);
  const progress = new Progress();
  try {
    const ctx = app.fhir;
    const group = args.own['--group']?.[0];
    const level = group ? 'group' : args.switches.has('--patients') ? 'patient' : 'system';
    const named = (args.own['--type'] ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
    const allowed = level === 'system' ? new Set(ctx.types.defs.resourceTypes) : compartmentTypes(ctx);
    for (const t of named) {
      if (!allowed.has(t)) {
        process.stderr.write(`migfhir export: ${t} is not a resource type${level === 'system' ? '' : ' of the Patient compartment'}\n`);
        return 2;
      }
    }
    const types = named.length ? named : [...allowed].filter((t) => level !== 'system' || (t !== 'AuditEvent' && t !== 'Task')).sort((a, b) => (a === 'Patient' ? -1 : b === 'Patient' ? 1 : a.localeCompare(b)));
    const since = args.own['--since']?.[0];
    const range = since !== undefined ? parseDateRange(since) : undefined;
    if (since !== undefined && !range) {
      process.stderr.write('migfhir export: --since must be an instant (e.g. 2026-01-01T00:00:00Z)\n');
      return 2;
    }
    const typeFilters: Record<string, string[]> = {};
    for (const f of args.own['--type-filter'] ?? []) {
      const m = /^([A-Z][A-Za-z]+)\?(.*)$/s.exec(f);
      try {
        if (!m || !types.includes(m[1])) throw new Error(`--type-filter '${f}' must be Type?query of an exported type`);
        filterQuery(ctx, m[1], m[2], `http://localhost${config.basePath}`);
      } catch (err) {
        process.stderr.write(`migfhir export: ${err instanceof FhirError ? err.outcome.issue[0]?.diagnostics : (err as Error).message}\n`);
        return 2;
      }
      (typeFilters[m[1]] ??= []).push(m[2]);
    }
    if (group && !(await ctx.repo.store.current('Group', group))) {
      process.stderr.write(`migfhir export: Group/${group} is not known\n`);
      return 2;
    }
    const dir = resolve(out);
    mkdirSync(dir, { recursive: true });
    const transactionTime = new Date().toISOString();
    const result = await writeExport(ctx, {
      level, types, typeFilters,
      ...(range ? { since: new Date(range.start).toISOString() } : {}),
      ...(group ? { group } : {}),
      sensitive: !args.switches.has('--without-migration-data'),
      request: `migfhir export ${argv.join(' ')}`,
      outputFormat: 'application/fhir+ndjson',
    }, {
      dir,
      maxLines: config.exportFileLines,
      baseUrl: config.baseUrl ?? `http://localhost${config.basePath}`,
      onProgress: (p) => progress.update(`export: ${p.written} resources; type`, p.typeIndex + 1, p.types),
    });
    progress.clear();
    const manifest = {
      transactionTime,
      request: `migfhir export ${argv.join(' ')}`,
      requiresAccessToken: false,
      output: result.output.map((f) => ({ type: f.type, url: f.name, count: f.count })),
      error: result.error.map((f) => ({ type: f.type, url: f.name, count: f.count })),
    };
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    process.stdout.write(`migfhir export: ${result.written} resources in ${result.output.length} files to ${dir}${result.error.length ? `; problems in ${result.error.map((f) => f.name).join(', ')}` : ''}\n`);
    return result.error.some((f) => f.count > 0) ? 1 : 0;
  } finally {
    progress.clear();
    await app.close();
  }
}
