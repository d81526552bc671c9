// read and vread: https://hl7.org/fhir/R4/http.html#read, #vread
// Answers straight from the stored JSON text unless _summary/_elements ask for a subset, and
// honours If-None-Match and If-Modified-Since with 304.
import type { Resource } from 'fhir/r4.js';
import { ResourceJson } from '../fhir/body.ts';
import { badRequest } from '../fhir/errors.ts';
import { authorize } from '../auth/authorize.ts';
import type { StoredVersion } from '../store/types.ts';
import { etagHeaders, parseVersionTag, versionNumber } from './common.ts';
import { applySubsetting, subsettingOf } from './subsetting.ts';
import { patientsOfVersion } from '../audit/patients.ts';
import type { Context, FhirRequest, FhirResponse, Handler } from './types.ts';

function notModified(req: FhirRequest, v: StoredVersion): boolean {
  const inm = req.headers['if-none-match'];
  if (inm) {
    if (inm.trim() === '*') return true;
    return inm.split(',').some((tag) => {
      try {
        return parseVersionTag(tag, 'If-None-Match') === v.versionId;
      } catch {
        return false;
      }
    });
  }
  const ims = req.headers['if-modified-since'];
  if (ims) {
    const since = Date.parse(ims);
    // RFC 9110 §13.1.3: a recipient MUST ignore If-Modified-Since with an invalid date
    if (Number.isNaN(since)) return false;
    // HTTP dates have whole seconds
    return Math.floor(Date.parse(v.lastUpdated) / 1000) * 1000 <= since;
  }
  return false;
}

export function versionResponse(req: FhirRequest, ctx: Context, v: StoredVersion): FhirResponse {
  const headers = etagHeaders(v);
  if (notModified(req, v)) return { status: 304, headers };
  const subset = subsettingOf(req);
  if (subset?.summary === 'count') throw badRequest('_summary=count applies to searches, not to reads', 'invalid');
  const body = subset ? (applySubsetting(JSON.parse(v.json!), subset, ctx.types) as Resource) : new ResourceJson(v.resourceType, v.json!);
  // the patients the version names, whether the answer shows all of it or a subset: for a whole
  // resource the same as scanning the answer, once per version instead of once per read
  if (req.trail) req.trail.patients = patientsOfVersion(v);
  return { status: 200, headers, body };
}

export const read: Handler = async (req, ctx) => {
  authorize(req.auth, req.resourceType!, 'r');
  const v = await ctx.repo.read(req.resourceType!, req.id!);
  return versionResponse(req, ctx, v);
};

export const vread: Handler = async (req, ctx) => {
  authorize(req.auth, req.resourceType!, 'r');
  const v = await ctx.repo.vread(req.resourceType!, req.id!, versionNumber(req.versionId!));
  return versionResponse(req, ctx, v);
};
