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
export const conflict = (diagnostics: string) => new FhirError(409, { code: 'conflict', diagnostics });
export const preconditionFailed = (diagnostics: string) =>
  new FhirError(412, { code: 'conflict', diagnostics });
export const notSupported = (diagnostics: string, status = 501) =>
  new FhirError(status, { code: 'not-supported', diagnostics });
export const unprocessable = (issues: IssueInput | IssueInput[]) => new FhirError(422, issues);

/** The spec's ids: 1–64 characters from [A-Za-z0-9\-\.]. */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export function assertValidId(id: string, what = 'id'): void {
  if (!ID_PATTERN.test(id)) {
    // The offending value is the caller's own input; echo it only truncated.
    throw badRequest(`Invalid ${what} '${id.slice(0, 64)}': ids are 1-64 characters of A-Z a-z 0-9 - .`, 'value');
  }
}
