// GET /metrics in Prometheus's text format (prom-client): what operators watch — requests and
// latency by interaction, resource type and status; writes refused as invalid; the audit
// trail's backlog and lag; HL7 v2 messages by ACK code; the storage engine's gauges (SQLite
// database and WAL size, the WAL being the checkpoint lag; MongoDB primary reachability); and
// Node's process metrics. Labels are bounded (interaction names, R4 resource types, status
// codes): never ids, queries or anything a caller chose. Outside the FHIR base path, not
// audited, and readable per --metrics-access (loopback callers by default).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Context } from '../rest/types.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
/** seconds; FHIR reads take ~0.1–1 ms here, searches and Bundles up to seconds */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Requests and their latency, counted in plain arrays on the request path and formatted only
 * when scraped: prom-client's own Counter/Histogram hash their labels on every call (~4 µs per
 * request measured here, a quarter of a read's CPU), these cost a Map lookup. */
class RequestStats {
  private readonly series = new Map<string, { interaction: string; type: string; status: number; count: number }>();
  private readonly latency = new Map<string, { interaction: string; type: string; count: number; sum: number; buckets: Float64Array }>();

  add(interaction: string, type: string, status: number, seconds: number): void {
    const key = `${interaction}\u0000${type}`;
    const skey = `${key}\u0000${status}`;
    const s = this.series.get(skey);
    if (s) s.count++;
    else this.series.set(skey, { interaction, type, status, count: 1 });
    let l = this.latency.get(key);
    if (!l) this.latency.set(key, (l = { interaction, type, count: 0, sum: 0, buckets: new Float64Array(BUCKETS.length) }));
    l.count++;
    l.sum += seconds;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]) {
        l.buckets[i]++;
        break;
      }
    }
  }

  /** prom-client's metric interface (name, get), so the registry formats them with the rest */
  counter() {
    return {
      name: 'migfhir_http_requests_total',
      get: async () => ({
        name: 'migfhir_http_requests_total', help: 'HTTP requests answered, by FHIR interaction, resource type and status', type: 'counter', aggregator: 'sum',
        values: [...this.series.values()].map((s) => ({ labels: { interaction: s.interaction, type: s.type, status: String(s.status) }, value: s.count })),
      }),
    };
  }

  histogram() {
    const name = 'migfhir_http_request_duration_seconds';
    return {
      name,
      get: async () => ({
        name, help: 'time from request to response, by FHIR interaction and resource type', type: 'histogram', aggregator: 'sum',
        values: [...this.latency.values()].flatMap((l) => {
          const labels = { interaction: l.interaction, type: l.type };
          let cumulative = 0;
          return [
            ...BUCKETS.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: (cumulative += l.buckets[i]) })),
            { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: l.count },
            { metricName: `${name}_sum`, labels, value: l.sum },
            { metricName: `${name}_count`, labels, value: l.count },
          ];
        }),
      }),
    };
  }
}

export class Metrics {
  readonly registry = new Registry();
  private readonly stats = new RequestStats();
  private readonly invalid = new Counter({ name: 'migfhir_validation_failures_total', help: 'requests refused as invalid resources (422), by interaction and resource type', labelNames: ['interaction', 'type'], registers: [this.registry] });
  private readonly hl7v2 = new Counter({ name: 'migfhir_hl7v2_messages_total', help: 'HL7 v2 messages answered, by door (http, mllp) and ACK code (AA, AE, AR)', labelNames: ['door', 'ack'], registers: [this.registry] });
  private readonly mllpBatches = new Counter({ name: 'migfhir_mllp_batches_total', help: 'store transactions the MLLP listener applied its messages in (messages per batch: migfhir_hl7v2_messages_total{door="mllp"} over this)', registers: [this.registry] });
  private defaults = false;

  constructor(ctx: Context) {
    this.registry.registerMetric(this.stats.counter() as never);
    this.registry.registerMetric(this.stats.histogram() as never);
    const audit = ctx.audit;
    new Gauge({ name: 'migfhir_audit_backlog', help: 'AuditEvents queued or being written, not yet stored', registers: [this.registry], collect() { this.set(audit?.pending ?? 0); } });
    new Gauge({ name: 'migfhir_audit_backlog_bound', help: 'the backlog past which requests wait for the audit trail', registers: [this.registry], collect() { this.set(audit?.bound ?? 0); } });
    new Gauge({ name: 'migfhir_audit_lag_seconds', help: 'how long the oldest AuditEvent not yet stored has waited', registers: [this.registry], collect() { this.set((audit?.lagMs() ?? 0) / 1000); } });
    const store = ctx.repo.store;
    const engine = new Gauge({ name: 'migfhir_store_gauge', help: 'storage engine gauges: sqlite_database_bytes, sqlite_wal_bytes (checkpoint lag), mongodb_primary_reachable', labelNames: ['name'], registers: [this.registry], async collect() {
      engine.reset();
      const health = await store.health();
      for (const [name, value] of Object.entries(health.gauges)) engine.set({ name }, value);
    } });
    // Bulk Data jobs (src/bulk/counters.ts): by operation and state reached, running, and what they wrote
    const bulk = ctx.bulk;
    if (bulk) {
      const jobs = new Counter({ name: 'migfhir_bulk_jobs_total', help: 'Bulk Data jobs of this process that reached a state, by operation (export, import) and state (started, completed, failed, cancelled, expired)', labelNames: ['operation', 'state'], registers: [this.registry], collect() {
        jobs.reset();
        for (const [key, n] of bulk.counters.states) {
          const [operation, state] = key.split(' ');
          jobs.inc({ operation, state }, n);
        }
      } });
      const running = new Gauge({ name: 'migfhir_bulk_jobs_running', help: 'Bulk Data jobs running in this process, by operation', labelNames: ['operation'], registers: [this.registry], collect() {
        running.set({ operation: 'export' }, bulk.exports.runningCount);
        running.set({ operation: 'import' }, bulk.imports.runningCount);
      } });
      const files = new Counter({ name: 'migfhir_bulk_files_total', help: 'NDJSON files written by Bulk Data exports (output and error files) or read by imports', labelNames: ['operation'], registers: [this.registry], collect() {
        files.reset();
        for (const operation of ['export', 'import'] as const) files.inc({ operation }, bulk.counters.files[operation]);
      } });
      const resources = new Counter({ name: 'migfhir_bulk_resources_total', help: 'resources written to NDJSON by Bulk Data exports, or stored by imports', labelNames: ['operation'], registers: [this.registry], collect() {
        resources.reset();
        for (const operation of ['export', 'import'] as const) resources.inc({ operation }, bulk.counters.resources[operation]);
      } });
    }
    new Gauge({ name: 'migfhir_store_ready', help: '1 when the storage engine answers (and, on MongoDB, a primary takes writes)', registers: [this.registry], async collect() { this.set((await store.health()).ready ? 1 : 0); } });
  }

  /** One answered request (an onResponse hook). */
  answered(interaction: string, type: string, status: number, seconds: number): void {
    this.stats.add(interaction, type, status, seconds);
    if (status === 422) this.invalid.inc({ interaction, type });
  }

  message(door: 'http' | 'mllp', ack: string): void {
    this.hl7v2.inc({ door, ack });
  }

  /** One batch of MLLP messages applied (src/transport/mllp.ts). */
  mllpBatch(): void {
    this.mllpBatches.inc();
  }

  async text(): Promise<string> {
    // process metrics start with the first scrape: servers nobody scrapes keep no monitors
    if (!this.defaults) {
      collectDefaultMetrics({ register: this.registry, prefix: 'migfhir_' });
      this.defaults = true;
    }
    return this.registry.metrics();
  }
}

const byContext = new WeakMap<Context, Metrics>();

/** The server's metrics (for the doors that count HL7 v2 messages). */
export function metricsOf(ctx: Context): Metrics | undefined {
  return byContext.get(ctx);
}

function allowed(request: FastifyRequest, ctx: Context): boolean {
  const { metricsAccess, metricsToken } = ctx.config;
  if (metricsAccess === 'loopback') return LOOPBACK.has(request.socket.remoteAddress ?? '');
  if (metricsAccess !== 'token') return false;
  const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  const given = Buffer.from(m?.[1] ?? '');
  const expected = Buffer.from(metricsToken);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Counts every answered request and serves GET /metrics. */
export function registerMetrics(app: FastifyInstance, ctx: Context): Metrics {
  const metrics = new Metrics(ctx);
  byContext.set(ctx, metrics);
  const prefix = ctx.config.basePath.length + 1;
  app.addHook('onResponse', (request, reply, done) => {
    // the URL's type, or the type a fixed route names (/fhir/Patient/$match)
    let type = (request.params as { type?: string } | undefined)?.type ?? request.routeOptions.url?.slice(prefix).split('/')[0];
    if (type !== undefined && !ctx.types.has(type)) type = undefined;
    metrics.answered(request.auditInteraction ?? 'other', type ?? '', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { config: { rateLimit: false } }, async (request, reply) => {
    // the caller's socket address, not X-Forwarded-For: a proxy must not make callers local
    if (ctx.config.metricsAccess === 'off' || !allowed(request, ctx)) {
      return reply.code(ctx.config.metricsAccess === 'off' ? 404 : 403).header('content-type', 'text/plain; charset=utf-8').send(ctx.config.metricsAccess === 'off' ? 'metrics are off (--metrics-access)\n' : 'not allowed (--metrics-access)\n');
    }
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.text());
  });
  return metrics;
}
