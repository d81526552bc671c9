// Probes for orchestrators (Kubernetes, systemd, load balancers), outside the FHIR base path,
// without authorization and without data:
//   GET /healthz  the process answers (liveness: restart it when this fails)
//   GET /readyz   it can serve: the storage engine answers (on MongoDB, a primary takes
//                 writes), the migrant-health IG is loaded, and the audit trail's backlog is
//                 below its bound (past it requests wait for the trail); 503 naming the check
//                 that failed otherwise (readiness: send no traffic while it fails)
import type { FastifyInstance } from 'fastify';
import type { Context } from '../rest/types.ts';

interface Check {
  ok: boolean;
  detail: string;
}

export async function readiness(ctx: Context): Promise<{ ready: boolean; checks: Record<string, Check> }> {
  const store = await ctx.repo.store.health();
  const audit = ctx.audit;
  const checks: Record<string, Check> = {
    store: { ok: store.ready, detail: store.detail },
    ig: ctx.ig ? { ok: true, detail: `${ctx.ig.name} ${ctx.ig.version} loaded` } : { ok: false, detail: 'the migrant-health IG package (ig/package) is not loaded' },
    audit: !audit
      ? { ok: true, detail: 'audit off' }
      : audit.pending < audit.bound
        ? { ok: true, detail: `backlog ${audit.pending} of ${audit.bound}` }
        : { ok: false, detail: `backlog ${audit.pending} at its bound ${audit.bound}: requests wait for the audit trail` },
  };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

export function registerHealth(app: FastifyInstance, ctx: Context): void {
  const noLimit = { config: { rateLimit: false } };
  app.get('/healthz', noLimit, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'alive' }));
  app.get('/readyz', noLimit, async (_request, reply) => {
    const { ready, checks } = await readiness(ctx);
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
