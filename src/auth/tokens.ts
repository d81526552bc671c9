// SMART Backend Services token issuance and verification:
// https://hl7.org/fhir/smart-app-launch/backend-services.html
// Clients authenticate with a private_key_jwt client assertion (RS384 or ES384) signed with a
// key from their registered JWKS; the server answers a short-lived ES384-signed access token.
// Assertions are single-use (jti replay protection) and must expire within five minutes.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type CryptoKey } from 'jose';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { RegisteredClient } from './clients.ts';
import { Scopes } from './scopes.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGS = ['RS384', 'ES384'];
const TOKEN_ALG = 'ES384';
/** seconds */
export const TOKEN_LIFETIME = 300;
const MAX_ASSERTION_LIFETIME = 300;
const CLOCK_SKEW = 60;

export class OAuthError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, description: string) {
    super(description);
    this.status = status;
    this.code = code;
  }
}

export interface AccessClaims {
  clientId: string;
  scope: string;
  /** `scope` parsed, once per token */
  scopes: Scopes;
  purposeOfUse?: string[];
}

/** verified access tokens kept at most (each a few hundred bytes) */
export const VERIFIED_TOKENS = 10_000;

interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  kid: string;
}

/** The server's token signing key, generated once and kept (owner-readable) in the data dir. */
async function loadSigningKey(path: string): Promise<SigningKey> {
  if (existsSync(path)) {
    const jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
    const { d: _d, ...pub } = jwk;
    void _d;
    return {
      privateKey: (await importJWK(jwk, TOKEN_ALG)) as CryptoKey,
      publicKey: (await importJWK(pub, TOKEN_ALG)) as CryptoKey,
      kid: jwk.kid!,
    };
  }
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: TOKEN_ALG };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(jwk), { mode: 0o600 });
  return { privateKey, publicKey, kid: jwk.kid };
}

export class TokenService {
  private readonly key: SigningKey;
  private readonly source: () => RegisteredClient[];
  private list: RegisteredClient[] | undefined;
  private byId = new Map<string, RegisteredClient>();
  /** jti → expiry (epoch s) of assertions already used */
  private readonly seen = new Map<string, number>();

  private constructor(key: SigningKey, source: () => RegisteredClient[]) {
    this.key = key;
    this.source = source;
  }

  /** `clients`: the registered clients, or where to get them at each token request (a
   * ClientsFile re-reads the file when it changes). */
  static async create(keyPath: string, clients: RegisteredClient[] | (() => RegisteredClient[])): Promise<TokenService> {
    return new TokenService(await loadSigningKey(keyPath), typeof clients === 'function' ? clients : () => clients);
  }

  private get clients(): Map<string, RegisteredClient> {
    const list = this.source();
    if (list !== this.list) {
      this.list = list;
      this.byId = new Map(list.map((c) => [c.clientId, c]));
    }
    return this.byId;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The registered client a token request names (client_id, else the assertion's iss), not
   * verified: only to count its requests apart from other callers at the same address. */
  namedClient(form: Record<string, string | undefined>): string | undefined {
    let id = form.client_id;
    if (!id && form.client_assertion) {
      try {
        id = String(decodeJwt(form.client_assertion).iss ?? '');
      } catch {
        return undefined;
      }
    }
    return id && this.clients.has(id) ? id : undefined;
  }

  /** The token endpoint's work: checks the form and the client assertion, grants scopes.
   * Answers the token response and the client it authenticated. */
  async issue(form: Record<string, string | undefined>, tokenUrl: string, issuer: string): Promise<{ clientId: string; response: Record<string, unknown> }> {
    if (form.grant_type !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    if (form.client_assertion_type !== ASSERTION_TYPE) throw new OAuthError(400, 'invalid_request', `client_assertion_type must be ${ASSERTION_TYPE}`);
    const assertion = form.client_assertion;
    if (!assertion) throw new OAuthError(400, 'invalid_request', 'client_assertion is required');
    if (!form.scope) throw new OAuthError(400, 'invalid_scope', 'scope is required');
    const client = await this.verifyAssertion(assertion, tokenUrl);
    const granted = Scopes.intersect(form.scope, new Scopes(client.scope));
    if (!granted) throw new OAuthError(400, 'invalid_scope', 'none of the requested scopes is granted to this client');
    const claims: Record<string, unknown> = { scope: granted, client_id: client.clientId };
    if (client.purposeOfUse?.length) claims.purpose_of_use = client.purposeOfUse;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALG, kid: this.key.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(issuer)
      .setSubject(client.clientId)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_LIFETIME}s`)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
    return { clientId: client.clientId, response: { access_token: token, token_type: 'bearer', expires_in: TOKEN_LIFETIME, scope: granted } };
  }

  private async verifyAssertion(assertion: string, tokenUrl: string): Promise<RegisteredClient> {
    let header;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw new OAuthError(401, 'invalid_client', 'client_assertion is not a JWT');
    }
    if (!header.alg || !ASSERTION_ALGS.includes(header.alg)) {
      throw new OAuthError(401, 'invalid_client', `client_assertion must be signed with ${ASSERTION_ALGS.join(' or ')}`);
    }
    let payload: Record<string, unknown>;
    try {
      const unverified = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'));
      const client = this.clients.get(String(unverified.iss));
      if (!client) throw new OAuthError(401, 'invalid_client', 'unknown client');
      const result = await jwtVerify(assertion, createLocalJWKSet(client.jwks), {
        algorithms: ASSERTION_ALGS,
        issuer: client.clientId,
        subject: client.clientId,
        audience: tokenUrl,
        clockTolerance: CLOCK_SKEW,
        requiredClaims: ['exp', 'jti'],
      });
      payload = result.payload as Record<string, unknown>;
      const now = Math.floor(Date.now() / 1000);
      if ((payload.exp as number) > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW) {
        throw new OAuthError(401, 'invalid_client', 'client_assertion must expire within five minutes');
      }
      this.forgetExpired(now);
      const jti = String(payload.jti);
      if (this.seen.has(`${client.clientId} ${jti}`)) throw new OAuthError(401, 'invalid_client', 'client_assertion was already used (jti)');
      this.seen.set(`${client.clientId} ${jti}`, (payload.exp as number) + CLOCK_SKEW);
      return client;
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      // jose's messages say what failed (signature, audience, expiry) without secrets
      throw new OAuthError(401, 'invalid_client', `client_assertion rejected: ${(err as Error).message.slice(0, 120)}`);
    }
  }

  private forgetExpired(now: number): void {
    if (this.seen.size < 1000) return;
    for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
  }

  /** Verified tokens by their exact text until they expire: ES384 verification costs ~0.3 ms, a
   * lookup nothing. A token is only ever verified as a whole string, so a changed one misses;
   * one past its expiry (with the clock skew jwtVerify allows) is refused as jwtVerify would.
   * Oldest first out past VERIFIED_TOKENS: tokens all live TOKEN_LIFETIME, so that is also the
   * order they expire in. Issued tokens cannot be revoked (short-lived by design), so the
   * cache changes no answer. */
  private readonly verified = new Map<string, { claims: AccessClaims; exp: number; issuer: string }>();

  /** The claims of a token verified before for `issuer` and not past its expiry (with the clock
   * skew jwtVerify allows); undefined when it must be verified (verifyAccess). Synchronous, so
   * that the bearer check of a request with a known token needs no promise. */
  verifiedAccess(token: string, issuer: string): AccessClaims | undefined {
    const hit = this.verified.get(token);
    if (!hit || hit.issuer !== issuer) return undefined;
    if (hit.exp > Math.floor(Date.now() / 1000) - CLOCK_SKEW) return hit.claims;
    this.verified.delete(token);
    return undefined;
  }

  /** Whether claims this service verified are still within their token's lifetime (with the
   * clock skew jwtVerify allows): what a connection that shows the same token again is asked. */
  unexpired(claims: AccessClaims): boolean {
    const exp = this.expiry.get(claims);
    return exp !== undefined && exp > Math.floor(Date.now() / 1000) - CLOCK_SKEW;
  }

  private readonly expiry = new WeakMap<AccessClaims, number>();

  /** Verifies an access token this server issued for `issuer`; throws on anything else. */
  async verifyAccess(token: string, issuer: string): Promise<AccessClaims> {
    const hit = this.verifiedAccess(token, issuer);
    if (hit) return hit;
    const claims = await this.verifyUncached(token, issuer);
    while (this.verified.size > VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    return claims;
  }

  /** tokens held verified (tests) */
  get verifiedCount(): number {
    return this.verified.size;
  }

  private async verifyUncached(token: string, issuer: string): Promise<AccessClaims> {
    const { payload } = await jwtVerify(token, this.key.publicKey, {
      // the cache's clock (verifyAccess), so that both decide expiry alike
      currentDate: new Date(Date.now()),
      algorithms: [TOKEN_ALG],
      issuer,
      audience: issuer,
      clockTolerance: CLOCK_SKEW,
      requiredClaims: ['exp', 'sub', 'scope'],
    });
    const claims: AccessClaims = {
      clientId: String(payload.sub),
      scope: String(payload.scope),
      scopes: new Scopes(String(payload.scope)),
      ...(Array.isArray(payload.purpose_of_use) ? { purposeOfUse: payload.purpose_of_use.map(String) } : {}),
    };
    this.verified.set(token, { claims, exp: payload.exp as number, issuer });
    this.expiry.set(claims, payload.exp as number);
    return claims;
  }
}
