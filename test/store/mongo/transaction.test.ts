// The engine's transaction loop (src/store/mongo/transaction.ts) against a session that fails
// the way the driver reports it.
import t from 'tap';
import type { MongoSession, TransactionOptions } from '../../../src/store/mongo/backend.ts';
import { runTransaction } from '../../../src/store/mongo/transaction.ts';
import { FhirError } from '../../../src/fhir/errors.ts';
import { unknownCommitResult, writeConflict } from '../../helpers/mongo-fake.ts';

const options: TransactionOptions = { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority', wtimeoutMS: 10 }, readPreference: 'primary', maxCommitTimeMS: 10 };

function session(commits: (() => Error | undefined)[]) {
  const log: string[] = [];
  const s: MongoSession = {
    startTransaction: () => void log.push('start'),
    commitTransaction: async () => {
      log.push('commit');
      const err = commits.shift()?.();
      if (err) throw err;
    },
    abortTransaction: async () => void log.push('abort'),
    endSession: async () => {},
  };
  return { s, log };
}

const policy = { deadlineMs: 1000, backoffMs: 1 };

t.test('a transient error in the work: aborted and run again', async (t) => {
  const { s, log } = session([]);
  let runs = 0;
  const r = await runTransaction(s, options, async () => {
    if (++runs === 1) throw writeConflict();
    return 'done';
  }, policy);
  t.equal(r, 'done');
  t.same(log, ['start', 'abort', 'start', 'commit']);
});

t.test('an unknown commit result: committed again, the work runs once', async (t) => {
  const { s, log } = session([unknownCommitResult, unknownCommitResult]);
  let runs = 0;
  await runTransaction(s, options, async () => ++runs, policy);
  t.equal(runs, 1);
  t.same(log, ['start', 'commit', 'commit', 'commit']);
});

t.test('a transient error at commit: the work runs again', async (t) => {
  const { s, log } = session([writeConflict]);
  let runs = 0;
  await runTransaction(s, options, async () => ++runs, policy);
  t.equal(runs, 2);
  t.same(log, ['start', 'commit', 'start', 'commit']);
});

t.test('any other error: aborted, not retried, passed on', async (t) => {
  const { s, log } = session([]);
  const refusal = new FhirError(412, { code: 'conflict', diagnostics: 'If-Match' });
  await t.rejects(runTransaction(s, options, async () => { throw refusal; }, policy), refusal);
  t.same(log, ['start', 'abort']);
});

t.test('past the deadline: 503, with the outcome said to be unknown when it is', async (t) => {
  let now = 0;
  const clock = () => (now += 400);
  const conflicts = session([]);
  await t.rejects(runTransaction(conflicts.s, options, async () => { throw writeConflict(); }, policy, clock), { status: 503, message: /not applied/ });
  const unknown = session(Array.from({ length: 10 }, () => unknownCommitResult));
  await t.rejects(runTransaction(unknown.s, options, async () => 1, policy, clock), { status: 503, message: /may or may not have been applied/ });
});
