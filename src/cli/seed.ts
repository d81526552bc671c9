// `migfhir seed [--data-dir DIR | --server URL [--token T]]`: loads a small demo population
// (demo-population.json, built by scripts/seed/build.ts; every person invented) through the
// server's own doors — national imports, HL7 v2 messages, a clinical record transaction,
// screenings scored with $score — so the README's examples and the console have people to show.
// Into a running server (--server, with a token when authorization is on) or straight into a
// local data folder (in-process, as the folder's operator). Loading it again adds nothing: the
// imports recognise re-sent messages, the record and the screenings are PUT by id, and re-scoring an unchanged response stores
// no second score.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config.ts';

export interface SeedStep {
  title: string;
  method: 'POST' | 'PUT';
  /** relative to the FHIR base */
  url: string;
  body?: unknown;
  /** HL7 v2 ER7 text, sent as x-application/hl7-v2+er7 */
  er7?: string;
}

const USAGE = 'Usage: migfhir seed [--data-dir DIR | --server URL [--token TOKEN]]';

export function demoPopulation(): SeedStep[] {
  return (JSON.parse(readFileSync(new URL('./demo-population.json', import.meta.url), 'utf8')) as { steps: SeedStep[] }).steps;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

type Send = (step: SeedStep, headers: Record<string, string>, payload: string) => Promise<{ status: number; text: string }>;

function request(step: SeedStep): { headers: Record<string, string>; payload: string } {
  return step.er7 !== undefined
    ? { headers: { 'content-type': 'x-application/hl7-v2+er7; charset=utf-8', accept: 'application/fhir+json' }, payload: step.er7 }
    : step.body === undefined
      ? { headers: { accept: 'application/fhir+json' }, payload: '' }
      : { headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' }, payload: JSON.stringify(step.body) };
}

/** Runs every step; answers the failures (title and status with the first issue). */
export async function seed(send: Send, out: (line: string) => void = () => undefined): Promise<string[]> {
  const failures: string[] = [];
  for (const step of demoPopulation()) {
    const { headers, payload } = request(step);
    const res = await send(step, headers, payload);
    const ok = res.status >= 200 && res.status < 300;
    let why = '';
    if (!ok) {
      try {
        why = (JSON.parse(res.text) as { issue?: { diagnostics?: string }[] }).issue?.[0]?.diagnostics ?? '';
      } catch {
        why = res.text.slice(0, 200);
      }
      failures.push(`${step.title}: ${res.status} ${why}`);
    }
    out(`${ok ? 'ok  ' : 'FAIL'} ${res.status} ${step.title}${why ? ` — ${why}` : ''}`);
  }
  return failures;
}

/** The steps against an app in this process (tests, and the data-folder mode). */
export function injectInto(app: FastifyInstance, basePath: string): Send {
  return async (step, headers, payload) => {
    const res = await app.inject({ method: step.method, url: `${basePath}/${step.url}`, headers, payload });
    return { status: res.statusCode, text: res.body };
  };
}

export async function seedCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const server = option(argv, '--server');
  let failures: string[];
  if (server) {
    const token = option(argv, '--token');
    const base = server.replace(/\/+$/, '');
    failures = await seed(async (step, headers, payload) => {
      // no body at all for a step without one: fetch would send '' as text/plain
      const res = await fetch(`${base}/${step.url}`, { method: step.method, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(payload ? { body: payload } : {}) });
      return { status: res.status, text: await res.text() };
    }, print);
  } else {
    const dataDir = option(argv, '--data-dir');
    const { buildApp } = await import('../app.ts');
    // the operator of the data folder: in-process, no listener, so no access control to pass
    const config = { ...loadConfig([...(dataDir ? ['--data-dir', dataDir] : []), '--log-level', 'silent']), devOpenAccess: true };
    const app = await buildApp(config);
    try {
      failures = await seed(injectInto(app, config.basePath), print);
    } finally {
      await app.close();
    }
  }
  process.stdout.write(failures.length ? `migfhir: ${failures.length} step(s) failed\n` : 'migfhir: demo population loaded\n');
  return failures.length ? 1 : 0;
}
