// The engines the inbound message log is tested on: embedded SQLite in memory (the log on the
// main thread), embedded SQLite on a file (the log on a thread of its own:
// src/store/sqlite/message-log-thread.ts), and MongoDB's engine over the mingo test double
// (test/helpers/mongo-fake.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { MongoStore } from '../../src/store/mongo/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { FakeMongo } from '../helpers/mongo-fake.ts';

export const ENGINES: { name: string; open: () => Promise<ResourceStore> }[] = [
  { name: 'sqlite', open: async () => new SqliteStore({ path: ':memory:' }) },
  { name: 'sqlite file', open: async () => new SqliteStore({ path: join(folder(), 'migfhir.sqlite') }) },
  { name: 'mongodb (mingo)', open: () => MongoStore.attach(new FakeMongo(), { topology: 'replicaSet' }) },
];

/** A data folder of the test process's own, removed when it exits. */
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-inbound-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
