// A worker thread of `migfhir validate` (validate-threads.ts): builds the validator the main
// thread has (R4, the IG, the same --ig packages), says so, then answers each batch of NDJSON
// lines with their issues, in order. Package messages are the main thread's to print.
import { parentPort, workerData } from 'node:worker_threads';
import { offlineValidator } from '../validation/offline.ts';
import { issuesOf } from './validate.ts';
import type { ValidatorSetup } from './validate-threads.ts';

const setup = workerData as ValidatorSetup;
const { validator, registry, terminology } = offlineValidator();
// the package loader (tar) only with --ig
if (setup.igs.length) {
  const { loadPackage } = await import('../validation/package-loader.ts');
  for (const ig of setup.igs) loadPackage(ig, registry, terminology);
}
parentPort!.postMessage('ready');
parentPort!.on('message', (lines: string[]) => {
  parentPort!.postMessage(lines.map((line) => issuesOf(validator, { label: '', line }, setup.profiles)));
});
