// Remote FHIR endpoints that `migfhir sync` pulls from and pushes to: a JSON file (default
// <data-dir>/endpoints.json, --endpoints-file). The file names secrets, it never holds them: a
// static header takes its value from an environment variable, SMART Backend Services reads the
// private key from a file (kept next to the endpoints file, readable by its owner only).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { findAdapter, type Adapter } from '../mapping/registry.ts';

/** A header whose value is read from an environment variable at run time, e.g. an API key. */
export interface HeaderAuth {
  type: 'header';
  /** header name, default Authorization */
  header?: string;
  /** environment variable holding the value */
  env: string;
  /** put before the value, e.g. "Bearer " */
  prefix?: string;
}

/** SMART Backend Services: client_credentials with a private_key_jwt client assertion. */
export interface SmartBackendAuth {
  type: 'smart-backend-services';
  clientId: string;
  /** private key: a JWK (JSON, with "d") or PKCS#8 PEM; relative to the endpoints file */
  privateKeyFile: string;
  /** RS384 or ES384 (what src/auth/tokens.ts accepts); default from the key */
  alg?: 'RS384' | 'ES384';
  /** key id, when the key file does not carry one */
  kid?: string;
  scope: string;
  /** default: token_endpoint of the server's .well-known/smart-configuration */
  tokenUrl?: string;
}

export interface RetryPolicy {
  /** attempts in all, the first included */
  attempts: number;
  /** first back-off; doubled each time, with full jitter */
  baseDelayMs: number;
  maxDelayMs: number;
  /** a Retry-After longer than this is not waited for: the request fails */
  maxRetryAfterMs: number;
}

export interface Endpoint {
  id: string;
  name?: string;
  /** FHIR base URL, without a trailing slash */
  baseUrl: string;
  /** adapter that maps this endpoint's resources (registry id); fhir-r4 = plain FHIR R4 */
  adapter: string;
  auth?: HeaderAuth | SmartBackendAuth;
  /** per request */
  timeoutMs: number;
  /** _count asked for when paging */
  pageSize: number;
  retry: RetryPolicy;
  /**
   * push sends migration status, journey and vulnerability elements only when true: health
   * data leaves for care, never for immigration enforcement (the server's firewall principle)
   */
  migrationData: boolean;
  /** "xml": the endpoint speaks FHIR XML only (else JSON, switching to XML on a 406 or 415) */
  format?: 'json' | 'xml';
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 };
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function endpointsPath(config: Config): string {
  return config.endpointsFile ? resolve(config.endpointsFile) : join(config.dataDir, 'endpoints.json');
}

function fail(path: string, where: string, message: string): never {
  throw new Error(`${path}: ${where}: ${message}`);
}

function positive(path: string, where: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(path, where, 'expected a number ≥ 0');
  return v;
}

function isNone(a: unknown): boolean {
  return a === 'none' || (typeof a === 'object' && a !== null && (a as { type?: unknown }).type === 'none' && Object.keys(a).length === 1);
}

function checkAuth(path: string, where: string, a: Record<string, unknown>, dir: string): HeaderAuth | SmartBackendAuth {
  if (a.type === 'header') {
    if (typeof a.env !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(a.env)) fail(path, `${where}.env`, 'the name of the environment variable that holds the value');
    for (const k of ['value', 'token', 'secret']) if (k in a) fail(path, where, `"${k}": secrets do not belong in this file; put the value in the environment variable named by "env"`);
    return { type: 'header', env: a.env, header: typeof a.header === 'string' ? a.header : 'Authorization', ...(typeof a.prefix === 'string' ? { prefix: a.prefix } : {}) };
  }
  if (a.type === 'smart-backend-services') {
    if (typeof a.clientId !== 'string' || !a.clientId) fail(path, `${where}.clientId`, 'required');
    if (typeof a.privateKeyFile !== 'string') fail(path, `${where}.privateKeyFile`, 'required (a JWK or PKCS#8 PEM file)');
    if (typeof a.scope !== 'string' || !a.scope) fail(path, `${where}.scope`, 'required, e.g. "system/Patient.rs system/Observation.rs"');
    if (a.alg !== undefined && a.alg !== 'RS384' && a.alg !== 'ES384') fail(path, `${where}.alg`, 'RS384 or ES384');
    if ('privateKey' in a) fail(path, where, '"privateKey": put the key in a file and name it in "privateKeyFile"');
    return {
      type: 'smart-backend-services',
      clientId: a.clientId,
      privateKeyFile: resolve(dir, a.privateKeyFile),
      scope: a.scope,
      ...(a.alg ? { alg: a.alg as 'RS384' | 'ES384' } : {}),
      ...(typeof a.kid === 'string' ? { kid: a.kid } : {}),
      ...(typeof a.tokenUrl === 'string' ? { tokenUrl: a.tokenUrl } : {}),
    };
  }
  return fail(path, `${where}.type`, 'none, header or smart-backend-services');
}

/** Reads and checks the endpoints file; every mistake is reported with its place in the file. */
export function readEndpoints(path: string): Endpoint[] {
  if (!existsSync(path)) return [];
  let data: { endpoints?: unknown };
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data?.endpoints)) fail(path, 'endpoints', 'expected {"endpoints": [...]}');
  const seen = new Set<string>();
  return (data.endpoints as Record<string, unknown>[]).map((e, i) => {
    const where = `endpoints[${i}]`;
    if (typeof e?.id !== 'string' || !ID.test(e.id)) fail(path, `${where}.id`, 'letters, digits, _ . - (at most 64)');
    if (seen.has(e.id)) fail(path, `${where}.id`, `'${e.id}' is listed twice`);
    seen.add(e.id);
    let base: URL;
    try {
      base = new URL(String(e.baseUrl));
    } catch {
      return fail(path, `${where}.baseUrl`, 'an absolute http(s) URL');
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') fail(path, `${where}.baseUrl`, 'an absolute http(s) URL');
    if (base.username || base.password) fail(path, `${where}.baseUrl`, 'no credentials in the URL; use "auth"');
    const adapter = typeof e.adapter === 'string' ? e.adapter : 'fhir-r4';
    const found = findAdapter(adapter);
    if (!found) fail(path, `${where}.adapter`, `'${adapter}' is not a registered adapter (see migfhir adapters)`);
    if (!isFhirAdapter(found)) fail(path, `${where}.adapter`, `'${adapter}' does not map FHIR resources (formats: ${found.formats.join(', ')})`);
    if (e.format !== undefined && e.format !== 'json' && e.format !== 'xml') fail(path, `${where}.format`, '"json" or "xml"');
    const r = (e.retry ?? {}) as Record<string, unknown>;
    const retry: RetryPolicy = {
      attempts: Math.max(1, Math.floor(positive(path, `${where}.retry.attempts`, r.attempts, DEFAULT_RETRY.attempts))),
      baseDelayMs: positive(path, `${where}.retry.baseDelayMs`, r.baseDelayMs, DEFAULT_RETRY.baseDelayMs),
      maxDelayMs: positive(path, `${where}.retry.maxDelayMs`, r.maxDelayMs, DEFAULT_RETRY.maxDelayMs),
      maxRetryAfterMs: positive(path, `${where}.retry.maxRetryAfterMs`, r.maxRetryAfterMs, DEFAULT_RETRY.maxRetryAfterMs),
    };
    return {
      id: e.id,
      ...(typeof e.name === 'string' ? { name: e.name } : {}),
      baseUrl: base.href.replace(/\/+$/, ''),
      adapter,
      // "none" (or {"type": "none"}) says it outright: an open development server
      ...(e.auth && !isNone(e.auth) ? { auth: checkAuth(path, `${where}.auth`, e.auth as Record<string, unknown>, dirname(path)) } : {}),
      timeoutMs: positive(path, `${where}.timeoutMs`, e.timeoutMs, 30_000) || 30_000,
      pageSize: Math.min(1000, Math.max(1, Math.floor(positive(path, `${where}.pageSize`, e.pageSize, 100)))),
      retry,
      migrationData: e.migrationData === true,
      ...(e.format === 'xml' ? { format: 'xml' as const } : {}),
    };
  });
}

export function isFhirAdapter(a: Adapter): boolean {
  return a.formats.includes('application/fhir+json');
}

/** An endpoint by id, or an ad-hoc one for a URL (no auth, plain FHIR). */
export function endpointFor(config: Config, idOrUrl: string): Endpoint {
  const path = endpointsPath(config);
  const known = readEndpoints(path).find((e) => e.id === idOrUrl);
  if (known) return known;
  if (/^https?:\/\//.test(idOrUrl)) {
    return { id: new URL(idOrUrl).host, baseUrl: idOrUrl.replace(/\/+$/, ''), adapter: 'fhir-r4', timeoutMs: 30_000, pageSize: 100, retry: DEFAULT_RETRY, migrationData: false };
  }
  throw new Error(`no endpoint '${idOrUrl}' in ${path} (give an endpoint id from that file, or a base URL)`);
}
