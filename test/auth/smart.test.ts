import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { writeClient } from '../../src/auth/clients.ts';
import { fhir } from '../helpers/app.ts';
import { appWithClients, AUTH_BASE } from '../helpers/authorized-app.ts';

const TOKEN_URL = `${AUTH_BASE}/auth/token`;

async function setup(t: Pick<Test, 'teardown'>) {
  const rs = await generateKeyPair('RS384', { extractable: true });
  const es = await generateKeyPair('ES384', { extractable: true });
  const other = await generateKeyPair('RS384', { extractable: true });
  const jwk = async (k: CryptoKey, kid: string, alg: string) => ({ ...(await exportJWK(k)), kid, alg });
  const app = await appWithClients(t, async (clientsFile) => {
    writeClient(clientsFile, { clientId: 'hospital', jwks: { keys: [await jwk(rs.publicKey, 'rs', 'RS384'), await jwk(es.publicKey, 'es', 'ES384')] }, scope: 'system/Patient.cruds system/Observation.rs' });
    writeClient(clientsFile, { clientId: 'registry', jwks: { keys: [await jwk(other.publicKey, 'o', 'RS384')] }, scope: 'system/*.read' });
  });
  const assertion = (opts: { iss?: string; aud?: string; exp?: number; jti?: string; key?: CryptoKey; alg?: string; kid?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: opts.alg ?? 'RS384', kid: opts.kid ?? 'rs' })
      .setIssuer(opts.iss ?? 'hospital')
      .setSubject(opts.iss ?? 'hospital')
      .setAudience(opts.aud ?? TOKEN_URL)
      .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 240)
      .setJti(opts.jti ?? randomUUID())
      .sign(opts.key ?? rs.privateKey);
  const tokenRequest = async (form: Record<string, string>) => {
    const res = await app.inject({ method: 'POST', url: '/fhir/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() });
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
  const token = async (scope: string, a?: string) => {
    const r = await tokenRequest({
      grant_type: 'client_credentials', scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: a ?? (await assertion()),
    });
    return r;
  };
  return { app, assertion, token, tokenRequest, keys: { rs, es, other } };
}

t.test('discovery and metadata are public and describe SMART', async (t) => {
  const { app } = await setup(t);
  const wk = await app.inject({ method: 'GET', url: '/fhir/.well-known/smart-configuration' });
  t.equal(wk.statusCode, 200);
  t.equal(JSON.parse(wk.body).token_endpoint, TOKEN_URL);
  t.same(JSON.parse(wk.body).token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384']);
  const md = await fhir(app, 'GET', '/fhir/metadata');
  t.equal(md.status, 200);
  t.equal(md.body.rest[0].security.service[0].coding[0].code, 'SMART-on-FHIR');
  t.notOk(md.body.description?.includes('WARNING'));
});

t.test('the token flow grants the intersection of asked and allowed scopes', async (t) => {
  const { app, token, assertion, keys } = await setup(t);
  const r = await token('system/Patient.rs system/Observation.cruds system/Encounter.r');
  t.equal(r.status, 200);
  t.equal(r.body.token_type, 'bearer');
  t.equal(r.body.expires_in, 300);
  t.equal(r.body.scope, 'system/Patient.rs', 'only what the client is allowed');
  const es = await token('system/Patient.cruds', await assertion({ alg: 'ES384', kid: 'es', key: keys.es.privateKey }));
  t.equal(es.status, 200, 'ES384 assertions work too');
  const auth = { authorization: `Bearer ${es.body.access_token}` };
  const created = await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Haddad' }] }, auth);
  t.equal(created.status, 201);
  t.equal((await fhir(app, 'GET', `/fhir/Patient/${created.body.id}`, undefined, auth)).status, 200);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?name=haddad', undefined, auth)).body.total, 1);
});

t.test('bad client assertions are refused', async (t) => {
  const { token, assertion, tokenRequest, keys } = await setup(t);
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, Promise<string> | string][] = [
    ['wrong audience', assertion({ aud: 'http://elsewhere/token' })],
    ['expired', assertion({ exp: now - 600 })],
    ['expires too late', assertion({ exp: now + 3600 })],
    ['unknown client', assertion({ iss: 'nobody' })],
    ['signed with another key', assertion({ key: keys.other.privateKey })],
    ['alg none', `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'hospital', sub: 'hospital', aud: TOKEN_URL, exp: now + 60, jti: 'x' })).toString('base64url')}.`],
    ['HS256', new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('hospital').setSubject('hospital').setAudience(TOKEN_URL).setExpirationTime(now + 60).setJti('y').sign(new TextEncoder().encode('secret-secret-secret-secret-secret'))],
    ['not a JWT', 'garbage'],
  ];
  for (const [name, a] of cases) {
    const r = await token('system/Patient.rs', await a);
    t.equal(r.status, 401, name);
    t.equal(r.body.error, 'invalid_client', name);
  }
  const once = await assertion();
  t.equal((await token('system/Patient.rs', once)).status, 200);
  t.equal((await token('system/Patient.rs', once)).status, 401, 'a replayed jti is refused');
  t.equal((await tokenRequest({ grant_type: 'password', scope: 'system/Patient.rs' })).body.error, 'unsupported_grant_type');
  t.equal((await token('patient/Patient.read')).body.error, 'invalid_scope', 'only system scopes');
});

t.test('every interaction needs a valid token and a matching scope', async (t) => {
  const { app, token } = await setup(t);
  t.equal((await fhir(app, 'GET', '/fhir/Patient')).status, 401);
  const noToken = await fhir(app, 'GET', '/fhir/Patient/x');
  t.equal(noToken.status, 401);
  t.equal(noToken.body.issue[0].code, 'login');
  t.match(String(noToken.headers['www-authenticate']), /^Bearer realm=/);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/x', undefined, { authorization: 'Bearer abc.def.ghi' })).status, 401);
  const read = { authorization: `Bearer ${(await token('system/Patient.rs system/Observation.rs')).body.access_token}` };
  const write = { authorization: `Bearer ${(await token('system/Patient.cud')).body.access_token}` };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' }, write)).status, 201);
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1', active: true }, read)).status, 403, 'read scopes do not write');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p1', undefined, write)).status, 403, 'write scopes do not read');
  t.equal((await fhir(app, 'GET', '/fhir/Encounter?status=finished', undefined, read)).status, 403);
  t.equal((await fhir(app, 'GET', '/fhir/_history', undefined, read)).status, 403, 'system history needs system/*');
  t.equal((await fhir(app, 'POST', '/fhir/$reindex', undefined, write)).status, 403);
  const bundle = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' } }, request: { method: 'POST', url: 'Encounter' } }] }, write);
  t.equal(bundle.status, 403, 'transaction entries are checked');
});

t.test('nothing leaks through chains, _has or _include', async (t) => {
  const { app, token } = await setup(t);
  const all = { authorization: `Bearer ${(await token('system/Patient.cruds system/Observation.rs')).body.access_token}` };
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1', name: [{ family: 'Secret' }], managingOrganization: { reference: 'Organization/o1' } }, all);
  const obsOnly = { authorization: `Bearer ${(await token('system/Observation.rs')).body.access_token}` };
  t.equal((await fhir(app, 'GET', '/fhir/Observation?subject:Patient.name=secret', undefined, obsOnly)).status, 403, 'chain into Patient');
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_has:Observation:subject:code=x', undefined, obsOnly)).status, 403);
  const patientsOnly = { authorization: `Bearer ${(await token('system/Patient.rs')).body.access_token}` };
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_has:Observation:subject:code=x', undefined, patientsOnly)).status, 403, '_has from Observation');
  const inc = await fhir(app, 'GET', '/fhir/Patient?_id=p1&_include=Patient:organization&_revinclude=Observation:subject', undefined, patientsOnly);
  t.equal(inc.status, 200);
  t.same(inc.body.entry.map((e: any) => e.resource.resourceType), ['Patient']);
  const sys = await fhir(app, 'GET', '/fhir?_lastUpdated=gt2000', undefined, patientsOnly);
  t.equal(sys.status, 200);
  t.ok(sys.body.entry.every((e: any) => e.resource.resourceType === 'Patient'));
  t.equal((await fhir(app, 'GET', '/fhir?_type=Observation,Patient', undefined, patientsOnly)).status, 403);
});

t.test('purpose of use: immigration enforcement is refused', async (t) => {
  const { app, token } = await setup(t);
  const auth = { authorization: `Bearer ${(await token('system/Patient.rs')).body.access_token}` };
  const refused = await fhir(app, 'GET', '/fhir/Patient', undefined, { ...auth, 'x-purpose-of-use': 'https://migfhir.org/fhir/CodeSystem/purpose-of-use|immigration-enforcement' });
  t.equal(refused.status, 403);
  t.match(refused.body.issue[0].diagnostics, /immigration-enforcement/);
  t.equal((await fhir(app, 'GET', '/fhir/Patient', undefined, { ...auth, 'x-purpose-of-use': 'TREAT' })).status, 200);
});
