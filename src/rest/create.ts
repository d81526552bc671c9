// create: https://hl7.org/fhir/R4/http.html#create
// The server assigns the id (a client-supplied id is ignored, as the spec says) and answers 201
// with Location pointing at the new version.
import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { notSupported } from '../fhir/errors.ts';
import { assertShape, location, resourceBody, writeResponse } from './common.ts';
import type { Handler } from './types.ts';

export const create: Handler = async (req, ctx) => {
  if (req.headers['if-none-exist']) {
    throw notSupported('Conditional create (If-None-Exist) needs search, which this server does not offer yet');
  }
  const body = resourceBody(req, ctx);
  const { id: _ignored, ...rest } = body;
  void _ignored;
  const resource = { ...rest, id: randomUUID() } as Resource;
  if (resource.meta) {
    const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta;
    resource.meta = meta;
  }
  assertShape(resource, ctx);
  const { version } = await ctx.repo.create(resource);
  return writeResponse(req, 201, version, `Created ${version.resourceType}/${version.id}`, {
    location: location(req, version),
  });
};
