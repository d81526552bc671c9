// A second migfhir instance on a loopback port (the "remote" endpoint), and endpoint records
// with retries short enough for tests.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig, type Config } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { Endpoint } from '../../src/sync/endpoints.ts';
import { Progress } from '../../src/sync/progress.ts';

export const AMKA = 'https://www.amka.gr';
export const QUIET = new Progress(process.stderr, false);

/** A migfhir server listening on 127.0.0.1, port chosen by the system; its base URL. */
export async function listeningServer(overrides: Partial<Config> = {}): Promise<{ app: FastifyInstance; base: string }> {
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: undefined, ...overrides }), { store });
  app.addHook('onClose', async () => store.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${port}/fhir` };
}

export function endpoint(id: string, baseUrl: string, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    id,
    baseUrl,
    adapter: 'fhir-r4',
    timeoutMs: 5000,
    pageSize: 3,
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5000 },
    migrationData: false,
    ...extra,
  };
}

/** JSON over fetch against a listening server. */
export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { accept: 'application/fhir+json', ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
