// Counts of the Bulk Data jobs this process ran, for /metrics (src/http/metrics.ts): jobs by
// operation and state reached, files and resources written (export) or imported. Counts only:
// never ids, types asked for or anything a client chose.
export type BulkOperation = 'export' | 'import';
export type BulkState = 'started' | 'completed' | 'failed' | 'cancelled' | 'expired';

export class BulkCounters {
  /** `${operation} ${state}` → jobs */
  readonly states = new Map<string, number>();
  readonly files: Record<BulkOperation, number> = { export: 0, import: 0 };
  readonly resources: Record<BulkOperation, number> = { export: 0, import: 0 };

  reached(op: BulkOperation, state: BulkState): void {
    const key = `${op} ${state}`;
    this.states.set(key, (this.states.get(key) ?? 0) + 1);
  }

  wrote(op: BulkOperation, files: number, resources: number): void {
    this.files[op] += files;
    this.resources[op] += resources;
  }
}
