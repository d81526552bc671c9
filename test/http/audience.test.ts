// Token audiences are bound to this server's own URL, never to whatever the Host header names
// (src/http/audience.ts): without --base-url, a client assertion made for another server is not
// accepted here by sending `Host: other-server`, and tokens work on the addresses the server
// listens on.
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { writeClient } from '../../src/auth/clients.ts';
import { createServer, type Server } from 'node:net';
import { hostsOf, listeningHosts } from '../../src/http/audience.ts';
import { listeningServer } from '../sync/helpers.ts';

/** A raw HTTP request with an explicit Host header (fetch does not let a caller set one). */
function send(port: number, method: string, path: string, host: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host, accept: 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('without --base-url, tokens are bound to the addresses the server listens on, not to the Host header', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-aud-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keys = await generateKeyPair('ES384', { extractable: true });
  const clientsFile = join(dir, 'clients.json');
  writeClient(clientsFile, { clientId: 'lesvos', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'ES384' }] }, scope: 'system/*.rs' });
  const { app, base } = await listeningServer({ devOpenAccess: false, dataDir: dir, clientsFile, audit: 'off', rateLimit: 0 });
  t.teardown(() => app.close());
  const port = Number(new URL(base).port);
  const assertion = (aud: string) => new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'k' }).setIssuer('lesvos').setSubject('lesvos').setAudience(aud).setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
  const tokenRequest = async (host: string, aud: string) => send(port, 'POST', '/fhir/auth/token', host, { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({
    grant_type: 'client_credentials', scope: 'system/*.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(aud),
  }).toString());

  // an assertion made for another server that shares this client's registration
  const replay = await tokenRequest('national.example', 'http://national.example/fhir/auth/token');
  t.equal(replay.status, 400, 'replayed with Host: national.example, refused');
  t.match(replay.body, { error: 'invalid_request', error_description: /--base-url/ });
  t.equal((await send(port, 'GET', '/fhir/.well-known/smart-configuration', 'national.example')).status, 400, 'no discovery document naming another host');

  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
    const issued = await tokenRequest(host, `http://${host}/fhir/auth/token`);
    t.equal(issued.status, 200, `a token through ${host}`);
    const bearer = { authorization: `Bearer ${issued.body.access_token}` };
    t.equal((await send(port, 'GET', '/fhir/Patient', host, bearer)).status, 200, `and it is accepted through ${host}`);
    const elsewhere = await send(port, 'GET', '/fhir/Patient', 'national.example', bearer);
    t.equal(elsewhere.status, 400, 'not under another Host');
    t.match(elsewhere.body.issue[0].diagnostics, /--base-url/);
  }
});

t.test('the host names of a listening address', async (t) => {
  t.same([...listeningHosts({ address: '127.0.0.1', family: 'IPv4', port: 8080 })].sort(), ['127.0.0.1:8080', 'localhost:8080']);
  t.same([...listeningHosts({ address: '::1', family: 'IPv6', port: 8080 })].sort(), ['[::1]:8080', 'localhost:8080']);
  t.same([...listeningHosts({ address: '10.0.0.5', family: 'IPv4', port: 80 })], ['10.0.0.5:80']);
  const any = listeningHosts({ address: '0.0.0.0', family: 'IPv4', port: 8080 });
  t.ok(any.has('127.0.0.1:8080') && any.has('localhost:8080'), 'a wildcard bind answers on every interface');
});

t.test('a server\'s hosts are looked up once while it listens, and again after it closes and listens anew', async (t) => {
  const server = createServer();
  const listen = () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
  t.equal(hostsOf(server), undefined, 'not listening: no host');
  const first = await listen();
  const hosts = hostsOf(server)!;
  t.ok(hosts.has(`127.0.0.1:${first}`));
  t.equal(hostsOf(server), hosts, 'the same set while it listens');
  await close(server);
  const second = await listen();
  t.teardown(() => close(server));
  t.ok(hostsOf(server)!.has(`127.0.0.1:${second}`), 'the new address after listening again');
  t.equal(hostsOf(server)!.has(`127.0.0.1:${first}`), first === second, 'not the old one');
});
