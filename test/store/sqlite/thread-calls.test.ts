// Calls to a thread that answers in order (src/store/sqlite/thread-calls.ts): values come back,
// an error answer rejects (or settles to what `failed` makes of it), and calls the thread never
// answered — and every later one — run here once it is gone; close waits for the thread.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { ThreadCalls } from '../../../src/store/sqlite/thread-calls.ts';

/** A thread that doubles `x`, answers `fail` with an error, and stops answering at `hang`. */
function thread(): Worker {
  return new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => {
       if (m.close) return parentPort.close();
       if (m.hang) return;
       parentPort.postMessage(m.fail ? { n: m.n, error: 'refused ' + m.x } : { n: m.n, value: m.x * 2 });
     });`,
    { eval: true },
  );
}

t.test('answers, errors and close', async (t) => {
  const ran: number[] = [];
  const calls = new ThreadCalls<{ x: number; fail?: boolean }>(thread(), { here: async (c) => (ran.push(c.x), -c.x) });
  t.equal(await calls.call<number>({ x: 2 }, (n) => ({ n, x: 2 })), 4, 'the thread answers');
  await t.rejects(calls.call({ x: 3, fail: true }, (n) => ({ n, x: 3, fail: true })), /refused 3/, 'an error answer rejects');
  await calls.close({ close: true });
  t.same(ran, [], 'nothing ran here');
  t.equal(await calls.call<number>({ x: 5 }, (n) => ({ n, x: 5 })), -5, 'after the thread exited, calls run here');
});

t.test('an error answer settles to what `failed` makes of it', async (t) => {
  const calls = new ThreadCalls<{ x: number }>(thread(), { here: async (c) => -c.x, failed: async (c, error) => `${error}, then ${c.x} here` });
  t.equal(await calls.call<string>({ x: 7 }, (n) => ({ n, x: 7, fail: true })), 'refused 7, then 7 here');
  await calls.close({ close: true });
});

t.test('calls a thread never answered run here once it is gone, in order; and every later one', async (t) => {
  const worker = thread();
  const ran: number[] = [];
  const calls = new ThreadCalls<{ x: number }>(worker, { here: async (c) => (ran.push(c.x), -c.x) });
  const a = calls.call<number>({ x: 1 }, (n) => ({ n, x: 1, hang: true }));
  const b = calls.call<number>({ x: 2 }, (n) => ({ n, x: 2, hang: true }));
  worker.postMessage({ n: 0, x: 0 }); // answered with n 0: no call of that number, ignored
  await worker.terminate();
  t.same([await a, await b], [-1, -2], 'both ran here');
  t.same(ran, [1, 2], 'in the order made');
  t.equal(await calls.call<number>({ x: 3 }, (n) => ({ n, x: 3 })), -3);
});
