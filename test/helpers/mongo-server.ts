// A real MongoDB server for the suites that need one: MONGODB_URI when set (any topology), else
// a one-node replica set in a container when testcontainers finds a container runtime; a
// sentence saying why not otherwise, for the suite to skip with.
import { randomUUID } from 'node:crypto';

export interface MongoServer {
  /** a URI naming a fresh database of its own */
  database(): string;
  /** the server's URI (no database) */
  uri: string;
  /** drops the databases handed out, stops a container that was started */
  cleanup(): Promise<void>;
}

/** The URI with its database path replaced. */
export function withDatabase(uri: string, name: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]*)(\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!m) throw new Error('MONGODB_URI is not a mongodb:// URI');
  return `${m[1]}/${name}${m[3] ?? ''}`;
}

export async function mongoServer(image = 'mongo:7'): Promise<MongoServer | string> {
  let uri = process.env.MONGODB_URI;
  let stop = async () => {};
  if (!uri) {
    const { getContainerRuntimeClient } = await import('testcontainers');
    try {
      await getContainerRuntimeClient();
    } catch (err) {
      return `skipped: MONGODB_URI is not set and testcontainers found no container runtime (${(err as Error).message})`;
    }
    const { MongoDBContainer } = await import('@testcontainers/mongodb');
    const container = await new MongoDBContainer(image).start();
    uri = `${container.getConnectionString()}/?directConnection=true`;
    stop = async () => void (await container.stop());
  }
  const server = uri;
  const databases: string[] = [];
  return {
    uri: server,
    database: () => {
      const db = `migfhir_test_${randomUUID().slice(0, 8)}`;
      databases.push(db);
      return withDatabase(server, db);
    },
    cleanup: async () => {
      const { MongoClient } = await import('mongodb');
      const client = await MongoClient.connect(server);
      for (const db of databases) await client.db(db).dropDatabase();
      await client.close();
      await stop();
    },
  };
}
