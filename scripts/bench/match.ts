// Precision and recall of Patient/$match on a generated cross-border population
// (scripts/match-population.ts, default 2,000 people), the rate of certain/probable answers for
// people who were never stored, and latency. node scripts/bench/match.ts [--people 2000] [--seed 42]
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { evaluate, population } from '../match-population.ts';
import { numberOption } from '../lib/args.ts';

const PEOPLE = numberOption('people', 2000);
const store = new SqliteStore({ path: ':memory:' });
const app = await buildApp(testConfig({ baseUrl: 'http://bench/fhir' }), { store });
const pop = population(PEOPLE, numberOption('seed', 42));
const regs = pop.records;
const t0 = performance.now();
for (let k = 0; k < regs.length; k += 500) {
  const entry = regs.slice(k, k + 500).map((x) => ({ resource: x.patient, request: { method: 'PUT', url: `Patient/${x.patient.id}` } }));
  const res = await app.inject({ method: 'POST', url: '/fhir', headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
  if (res.statusCode !== 200) throw new Error(res.body.slice(0, 500));
}
const loadSecs = (performance.now() - t0) / 1000;
const answers = new Map<string, { id: string; grade: string }[]>();
const times: number[] = [];
const queries = [...regs.map((x) => ({ key: x.patient.id!, patient: x.patient })), ...pop.absent.map((x) => ({ key: `absent:${x.patient.id}`, patient: x.patient }))];
for (const q of queries) {
  const { id: _id, ...input } = q.patient;
  void _id;
  const t = performance.now();
  const res = await app.inject({ method: 'POST', url: '/fhir/Patient/$match', headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: input }] }) });
  times.push(performance.now() - t);
  const body = JSON.parse(res.body);
  answers.set(q.key, (body.entry ?? []).map((e: any) => ({ id: e.resource.id, grade: e.search.extension.find((x: any) => x.url.endsWith('/match-grade')).valueCode })).filter((a: { id: string }) => a.id !== q.patient.id));
}
times.sort((a, b) => a - b);
const ev = evaluate(pop, answers);
console.log(`people ${ev.people} stored + ${ev.absentQueries} absent, records ${ev.records}, true pairs ${ev.truePairs}, loaded in ${loadSecs.toFixed(1)} s`);
for (const [g, v] of Object.entries(ev.byGrade)) console.log(`grade ${g.padEnd(9)} returned ${String(v.returned).padStart(6)} precision ${v.precision.toFixed(4)}`);
console.log(`precision@certain ${(ev.byGrade.certain?.precision ?? 1).toFixed(4)} (target ≥ 0.99)`);
console.log(`recall@certain+probable ${ev.recallCertainProbable.toFixed(4)} (target ≥ 0.95); any grade ${ev.recallAny.toFixed(4)}`);
console.log(`absent people answered certain/probable ${(ev.absentCertainProbable * 100).toFixed(2)} % of ${ev.absentQueries} (target ≤ 2 %)`);
console.log(`$match latency over ${times.length} calls: p50 ${times[Math.floor(times.length * 0.5)].toFixed(1)} ms, p95 ${times[Math.floor(times.length * 0.95)].toFixed(1)} ms`);
await app.close();
