// Where in the XML sent an OperationOutcome issue points: its FHIRPath expression looked up in
// the positions recorded while the resource was read (parse.ts xmlPositions), given as the
// issue-line and issue-col extensions the HL7 validator and HAPI use. An expression deeper than
// any element read (a missing child) points at its nearest recorded ancestor.
import type { OperationOutcome } from 'fhir/r4.js';
import { xmlPositions, type Position } from './parse.ts';

const LINE = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line';
const COL = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col';

function nearest(positions: Map<string, Position>, expression: string): Position | undefined {
  let path = expression;
  for (;;) {
    const found = positions.get(path);
    if (found) return found;
    // drop the last step: `.name` or `[2]`
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    if (cut <= 0) return undefined;
    path = path.slice(0, cut);
  }
}

/** Where the element an expression names was in the XML a resource was read from (with positions). */
export function xmlLocation(resource: object, expression: string | undefined): Position | undefined {
  const positions = xmlPositions.get(resource);
  return positions && expression ? nearest(positions, expression) : undefined;
}

/** The outcome with line and column on each issue about a resource that was read from XML. */
export function withXmlLocations(outcome: OperationOutcome, resource: object): OperationOutcome {
  if (!xmlPositions.has(resource)) return outcome;
  return {
    ...outcome,
    issue: outcome.issue.map((issue) => {
      const at = xmlLocation(resource, issue.expression?.[0]);
      if (!at) return issue;
      return { ...issue, extension: [...(issue.extension ?? []), { url: LINE, valueInteger: at.line }, { url: COL, valueInteger: at.col }] };
    }),
  };
}
