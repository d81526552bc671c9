// patch: https://hl7.org/fhir/R4/http.html#patch, with JSON Patch (RFC 6902,
// application/json-patch+json) or FHIRPath Patch (a Parameters resource, fhirpath-patch.ts).
// The patch is applied to the current version inside the write transaction; a malformed patch
// gets 400, one that cannot be applied or that leaves an invalid resource gets 422, and in
// both cases nothing changes.
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { Parameters, Resource } from 'fhir/r4.js';
import { applyFhirPathPatch, isFhirPathPatch, patchOperations } from './fhirpath-patch.ts';
import { keepSensitive, withoutSensitive } from '../auth/sensitive.ts';
import { badRequest, FhirError, notFound, preconditionFailed, unprocessable } from '../fhir/errors.ts';
import { criteria } from './conditional.ts';
import { authorize } from '../auth/authorize.ts';
import { ifMatch, writeResponse } from './common.ts';
import type { Context, FhirRequest, Handler } from './types.ts';

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function patchDocument(body: unknown): Operation[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw badRequest('A JSON Patch body is a non-empty array of operations', 'structure');
  }
  body.forEach((op, i) => {
    if (op === null || typeof op !== 'object' || !OPS.has(op.op) || typeof op.path !== 'string') {
      throw badRequest(`Patch operation ${i} needs an op (add, remove, replace, move, copy, test) and a path`, 'structure');
    }
  });
  return body as Operation[];
}

function jsonPatch(operations: Operation[]): (current: Resource) => Resource {
  return (current) => {
    try {
      return jsonpatch.applyPatch(current, operations, true, true, true).newDocument as Resource;
    } catch (err) {
      const e = err as { name?: string; message?: string; index?: number };
      const what = e.name === 'TEST_OPERATION_FAILED' ? 'a test operation failed' : (e.message ?? 'it does not apply').split('\n')[0];
      throw unprocessable({ code: 'processing', diagnostics: `The patch could not be applied: ${what}` });
    }
  };
}

function fhirPathPatch(doc: Parameters, ctx: Context): (current: Resource) => Resource {
  const operations = patchOperations(doc);
  return (current) => applyFhirPathPatch(current, operations, ctx.types.defs.paths);
}

/** PATCH [type]?criteria: exactly one match is patched; none → 404, several → 412. */
async function conditionalTarget(req: FhirRequest, ctx: Context): Promise<string> {
  const query = await criteria(req, ctx, req.resourceType!, req.query);
  const { matches } = await ctx.repo.search({ ...query, count: 2 });
  if (matches.length === 0) throw notFound(`No ${req.resourceType} matches the conditional patch criteria`);
  if (matches.length > 1) throw preconditionFailed('The conditional patch criteria match more than one resource');
  return matches[0].id;
}

export const patch: Handler = async (req, ctx) => {
  authorize(req.auth, req.resourceType!, 'u', ...(req.id === undefined ? (['s'] as const) : []));
  const fhirPath = req.contentType !== 'application/json-patch+json';
  if (fhirPath && !isFhirPathPatch(req.body)) {
    throw new FhirError(['application/fhir+json', 'application/json', 'application/fhir+xml', 'application/xml', 'text/xml'].includes(req.contentType ?? '') ? 400 : 415, {
      code: 'not-supported',
      diagnostics: 'PATCH takes a JSON Patch document (Content-Type: application/json-patch+json) or a FHIRPath Patch Parameters resource (application/fhir+json or application/fhir+xml)',
    });
  }
  // a malformed document is refused before anything is read
  const apply = fhirPath ? fhirPathPatch(req.body as Parameters, ctx) : jsonPatch(patchDocument(req.body));
  const type = req.resourceType!;
  const id = req.id ?? (await conditionalTarget(req, ctx));
  const result = await ctx.repo.patch(
    type,
    id,
    (current) => {
      // a client without the migration-data scope patches what it can see; the rest is kept
      const blind = req.auth !== undefined && !req.auth.scopes.sensitive;
      const sent = blind ? apply(withoutSensitive(current)) : undefined;
      const next = sent ? keepSensitive(sent, current) : apply(current);
      if (next?.resourceType !== type || next.id !== id) {
        throw unprocessable({ code: 'invalid', diagnostics: 'A patch must not change resourceType or id' });
      }
      const { versionId: _v, lastUpdated: _l, ...meta } = next.meta ?? {};
      if (next.meta) next.meta = meta;
      if (next.meta && Object.keys(next.meta).length === 0) delete next.meta;
      // checked by the repository's write pipeline: a patched resource that breaks the basic
      // rules is 422 (the request itself was well-formed); a client without the scope is
      // checked on what it can see, so no issue tells it of a migration status it cannot
      return { resource: next, sent };
    },
    { ifMatch: ifMatch(req) },
  );
  const v = result.version;
  return writeResponse(req, 200, v, result.unchanged ? `No changes to ${type}/${id}` : `Patched ${type}/${id}`);
};
