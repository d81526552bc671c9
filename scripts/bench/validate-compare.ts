// Two versions of the server compared in one process, for a machine too busy for separate runs to
// agree (alternated HTTP runs of the same code differed 2× at load 13): both checkouts' modules are
// imported side by side and run in alternating passes over the R4 example instances, each pass's
// CPU time from process.cpuUsage, the answers checked identical first.
//  --only validator (default): each version's offline validator on the 714 instances (or --files);
//  --only inject: each version's whole app, `POST [type]/$validate` of the instances through
//    fastify.inject (routing, hooks, body parse, handler, reply; no socket);
//  --only floor: the same with one minimal Basic (what a request costs besides validating).
// Prints each side's CPU a resource or request per pass, the medians and the median of the paired
// ratios new/base (an A/B of identical code gave 1.003 at load 13: read ±3–5 % as noise).
//   node scripts/bench/validate-compare.ts --base ../validator-base [--new .] [--passes 16] [--only validator|inject|floor] [--files A.json,B.json]
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { numberOption, option } from '../lib/args.ts';

const BASE = resolve(option('base', ''));
const NEW = resolve(option('new', '.'));
const PASSES = numberOption('passes', 16);
const ONLY = option('only', 'validator');
const FILES = option('files', '');
if (!option('base', '')) throw new Error('usage: validate-compare.ts --base DIR [--new DIR] [--passes N] [--only validator|inject|floor] [--files A.json,B.json]');

const DEFINITIONAL = /^(StructureDefinition|SearchParameter|ValueSet|CodeSystem|ConceptMap|OperationDefinition|CompartmentDefinition|CapabilityStatement|NamingSystem|ImplementationGuide|StructureMap)$/;
const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
let instances = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'package.json')
  .map((f) => ({ f, r: JSON.parse(readFileSync(join(dir, f), 'utf8')) as { resourceType: string } }))
  .filter((x) => typeof x.r.resourceType === 'string')
  .filter((x) => !DEFINITIONAL.test(x.r.resourceType) && !(x.r.resourceType === 'Bundle' && /^Bundle-(types|resources|profiles|valuesets|v2-|v3-|valueset|conceptmaps|dataelements|extensions|searchParams)/.test(x.f)));
if (FILES) {
  const keep = new Set(FILES.split(','));
  instances = instances.filter((x) => keep.has(x.f));
}
if (ONLY === 'floor') instances = Array.from({ length: 714 }, () => ({ f: 'Basic', r: { resourceType: 'Basic', code: { text: 'x' } } as { resourceType: string } }));

/** One version's unit of work over every instance; answers a comparable text per instance. */
interface Side {
  run(i: number): Promise<string> | string;
  close(): Promise<void>;
}

async function side(root: string): Promise<Side> {
  if (ONLY === 'validator') {
    const { offlineValidator } = (await import(join(root, 'src/validation/offline.ts'))) as typeof import('../../src/validation/offline.ts');
    const { validator } = offlineValidator();
    return { run: (i) => JSON.stringify(validator.validate(instances[i].r, { definitions: true })), close: async () => undefined };
  }
  const { buildApp } = (await import(join(root, 'src/app.ts'))) as typeof import('../../src/app.ts');
  const { loadConfig } = (await import(join(root, 'src/config.ts'))) as typeof import('../../src/config.ts');
  const data = mkdtempSync(join(tmpdir(), 'migfhir-validate-compare-'));
  const app = await buildApp(loadConfig(['--data-dir', data, '--dev-open-access', '--log-level', 'warn']));
  await app.ready();
  const requests = instances.map((x) => ({ method: 'POST' as const, url: `/fhir/${x.r.resourceType}/$validate`, headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(x.r) }));
  return {
    run: async (i) => {
      const res = await app.inject(requests[i]);
      return `${res.statusCode} ${res.body}`;
    },
    close: async () => {
      await app.close();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

const base = await side(BASE);
const next = await side(NEW);
let different = 0;
for (let i = 0; i < instances.length; i++) {
  if ((await base.run(i)) !== (await next.run(i))) {
    different++;
    console.log(`different answers: ${instances[i].f}`);
  }
}
console.log(`${instances.length} ${ONLY === 'validator' ? 'instances' : 'requests'} a pass, answers ${different ? `DIFFERENT for ${different}` : 'identical'}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

async function pass(s: Side): Promise<number> {
  const t = process.cpuUsage();
  for (let i = 0; i < instances.length; i++) await s.run(i);
  const u = process.cpuUsage(t);
  return (u.user + u.system) / instances.length;
}

await pass(base);
await pass(next);
const times = { base: [] as number[], next: [] as number[] };
for (let k = 0; k < PASSES; k++) {
  // the order alternates, so neither side always runs right after the other's garbage
  if (k % 2) {
    times.next.push(await pass(next));
    times.base.push(await pass(base));
  } else {
    times.base.push(await pass(base));
    times.next.push(await pass(next));
  }
}
const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];
const unit = ONLY === 'validator' ? 'resource' : 'request';
console.log(`base µs CPU a ${unit}: median ${median(times.base).toFixed(0)} (passes ${times.base.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`new  µs CPU a ${unit}: median ${median(times.next).toFixed(0)} (passes ${times.next.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`median of the paired ratios new/base ${median(times.base.map((b, i) => times.next[i] / b)).toFixed(3)}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
await base.close();
await next.close();
