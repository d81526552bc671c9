// update: https://hl7.org/fhir/R4/http.html#update
// PUT creates the resource with the client's id when it does not exist (updateCreate), answers
// 200 for an update and 201 for a create, and honours If-Match (412 on a stale version). A PUT
// that changes nothing writes no new version.
import { badRequest, notSupported } from '../fhir/errors.ts';
import { assertShape, ifMatch, location, resourceBody, writeResponse } from './common.ts';
import type { Handler } from './types.ts';

export const update: Handler = async (req, ctx) => {
  if (req.id === undefined) {
    throw notSupported('Conditional update (PUT with search parameters) needs search, which this server does not offer yet');
  }
  const resource = resourceBody(req, ctx);
  if (resource.id === undefined) {
    throw badRequest(`The body has no id; it must equal the URL's id '${req.id}'`, 'required', ['id']);
  }
  if (resource.id !== req.id) {
    throw badRequest(`The body's id '${String(resource.id).slice(0, 64)}' does not match the URL's id '${req.id}'`, 'invalid', ['id']);
  }
  if (resource.meta) {
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta;
    resource.meta = Object.keys(meta).length ? meta : undefined;
    if (!resource.meta) delete resource.meta;
  }
  assertShape(resource, ctx);
  const result = await ctx.repo.update(resource, ifMatch(req));
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
};
