// Validator throughput on one core, measured in one run (the machine is noisy, so compare the
// rows of one run, not runs):
//  1. the official R4 example instances (hl7.fhir.r4.examples, without the definitional
//     resources) against base R4 — target ≥ 3,000 resources/s;
//  2. every instance of the package, definitions included (655 StructureDefinitions …);
//  3. resources against profiles with slicing and bindings: the migrant-health IG's
//     MigrantPatient / MigrantEncounter / ReferralServiceRequest examples, and the R4 blood
//     pressure profile (component slices, vital-signs category slice) — target ≥ 1,500/s;
//  4. validate-on-write: create throughput (in process, fastify.inject) with validation on
//     (`profiles`, the default) against `off`, reported as a ratio.
//   node scripts/bench/validate.ts [--seconds 3]
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadIgPackage } from '../../src/ig/package.ts';
import { offlineValidator } from '../../src/validation/offline.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { numberOption } from '../lib/args.ts';

const SECONDS = numberOption('seconds', 3);
const DEFINITIONAL = /^(StructureDefinition|SearchParameter|ValueSet|CodeSystem|ConceptMap|OperationDefinition|CompartmentDefinition|CapabilityStatement|NamingSystem|ImplementationGuide|StructureMap)$/;

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'package.json')
  .map((f) => ({ f, r: JSON.parse(readFileSync(join(dir, f), 'utf8')) }))
  .filter((x) => typeof x.r.resourceType === 'string');
const instances = all.filter((x) => !DEFINITIONAL.test(x.r.resourceType) && !(x.r.resourceType === 'Bundle' && /^Bundle-(types|resources|profiles|valuesets|v2-|v3-|valueset|conceptmaps|dataelements|extensions|searchParams)/.test(x.f)));

const { validator } = offlineValidator();
const ig = loadIgPackage();

/** Resources per second over `seconds`, after one warm-up pass (compiling definitions). */
function rate(items: { r: unknown; profiles?: string[] }[], seconds = SECONDS): { perSecond: number; errors: number } {
  let errors = 0;
  for (const it of items) errors += validator.validate(it.r, { profiles: it.profiles }).filter((i) => i.severity === 'error').length;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (const it of items) validator.validate(it.r, { profiles: it.profiles });
    n += items.length;
  }
  return { perSecond: Math.round(n / ((performance.now() - t0) / 1000)), errors };
}

const igExamples = ig
  ? readdirSync(join(dirname(new URL(import.meta.url).pathname), '../../ig/package/example')).map((f) => ({ r: JSON.parse(readFileSync(join(dirname(new URL(import.meta.url).pathname), '../../ig/package/example', f), 'utf8')) }))
  : [];
const bp = JSON.parse(readFileSync(join(dir, 'Observation-blood-pressure.json'), 'utf8'));
const profiled = [...igExamples, { r: bp, profiles: ['http://hl7.org/fhir/StructureDefinition/bp'] }];

async function createRate(validation: string): Promise<number> {
  const data = mkdtempSync(join(tmpdir(), 'migfhir-bench-validate-'));
  const app = await buildApp(loadConfig(['--data-dir', data, '--dev-open-access', '--log-level', 'silent', '--validation', validation]));
  const body = readFileSync(join(dirname(new URL(import.meta.url).pathname), '../../ig/package/example/Patient-paaypa-applicant.json'), 'utf8');
  const post = () => app.inject({ method: 'POST', url: '/fhir/Patient', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, payload: body });
  for (let i = 0; i < 200; i++) await post();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const res = await post();
    if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    n++;
  }
  await app.close();
  rmSync(data, { recursive: true, force: true });
  return Math.round(n / ((performance.now() - t0) / 1000));
}

const base = rate(instances.map((x) => ({ r: x.r })));
const everything = rate(all.map((x) => ({ r: x.r })));
const prof = rate(profiled);
const on = await createRate('profiles');
const off = await createRate('off');
const on2 = await createRate('profiles');
console.log(`official R4 example instances vs base R4 (${instances.length}): ${base.perSecond}/s (target ≥ 3,000), ${base.errors} errors (genuinely invalid examples)`);
console.log(`every package instance incl. definitions (${all.length}): ${everything.perSecond}/s`);
console.log(`profiles with slicing and bindings (${profiled.length}: IG examples + bp): ${prof.perSecond}/s (target ≥ 1,500), ${prof.errors} errors`);
console.log(`create with validation ${Math.round((on + on2) / 2)}/s vs without ${off}/s: ratio ${((on + on2) / 2 / off).toFixed(2)}`);
