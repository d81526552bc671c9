// delete: https://hl7.org/fhir/R4/http.html#delete
// Logical: the history stays and a later read gets 410 Gone. Deleting a resource that does not
// exist, or is already deleted, succeeds too, as the spec allows.
import { operationOutcome } from '../fhir/errors.ts';
import { criteria } from './conditional.ts';
import { authorize } from '../auth/authorize.ts';
import { etagHeaders, ifMatch, returnPreference } from './common.ts';
import type { Handler } from './types.ts';

export const remove: Handler = async (req, ctx) => {
  const type = req.resourceType!;
  authorize(req.auth, type, 'd', ...(req.id === undefined ? (['s'] as const) : []));
  if (req.id === undefined) {
    // DELETE [type]?criteria: https://hl7.org/fhir/R4/http.html#cdelete
    const results = await ctx.repo.conditionalDelete(await criteria(req, ctx, type, req.query), ctx.config.conditionalDeleteMax);
    const deleted = results.filter((r) => r.existed);
    const headers: Record<string, string> = deleted.length === 1 ? etagHeaders(deleted[0].version!) : {};
    if (returnPreference(req) === 'minimal') return { status: 204, headers };
    const diagnostics = deleted.length === 0 ? `No ${type} matches the criteria; nothing to delete` : `Deleted ${deleted.map((r) => `${type}/${r.version!.id}`).join(', ')}`;
    return { status: 200, headers, body: operationOutcome([{ severity: 'information', code: 'informational', diagnostics }]) };
  }
  const result = await ctx.repo.delete(type, req.id, ifMatch(req));
  const headers = result.version ? etagHeaders(result.version) : {};
  if (returnPreference(req) === 'minimal') return { status: 204, headers };
  const diagnostics = result.existed
    ? `Deleted ${type}/${req.id}`
    : result.version
      ? `${type}/${req.id} was already deleted`
      : `${type}/${req.id} does not exist; nothing to delete`;
  return {
    status: 200,
    headers,
    body: operationOutcome([{ severity: 'information', code: 'informational', diagnostics }]),
  };
};
