// The server's Bulk Data jobs (Context.bulk): exports and imports, and their counts for /metrics.
import type { Context } from '../rest/types.ts';
import { BulkCounters } from './counters.ts';
import { ExportJobs } from './export-jobs.ts';

export class BulkJobs {
  readonly counters = new BulkCounters();
  readonly exports: ExportJobs;

  constructor(ctx: Context) {
    this.exports = new ExportJobs(ctx, this.counters);
  }

  async resume(): Promise<void> {
    await this.exports.resume();
  }

  async stop(): Promise<void> {
    await this.exports.stop();
  }

  /** resolves when no job is running (tests, the CLI) */
  async idle(): Promise<void> {
    await this.exports.idle();
  }
}
