// The inbound message log on its own thread (src/store/sqlite/message-log-thread.ts): calls run
// in the order made (a read made right after an append, not awaited, sees it); contents come
// back as Buffers; a thread that fails hands its calls, and every later one, to the main thread
// on the same file; after close nothing more is written.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ThreadedMessageLog } from '../../../src/store/sqlite/message-log-thread.ts';
import { SqliteMessageLog } from '../../../src/store/sqlite/message-log.ts';
import type { InboundMessage } from '../../../src/store/message-log.ts';

function entry(n: number): InboundMessage {
  return {
    id: `id-${n}`, received: `2026-12-07T10:00:0${n}.000Z`, door: 'mllp', kind: 'hl7v2', controlId: `C${n}`, event: 'ADT^A04', ack: 'AA',
    issues: [], written: [`Patient/p${n}`], size: 3, contentKept: true, content: Buffer.from(`m${n}\r`),
  };
}

function folder(t: { teardown: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-log-thread-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('calls run in the order made; contents come back as Buffers', async (t) => {
  const path = join(folder(t), 'inbound-messages.sqlite');
  const log = new ThreadedMessageLog(path);
  void log.append([entry(1), entry(2)]);
  const listed = log.list({ count: 10 });
  const read = log.read('id-2');
  t.same((await listed).map((s) => s.id), ['id-2', 'id-1'], 'the list made after the append holds its entries, newest first');
  const m = await read;
  t.ok(Buffer.isBuffer(m?.content), 'a Buffer');
  t.equal(m?.content?.toString(), 'm2\r');
  t.equal(await log.prune('2026-12-07T10:00:02.000Z', 100), 1, 'pruned on the thread');
  await log.close();
  await t.rejects(log.append([entry(3)]), /closed/, 'nothing is written after close');
  t.equal(await log.prune('2030-01-01', 0), 0, 'a prune after close prunes nothing');
  const direct = new SqliteMessageLog(path);
  t.same((await direct.list({ count: 10 })).map((s) => s.id), ['id-2'], 'what the thread wrote is in the file');
  await direct.close();
});

t.test('a failed thread hands its calls to the main thread, on the same file', async (t) => {
  const path = join(folder(t), 'inbound-messages.sqlite');
  const log = new ThreadedMessageLog(path);
  await log.append([entry(1)]);
  const thread = (log as unknown as { thread: { worker?: Worker } }).thread;
  const worker = thread.worker!;
  const appended = log.append([entry(1), entry(2)]); // entry 1 again: skipped by its id
  await worker.terminate();
  await appended;
  t.equal(thread.worker, undefined, 'the thread is gone');
  await log.append([entry(3)]);
  t.same((await log.list({ count: 10 })).map((s) => s.id), ['id-3', 'id-2', 'id-1'], 'every entry once, in order');
  t.equal((await log.read('id-3'))?.content?.toString(), 'm3\r');
  // entry 2's content was moved to the thread, which may have died before storing it
  t.equal((await log.read('id-2'))?.content?.toString(), 'm2\r', 'a content sent to the failed thread is stored whole');
  await log.close();
});

t.test('close runs the calls made before it, answered or not', async (t) => {
  const path = join(folder(t), 'inbound-messages.sqlite');
  const log = new ThreadedMessageLog(path);
  const appended = log.append([entry(1)]);
  const pruned = log.prune('2020-01-01T00:00:00.000Z', 100);
  await log.close();
  await appended;
  t.equal(await pruned, 0);
  const direct = new SqliteMessageLog(path);
  t.same((await direct.list({ count: 10 })).map((s) => s.id), ['id-1'], 'the append made before close is stored');
  await direct.close();
});
