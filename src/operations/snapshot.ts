// StructureDefinition/$snapshot: https://hl7.org/fhir/R4/structuredefinition-operation-snapshot.html
// Generates the snapshot of a StructureDefinition from its differential and the definitions it
// builds on (the R4 definitions, the IG's, those stored here): the definition given in the
// request (`definition`, in a Parameters body or as the body itself), one the server holds by
// canonical `url`, or the stored StructureDefinition/[id]. Answers the StructureDefinition with
// its generated snapshot; a differential the server cannot apply is 422 with the reason (the
// base it cannot resolve, the element id that breaks the base).
import type { Parameters, StructureDefinition } from 'fhir/r4.js';
import { authorize } from '../auth/authorize.ts';
import { badRequest, FhirError, notFound, type IssueInput } from '../fhir/errors.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';
import { SnapshotError } from '../validation/snapshot.ts';
import { defineOperation, parametersOf } from './types.ts';

interface Input {
  definition?: StructureDefinition;
  url?: string;
}

function readInput(req: FhirRequest): Input {
  const input: Input = {};
  const url = req.query.url?.[0];
  if (url !== undefined) input.url = url;
  const body = req.body as { resourceType?: unknown } | undefined | null;
  if (body === undefined || body === null) return input;
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('$snapshot takes a Parameters resource or a StructureDefinition', 'structure');
  if (body.resourceType === 'StructureDefinition') return { ...input, definition: body as StructureDefinition };
  if (body.resourceType !== 'Parameters') throw badRequest(`$snapshot takes a Parameters resource or a StructureDefinition, not ${String(body.resourceType).slice(0, 64)}`, 'structure');
  for (const p of (body as Parameters).parameter ?? []) {
    if (p.name === 'definition') {
      if (p.resource?.resourceType !== 'StructureDefinition') throw badRequest('The parameter "definition" must hold a StructureDefinition', 'invalid');
      input.definition = p.resource as StructureDefinition;
    } else if (p.name === 'url') input.url = p.valueUri ?? p.valueCanonical ?? p.valueUrl ?? p.valueString;
    else throw badRequest(`Unknown $snapshot parameter '${String(p.name).slice(0, 64)}'`, 'not-supported');
  }
  return input;
}

async function definitionOf(req: FhirRequest, ctx: Context): Promise<StructureDefinition> {
  if (req.id) {
    const current = await ctx.repo.store.current('StructureDefinition', req.id);
    if (!current || current.deleted || !current.json) throw notFound(`StructureDefinition/${req.id} is not known`);
    return JSON.parse(current.json) as StructureDefinition;
  }
  const input = readInput(req);
  if (input.definition && input.url !== undefined) throw badRequest('$snapshot takes "definition" or "url", not both', 'invalid');
  if (input.definition) return input.definition;
  if (typeof input.url !== 'string' || !input.url) throw badRequest('$snapshot needs a StructureDefinition: the parameter "definition", or "url" of one this server holds', 'required');
  const sd = ctx.validation.profiles.definition(input.url);
  if (!sd) throw notFound(`The StructureDefinition '${input.url.slice(0, 200)}' is not known to this server`);
  return sd;
}

async function snapshot(req: FhirRequest, ctx: Context): Promise<FhirResponse> {
  authorize(req.auth, 'StructureDefinition', 'r');
  const sd = await definitionOf(req, ctx);
  if (!sd.differential?.element?.length) {
    if (sd.snapshot?.element?.length && !sd.baseDefinition) return { status: 200, body: sd };
    throw new FhirError(422, { code: 'required', diagnostics: `${String(sd.url ?? 'The StructureDefinition').slice(0, 200)} has no differential to generate a snapshot from`, expression: ['StructureDefinition.differential'] });
  }
  if (!sd.baseDefinition) throw new FhirError(422, { code: 'required', diagnostics: `${String(sd.url ?? 'The StructureDefinition').slice(0, 200)} has no baseDefinition`, expression: ['StructureDefinition.baseDefinition'] });
  try {
    const { sd: out, warnings } = ctx.validation.profiles.generate(sd);
    // what the snapshot was made without (type profiles not held here) goes in a header, as the
    // body is the StructureDefinition itself
    const headers: Record<string, string> = warnings.length ? { warning: warnings.map((w) => `199 migfhir "${w.replace(/["\\\r\n]/g, ' ').slice(0, 300)}"`).join(', ') } : {};
    return { status: 200, body: out, headers };
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    const issue: IssueInput = { code: 'processing', diagnostics: err.message };
    throw new FhirError(422, issue);
  }
}

export const snapshotOperation = defineOperation({
  code: 'snapshot',
  id: 'StructureDefinition-snapshot',
  title: 'Generate Snapshot',
  description: 'The StructureDefinition (given as definition, held here by url, or stored at [id]) with its snapshot generated from its differential and the definitions it builds on.',
  base: 'http://hl7.org/fhir/OperationDefinition/StructureDefinition-snapshot',
  levels: ['type', 'instance'],
  resourceTypes: ['StructureDefinition'],
  get: true,
  access: ['r'],
  resourceBody: true,
  parameters: [
    ...parametersOf('in', 'definition:StructureDefinition url:string', { definition: 'The StructureDefinition (the body may also be the StructureDefinition itself)', url: 'The canonical url of a StructureDefinition this server holds' }),
    ...parametersOf('out', 'return:StructureDefinition!'),
  ],
  handler: snapshot,
});
