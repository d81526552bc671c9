// Scratch: validates every instance of the R4 package and prints error counts by message.
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ProfileRegistry } from '../src/validation/profiles.ts';
import { BindingChecker } from '../src/validation/bindings.ts';
import { Validator } from '../src/validation/validator.ts';
import { Terminology } from '../src/terminology/service.ts';
import { loadDefinitions } from '../src/fhir/definitions.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const v = new Validator(new ProfileRegistry(), new BindingChecker(new Terminology()), loadDefinitions().resourceTypes);
const only = process.argv[2];
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'package.json' && (!only || f.includes(only)));
const counts = new Map<string, number>();
const byFile: string[] = [];
let n = 0, errs = 0;
const resources = files.map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8'))] as const);
if (process.env.WARM) for (const [, r] of resources) v.validate(r);
const t0 = performance.now();
for (const [f, r] of resources) {
  if (!r.resourceType) continue;
  if (process.env.INSTANCES && /^(StructureDefinition|SearchParameter|ValueSet|CodeSystem|ConceptMap|OperationDefinition|CompartmentDefinition|CapabilityStatement|NamingSystem|ImplementationGuide|StructureMap)$/.test(r.resourceType)) continue;
  if (process.env.INSTANCES && r.resourceType === 'Bundle' && /^Bundle-(types|resources|profiles|valuesets|v2-|v3-|valueset|conceptmaps|dataelements|extensions|searchParams)/.test(f)) continue;
  n++;
  const issues = v.validate(r).filter((i) => i.severity === 'error');
  if (issues.length) { errs++; byFile.push(`${f}: ${issues.length} ${issues[0].expression} ${issues[0].diagnostics.slice(0, 150)}`); }
  for (const i of issues) { const k = i.diagnostics.replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N').slice(0, 120); counts.set(k, (counts.get(k) ?? 0) + 1); }
}
const ms = performance.now() - t0;
console.log(`${n} resources, ${errs} with errors, ${Math.round(ms)} ms (${Math.round(n / (ms / 1000))}/s)`);
for (const [k, c] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(c, k);
if (process.env.FILES) console.log(byFile.slice(0, Number(process.env.FILES)).join('\n'));
if ((globalThis as any).__inv) console.log([...(globalThis as any).__inv].sort((a: any, b: any) => b[1] - a[1]).slice(0, 30).map(([k, v]: any) => `${k}:${v}`).join(' '));
