// The two engines the inbound message log is tested on: embedded SQLite, and MongoDB's engine
// over the mingo test double (test/helpers/mongo-fake.ts).
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { MongoStore } from '../../src/store/mongo/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { FakeMongo } from '../helpers/mongo-fake.ts';

export const ENGINES: { name: string; open: () => Promise<ResourceStore> }[] = [
  { name: 'sqlite', open: async () => new SqliteStore({ path: ':memory:' }) },
  { name: 'mongodb (mingo)', open: () => MongoStore.attach(new FakeMongo(), { topology: 'replicaSet' }) },
];
