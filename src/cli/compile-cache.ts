// Node strips the TypeScript types of every module it loads, on every start: ~0.2 s of CPU for
// `migfhir validate`, and as much again in each of its worker threads. Node's compile cache keeps
// the stripped and compiled code between runs, keyed by each file's content (a changed file is
// compiled afresh). Worker threads and child processes find it through NODE_COMPILE_CACHE; Node's
// own NODE_DISABLE_COMPILE_CACHE turns it off. Imported first by the CLI, before any other module.
import { constants, enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = process.env.NODE_COMPILE_CACHE || join(tmpdir(), 'node-compile-cache');
const { status } = enableCompileCache(dir);
const { ENABLED, ALREADY_ENABLED } = constants.compileCacheStatus;
if (status === ENABLED || status === ALREADY_ENABLED) process.env.NODE_COMPILE_CACHE = dir;
