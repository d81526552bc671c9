// create: https://hl7.org/fhir/R4/http.html#create
// The server assigns the id (a client-supplied id is ignored, as the spec says) and answers 201
// with Location pointing at the new version.
import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { criteria, queryFromHeader } from './conditional.ts';
import { authorize } from '../auth/authorize.ts';
import { location, resourceBody, writeResponse } from './common.ts';
import type { Handler } from './types.ts';

export const create: Handler = async (req, ctx) => {
  authorize(req.auth, req.resourceType!, 'c', ...(req.headers['if-none-exist'] ? (['s'] as const) : []));
  const body = resourceBody(req, ctx);
  const { id: _ignored, ...rest } = body;
  void _ignored;
  const resource = { ...rest, id: req.assignedId ?? randomUUID() } as Resource;
  if (resource.meta) {
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta;
    if (Object.keys(meta).length) resource.meta = meta;
    else delete resource.meta;
  }
  const ifNoneExist = req.headers['if-none-exist'];
  if (ifNoneExist) {
    const query = await criteria(req, ctx, resource.resourceType, queryFromHeader(ifNoneExist));
    const result = await ctx.repo.createIfNoneExist(resource, query, { shapeStatus: 400 });
    const v = result.version;
    if (!result.created) {
      // the spec: "the server ignores the post and returns 200 OK"
      return writeResponse(req, 200, v, `${v.resourceType}/${v.id} matches If-None-Exist; nothing was created`, {
        location: location(req, v),
      });
    }
    return writeResponse(req, 201, v, `Created ${v.resourceType}/${v.id}`, { location: location(req, v) });
  }
  // the repository's write pipeline checks and labels it (src/store/write-pipeline.ts); the
  // spec's create answers a body that breaks the basic rules with 400
  // prepared ahead (a transaction entry: src/rest/bundle-prepared.ts): the same resource, already checked and labelled
  const { version } = req.prepared && req.prepared.id === resource.id ? await ctx.repo.createPrepared(req.prepared) : await ctx.repo.create(resource, { shapeStatus: 400 });
  return writeResponse(req, 201, version, `Created ${version.resourceType}/${version.id}`, {
    location: location(req, version),
  });
};
