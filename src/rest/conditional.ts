// Criteria of conditional create, update, patch and delete
// (https://hl7.org/fhir/R4/http.html#ccreate, #cond-update, #cdelete): a search on the type,
// parsed strictly — an unknown parameter in a condition is an error, never silently dropped,
// since dropping it would widen what the condition matches.
import { badRequest } from '../fhir/errors.ts';
import { forbidden } from '../auth/authorize.ts';
import type { SearchQuery } from '../search/ir.ts';
import { RESULT_PARAMETERS } from '../search/parse.ts';
import { refuseSensitiveSearch } from '../auth/sensitive-search.ts';
import { queryOf } from '../fhir/query.ts';
import type { Context, FhirRequest } from './types.ts';

/** The search of a conditional interaction. Its outcome (created or not, which resource is
 * updated or deleted) tells whether something matches, so the same sensitive-parameter guard as
 * for searches applies (src/auth/sensitive-search.ts), and a client without the migration-data
 * scope searches over its view. When its view and the stored resources answer differently
 * (only a hidden status-revealing identifier matches: If-None-Exist on an LMA number), acting
 * on either would be wrong — a silent duplicate of the patient, or a 412 or an update that
 * confirms the number — so the interaction is refused (403, naming the scope): the same answer
 * whether or not the match is what the client guessed. */
export async function criteria(req: FhirRequest, ctx: Context, type: string, params: Record<string, string[]>): Promise<SearchQuery> {
  const filters = Object.fromEntries(Object.entries(params).filter(([k]) => !RESULT_PARAMETERS.has(k.split(':')[0])));
  if (Object.keys(filters).length === 0) {
    throw badRequest('A conditional interaction needs search criteria', 'invalid');
  }
  // the server's search parser, as for a search: `:in`, `:below`, chains and `_has` mean the same here
  const parsed = ctx.searchParser.parse({ types: [type], query: filters, baseUrl: req.baseUrl, strict: true, count: { default: 2, max: 2 } });
  await refuseSensitiveSearch(req, parsed.query, ctx.search, ctx.types.defs.resourceTypes, ctx.repo.store);
  if (parsed.query.view === 'redacted') await refuseHiddenMatch(ctx, parsed.query);
  return parsed.query;
}

/** 403 when the client's view and the stored resources match differently (see criteria). */
async function refuseHiddenMatch(ctx: Context, q: SearchQuery): Promise<void> {
  const probe = { ...q, count: 3, total: 'none' as const, include: [], revinclude: [], sort: [] };
  const ids = async (view: SearchQuery['view']) => (await ctx.repo.search({ ...probe, view })).matches.map((m) => `${m.resourceType}/${m.id}`).sort().join(' ');
  if ((await ids('redacted')) !== (await ids(undefined))) {
    throw forbidden('This conditional interaction would depend on migration data this client cannot see; it needs the migration-data scope');
  }
}

/** If-None-Exist carries a query string such as `identifier=http://x|1`. */
export function queryFromHeader(value: string): Record<string, string[]> {
  return queryOf(value.includes('?') ? value.slice(value.indexOf('?') + 1) : value);
}
