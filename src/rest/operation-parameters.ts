// An operation takes the parameters its declaration lists (src/operations/types.ts), so its
// served OperationDefinition and what its handler accepts cannot disagree. A parameter it does
// not declare — in the query or in a Parameters body — is a 400, or is left out under
// `Prefer: handling=lenient` (the handling rule of https://hl7.org/fhir/R4/search.html#errors).
import type { Parameters } from 'fhir/r4.js';
import { badRequest } from '../fhir/errors.ts';
import { GENERAL_PARAMETERS, type OperationSpec } from '../operations/types.ts';
import type { FhirRequest } from './types.ts';

function lenient(req: FhirRequest): boolean {
  return /handling\s*=\s*lenient/i.test(req.headers.prefer ?? '');
}

/** The body's Parameters, when the body is the operation's parameters (not its one resource:
 * POST Parameters/$validate validates the Parameters it is sent). */
function bodyParameters(op: OperationSpec, req: FhirRequest): Parameters | undefined {
  const body = req.body as Parameters | undefined;
  if (op.rawBody || !body || typeof body !== 'object' || body.resourceType !== 'Parameters') return undefined;
  if (op.resourceBody && req.resourceType === 'Parameters') return undefined;
  return body;
}

export function checkParameters(op: OperationSpec, req: FhirRequest): FhirRequest {
  const accepted = new Set(op.parameters.filter((p) => p.use === 'in').map((p) => p.name));
  const body = bodyParameters(op, req);
  const unknownQuery = Object.keys(req.query).filter((n) => !accepted.has(n) && !GENERAL_PARAMETERS.has(n));
  const unknownBody = (Array.isArray(body?.parameter) ? body.parameter : []).filter((p) => !accepted.has(p?.name)).map((p) => String(p?.name));
  if (!unknownQuery.length && !unknownBody.length) return req;
  if (!lenient(req)) {
    const names = [...new Set([...unknownQuery, ...unknownBody])].map((n) => `'${n.slice(0, 64)}'`).join(', ');
    const takes = [...accepted].join(', ') || 'no parameters';
    throw badRequest(`$${op.code} does not take the parameter ${names} (it takes ${takes}); send Prefer: handling=lenient to have unknown parameters ignored`, 'not-supported');
  }
  const query = Object.create(null) as Record<string, string[]>;
  for (const [n, v] of Object.entries(req.query)) if (!unknownQuery.includes(n)) query[n] = v;
  return {
    ...req,
    query,
    ...(body && unknownBody.length ? { body: { ...body, parameter: body.parameter!.filter((p) => accepted.has(p?.name)) } } : {}),
  };
}
