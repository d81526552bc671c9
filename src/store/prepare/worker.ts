// A prepare thread (pool.ts): prepares the resources of one task at a time (preparer.ts) and
// answers with the prepared lines. Its definitions are rebuilt when a task's conformance stamp
// differs from the one it was built at: the task then carries the stored conformance resources.
import { parentPort, workerData } from 'node:worker_threads';
import type { LineRules } from '../../bulk/ndjson-line.ts';
import { Preparer, type Conformance, type PrepareSettings } from './preparer.ts';

export interface PrepareTask {
  /** the conformance resources' stamp the lines must be prepared at */
  stamp: number;
  /** the stored conformance resources, when the thread was built at another stamp */
  conformance?: Conformance[];
  texts: string[];
  rules: LineRules;
}

const settings = (workerData as { settings: PrepareSettings }).settings;
let built: { stamp: number; preparer: Preparer } | undefined;

parentPort!.on('message', async (task: PrepareTask) => {
  if (!built || built.stamp !== task.stamp) {
    // the pool sends the resources whenever the stamp moved since this thread's last task
    built = { stamp: task.stamp, preparer: Preparer.build(settings, task.conformance ?? []) };
  }
  const lines = [];
  for (const text of task.texts) lines.push(await built.preparer.prepare(text, task.rules));
  parentPort!.postMessage(lines);
});
