// The inbound message log's thread (started by src/store/sqlite/message-log-thread.ts): the
// log's SQLite connection lives here, and every call the main thread makes on the log is run
// here in the order made, so a read made after an append sees it.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteMessageLog } from './message-log.ts';
import { runCall, type LogCall, type LogReply } from './message-log-thread.ts';

const { path, synchronous } = workerData as { path: string; synchronous: 'normal' | 'full' };
const log = new SqliteMessageLog(path, synchronous);

parentPort!.on('message', async (call: LogCall) => {
  if (call.op === 'close') {
    await log.close();
    parentPort!.close();
    return;
  }
  let reply: LogReply;
  try {
    reply = { n: call.n, value: await runCall(log, call) };
  } catch (err) {
    reply = { n: call.n, error: (err as Error).message.slice(0, 300) };
  }
  parentPort!.postMessage(reply);
});

