// Credentials for a remote endpoint, as request headers. A static header reads its value from
// the environment; SMART Backend Services signs a client assertion with the private key named
// in the endpoints file — the same private_key_jwt flow src/auth/tokens.ts verifies on the
// server side (RS384/ES384, iss = sub = client id, aud = token URL, exp ≤ 5 min, unique jti) —
// and keeps the access token until shortly before it expires.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importJWK, importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose';
import { ASSERTION_TYPE } from '../auth/tokens.ts';
import type { Endpoint, SmartBackendAuth } from './endpoints.ts';
import { SyncError } from './errors.ts';

/** Headers for one request; `renew` after a 401 drops a cached token. */
export interface Credentials {
  headers(renew?: boolean): Promise<Record<string, string>>;
}

const NONE: Credentials = { headers: async () => ({}) };
/** seconds before expiry at which a cached token is renewed */
const EARLY = 30;

async function signingKey(auth: SmartBackendAuth): Promise<{ key: CryptoKey; alg: string; kid?: string }> {
  let text: string;
  try {
    text = readFileSync(auth.privateKeyFile, 'utf8');
  } catch (err) {
    throw new SyncError(`cannot read the private key file ${auth.privateKeyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (text.includes('-----BEGIN')) {
    if (!auth.alg) throw new SyncError('a PEM private key needs "alg" (RS384 or ES384) in the endpoint\'s auth');
    return { key: (await importPKCS8(text, auth.alg)) as CryptoKey, alg: auth.alg, kid: auth.kid };
  }
  const jwk = JSON.parse(text) as JWK;
  if (!jwk.d) throw new SyncError(`${auth.privateKeyFile} holds no private key`);
  const alg = auth.alg ?? jwk.alg ?? (jwk.kty === 'RSA' ? 'RS384' : 'ES384');
  return { key: (await importJWK(jwk, alg)) as CryptoKey, alg, kid: auth.kid ?? jwk.kid };
}

/** The assertion exchanged for an access token (short-lived, single use). */
export async function clientAssertion(auth: SmartBackendAuth, tokenUrl: string): Promise<string> {
  const { key, alg, kid } = await signingKey(auth);
  return new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })
    .setIssuer(auth.clientId)
    .setSubject(auth.clientId)
    .setAudience(tokenUrl)
    .setIssuedAt()
    .setExpirationTime('4m')
    .setJti(randomUUID())
    .sign(key);
}

async function discoverTokenUrl(endpoint: Endpoint): Promise<string> {
  const url = `${endpoint.baseUrl}/.well-known/smart-configuration`;
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(endpoint.timeoutMs) });
  if (!res.ok) throw new SyncError(`${endpoint.id}: no SMART configuration (GET .well-known/smart-configuration: HTTP ${res.status}); set auth.tokenUrl`);
  const conf = (await res.json()) as { token_endpoint?: string };
  if (!conf.token_endpoint) throw new SyncError(`${endpoint.id}: the SMART configuration names no token_endpoint`);
  return conf.token_endpoint;
}

function smartBackend(endpoint: Endpoint, auth: SmartBackendAuth): Credentials {
  let cached: { token: string; until: number } | undefined;
  return {
    async headers(renew = false) {
      const now = Date.now() / 1000;
      if (renew || !cached || cached.until <= now) {
        const tokenUrl = auth.tokenUrl ?? (await discoverTokenUrl(endpoint));
        const form = new URLSearchParams({
          grant_type: 'client_credentials',
          scope: auth.scope,
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: await clientAssertion(auth, tokenUrl),
        });
        const res = await fetch(tokenUrl, { method: 'POST', body: form, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(endpoint.timeoutMs) });
        const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
        if (!res.ok || !body.access_token) {
          const why = body.error ? `${body.error}${body.error_description ? `: ${body.error_description.slice(0, 160)}` : ''}` : `HTTP ${res.status}`;
          throw new SyncError(`${endpoint.id}: the token endpoint refused client '${auth.clientId}' (${why})`);
        }
        cached = { token: body.access_token, until: now + Math.max(0, (body.expires_in ?? 300) - EARLY) };
      }
      return { authorization: `Bearer ${cached.token}` };
    },
  };
}

export function credentialsFor(endpoint: Endpoint, env: NodeJS.ProcessEnv = process.env): Credentials {
  const auth = endpoint.auth;
  if (!auth) return NONE;
  if (auth.type === 'smart-backend-services') return smartBackend(endpoint, auth);
  return {
    async headers() {
      const value = env[auth.env];
      if (!value) throw new SyncError(`${endpoint.id}: the environment variable ${auth.env} (the endpoint's ${auth.header ?? 'Authorization'} header) is not set`);
      return { [(auth.header ?? 'Authorization').toLowerCase()]: `${auth.prefix ?? ''}${value}` };
    },
  };
}
