// delete: https://hl7.org/fhir/R4/http.html#delete
// Logical: the history stays and a later read gets 410 Gone. Deleting a resource that does not
// exist, or is already deleted, succeeds too, as the spec allows.
import { notSupported, operationOutcome } from '../fhir/errors.ts';
import { etagHeaders, ifMatch, returnPreference } from './common.ts';
import type { Handler } from './types.ts';

export const remove: Handler = async (req, ctx) => {
  if (req.id === undefined) {
    throw notSupported('Conditional delete needs search, which this server does not offer yet');
  }
  const type = req.resourceType!;
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
