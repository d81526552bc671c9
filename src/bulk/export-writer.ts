// Writes one export's NDJSON files from the store: each type read a page at a time with the
// server's own search (keyset cursor, so nothing is held but the page), each line as the
// requesting client may see it (viewFor: sensitive elements removed without the
// migration-data scope), split per type at `maxLines`. Problems with one type (a _typeFilter
// a later change made unusable) go to the OperationOutcome error file, the other types go on.
// Used by the server's export jobs (src/bulk/export-jobs.ts) and by `migfhir export`.
import type { Group, OperationOutcome } from 'fhir/r4.js';
import { ResourceJson, serialize } from '../fhir/body.ts';
import { redactBody } from '../auth/sensitive.ts';
import { FhirError } from '../fhir/errors.ts';
import type { Condition, Cursor, SearchQuery } from '../search/ir.ts';
import type { Context } from '../rest/types.ts';
import { filterQuery, filtersOf, PAGE, patientScopes, type ExportRequest } from './export-request.ts';
import { NdjsonFiles, type OutputFile } from './ndjson-files.ts';

export interface ExportProgress {
  /** resources written so far */
  written: number;
  /** index of the type being read, of `types` */
  typeIndex: number;
  types: number;
}

export interface ExportResult {
  output: OutputFile[];
  /** the OperationOutcome file (problems), when there were any */
  error: OutputFile[];
  written: number;
}

export interface WriteOptions {
  dir: string;
  maxLines: number;
  /** the base URL a _typeFilter's references are read against */
  baseUrl: string;
  onProgress?: (p: ExportProgress) => void;
  /** true stops the export after the current page (cancel, server shutdown) */
  stopped?: () => boolean;
  /** notes added to the error file (parameters ignored under Prefer: handling=lenient) */
  warnings?: string[];
}

export class ExportStopped extends Error {}

/** The current members of a Group (Group.member.entity naming a Patient, not inactive). */
export async function groupMembers(ctx: Context, id: string): Promise<string[]> {
  const v = await ctx.repo.store.current('Group', id);
  if (!v || v.deleted) throw new FhirError(404, { code: 'not-found', diagnostics: `Group/${id} is not known` });
  const group = JSON.parse(v.json!) as Group;
  const ids = new Set<string>();
  for (const m of group.member ?? []) {
    if (m.inactive) continue;
    const match = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(m.entity?.reference ?? '');
    if (match) ids.add(match[1]);
  }
  return [...ids];
}

function problem(diagnostics: string, severity: 'error' | 'warning' = 'error'): string {
  const oo: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity, code: severity === 'error' ? 'processing' : 'informational', diagnostics }] };
  return JSON.stringify(oo);
}

export async function writeExport(ctx: Context, req: ExportRequest, options: WriteOptions): Promise<ExportResult> {
  const errors = new NdjsonFiles(options.dir, 'OperationOutcome', options.maxLines);
  const notes = (options.warnings ?? []).map((w) => problem(w, 'warning'));
  let patients = req.patients;
  if (req.level === 'group') {
    const members = await groupMembers(ctx, req.group!);
    patients = patients ? members.filter((m) => patients!.includes(m)) : members;
  }
  // a client without the migration-data scope gets every line as it may see it
  const view = req.sensitive ? (json: string) => json : (json: string, type: string) => serialize(redactBody(new ResourceJson(type, json)));
  const output: OutputFile[] = [];
  let written = 0;
  for (let t = 0; t < req.types.length; t++) {
    const type = req.types[t];
    const files = new NdjsonFiles(options.dir, type, options.maxLines);
    try {
      written += await writeType(ctx, req, type, patients, files, view, options, (n) => options.onProgress?.({ written: written + n, typeIndex: t, types: req.types.length }));
    } catch (err) {
      if (err instanceof ExportStopped) {
        await files.close();
        await errors.close();
        throw err;
      }
      const why = err instanceof FhirError ? (err.outcome.issue[0]?.diagnostics ?? `HTTP ${err.status}`) : 'the store could not be read';
      notes.push(problem(`${type}: not exported: ${why}`.slice(0, 500)));
    }
    output.push(...(await files.close()));
  }
  if (notes.length) await errors.write(notes);
  return { output, error: await errors.close(), written };
}

/** Writes one type; returns how many resources. Several filters or patient chunks can match a
 * resource twice: then the ids written are remembered for this type, so each is written once. */
async function writeType(
  ctx: Context,
  req: ExportRequest,
  type: string,
  patients: string[] | undefined,
  files: NdjsonFiles,
  view: (json: string, type: string) => string,
  options: WriteOptions,
  progress: (n: number) => void,
): Promise<number> {
  const scopes: Condition[][] = req.level === 'system' ? [[]] : patients?.length === 0 ? [] : patientScopes(ctx, type, patients);
  const filters = filtersOf(req, type);
  const seen = filters.length > 1 || scopes.length > 1 ? new Set<string>() : undefined;
  // Patient level without `patient`: a compartment reference must name a Patient (a subject
  // can be a Group)
  const namesPatient = req.level === 'patient' && !patients && type !== 'Patient';
  const sinceMs = req.since ? Date.parse(req.since) : undefined;
  const since: Condition[] = sinceMs !== undefined ? [{ kind: 'lastUpdated', values: [{ prefix: 'ge', low: sinceMs, high: sinceMs + 1 }] }] : [];
  // a type the store holds nothing of (since `_since`) is skipped: at Group and Patient level
  // each chunk of patients would otherwise be searched for it (~60 types in the compartment)
  const any = await ctx.repo.store.search({ types: [type], conditions: since, sort: [], count: 1, total: 'none', include: [], revinclude: [] });
  if (!any.matches.length) return 0;
  let n = 0;
  for (const filter of filters) {
    const base = filterQuery(ctx, type, filter, options.baseUrl);
    for (const scope of scopes) {
      const q: SearchQuery = { types: [type], conditions: [...base.conditions, ...since, ...scope], sort: [], count: PAGE, total: 'none', include: [], revinclude: [] };
      let cursor: Cursor | undefined;
      for (;;) {
        if (options.stopped?.()) throw new ExportStopped();
        const page = await ctx.repo.store.search(q, cursor);
        const lines: string[] = [];
        for (const m of page.matches) {
          if (seen) {
            if (seen.has(m.id)) continue;
            seen.add(m.id);
          }
          if (namesPatient && !m.json.includes('Patient/')) continue;
          lines.push(view(m.json, type));
        }
        if (lines.length) await files.write(lines);
        n += lines.length;
        progress(n);
        if (!page.hasMore || !page.matches.length) break;
        cursor = { after: page.matches[page.matches.length - 1].position };
        // let requests in between pages
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  return n;
}
