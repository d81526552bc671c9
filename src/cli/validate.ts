// `migfhir validate <files|dirs|-> [--profile URL] [--ig DIR|package.tgz] [--format text|json]`:
// validates JSON and XML resources, Bundles (entry by entry, as one resource) and NDJSON files offline,
// with the same validator as the server. Text output is compiler-like, one line per issue:
// `file:Patient.name[0].given: error: message` (for XML `file:line:col:Patient.name[0].given`,
// the line and column of the element); exit status 1 when any error was found.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IssueInput } from '../fhir/errors.ts';
import { fromXml } from '../fhir/xml/parse.ts';
import { xmlLocation } from '../fhir/xml/locations.ts';
import { loadPackage, unusable } from '../validation/package-loader.ts';
import { offlineValidator } from '../validation/offline.ts';

const USAGE = 'usage: migfhir validate <files|dirs|-> [--profile URL] [--ig DIR|package.tgz]... [--format text|json]\n';

interface Source {
  name: string;
  text: string;
}

function collect(path: string, out: Source[]): void {
  if (path === '-') {
    out.push({ name: '<stdin>', text: readFileSync(0, 'utf8') });
    return;
  }
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const f of readdirSync(path).sort()) {
      const p = join(path, f);
      if (statSync(p).isDirectory() || /\.(json|ndjson|xml)$/.test(f)) collect(p, out);
    }
  } else out.push({ name: path, text: readFileSync(path, 'utf8') });
}

/** The resources of one file: a JSON resource, or NDJSON (one per line). */
interface Item {
  label: string;
  resource?: unknown;
  error?: string;
  /** read from XML: issues name their line and column */
  xml?: boolean;
}

function resourcesOf(src: Source): Item[] {
  const trimmed = src.text.trim();
  if (trimmed.startsWith('<')) {
    try {
      return [{ label: src.name, resource: fromXml(src.text, { maxDepth: 1000, positions: true }), xml: true }];
    } catch (err) {
      return [{ label: src.name, error: `not FHIR XML: ${(err as Error).message}` }];
    }
  }
  try {
    return [{ label: src.name, resource: JSON.parse(trimmed) }];
  } catch (err) {
    const lines = trimmed.split('\n');
    if (lines.length < 2) return [{ label: src.name, error: `not JSON: ${(err as Error).message}` }];
    return lines.flatMap((line, i): Item[] => {
      if (!line.trim()) return [];
      try {
        return [{ label: `${src.name}:${i + 1}`, resource: JSON.parse(line) }];
      } catch (e) {
        return [{ label: `${src.name}:${i + 1}`, error: `not JSON: ${(e as Error).message}` }];
      }
    });
  }
}

export async function validateCommand(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const paths: string[] = [];
  const profiles: string[] = [];
  const igs: string[] = [];
  let format = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--profile') profiles.push(argv[++i] ?? '');
    else if (a === '--ig') igs.push(argv[++i] ?? '');
    else if (a === '--format') format = argv[++i] ?? '';
    else if (a.startsWith('--')) {
      err.write(`migfhir validate: unknown option ${a}\n${USAGE}`);
      return 2;
    } else paths.push(a);
  }
  if (!paths.length || (format !== 'text' && format !== 'json') || profiles.includes('') || igs.includes('')) {
    err.write(USAGE);
    return 2;
  }
  // the validator sees the packages loaded after it was made: the registry and terminology
  // are read on use
  const { validator, registry, terminology } = offlineValidator();
  // every package first, then the snapshots: a profile may build on one of another --ig
  const loadedUrls: string[] = [];
  for (const ig of igs) {
    const loaded = loadPackage(ig, registry, terminology);
    loadedUrls.push(...loaded.urls);
    err.write(`migfhir validate: ${ig}: ${loaded.profiles} profiles, ${loaded.terminology} terminology resources\n`);
  }
  for (const u of unusable(registry, loadedUrls)) err.write(`migfhir validate: cannot use ${u.url}: ${u.reason}\n`);
  for (const p of profiles) {
    const reason = registry.problem(p);
    if (reason) {
      err.write(`migfhir validate: cannot validate against ${p}: ${reason}\n`);
      return 2;
    }
  }
  const sources: Source[] = [];
  for (const p of paths) collect(p, sources);
  const items = sources.flatMap(resourcesOf);
  const progress = err.isTTY === true && items.length > 200;
  let errors = 0;
  let warnings = 0;
  const report: { file: string; issues: IssueInput[] }[] = [];
  items.forEach((item, n) => {
    const issues: IssueInput[] = item.error
      ? [{ severity: 'fatal', code: 'structure', diagnostics: item.error }]
      : validator.validate(item.resource, { profiles, definitions: true });
    errors += issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').length;
    warnings += issues.filter((i) => i.severity === 'warning').length;
    const at = (i: IssueInput) => (item.xml ? xmlLocation(item.resource as object, i.expression?.[0]) : undefined);
    if (format === 'json') report.push({ file: item.label, issues: issues.map((i) => ({ ...i, ...at(i) })) });
    else {
      for (const i of issues) {
        const where = at(i);
        out.write(`${item.label}${where ? `:${where.line}:${where.col}` : ''}:${i.expression?.[0] ?? ''}: ${i.severity}: ${i.diagnostics}\n`);
      }
    }
    if (progress && (n % 50 === 0 || n === items.length - 1)) {
      const width = 30;
      const done = Math.round(((n + 1) / items.length) * width);
      err.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${n + 1}/${items.length}`);
    }
  });
  if (progress) err.write('\n');
  if (format === 'json') out.write(`${JSON.stringify(report, null, 2)}\n`);
  err.write(`migfhir validate: ${items.length} resources, ${errors} errors, ${warnings} warnings\n`);
  return errors > 0 ? 1 : 0;
}
