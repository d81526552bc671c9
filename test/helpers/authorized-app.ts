// An app with authorization on (SMART backend services) and one registered client, and a way
// to get that client's bearer header for a scope: the private_key_jwt client assertion
// exchanged at /auth/token, as a real backend client does.
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Test } from 'tap';
import { buildApp, type AppOptions } from '../../src/app.ts';
import { writeClient } from '../../src/auth/clients.ts';
import { testConfig, type Config } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';

export const AUTH_BASE = 'http://test.local/fhir';

export interface AuthorizedApp {
  app: FastifyInstance;
  /** `{ authorization: 'Bearer …' }` for a token of the client with `scope` */
  bearer(scope: string): Promise<{ authorization: string }>;
}

export interface AppSettings {
  config?: Partial<Config>;
  options?: AppOptions;
  /** another engine's store (test/helpers/mingo-store.ts); default: an in-memory SQLite one */
  store?: ResourceStore;
}

/** An app with authorization on whose clients `register` writes into the clients file it is
 * given; closed (and its data folder removed) when `t` ends. */

export async function appWithClients(t: Pick<Test, 'teardown'>, register: (clientsFile: string) => Promise<void>, settings: AppSettings = {}): Promise<FastifyInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-auth-'));
  const clientsFile = join(dir, 'clients.json');
  await register(clientsFile);
  const store = settings.store ?? new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: AUTH_BASE, devOpenAccess: false, dataDir: dir, clientsFile, ...settings.config }), { store, ...settings.options });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return app;
}

/** One client with one key (kid `k`). */
export async function authorizedApp(t: Test, client: { id: string; scope: string; alg?: 'RS384' | 'ES384'; purposeOfUse?: string[] }, settings: AppSettings = {}): Promise<AuthorizedApp> {
  const alg = client.alg ?? 'RS384';
  const keys = await generateKeyPair(alg, { extractable: true });
  const app = await appWithClients(t, async (clientsFile) => {
    writeClient(clientsFile, { clientId: client.id, jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg }] }, scope: client.scope, ...(client.purposeOfUse ? { purposeOfUse: client.purposeOfUse } : {}) });
  }, settings);
  const bearer = async (scope: string) => {
    const assertion = await new SignJWT({}).setProtectedHeader({ alg, kid: 'k' }).setIssuer(client.id).setSubject(client.id).setAudience(`${AUTH_BASE}/auth/token`)
      .setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
    const res = await app.inject({
      method: 'POST',
      url: '/fhir/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString(),
    });
    return { authorization: `Bearer ${JSON.parse(res.body).access_token}` };
  };
  return { app, bearer };
}
