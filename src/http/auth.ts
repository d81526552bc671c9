// SMART Backend Services on the HTTP side: discovery (/.well-known/smart-configuration), the
// token endpoint, and the bearer-token check in front of every FHIR interaction. Token
// endpoint errors use OAuth's JSON shape (RFC 6749 §5.2), which OAuth clients expect;
// everything under the FHIR API answers OperationOutcomes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError } from '../fhir/errors.ts';
import type { Context } from '../rest/types.ts';
import { OAuthError, TokenService, ASSERTION_ALGS } from '../auth/tokens.ts';
import { MIGRATION_DATA_SCOPE } from '../auth/scopes.ts';
import { checkPurposes, parsePurpose, parsePurposes, purposeText, PURPOSE_HEADER } from '../auth/purpose.ts';
import type { AuthContext } from '../auth/authorize.ts';
import { baseUrlOf } from './routes.ts';

const PUBLIC = new Set(['/metadata', '/.well-known/smart-configuration', '/auth/token']);

declare module 'fastify' {
  interface FastifyRequest {
    fhirAuth?: AuthContext;
  }
}

export function registerAuth(app: FastifyInstance, ctx: Context, tokens: TokenService | undefined): void {
  app.get('/.well-known/smart-configuration', async (request, reply) => {
    const base = baseUrlOf(request, ctx);
    return reply.header('content-type', 'application/json').send({
      token_endpoint: `${base}/auth/token`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['system/*.read', 'system/*.write', 'system/*.cruds', 'system/*.rs', MIGRATION_DATA_SCOPE],
      capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
    });
  });

  app.post('/auth/token', async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache').header('content-type', 'application/json');
    if (!tokens) return reply.code(400).send({ error: 'invalid_request', error_description: 'authorization is off (development open access)' });
    const form = Object.fromEntries(Object.entries((request.body ?? {}) as Record<string, string[]>).map(([k, v]) => [k, Array.isArray(v) ? v[0] : undefined]));
    const base = baseUrlOf(request, ctx);
    try {
      return reply.send(await tokens.issue(form, `${base}/auth/token`, base));
    } catch (err) {
      if (err instanceof OAuthError) {
        request.log.info({ client: String(form.client_id ?? '').slice(0, 64), error: err.code }, 'token request refused');
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
    return;
  }
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.slice(ctx.config.basePath.length).split('?')[0].replace(/\/+$/, '');
    if (PUBLIC.has(path)) return;
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+([A-Za-z0-9\-_.]+)$/i.exec(header);
    const challenge = (error?: string) => `Bearer realm="${baseUrlOf(request, ctx)}"${error ? `, error="${error}"` : ''}`;
    if (!m) {
      throw new FhirError(401, { code: 'login', diagnostics: 'This server needs a SMART Backend Services access token (Authorization: Bearer …)' }, { 'www-authenticate': challenge() });
    }
    let claims;
    try {
      claims = await tokens.verifyAccess(m[1], baseUrlOf(request, ctx));
    } catch {
      throw new FhirError(401, { code: 'login', diagnostics: 'The access token is invalid or expired' }, { 'www-authenticate': challenge('invalid_token') });
    }
    // the token's purposes (from the client's registration) and the request's, checked alike
    // (the client is known before the header is parsed, so a 400 for it is audited under it)
    const own = (claims.purposeOfUse ?? []).map(parsePurpose);
    const auth: AuthContext = { clientId: claims.clientId, scopes: claims.scopes, purposeOfUse: own.map(purposeText) };
    request.fhirAuth = auth;
    const stated = parsePurposes(request.headers[PURPOSE_HEADER] as string | undefined);
    const purposes = stated.length ? [...own, ...stated] : own;
    if (stated.length) auth.purposeOfUse = purposes.map(purposeText);
    checkPurposes(purposes, ctx.config.refusedPurposes);
    void reply;
  });
}
