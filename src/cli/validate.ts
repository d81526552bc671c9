// `migfhir validate <files|dirs|-> [--profile URL] [--ig DIR|package.tgz] [--format text|json]`:
// validates JSON and XML resources, Bundles (entry by entry, as one resource) and NDJSON files offline,
// with the same validator as the server. Text output is compiler-like, one line per issue:
// `file:Patient.name[0].given: error: message` (for XML `file:line:col:Patient.name[0].given`,
// the line and column of the element); exit status 1 when any error was found.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IssueInput } from '../fhir/errors.ts';
import { offlineValidator } from '../validation/offline.ts';
import type { Validator } from '../validation/validator.ts';
import { validatedInOrder, threadsFor } from './validate-threads.ts';

/** The XML reader (sax) and the package loader (tar), imported only when an input is XML or an
 * --ig is given: most runs validate JSON against R4 and the IG, and start sooner without them. */
let xml: { fromXml: typeof import('../fhir/xml/parse.ts').fromXml; xmlLocation: typeof import('../fhir/xml/locations.ts').xmlLocation } | undefined;

async function loadXml(): Promise<NonNullable<typeof xml>> {
  xml ??= { fromXml: (await import('../fhir/xml/parse.ts')).fromXml, xmlLocation: (await import('../fhir/xml/locations.ts')).xmlLocation };
  return xml;
}

export type LocatedIssue = IssueInput & { line?: number; col?: number };

const USAGE = 'usage: migfhir validate <files|dirs|-> [--profile URL] [--ig DIR|package.tgz]... [--format text|json] [--threads N]\n';

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

/** One resource of a file, or why a file or line could not be read. */
export interface Item {
  label: string;
  resource?: unknown;
  /** an NDJSON line, parsed where it is validated (a worker thread, for large inputs) */
  line?: string;
  error?: string;
  /** read from XML: issues name their line and column */
  xml?: boolean;
  /** where in its file the item ends (NDJSON), for the progress bar */
  end?: number;
}

/** The resources of one file, one at a time: a JSON or XML resource, or NDJSON read line by
 * line (each line parsed when it is validated, so a large file is never held parsed whole). */
function* resourcesOf(src: Source): Generator<Item> {
  const trimmed = src.text.trim();
  if (trimmed.startsWith('<')) {
    try {
      // loaded by validateCommand when a source starts with '<'
      yield { label: src.name, resource: xml!.fromXml(src.text, { maxDepth: 1000, positions: true }), xml: true };
    } catch (err) {
      yield { label: src.name, error: `not FHIR XML: ${(err as Error).message}` };
    }
    return;
  }
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch (err) {
    // NDJSON: JSON.parse stops at the end of the first line's resource
    if (trimmed.indexOf('\n') < 0) {
      yield { label: src.name, error: `not JSON: ${(err as Error).message}` };
      return;
    }
    let start = 0;
    for (let line = 1; start < src.text.length; line++) {
      const nl = src.text.indexOf('\n', start);
      const end = nl < 0 ? src.text.length : nl;
      const text = src.text.slice(start, end);
      start = end + 1;
      if (!text.trim()) continue;
      yield { label: `${src.name}:${line}`, line: text, end: start };
    }
    return;
  }
  yield { label: src.name, resource: whole };
}

/** The issues of one item, each with the line and column of an XML resource's element. */
export function issuesOf(validator: Validator, item: Item, profiles: string[]): LocatedIssue[] {
  let resource = item.resource;
  let error = item.error;
  if (item.line !== undefined) {
    try {
      resource = JSON.parse(item.line);
    } catch (e) {
      error = `not JSON: ${(e as Error).message}`;
    }
  }
  if (error !== undefined) return [{ severity: 'fatal', code: 'structure', diagnostics: error }];
  const issues = validator.validate(resource, { profiles, definitions: true });
  return item.xml ? issues.map((i) => ({ ...i, ...xml!.xmlLocation(resource as object, i.expression?.[0]) })) : issues;
}

/** A progress bar on a terminal (stderr), redrawn at most ten times a second. */
class Progress {
  private readonly err: NodeJS.WritableStream;
  private readonly total: number;
  private last = 0;
  shown = false;
  constructor(err: NodeJS.WritableStream, total: number) {
    this.err = err;
    this.total = total;
  }
  update(done: number, resources: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const width = 30;
    const filled = Math.min(width, Math.round((done / Math.max(this.total, 1)) * width));
    this.err.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${resources} resources, ${Math.floor((100 * done) / Math.max(this.total, 1))}%`);
    this.shown = true;
  }
}

export async function validateCommand(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const paths: string[] = [];
  const profiles: string[] = [];
  const igs: string[] = [];
  let format = 'text';
  let threads: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--profile') profiles.push(argv[++i] ?? '');
    else if (a === '--threads') threads = /^[1-9]\d?$/.test(argv[i + 1] ?? '') ? Number(argv[++i]) : 0;
    else if (a === '--ig') igs.push(argv[++i] ?? '');
    else if (a === '--format') format = argv[++i] ?? '';
    else if (a.startsWith('--')) {
      err.write(`migfhir validate: unknown option ${a}\n${USAGE}`);
      return 2;
    } else paths.push(a);
  }
  if (!paths.length || (format !== 'text' && format !== 'json') || profiles.includes('') || igs.includes('') || threads === 0) {
    err.write(USAGE);
    return 2;
  }
  // the validator sees the packages loaded after it was made: the registry and terminology
  // are read on use
  const { validator, registry, terminology } = offlineValidator();
  // every package first, then the snapshots: a profile may build on one of another --ig
  const loadedUrls: string[] = [];
  const { loadPackage, unusable } = igs.length ? await import('../validation/package-loader.ts') : { loadPackage: undefined, unusable: () => [] };
  for (const ig of igs) {
    const loaded = loadPackage!(ig, registry, terminology);
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
  if (sources.some((src) => src.text.trimStart().startsWith('<'))) await loadXml();
  const totalChars = sources.reduce((n, src) => n + src.text.length, 0);
  // on a terminal, from a second's worth of work on (about 2,000 resources)
  const progress = (err as { isTTY?: boolean }).isTTY === true && (totalChars > 4_000_000 || sources.length > 200) ? new Progress(err, totalChars) : undefined;
  let errors = 0;
  let warnings = 0;
  let count = 0;
  let done = 0;
  const report: { file: string; issues: IssueInput[] }[] = [];
  // text output is buffered: one write per issue is a system call per issue
  let buffered = '';
  // large inputs are validated by several threads, the output kept in input order (validate-threads.ts)
  const items = (function* () {
    for (const src of sources) {
      for (const item of resourcesOf(src)) yield { item, done: done + (item.end ?? src.text.length) };
      done += src.text.length;
    }
  })();
  const parallel = threads ?? threadsFor(totalChars);
  for await (const { item, done: at, issues } of validatedInOrder(items, parallel, (item) => issuesOf(validator, item, profiles), { igs, profiles })) {
    count++;
    for (const i of issues) {
      if (i.severity === 'error' || i.severity === 'fatal') errors++;
      else if (i.severity === 'warning') warnings++;
    }
    if (format === 'json') report.push({ file: item.label, issues });
    else {
      for (const i of issues) {
        buffered += `${item.label}${i.line !== undefined ? `:${i.line}:${i.col}` : ''}:${i.expression?.[0] ?? ''}: ${i.severity}: ${i.diagnostics}\n`;
      }
      if (buffered.length > 65536) {
        out.write(buffered);
        buffered = '';
      }
    }
    progress?.update(at, count);
  }
  if (buffered) out.write(buffered);
  if (progress) {
    progress.update(totalChars, count, true);
    err.write('\n');
  }
  if (format === 'json') out.write(`${JSON.stringify(report, null, 2)}\n`);
  err.write(`migfhir validate: ${count} resources, ${errors} errors, ${warnings} warnings\n`);
  return errors > 0 ? 1 : 0;
}
