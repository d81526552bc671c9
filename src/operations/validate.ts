// $validate: https://hl7.org/fhir/R4/resource-operation-validate.html
// Validates a resource (the body, a Parameters `resource`, or for [type]/[id]/$validate without
// one, the stored current version) against the base R4 definitions, its declared meta.profile
// and an optional `profile`. The answer is always 200 with an OperationOutcome, valid or not;
// only a request that cannot be understood is an error (400), an unknown profile is 404 and a
// profile the server holds but cannot use (its snapshot cannot be made) is 422, with the reason.
import type { Parameters, Resource } from 'fhir/r4.js';
import { badRequest, FhirError, notFound, operationOutcome, type IssueInput } from '../fhir/errors.ts';
import { defineOperation, parametersOf } from './types.ts';
import type { FhirRequest, Handler } from '../rest/types.ts';
import { authorize } from '../auth/authorize.ts';
import { seesSensitive, viewFor } from '../auth/sensitive.ts';
import { checkShape, MAX_STRING as SHAPE_MAX_STRING } from '../validation/shape.ts';
import { withXmlLocations } from '../fhir/xml/locations.ts';
import { ResourceJson } from '../fhir/body.ts';

const MODES = new Set(['create', 'update', 'delete', 'profile']);

interface Input {
  resource?: Resource;
  mode?: string;
  profile?: string;
}

function readInput(req: FhirRequest): Input {
  const body = req.body as (Resource & Partial<Parameters>) | undefined;
  const queryProfile = req.query.profile?.[0];
  const queryMode = req.query.mode?.[0];
  if (body === undefined || body === null) return { mode: queryMode, profile: queryProfile };
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('$validate takes a resource or a Parameters resource', 'structure');
  if (body.resourceType !== 'Parameters' || req.resourceType === 'Parameters') {
    return { resource: body, mode: queryMode, profile: queryProfile };
  }
  const input: Input = { mode: queryMode, profile: queryProfile };
  for (const p of body.parameter ?? []) {
    if (p.name === 'resource') input.resource = p.resource;
    else if (p.name === 'mode') input.mode = p.valueCode ?? p.valueString;
    else if (p.name === 'profile') input.profile = p.valueUri ?? p.valueCanonical ?? p.valueString;
    else throw badRequest(`Unknown $validate parameter '${String(p.name).slice(0, 64)}'`, 'not-supported');
  }
  return input;
}

function isError(issue: IssueInput): boolean {
  return issue.severity === 'error' || issue.severity === 'fatal';
}

/** Whether the body may hold a string over the shape check's 1 MB: a string takes at least as
 * many bytes of JSON or XML as it has UTF-16 units. A stored resource passed the check when written. */
function mayHoldLongString(req: FhirRequest): boolean {
  if (req.body === undefined) return false;
  const length = Number(req.headers['content-length']);
  return !(length < SHAPE_MAX_STRING);
}

/** A valid resource's answer is always the same text, serialized once; each answer gets its own
 * ResourceJson around it, so a parsed view is never shared between requests. */
const ALL_OK = JSON.stringify(operationOutcome([{ severity: 'information', code: 'informational', diagnostics: 'All OK: no issues found' }]));

export const validate: Handler = async (req, ctx) => {
  const type = req.resourceType!;
  const input = readInput(req);
  if (input.mode !== undefined && !MODES.has(input.mode)) throw badRequest(`mode must be one of create, update, delete, profile; not '${String(input.mode).slice(0, 32)}'`, 'value');
  if (input.profile !== undefined && (typeof input.profile !== 'string' || !ctx.validation.profiles.get(input.profile))) {
    const known = typeof input.profile === 'string' && ctx.validation.profiles.definition(input.profile);
    if (!known) throw notFound(`The profile '${String(input.profile).slice(0, 200)}' is not known to this server`);
    // held but unusable: say why (a base not held, a differential that breaks its base)
    throw new FhirError(422, { code: 'processing', diagnostics: `The profile '${input.profile.slice(0, 200)}' cannot be used: ${ctx.validation.profiles.problem(input.profile)}`, expression: ['profile'] });
  }
  if (input.mode === 'delete') {
    // no referential-integrity rules refuse deletes here: say whether the resource exists
    if (!req.id) throw badRequest('mode=delete needs [type]/[id]/$validate', 'required');
    authorize(req.auth, type, 'r');
    const current = await ctx.repo.store.current(type, req.id);
    const issues: IssueInput[] = current && !current.deleted
      ? [{ severity: 'information', code: 'informational', diagnostics: `${type}/${req.id} may be deleted` }]
      : [{ severity: 'warning', code: 'not-found', diagnostics: `${type}/${req.id} does not exist`, expression: [type] }];
    return { status: 200, body: operationOutcome(issues) };
  }
  let resource = input.resource;
  if (!resource && req.id) {
    authorize(req.auth, type, 'r');
    const current = await ctx.repo.store.current(type, req.id);
    if (!current || current.deleted || !current.json) throw notFound(`${type}/${req.id} is not known`);
    // diagnostics quote values: the stored resource is validated as the client may see it
    resource = viewFor(req.auth)(JSON.parse(current.json) as Resource);
  }
  if (!resource) throw badRequest('$validate needs a resource: the body, or a Parameters resource with parameter "resource"', 'required');
  if (resource.resourceType !== type) {
    throw new FhirError(400, { code: 'invalid', diagnostics: `The resource is a ${String(resource.resourceType).slice(0, 64)}, but was posted to ${type}/$validate`, expression: ['resourceType'] });
  }
  const issues: IssueInput[] = [];
  if (input.mode === 'update') {
    if (!resource.id) issues.push({ severity: 'error', code: 'required', diagnostics: 'An update needs the resource id', expression: [`${type}.id`] });
    else if (req.id && resource.id !== req.id) issues.push({ severity: 'error', code: 'invalid', diagnostics: `The resource id '${resource.id.slice(0, 64)}' does not match the URL's '${req.id}'`, expression: [`${type}.id`] });
  }
  const validated = ctx.validation.validate(resource, { profiles: input.profile ? [input.profile] : [] });
  // The structural checks every write gets are a second walk over the resource, so they run
  // only when they can find something: every structural error they report is an error for the
  // validator too (test/operations/validate-shape.test.ts), except a string over 1 MB, which
  // only a body over 1 MB can hold.
  // One fault, one issue: where the validator has an error at an element, the shape check's
  // error there is the same fault in other words ("Unknown element 'foo'" beside the reference
  // validator's "Unrecognized property 'foo'"), so only the validator's is said; the shape
  // check's stands where the validator has none (a string over 1 MB).
  if (validated.some(isError) || mayHoldLongString(req)) {
    const found = new Set(validated.filter(isError).map((i) => i.expression?.[0]));
    for (const i of checkShape(resource, ctx.types)) if (!found.has(i.expression?.[0])) issues.push({ severity: 'error', ...i });
  }
  for (const i of validated) issues.push(i);
  // said for every stored resource validated for such a client, not only those that lost something (which would tell whose)
  if (!input.resource && !seesSensitive(req.auth)) {
    issues.push({ severity: 'information', code: 'suppressed', diagnostics: 'Validated as this client may see the resource: elements withheld for lack of the migration-data scope are not part of this validation' });
  }
  const seen = new Set<string>();
  const unique = issues.filter((i) => {
    const k = `${i.severity}|${i.expression?.[0]}|${i.diagnostics}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  if (!unique.length) return { status: 200, body: new ResourceJson('OperationOutcome', ALL_OK) };
  // a resource sent as XML: each issue also says where it is in the text (line, column)
  return { status: 200, body: withXmlLocations(operationOutcome(unique), resource) };
};

export const validateOperation = defineOperation({
  code: 'validate',
  id: 'Resource-validate',
  title: 'Validate a resource',
  description: 'Validates a resource (the body, parameter resource, or the stored one at [type]/[id]) against the R4 definitions, its meta.profile and an optional profile. Always 200 with an OperationOutcome.',
  base: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  levels: ['type', 'instance'],
  resourceTypes: '*',
  get: true,
  resourceBody: true,
  // a Bundle may be validated whole: as large as the Bundle endpoint accepts
  bundleBody: true,
  parameters: [
    ...parametersOf('in', 'resource:Resource mode:code profile:uri', { resource: 'The resource to validate; at [type]/[id]/$validate without one, the stored current version', mode: 'create | update | delete | profile', profile: 'A profile known to this server' }),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'OperationOutcome' },
  ],
  handler: validate,
});
