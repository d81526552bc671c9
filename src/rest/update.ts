// update: https://hl7.org/fhir/R4/http.html#update
// PUT creates the resource with the client's id when it does not exist (updateCreate), answers
// 200 for an update and 201 for a create, and honours If-Match (412 on a stale version). A PUT
// that changes nothing writes no new version.
import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { badRequest } from '../fhir/errors.ts';
import type { Merge, WriteResult } from '../store/repository.ts';
import { keepSensitive } from '../auth/sensitive.ts';
import { ifMatch, location, resourceBody, writeResponse } from './common.ts';
import { criteria } from './conditional.ts';
import { allows, authorize } from '../auth/authorize.ts';
import type { Context, FhirRequest, FhirResponse, Handler } from './types.ts';

export const update: Handler = async (req, ctx) => {
  const resource = resourceBody(req, ctx);
  if (req.id === undefined) {
    authorize(req.auth, req.resourceType!, 's', 'u', 'c');
    return conditionalUpdate(req, ctx, resource);
  }
  authorize(req.auth, req.resourceType!, 'u');
  if (!allows(req.auth, req.resourceType!, 'c')) {
    // update-as-create needs the create permission too
    const current = await ctx.repo.store.current(req.resourceType!, req.id);
    if (!current || current.deleted) authorize(req.auth, req.resourceType!, 'c');
  }
  if (resource.id === undefined) {
    throw badRequest(`The body has no id; it must equal the URL's id '${req.id}'`, 'required', ['id']);
  }
  if (resource.id !== req.id) {
    throw badRequest(`The body's id '${String(resource.id).slice(0, 64)}' does not match the URL's id '${req.id}'`, 'invalid', ['id']);
  }
  stripServerMeta(resource);
  // the repository's write pipeline checks and labels it (src/store/write-pipeline.ts); the
  // spec's update answers a body that breaks the basic rules with 400
  const match = ifMatch(req);
  // prepared ahead (a transaction entry: src/rest/bundle-prepared.ts): the same resource, already checked and labelled
  if (req.prepared && req.prepared.id === resource.id && match === undefined) return answer(req, await ctx.repo.updatePrepared(req.prepared, () => resource, { merge: blindMerge(req) }));
  return answer(req, await ctx.repo.update(resource, { ifMatch: match, merge: blindMerge(req), shapeStatus: 400 }));
};

/** A client without the migration-data scope keeps the stored sensitive elements it cannot see. */
function blindMerge(req: FhirRequest): Merge | undefined {
  return req.auth && !req.auth.scopes.sensitive ? keepSensitive : undefined;
}

function stripServerMeta(resource: Resource): void {
  if (resource.meta) {
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta;
    if (Object.keys(meta).length) resource.meta = meta;
    else delete resource.meta;
  }
}

/** PUT [type]?criteria: https://hl7.org/fhir/R4/http.html#cond-update */
async function conditionalUpdate(req: FhirRequest, ctx: Context, resource: Resource): Promise<FhirResponse> {
  const query = await criteria(req, ctx, resource.resourceType, req.query);
  stripServerMeta(resource);
  return answer(req, await ctx.repo.conditionalUpdate(resource, query, randomUUID(), { ifMatch: ifMatch(req), merge: blindMerge(req), shapeStatus: 400 }));
}

function answer(req: FhirRequest, result: WriteResult): FhirResponse {
  const v = result.version;
  if (result.created) {
    return writeResponse(req, 201, v, `Created ${v.resourceType}/${v.id}`, { location: location(req, v) });
  }
  return writeResponse(
    req,
    200,
    v,
    result.unchanged ? `No changes: ${v.resourceType}/${v.id} stays at version ${v.versionId}` : `Updated ${v.resourceType}/${v.id}`,
    { 'content-location': location(req, v) },
  );
}
