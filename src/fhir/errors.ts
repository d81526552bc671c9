// One error vocabulary for the whole server: anything that goes wrong is a FhirError carrying an
// OperationOutcome and an HTTP status; src/http maps it to the response in one place.
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

export interface IssueInput {
  severity?: IssueSeverity;
  code: IssueCode;
  diagnostics: string;
  expression?: string[];
}

export function operationOutcome(issues: IssueInput[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity ?? 'error',
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.expression ? { expression: i.expression } : {}),
    })),
  };
}

export class FhirError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  readonly headers: Record<string, string>;

  constructor(status: number, issues: IssueInput | IssueInput[], headers: Record<string, string> = {}) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map((i) => i.diagnostics).join('; '));
    this.name = 'FhirError';
    this.status = status;
    this.outcome = operationOutcome(list);
    this.headers = headers;
  }
}

export const badRequest = (diagnostics: string, code: IssueCode = 'invalid', expression?: string[]) =>
  new FhirError(400, { code, diagnostics, expression });
export const notFound = (diagnostics: string) => new FhirError(404, { code: 'not-found', diagnostics });
export const gone = (diagnostics: string, headers: Record<string, string> = {}) =>
  new FhirError(410, { code: 'deleted', diagnostics }, headers);
/** 410 for a read of a deleted resource or of a deletion version. It carries the deletion so that
 * the HTTP answer can give its ETag and Last-Modified (src/rest/common.ts etagHeaders): the store
 * that throws it knows nothing of HTTP headers. */
export class DeletedError extends FhirError {
  readonly deletion: { versionId: number; lastUpdated: string };
  constructor(diagnostics: string, deletion: { versionId: number; lastUpdated: string }) {
    super(410, { code: 'deleted', diagnostics });
    this.deletion = deletion;
  }
}
export const conflict = (diagnostics: string) => new FhirError(409, { code: 'conflict', diagnostics });
export const preconditionFailed = (diagnostics: string) =>
  new FhirError(412, { code: 'conflict', diagnostics });
export const notSupported = (diagnostics: string, status = 501) =>
  new FhirError(status, { code: 'not-supported', diagnostics });
export const unprocessable = (issues: IssueInput | IssueInput[]) => new FhirError(422, issues);

// Ids are defined with references (reference.ts); re-exported for src/http/routes.ts and
// src/rest/dispatch.ts, which the route table rewrites.
export { ID_PATTERN, assertValidId } from './reference.ts';
