// What a Bulk Data export asks for, as the kick-off checked it (src/operations/export.ts) and
// as its job keeps it in the store (a Task's input), so that a job resumed after a restart
// reads exactly what was allowed at kick-off.
// https://hl7.org/fhir/uv/bulkdata/STU2/export.html
import type { Condition, SearchQuery } from '../search/ir.ts';
import { compartmentCondition } from '../rest/search.ts';
import type { Context } from '../rest/types.ts';
import { badRequest } from '../fhir/errors.ts';

export type ExportLevel = 'system' | 'patient' | 'group';

export interface ExportRequest {
  level: ExportLevel;
  /** the types to export, in order, each one the client may read and search */
  types: string[];
  /** only resources changed at or after this instant (ISO) */
  since?: string;
  /** per type, the search queries (without `Type?`) a resource must meet one of */
  typeFilters: Record<string, string[]>;
  /** Patient level with `patient`: these patients only */
  patients?: string[];
  /** Group level: the group whose members' compartments are exported */
  group?: string;
  /** the client that asked: only it may poll, download and delete (absent in open access) */
  clientId?: string;
  /** whether that client holds the migration-data scope: files are written as it may see them */
  sensitive: boolean;
  /** the kick-off URL, echoed in the manifest */
  request: string;
  /** the output format asked for (one of FORMATS), echoed as each file's type */
  outputFormat: string;
}

/** The _outputFormat values the IG names for NDJSON (every server must take all three). */
export const FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];

/** resources read from the store per page: the store's reads are synchronous (better-sqlite3), so
 * a page holds the event loop; 250 instead of 1000 quartered the median wait of reads served
 * during an export (scripts/bench/README.md, Bulk Data) */
export const PAGE = 250;

/** One filter of a type, or none. */
export function filtersOf(req: ExportRequest, type: string): (string | undefined)[] {
  const own = req.typeFilters[type];
  return own?.length ? own : [undefined];
}

/** The conditions of one `_typeFilter` query, parsed with the server's own search parser
 * (strict: a parameter it does not know is an error, never silently dropped — that would
 * export more than was asked for). */
export function filterQuery(ctx: Context, type: string, filter: string | undefined, baseUrl: string): SearchQuery {
  const query: Record<string, string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(filter ?? '')) (query[k] ??= []).push(v);
  for (const k of Object.keys(query)) {
    if (['_count', '_sort', '_include', '_revinclude', '_summary', '_elements', '_total', '_contained', '_containedType'].includes(k)) {
      throw badRequest(`_typeFilter ${type}: ${k} shapes a search's answer, not which resources match; it cannot be a filter`, 'not-supported');
    }
  }
  return ctx.searchParser.parse({ types: [type], query, baseUrl, strict: true }).query;
}

/** The conditions that keep an export to patients' compartments: the members (or the named
 * patients) in chunks, or, for Patient level without `patient`, resources with a reference in
 * one of the compartment's parameters (then narrowed to those naming a Patient when read). */
export function patientScopes(ctx: Context, type: string, patients: string[] | undefined): Condition[][] {
  if (!patients) {
    if (type === 'Patient') return [[]];
    const def = ctx.types.defs.compartments.find((c) => c.code === 'Patient')!;
    const params = (def.resources[type] ?? []).map((code) => ctx.search.get(type, code)).filter((p) => p?.type === 'reference').map((p) => p!.key);
    return [[{ kind: 'missing', params, table: 'reference', missing: false }]];
  }
  const chunks: Condition[][] = [];
  for (let i = 0; i < patients.length; i += CHUNK) {
    const ids = patients.slice(i, i + CHUNK);
    if (type === 'Patient') chunks.push([{ kind: 'id', values: ids, not: false }]);
    else {
      const each = ids.map((id) => compartmentCondition(ctx, 'Patient', id, type));
      chunks.push([each.length === 1 ? each[0] : { kind: 'any', conditions: each }]);
    }
  }
  return chunks;
}

/** patients per compartment search (each adds one alternative to the query) */
const CHUNK = 100;

/** The types of the Patient compartment (Patient itself included). */
export function compartmentTypes(ctx: Context): Set<string> {
  const def = ctx.types.defs.compartments.find((c) => c.code === 'Patient')!;
  return new Set(['Patient', ...Object.keys(def.resources).filter((t) => ctx.types.has(t))]);
}
