// The server's Bulk Data jobs (Context.bulk): exports and imports, and their counts for /metrics.
import type { Context } from '../rest/types.ts';
import { BulkCounters } from './counters.ts';
import { ExportJobs } from './export-jobs.ts';
import { ImportJobs } from './import-jobs.ts';

export class BulkJobs {
  readonly counters = new BulkCounters();
  readonly exports: ExportJobs;
  readonly imports: ImportJobs;

  constructor(ctx: Context) {
    this.exports = new ExportJobs(ctx, this.counters);
    this.imports = new ImportJobs(ctx, this.counters);
  }

  /** continues the jobs a previous run of the server left in progress */
  async resume(): Promise<void> {
    await this.exports.resume();
    await this.imports.resumeAll();
  }

  async stop(): Promise<void> {
    await Promise.all([this.exports.stop(), this.imports.stop()]);
  }

  /** resolves when no job is running (tests, the CLI) */
  async idle(): Promise<void> {
    await Promise.all([this.exports.idle(), this.imports.idle()]);
  }
}
