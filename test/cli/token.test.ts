// `migfhir token`: an access token of a registered client, for curl against a secured server;
// `--assertion` prints the signed client assertion for the exchange by hand.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { writeClient } from '../../src/auth/clients.ts';
import { tokenCommand } from '../../src/cli/token.ts';
import { http, listeningServer } from '../sync/helpers.ts';

async function printed(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await run(), out };
  } finally {
    process.stdout.write = write;
  }
}

t.test('migfhir token: a usable access token; --assertion: the signed assertion; a wrong key or scope is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-token-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const key = join(dir, 'hospital-a.jwk.json');
  writeFileSync(key, JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES384' }));
  const clientsFile = join(dir, 'clients.json');
  writeClient(clientsFile, { clientId: 'hospital-a', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' }] }, scope: 'system/Patient.rs' });
  const { app, base } = await listeningServer({ devOpenAccess: false, dataDir: dir, clientsFile, audit: 'off', rateLimit: 0 });
  t.teardown(() => app.close());

  const { code, out } = await printed(() => tokenCommand(['--server', base, '--client', 'hospital-a', '--key', key, '--scope', 'system/Patient.rs']));
  t.equal(code, 0);
  const token = out.trim();
  t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'one token on one line');
  t.equal((await http('GET', `${base}/Patient`, undefined, { authorization: `Bearer ${token}` })).status, 200, 'the token reads patients');
  t.equal((await http('GET', `${base}/Patient`)).status, 401);

  const assertion = (await printed(() => tokenCommand(['--assertion', '--server', base, '--client', 'hospital-a', '--key', key]))).out.trim();
  const claims = decodeJwt(assertion);
  t.equal(claims.iss, 'hospital-a');
  t.equal(claims.aud, `${base}/auth/token`, 'audience: the server\'s token URL');
  const form = new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
  const exchanged = await fetch(`${base}/auth/token`, { method: 'POST', body: form });
  t.equal(exchanged.status, 200, 'the printed assertion is exchanged by hand');

  await t.rejects(tokenCommand(['--server', base, '--client', 'hospital-a', '--key', key, '--scope', 'system/Observation.cruds']), /refused client 'hospital-a'/, 'a scope beyond the registration');
  await t.rejects(tokenCommand(['--server', base, '--client', 'hospital-a']), /--server, --client, --key and --scope are required/);
});
