// SMART Backend Services on the HTTP side: discovery (/.well-known/smart-configuration), the
// token endpoint, and the bearer-token check in front of every FHIR interaction. Token
// endpoint errors use OAuth's JSON shape (RFC 6749 §5.2), which OAuth clients expect;
// everything under the FHIR API answers OperationOutcomes. Every token request is audited (DICOM
// User Authentication / Login, never with the assertion); requests refused for want of a valid
// token and token requests are limited per address (address-limits.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError } from '../fhir/errors.ts';
import type { Context } from '../rest/types.ts';
import { OAuthError, TokenService, ASSERTION_ALGS, type AccessClaims } from '../auth/tokens.ts';
import { SERVER_SCOPES } from '../auth/scopes.ts';
import { checkPurposes, parsePurpose, parsePurposes, purposeText, PURPOSE_HEADER, type Purpose } from '../auth/purpose.ts';
import type { AuthContext } from '../auth/authorize.ts';
import { baseUrlOf } from './routes.ts';
import { audienceBase, UNTRUSTED_HOST } from './audience.ts';
import type { AuditInput } from '../audit/audit.ts';
import { throttled, WindowLimiter, type Overflow } from './address-limits.ts';

const PUBLIC = ['/metadata', '/.well-known/smart-configuration', '/auth/token'];
const BEARER = /^Bearer\s+([A-Za-z0-9\-_.]+)$/i;

/** Whether a request's URL (past the base path, at `from`) is one of PUBLIC, with or without
 * trailing slashes and a query: the test every request passes, without building its path. */
function isPublic(url: string, from: number): boolean {
  for (const p of PUBLIC) {
    if (!url.startsWith(p, from)) continue;
    let i = from + p.length;
    while (url.charCodeAt(i) === 47 /* / */) i++;
    if (i === url.length || url.charCodeAt(i) === 63 /* ? */) return true;
  }
  return false;
}

/** The purposes of use a token's client is registered with, parsed once per verified token. */
const ownOfClaims = new WeakMap<AccessClaims, { parsed: Purpose[]; texts: string[] }>();
function ownPurposes(claims: AccessClaims): { parsed: Purpose[]; texts: string[] } {
  let own = ownOfClaims.get(claims);
  if (!own) {
    const parsed = (claims.purposeOfUse ?? []).map(parsePurpose);
    // shared by the token's requests: frozen, so that a change to one request's context throws
    // instead of reaching the next (stated purposes replace the array, never change it)
    own = { parsed: Object.freeze(parsed) as Purpose[], texts: Object.freeze(parsed.map(purposeText)) as string[] };
    ownOfClaims.set(claims, own);
  }
  return own;
}

declare module 'fastify' {
  interface FastifyRequest {
    fhirAuth?: AuthContext;
    /** refused past an address limit: counted in that window's one AuditEvent, not audited alone */
    auditAggregated?: boolean;
  }
}

export interface AuthOptions {
  /** the address limits' window (tests shorten it); one minute otherwise */
  limitWindowMs?: number;
  /** the address limits' clock (tests move it instead of waiting); Date.now otherwise */
  limitNow?: () => number;
}

/** What registerAuth leaves to do at shutdown: the address limits' open windows are audited
 * before the audit trail closes. */
export interface AuthShutdown {
  close(): void;
}

const WINDOW_MS = 60_000;
/** the address limits' default with authorization on (-1) */
const DEFAULT_ADDRESS_LIMIT = 60;

function addressLimit(configured: number): number {
  return configured === -1 ? DEFAULT_ADDRESS_LIMIT : configured;
}

export function registerAuth(app: FastifyInstance, ctx: Context, tokens: TokenService | undefined, options: AuthOptions = {}): AuthShutdown {
  const windowMs = options.limitWindowMs ?? WINDOW_MS;
  const audit = ctx.audit;
  // one event per key and window for what was refused past a limit (address, or address and client)
  const overflowEvent = (what: string) => (o: Overflow) => {
    const [address, client] = o.key.split(' ');
    void audit?.later({
      kind: 'login', interaction: 'login', action: 'E', status: 429, address: address === '*' ? undefined : address,
      description: `${o.count} ${what}${client && client !== '?' ? ` naming client ${client}` : ''} refused past the limit from ${address === '*' ? 'addresses beyond the tracked number' : 'this address'}; not audited one by one`,
      period: { start: o.first, end: o.last },
    });
  };
  const limiter = (configured: number, what: string) => {
    const max = tokens ? addressLimit(configured) : 0;
    return max > 0 ? new WindowLimiter({ max, windowMs, now: options.limitNow, onOverflow: overflowEvent(what) }) : undefined;
  };
  const anonymous = limiter(ctx.config.anonymousRateLimit, 'requests without a valid access token');
  const tokenRequests = limiter(ctx.config.tokenRateLimit, 'token requests');
  const shutdown: AuthShutdown = {
    close() {
      anonymous?.close();
      tokenRequests?.close();
    },
  };

  app.get('/.well-known/smart-configuration', async (request, reply) => {
    const base = audienceBase(request, ctx);
    if (!base) return reply.code(400).header('content-type', 'application/json').send({ error: 'invalid_request', error_description: UNTRUSTED_HOST });
    return reply.header('content-type', 'application/json').send({
      token_endpoint: `${base}/auth/token`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['system/*.read', 'system/*.write', 'system/*.cruds', 'system/*.rs', ...SERVER_SCOPES],
      capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
    });
  });

  // the token endpoint has its own limit (below), not the per-address share of the global one:
  // a flood of /metadata or of bad assertions from one address must not block token issuance
  app.post('/auth/token', { config: { rateLimit: false } }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache').header('content-type', 'application/json');
    if (!tokens) return reply.code(400).send({ error: 'invalid_request', error_description: 'authorization is off (development open access)' });
    const form = Object.fromEntries(Object.entries((request.body ?? {}) as Record<string, string[]>).map(([k, v]) => [k, Array.isArray(v) ? v[0] : undefined]));
    // counted per address and named registered client, so that a caller behind a shared proxy
    // exhausts its own count (or that of unregistered names, '?'), not everyone's
    const named = tokens.namedClient(form);
    const retryAfter = tokenRequests?.hit(`${request.ip} ${named ?? '?'}`);
    if (retryAfter !== undefined) {
      request.auditAggregated = true;
      const err = throttled(tokenRequests!, retryAfter, 'token requests');
      return reply.code(429).headers(err.headers).send({ error: 'invalid_request', error_description: err.outcome.issue[0].diagnostics });
    }
    const base = audienceBase(request, ctx);
    if (!base) return reply.code(400).send({ error: 'invalid_request', error_description: UNTRUSTED_HOST });
    const login = (status: number, clientId: string | undefined, description?: string): AuditInput => ({
      kind: 'login', interaction: 'login', action: 'E', status, clientId, address: request.ip, ...(description ? { description } : {}),
    });
    try {
      const issued = await tokens.issue(form, `${base}/auth/token`, base);
      await audit?.later(login(200, issued.clientId));
      return reply.send(issued.response);
    } catch (err) {
      if (err instanceof OAuthError) {
        request.log.info({ client: String(form.client_id ?? '').slice(0, 64), error: err.code }, 'token request refused');
        // the agent is the client only once authenticated; a named one is in the description
        // (the assertion itself never: it could still be valid for another audience)
        await audit?.later(login(err.status, undefined, `${err.code}${named ? ` (client ${named})` : ''}: ${err.message}`.slice(0, 200)));
        return reply.code(err.status).send({ error: err.code, error_description: err.message });
      }
      throw err;
    }
  });

  if (!tokens) {
    // development open access: only the purpose-of-use firewall applies (a synchronous hook)
    app.addHook('onRequest', (request, _reply, done) => {
      const header = request.headers[PURPOSE_HEADER] as string | undefined;
      if (!header) return done();
      try {
        checkPurposes(parsePurposes(header), ctx.config.refusedPurposes);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
    return shutdown;
  }
  const basePath = ctx.config.basePath.length;
  const challenge = (request: FastifyRequest, error?: string) => `Bearer realm="${baseUrlOf(request, ctx)}"${error ? `, error="${error}"` : ''}`;
  // a request refused for want of a valid token counts against its address; past the limit
  // it is answered 429 and counted in the window's one AuditEvent instead of its own
  const refuse = (request: FastifyRequest, err: FhirError): FhirError => {
    const retryAfter = anonymous?.hit(request.ip);
    if (retryAfter === undefined) return err;
    request.auditAggregated = true;
    return throttled(anonymous!, retryAfter, 'requests without a valid access token');
  };
  const invalid = (request: FastifyRequest) =>
    refuse(request, new FhirError(401, { code: 'login', diagnostics: 'The access token is invalid or expired' }, { 'www-authenticate': challenge(request, 'invalid_token') }));
  // the context of a token whose own purposes passed the firewall, for its requests that state
  // none: made and checked once per token, shared (frozen) by those requests
  const contextOfClaims = new WeakMap<AccessClaims, AuthContext>();
  // the token's purposes (from the client's registration) and the request's, checked alike
  // (the client is known before the header is parsed, so a 400 for it is audited under it);
  // answers the error to refuse the request with
  const authenticate = (request: FastifyRequest, claims: AccessClaims): Error | undefined => {
    const header = request.headers[PURPOSE_HEADER] as string | undefined;
    if (!header) {
      const checked = contextOfClaims.get(claims);
      if (checked) {
        request.fhirAuth = checked;
        return undefined;
      }
    }
    try {
      const own = ownPurposes(claims);
      const auth: AuthContext = { clientId: claims.clientId, scopes: claims.scopes, purposeOfUse: own.texts };
      request.fhirAuth = auth;
      const stated = parsePurposes(header);
      const purposes = stated.length ? [...own.parsed, ...stated] : own.parsed;
      if (stated.length) auth.purposeOfUse = purposes.map(purposeText);
      checkPurposes(purposes, ctx.config.refusedPurposes);
      if (!stated.length) contextOfClaims.set(claims, Object.freeze(auth));
      return undefined;
    } catch (err) {
      return err as Error;
    }
  };
  // The token each connection last showed, verified: a client sends its requests over a kept-alive
  // connection with one token, so the next request's check is a comparison of the header's text
  // and of the audience it was verified for (Host and protocol, which a proxy's headers may
  // change between requests) instead of a pattern over the token and a look-up; its expiry is
  // still checked on every request.
  const lastOnConnection = new WeakMap<object, { header: string; base: string; claims: AccessClaims }>();
  const remember = (request: FastifyRequest, header: string, base: string, claims: AccessClaims) => {
    lastOnConnection.set(request.raw.socket, { header, base, claims });
    return claims;
  };
  // a callback hook: a request whose token was verified before is checked without a promise
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    if (isPublic(request.url, basePath)) return done();
    const header = request.headers.authorization ?? '';
    const base = audienceBase(request, ctx);
    const last = lastOnConnection.get(request.raw.socket);
    if (last !== undefined && last.header === header && last.base === base && tokens.unexpired(last.claims)) return done(authenticate(request, last.claims));
    const m = BEARER.exec(header);
    if (!m) {
      return done(refuse(request, new FhirError(401, { code: 'login', diagnostics: 'This server needs a SMART Backend Services access token (Authorization: Bearer …)' }, { 'www-authenticate': challenge(request) })));
    }
    if (!base) return done(refuse(request, new FhirError(400, { code: 'invalid', diagnostics: UNTRUSTED_HOST })));
    const known = tokens.verifiedAccess(m[1], base);
    if (known) return done(authenticate(request, remember(request, header, base, known)));
    tokens.verifyAccess(m[1], base).then(
      (claims) => done(authenticate(request, remember(request, header, base, claims))),
      () => done(invalid(request)),
    );
  });
  return shutdown;
}
