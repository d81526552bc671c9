// The OperationDefinition of each declared operation (src/operations/types.ts), generated from
// the same declaration its routes and its parameter check come from. The canonical URL is this
// server's; a standard operation's definition names the HL7 one as `base` and lists only the
// parameters this server's handler takes.
//
// They are installed into the store at start-up with the IG's conformance resources (app.ts,
// src/ig/install.ts: idempotent, a deleted one stays deleted) rather than served virtually, so
// that read, search (`OperationDefinition?url=`), `_include` and history work on them as on
// every other conformance resource, through the same authorization and audit.
import type { OperationDefinition, OperationDefinitionParameter } from 'fhir/r4.js';
import type { OperationParameter, OperationSpec } from './types.ts';

export const OPERATION_CANONICAL = 'https://migfhir.org/fhir/OperationDefinition';
const VERSION = '0.1.0';

export function definitionUrl(op: OperationSpec): string {
  return `${OPERATION_CANONICAL}/${op.id}`;
}

/** OperationDefinition.parameter in its element order (name, use, min, max, documentation, type, part). */
function parameter({ name, use, min, max, documentation, type, part }: OperationParameter): OperationDefinitionParameter {
  const out: OperationDefinitionParameter = { name, use, min, max };
  if (documentation) out.documentation = documentation;
  if (type) out.type = type as OperationDefinitionParameter['type'];
  if (part) out.part = part.map(parameter);
  return out;
}

export function operationDefinition(op: OperationSpec): OperationDefinition {
  return {
    resourceType: 'OperationDefinition',
    id: op.id,
    url: definitionUrl(op),
    version: VERSION,
    name: op.id.replace(/(^|[^A-Za-z0-9])([a-z])/g, (_m, _s, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, ''),
    title: op.title,
    status: 'active',
    kind: 'operation',
    publisher: 'migfhir',
    description: op.description,
    affectsState: op.affectsState,
    code: op.code,
    ...(op.base ? { base: op.base } : {}),
    ...(op.resourceTypes === '*' || op.resourceTypes.length ? { resource: (op.resourceTypes === '*' ? ['Resource'] : [...op.resourceTypes]) as OperationDefinition['resource'] } : {}),
    system: op.levels.includes('system'),
    type: op.levels.includes('type'),
    instance: op.levels.includes('instance'),
    parameter: op.parameters.map(parameter),
  };
}
