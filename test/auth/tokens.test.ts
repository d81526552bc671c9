// Access tokens are verified once and then recognised by their exact text until they expire.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ASSERTION_TYPE, TOKEN_LIFETIME, TokenService } from '../../src/auth/tokens.ts';

const ISSUER = 'http://test.local/fhir';

async function service(t: { teardown: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-tokens-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keys = await generateKeyPair('RS384', { extractable: true });
  const tokens = await TokenService.create(join(dir, 'key.json'), [
    { clientId: 'c', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'RS384' }] }, scope: 'system/Patient.rs' },
  ]);
  const issue = async () => {
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS384', kid: 'k' }).setIssuer('c').setSubject('c')
      .setAudience(`${ISSUER}/auth/token`).setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
    const form = { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion };
    return (await tokens.issue(form, `${ISSUER}/auth/token`, ISSUER)).response.access_token as string;
  };
  return { tokens, issue };
}

t.test('a verified token is recognised until it expires, then refused', async (t) => {
  const { tokens, issue } = await service(t);
  const token = await issue();
  const claims = await tokens.verifyAccess(token, ISSUER);
  t.equal(claims.clientId, 'c');
  t.ok(claims.scopes.allows('Patient', 'r'), 'scopes parsed once, with the claims');
  t.equal(await tokens.verifyAccess(token, ISSUER), claims, 'the second request is answered from the cache');
  t.equal(tokens.verifiedCount, 1);
  const realNow = Date.now;
  t.teardown(() => {
    Date.now = realNow;
  });
  // within the clock skew jwtVerify allows after exp: still valid
  Date.now = () => realNow() + (TOKEN_LIFETIME + 30) * 1000;
  t.equal(await tokens.verifyAccess(token, ISSUER), claims);
  // past it: refused, from the cache as from a fresh verification, and forgotten
  Date.now = () => realNow() + (TOKEN_LIFETIME + 120) * 1000;
  await t.rejects(tokens.verifyAccess(token, ISSUER), 'expired');
  t.equal(tokens.verifiedCount, 0);
});

t.test('a cached token is recognised only by its exact text and for its own issuer', async (t) => {
  const { tokens, issue } = await service(t);
  const token = await issue();
  await tokens.verifyAccess(token, ISSUER);
  await t.rejects(tokens.verifyAccess(token, 'http://other.example/fhir'), 'another server URL');
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, scope: 'system/*.cruds' })).toString('base64url')}.${s}`;
  await t.rejects(tokens.verifyAccess(forged, ISSUER), 'a changed payload is verified, and fails');
  await t.rejects(tokens.verifyAccess(`${token}x`, ISSUER), 'a changed signature fails');
});

t.test('the synchronous lookup answers only a token verified before, for its issuer, and not past its expiry', async (t) => {
  const { tokens, issue } = await service(t);
  const token = await issue();
  t.equal(tokens.verifiedAccess(token, ISSUER), undefined, 'never verified: the hook must verify it');
  const claims = await tokens.verifyAccess(token, ISSUER);
  t.equal(tokens.verifiedAccess(token, ISSUER), claims);
  t.equal(tokens.verifiedAccess(token, 'http://other.example/fhir'), undefined);
  const realNow = Date.now;
  t.teardown(() => {
    Date.now = realNow;
  });
  Date.now = () => realNow() + (TOKEN_LIFETIME + 120) * 1000;
  t.equal(tokens.verifiedAccess(token, ISSUER), undefined, 'expired: not answered from the cache');
  t.equal(tokens.verifiedCount, 0);
});
