// Search latency on a large store (load it first with scripts/load-population.ts). Starts the
// server on the data dir and measures p50/p95/p99 of sequential requests per query kind, with
// values drawn across the population, each answering a page of 20.
//   node scripts/load-population.ts --data-dir /tmp/migfhir-1m --resources 1000000
//   node scripts/bench/search-1m.ts --data-dir /tmp/migfhir-1m [--requests 200]
import { startServer } from '../lib/server-process.ts';
import { resolve } from 'node:path';
import { option } from '../lib/args.ts';

const DIR = resolve(option('data-dir', './data-bench'));
const N = Number(option('requests', '200'));
const PATIENTS = Number(option('patients', '71000'));

const { child, base } = await startServer(['src/cli/main.ts', 'serve', '--dev-open-access'], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: DIR, MIGFHIR_LOG_LEVEL: 'warn' });

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
const p = () => Math.floor(rnd() * PATIENTS);
const FAMILY = ['Hadd', 'Mans', 'Ahma', 'Hoss', 'Tekl', 'Moha', 'Shev', 'Mull', 'Ozde', 'Nguy', 'Dar', 'Sal', 'Kar'];
const kinds: [string, string, () => string][] = [
  ['token', 'Patient?identifier', () => `Patient?identifier=ID${p()}`],
  ['token', 'Observation?code (many matches)', () => `Observation?code=http://loinc.org|${['8867-4', '8480-6', '8462-4', '29463-7', '8310-5'][Math.floor(rnd() * 5)]}`],
  ['string', 'Patient?name=prefix', () => `Patient?name=${FAMILY[Math.floor(rnd() * FAMILY.length)]}`],
  ['date', 'Observation?date=month', () => { const m = 1 + Math.floor(rnd() * 11); return `Observation?date=ge2024-${String(m).padStart(2, '0')}-01&date=lt2024-${String(m + 1).padStart(2, '0')}-01`; }],
  ['reference', 'Observation?subject', () => `Observation?subject=Patient/pat-${p()}`],
  ['chain', 'Observation?subject:Patient.identifier', () => `Observation?subject:Patient.identifier=ID${p()}`],
  ['chain', 'Observation?encounter.subject:Patient.identifier (2 levels)', () => `Observation?encounter.subject:Patient.identifier=ID${p()}`],
  ['_has', 'Patient?_has:Encounter:subject:class', () => `Patient?_has:Encounter:subject:class=${['AMB', 'FLD', 'EMER'][Math.floor(rnd() * 3)]}`],
  ['_has', 'Patient?_has:Observation:subject:code', () => `Patient?_has:Observation:subject:code=8867-4`],
  ['_include', 'Observation?code&_include=Observation:subject', () => `Observation?code=8480-6&_include=Observation:subject`],
  ['_include', 'Encounter?subject&_include=Encounter:subject', () => `Encounter?subject=Patient/pat-${p()}&_include=Encounter:subject&_revinclude=Observation:encounter`],
];

const pct = (a: number[], q: number) => a[Math.min(a.length - 1, Math.floor(a.length * q))];
console.log(`${N} sequential requests per query, ${DIR}\n`);
console.log('kind       query                                                    p50 ms  p95 ms  p99 ms  entries');
try {
  for (const [kind, name, make] of kinds) {
    for (let w = 0; w < 10; w++) await (await fetch(`${base}/${make()}`)).arrayBuffer();
    const times: number[] = [];
    let entries = 0;
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      const res = await fetch(`${base}/${make()}`);
      const body = (await res.json()) as { entry?: unknown[]; resourceType: string };
      times.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      entries += body.entry?.length ?? 0;
    }
    times.sort((a, b) => a - b);
    console.log(`${kind.padEnd(10)} ${name.padEnd(56)} ${pct(times, 0.5).toFixed(1).padStart(6)}  ${pct(times, 0.95).toFixed(1).padStart(6)}  ${pct(times, 0.99).toFixed(1).padStart(6)}  ${(entries / N).toFixed(1).padStart(6)}`);
  }
} finally {
  child.kill('SIGTERM');
}
