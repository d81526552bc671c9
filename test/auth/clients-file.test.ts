// Clients registered while the server runs (src/auth/clients.ts ClientsFile): `migfhir clients
// add` writes the file, and the next token request (the file checked at most once a second)
// knows the client — or no longer knows a removed one — without a restart.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ClientsFile, readClients, writeClient } from '../../src/auth/clients.ts';
import { RETENTION_CLIENT } from '../../src/audit/audit.ts';
import { appWithClients, AUTH_BASE } from '../helpers/authorized-app.ts';

t.test('ClientsFile reads the file again once it changed, at most once a second; a broken file keeps the last clients', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-clients-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'clients.json');
  const jwks = { keys: [{ kty: 'EC', crv: 'P-384', x: 'x', y: 'y' }] } as never;
  writeClient(path, { clientId: 'a', jwks, scope: 'system/*.rs' });
  const errors: string[] = [];
  const file = new ClientsFile(path, (err) => errors.push(err.message));
  const t0 = Date.now();
  t.same(file.current(t0).map((c) => c.clientId), ['a']);
  writeClient(path, { clientId: 'b', jwks, scope: 'system/*.rs' });
  t.same(file.current(t0 + 10).map((c) => c.clientId), ['a'], 'not looked at again within the second');
  t.same(file.current(t0 + 1500).map((c) => c.clientId), ['a', 'b'], 'read again after it changed');
  const same = file.current(t0 + 3000);
  t.equal(file.current(t0 + 4500), same, 'unchanged: the same list, not read again');
  writeFileSync(path, '{"clients": [');
  t.same(file.current(t0 + 6000).map((c) => c.clientId), ['a', 'b'], 'a broken file keeps the clients read before');
  t.same(file.current(t0 + 7500).map((c) => c.clientId), ['a', 'b']);
  t.equal(errors.length, 1, 'and says so once');
});

t.test('no client can be registered under the id of the audit trail\'s retention events', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-clients-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'clients.json');
  const jwks = { keys: [{ kty: 'EC', crv: 'P-384', x: 'x', y: 'y' }] } as never;
  writeClient(path, { clientId: 'a', jwks, scope: 'system/*.rs' });
  t.throws(() => writeClient(path, { clientId: RETENTION_CLIENT, jwks, scope: 'system/*.rs' }), /reserved/, '`migfhir clients add` refuses it');
  t.same(readClients(path).map((c) => c.clientId), ['a'], 'and the file is unchanged');
  const errors: string[] = [];
  const file = new ClientsFile(path, (err) => errors.push(err.message));
  // written into the file by hand: a server does not start with it, a running one ignores the change
  writeFileSync(path, JSON.stringify({ clients: [{ clientId: 'a', jwks, scope: 'system/*.rs' }, { clientId: RETENTION_CLIENT, jwks, scope: 'system/*.rs' }] }));
  t.throws(() => readClients(path), /reserved/);
  t.same(file.current(Date.now() + 1500).map((c) => c.clientId), ['a'], 'the clients read before stay');
  t.match(errors, [/migfhir-retention' is reserved/]);
});

t.test('no client can be registered as anonymous, the agent of the events of requests without a valid token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-clients-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'clients.json');
  const jwks = { keys: [{ kty: 'EC', crv: 'P-384', x: 'x', y: 'y' }] } as never;
  t.throws(() => writeClient(path, { clientId: 'anonymous', jwks, scope: 'system/*.rs' }), /'anonymous' is reserved/, '`migfhir clients add` refuses it');
  writeFileSync(path, JSON.stringify({ clients: [{ clientId: 'anonymous', jwks, scope: 'system/*.rs' }] }));
  t.throws(() => readClients(path), /'anonymous' is reserved/, 'a file that names it by hand is refused');
});

t.test('a client added while the server runs gets a token without a restart', async (t) => {
  let clientsFile = '';
  const app = await appWithClients(t, async (file) => {
    clientsFile = file;
  });
  const keys = await generateKeyPair('ES384', { extractable: true });
  const token = async () => {
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'k' }).setIssuer('late').setSubject('late').setAudience(`${AUTH_BASE}/auth/token`).setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
    return app.inject({ method: 'POST', url: '/fhir/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString() });
  };
  t.equal((await token()).statusCode, 401, 'unknown before it is registered');
  writeClient(clientsFile, { clientId: 'late', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'ES384' }] }, scope: 'system/Patient.rs' });
  await new Promise((r) => setTimeout(r, 1100));
  const res = await token();
  t.equal(res.statusCode, 200, 'known at the next token request');
  t.equal(JSON.parse(res.body).scope, 'system/Patient.rs');
});
