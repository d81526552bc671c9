// A Bulk Data client for tests, driving the app as one would over HTTP: kick-off with
// Prefer: respond-async, poll the status URL until the manifest, download every file with the
// same headers (the bearer token), and read the NDJSON lines.
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.ts';
import { testConfig, type Config } from '../../src/config.ts';
import type { ResourceStore } from '../../src/store/types.ts';

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: { type: string; url: string; count: number }[];
}

export interface ExportRun {
  status: string;
  manifest: Manifest;
  /** every line of every output file, parsed, by file url */
  files: Map<string, any[]>;
  /** polls answered 202 before the manifest */
  polls: number;
}

/** The path of an absolute URL of the test app (http://test.local/fhir/… → /fhir/…). */
export function pathOf(url: string): string {
  return new URL(url).pathname + new URL(url).search;
}

export async function kickOff(app: FastifyInstance, method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await app.inject({
    method,
    url,
    headers: { prefer: 'respond-async', accept: 'application/fhir+json', ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  } as InjectOptions);
  return res;
}

/** Polls until the job is no longer in progress; waits for the app's jobs between polls. Gives
 * up after two minutes: a job's first import starts a prepare thread, which compiles the
 * definitions first (more than 10 s when the machine is loaded). */
export async function poll(app: FastifyInstance, status: string, headers: Record<string, string> = {}) {
  let polls = 0;
  const end = Date.now() + 120_000;
  for (;;) {
    const res = await app.inject({ method: 'GET', url: pathOf(status), headers });
    if (res.statusCode !== 202) return { res, polls };
    polls++;
    await new Promise((r) => setTimeout(r, 5));
    if (Date.now() > end) throw new Error('the job never finished');
  }
}

/** kick-off → poll → manifest → every file downloaded. */
export async function runExport(app: FastifyInstance, method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, body?: unknown): Promise<ExportRun> {
  const kick = await kickOff(app, method, url, headers, body);
  if (kick.statusCode !== 202) throw new Error(`kick-off answered ${kick.statusCode}: ${kick.body}`);
  const status = kick.headers['content-location'] as string;
  const { res, polls } = await poll(app, status, headers);
  if (res.statusCode !== 200) throw new Error(`status answered ${res.statusCode}: ${res.body}`);
  const manifest = JSON.parse(res.body) as Manifest;
  const files = new Map<string, any[]>();
  for (const f of [...manifest.output, ...manifest.error]) {
    const file = await app.inject({ method: 'GET', url: pathOf(f.url), headers });
    if (file.statusCode !== 200) throw new Error(`file ${f.url} answered ${file.statusCode}`);
    files.set(f.url, file.body.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  }
  return { status, manifest, files, polls };
}

/** The ids written per type over every output file. */
export function idsByType(run: ExportRun): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of run.manifest.output) for (const r of run.files.get(f.url) ?? []) (out[r.resourceType] ??= []).push(r.id);
  for (const ids of Object.values(out)) ids.sort();
  return out;
}

/** An app over `store` with its own data folder (where job files go), both removed at the end. */
export async function bulkApp(t: Test, store: ResourceStore, config: Partial<Config> = {}): Promise<FastifyInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-bulk-'));
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', dataDir: dir, ...config }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return app;
}
