// Criteria of conditional create, update, patch and delete
// (https://hl7.org/fhir/R4/http.html#ccreate, #cond-update, #cdelete): a search on the type,
// parsed strictly — an unknown parameter in a condition is an error, never silently dropped,
// since dropping it would widen what the condition matches.
import { badRequest } from '../fhir/errors.ts';
import type { SearchQuery } from '../search/ir.ts';
import { RESULT_PARAMETERS } from '../search/parse.ts';
import { refuseSensitiveSearch } from '../auth/sensitive-search.ts';
import { queryOf } from '../fhir/query.ts';
import type { Context, FhirRequest } from './types.ts';

/** The search of a conditional interaction. Its outcome (created or not, which resource is
 * updated or deleted) tells whether something matches, so the same sensitive-parameter guard as
 * for searches applies (src/auth/sensitive-search.ts). */
export async function criteria(req: FhirRequest, ctx: Context, type: string, params: Record<string, string[]>): Promise<SearchQuery> {
  const filters = Object.fromEntries(Object.entries(params).filter(([k]) => !RESULT_PARAMETERS.has(k.split(':')[0])));
  if (Object.keys(filters).length === 0) {
    throw badRequest('A conditional interaction needs search criteria', 'invalid');
  }
  // the server's search parser, as for a search: `:in`, `:below`, chains and `_has` mean the same here
  const parsed = ctx.searchParser.parse({ types: [type], query: filters, baseUrl: req.baseUrl, strict: true, count: { default: 2, max: 2 } });
  await refuseSensitiveSearch(req, parsed.query, ctx.search, ctx.types.defs.resourceTypes, ctx.repo.store);
  return parsed.query;
}

/** If-None-Exist carries a query string such as `identifier=http://x|1`. */
export function queryFromHeader(value: string): Record<string, string[]> {
  return queryOf(value.includes('?') ? value.slice(value.indexOf('?') + 1) : value);
}
