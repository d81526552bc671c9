// Security headers (helmet, tuned for a JSON API: no content may be framed or run), CORS off
// unless origins are configured, and rate limits per client — keyed by the access token's
// client, or the address when there is none (the public /metadata and discovery) — answered
// with a 429 OperationOutcome. Requests refused for want of a valid token and token requests
// never get this far: their limits are per address, in address-limits.ts.
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../config.ts';
import { FhirError } from '../fhir/errors.ts';
import { seesSensitive, WITHHELD_HEADER, WITHHELD_NOTICE } from '../auth/sensitive.ts';

/** The headers @fastify/helmet sets for our policy. They do not depend on the request, so they
 * are computed once (helmet re-derives them on every request, 8% of a read's CPU). */
async function securityHeaders(config: Config): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false });
  await probe.register(helmet, {
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: config.corsOrigins.length ? 'cross-origin' : 'same-origin' },
  });
  probe.get('/', async () => '');
  const res = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  const skip = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);
  return Object.fromEntries(Object.entries(res.headers).filter(([k, v]) => !skip.has(k) && typeof v === 'string')) as Record<string, string>;
}

export async function registerHardening(app: FastifyInstance, config: Config): Promise<void> {
  // Health records must not be kept by browsers or proxies (OWASP ASVS 8.2.1): an answer is
  // redacted for the token that asked, and a cached one would be shown to the next token — or
  // kept on a shared machine. ETag and If-None-Match keep working for the client's own cache.
  // Routes that serve no data (the console's page files) set their own policy.
  const headers = { ...(await securityHeaders(config)), 'cache-control': 'no-store' };
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  // A client without the migration-data scope is told on every answer — a read, a search, an
  // error, an export file alike — that sensitive elements are not shown to it. Said per answer,
  // never per resource: a mark on only the records that lost something would tell whose record
  // holds migration data (src/auth/sensitive.ts).
  app.addHook('onSend', (request, reply, _payload, done) => {
    if (request.fhirAuth && !seesSensitive(request.fhirAuth)) reply.header(WITHHELD_HEADER, WITHHELD_NOTICE);
    done();
  });
  if (config.corsOrigins.length) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Prefer', 'If-Match', 'If-None-Match', 'If-None-Exist', 'If-Modified-Since', 'X-Purpose-Of-Use', 'X-Request-Id'],
      exposedHeaders: ['Location', 'Content-Location', 'ETag', 'Last-Modified', 'X-Request-Id', WITHHELD_HEADER],
    });
  }
  const max = config.rateLimit === -1 ? (config.devOpenAccess ? 0 : 6000) : config.rateLimit;
  if (max > 0) {
    await app.register(rateLimit, {
      global: true,
      max,
      timeWindow: 60_000,
      // after authentication, so the limit is per client
      hook: 'preHandler',
      keyGenerator: (request) => (request.fhirAuth ? `client:${request.fhirAuth.clientId}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) => {
        const err = new FhirError(429, { code: 'throttled', diagnostics: `Too many requests: at most ${context.max} per minute; retry after ${Math.ceil(context.ttl / 1000)} s` }, { 'retry-after': String(Math.ceil(context.ttl / 1000)) });
        return err;
      },
    });
  }
}
