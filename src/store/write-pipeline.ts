// The write pipeline: the checks and labels every stored version passes, whichever door it came
// through — REST and Bundle interactions, operations ($merge, $score's persist), the adapters and
// imports (HL7 v2, national profiles, IPS, CSV, migfhir sync: all applied as transaction
// Bundles), the IG's installation and the server's own Tasks. The repository runs it once per
// write, inside the write's transaction, on the content about to be stored (after If-Match and
// after merging with the stored version), so no door can skip a step and none runs twice.
// Order: the JSON shape, the configured validation (base rules, declared and mandatory
// profiles), the SearchParameter cost check, then the labels — sensitive QuestionnaireResponse
// answers first, since the resource's labels follow from the element-level marks.
import type { Resource, SearchParameter } from 'fhir/r4.js';
import { FhirError, unprocessable } from '../fhir/errors.ts';
import type { ResourceTypes } from '../fhir/definitions.ts';
import { labelSensitive } from '../auth/sensitive.ts';
import { costlyExpression } from '../search/custom.ts';
import { checkShape } from '../validation/shape.ts';
import type { ValidationService } from '../validation/service.ts';
import type { StoreTransaction } from './types.ts';

/** What a step knows of the write besides the resource. */
export interface WriteInfo {
  /** The status of a resource that breaks the basic JSON rules: 400 when the resource is the
   * request's body (the spec's create and update), 422 when the server made it from something
   * else (a patch, an operation, an adapter's mapping). */
  shapeStatus: 400 | 422;
  /** 'package': a conformance resource of the server's own IG package (src/ig/install.ts),
   * written at start-up. It passes every step but the configured validation: the package is
   * built and checked with the server (test/ig), and a validator that disagreed with one of
   * its StructureDefinitions must not keep the server from starting. */
  origin?: 'package';
}

/** One step: throws a FhirError to refuse the write, or labels the resource in place. */
export type WriteHook = (resource: Resource, tx: StoreTransaction, info: WriteInfo) => Promise<void> | void;

/** The steps, in order: checks that refuse a write, then labels of what is stored. Apart, because
 * an update merged with stored elements the client cannot see is checked on what the client
 * sent and labelled as stored (src/store/repository.ts, update). */
export interface WritePipeline {
  checks: WriteHook[];
  labels: WriteHook[];
}

/** Basic FHIR rules (known elements, JSON types, cardinality). */
export function shapeHook(types: ResourceTypes): WriteHook {
  return (resource, _tx, info) => {
    const issues = checkShape(resource, types);
    if (issues.length) throw new FhirError(info.shapeStatus, issues);
  };
}

/** The configured validation: 422 with every issue (src/validation/service.ts). */
export function validationHook(validation: ValidationService): WriteHook {
  return (resource, _tx, info) => {
    if (info.origin !== 'package') validation.assertWritable(resource);
  };
}

/** A SearchParameter whose expression would be indexed at an unbounded cost is refused (422). */
export const affordableHook: WriteHook = (resource) => {
  if (resource.resourceType !== 'SearchParameter') return;
  const why = costlyExpression(resource as SearchParameter);
  if (why) throw unprocessable({ code: 'too-costly', diagnostics: `This server does not index this SearchParameter: ${why}`, expression: ['SearchParameter.expression'] });
};

/** The resource's sensitivity labels from its content (src/auth/sensitive.ts). */
export const labelHook: WriteHook = (resource) => {
  labelSensitive(resource);
};

export interface PipelineParts {
  types: ResourceTypes;
  validation: ValidationService;
  /** marks content whose sensitivity the resource alone does not show (QuestionnaireResponse
   * answers to questions the questionnaire marks sensitive), inside the write's transaction */
  marker?: WriteHook;
}

/** The checks that need no store (all of them): what the prepare pool runs ahead of the writer,
 * off its thread (src/store/prepare), and the writer runs itself otherwise. */
export function storeFreeChecks(parts: Pick<PipelineParts, 'types' | 'validation'>): WriteHook[] {
  return [shapeHook(parts.types), validationHook(parts.validation), affordableHook];
}

/** The server's pipeline. */
export function writePipeline(parts: PipelineParts): WritePipeline {
  return {
    checks: storeFreeChecks(parts),
    labels: [...(parts.marker ? [parts.marker] : []), labelHook],
  };
}
