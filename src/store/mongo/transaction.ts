// Runs a unit of work in a MongoDB transaction, retrying the way MongoDB asks (Drivers
// "Convenient API for Transactions"): an attempt that fails with TransientTransactionError
// (a write conflict, a primary step-down) is aborted and run again from the start, with a fresh
// state built by `work`; a commit that answers UnknownTransactionCommitResult is committed
// again (commit is idempotent), never re-run. Unlike the driver's withTransaction, the loop is
// bounded well inside MongoDB's 60 s transaction lifetime and backs off with jitter, and when it
// gives up the client gets a 503 with Retry-After, not a 500.
import { FhirError } from '../../fhir/errors.ts';
import { hasErrorLabel, TRANSIENT, UNKNOWN_COMMIT } from '../retryable.ts';
import type { MongoSession, TransactionOptions } from './backend.ts';

export interface RetryPolicy {
  /** no new attempt starts after this long since the first */
  deadlineMs: number;
  /** the first backoff; doubled per attempt, with jitter, capped at 250 ms */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { deadlineMs: 20_000, backoffMs: 5 };

/** MaxTimeMSExpired on commit: the commit's outcome is unknown but retrying would wait again. */
const MAX_TIME_EXPIRED = 50;

function busy(): FhirError {
  return new FhirError(503, { code: 'transient', diagnostics: 'The database kept reporting conflicting writes; the request was not applied. Retry it.' }, { 'retry-after': '1' });
}

/** The commit's outcome stayed unknown: the client must read before it retries a create. */
function unknownOutcome(): FhirError {
  return new FhirError(503, { code: 'transient', diagnostics: 'The database did not confirm the commit in time; the request may or may not have been applied. Read the resources before retrying.' }, { 'retry-after': '1' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runTransaction<T>(
  session: MongoSession,
  options: TransactionOptions,
  work: (attempt: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  clock: () => number = Date.now,
): Promise<T> {
  const started = clock();
  const timeLeft = () => clock() - started < policy.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) await sleep(Math.min(250, policy.backoffMs * 2 ** (attempt - 2)) * (0.5 + Math.random()));
    session.startTransaction(options);
    let result: T;
    try {
      result = await work(attempt);
    } catch (err) {
      await session.abortTransaction().catch(() => {});
      if (hasErrorLabel(err, TRANSIENT)) {
        if (timeLeft()) continue;
        throw busy();
      }
      throw err;
    }
    for (;;) {
      try {
        await session.commitTransaction();
        return result;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (hasErrorLabel(err, UNKNOWN_COMMIT) && code !== MAX_TIME_EXPIRED && timeLeft()) continue;
        if (hasErrorLabel(err, TRANSIENT)) break;
        throw hasErrorLabel(err, UNKNOWN_COMMIT) ? unknownOutcome() : err;
      }
    }
    if (!timeLeft()) throw busy();
  }
}
