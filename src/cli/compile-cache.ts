// Node strips the TypeScript types of every module it loads, on every start: ~0.2 s of CPU for
// `migfhir validate`, and as much again in each of its worker threads. Node's compile cache keeps
// the stripped and compiled code between runs, keyed by each file's content (a changed file is
// compiled afresh). It is kept in node_modules/.cache/migfhir next to the definitions caches, a
// folder of whoever installed migfhir — not the shared temporary folder, where another local user
// could plant compiled code — or where NODE_COMPILE_CACHE says; worker threads and child
// processes find it through NODE_COMPILE_CACHE, and Node's NODE_DISABLE_COMPILE_CACHE turns it
// off. Imported first by the CLI, before any other module.
import { constants, createRequire, enableCompileCache } from 'node:module';
import { dirname, join } from 'node:path';

function installCache(): string | undefined {
  try {
    const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
    return join(examples.slice(0, examples.lastIndexOf('node_modules') + 'node_modules'.length), '.cache', 'migfhir', 'compile');
  } catch {
    return undefined;
  }
}

const dir = process.env.NODE_COMPILE_CACHE || installCache();
if (dir) {
  // a folder that cannot be written leaves the cache off (status FAILED): nothing else changes
  const { status } = enableCompileCache(dir);
  const { ENABLED, ALREADY_ENABLED } = constants.compileCacheStatus;
  if (status === ENABLED || status === ALREADY_ENABLED) process.env.NODE_COMPILE_CACHE = dir;
}
