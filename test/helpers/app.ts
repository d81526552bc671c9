// Test helpers: an app on a fresh in-memory SQLite store, driven through fastify.inject.
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig, type Config } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';

export const FHIR_JSON = 'application/fhir+json';

export async function testApp(overrides: Partial<Config> = {}): Promise<FastifyInstance> {
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', ...overrides }), { store });
  app.addHook('onClose', async () => store.close());
  return app;
}

/** inject with a JSON body sent as application/fhir+json */
export async function fhir(app: FastifyInstance, method: InjectOptions['method'], url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({
    method,
    url,
    headers: { ...(body !== undefined ? { 'content-type': FHIR_JSON } : {}), ...headers },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  let json: any;
  try {
    json = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: json, raw: res.body };
}
