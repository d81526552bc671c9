// A failure of `migfhir sync`, said in one line: what was asked of which endpoint and why it
// failed. Messages name the request's method and path, never its query (search values hold
// identifiers) and never a resource body.
export class SyncError extends Error {
  /** HTTP status from the remote, when it answered */
  readonly status?: number;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}
