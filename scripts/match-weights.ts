// Estimates the Fellegi–Sunter weights of Patient/$match from a generated training population
// (scripts/match-population.ts, another seed than the bench's, so the bench's figures are not
// fitted to themselves): for each agreement level, m = its share among candidate pairs of the
// same person and u = its share among candidate pairs of different people — pairs as blocking
// finds them (src/mpi/blocking.ts), which is where the decisions are made — and the weight is
// log2(m / u), rounded to a half. Then it sweeps the grade thresholds and prints precision@certain,
// recall@certain+probable and the rate of certain/probable answers for absent people.
//   node scripts/match-weights.ts [--people 4000] [--seed 7] [--write]   (--write updates match-config.json's weights)
import { readFileSync, writeFileSync } from 'node:fs';
import { evaluate, population } from './match-population.ts';
import { queryKeys, storedKeys } from '../src/mpi/blocking.ts';
import { compare } from '../src/mpi/score.ts';
import { matchConfig } from '../src/mpi/match-settings.ts';
import { numberOption } from './lib/args.ts';

const pop = population(numberOption('people', 4000), numberOption('seed', 7));
const index = new Map<string, string[]>();
const byId = new Map(pop.records.map((x) => [x.patient.id!, x]));
for (const x of pop.records) for (const k of storedKeys(x.patient)) (index.get(k) ?? index.set(k, []).get(k)!).push(x.patient.id!);
const queries = [...pop.records.map((x) => ({ key: x.patient.id!, reg: x })), ...pop.absent.map((x) => ({ key: `absent:${x.patient.id}`, reg: x }))];
const pairs: { key: string; a: (typeof queries)[number]['reg']; b: (typeof queries)[number]['reg'] }[] = [];
for (const q of queries) {
  const ids = new Set<string>();
  for (const k of queryKeys(q.reg.patient)) for (const id of index.get(k) ?? []) ids.add(id);
  ids.delete(q.reg.patient.id!);
  for (const id of ids) pairs.push({ key: q.key, a: q.reg, b: byId.get(id)! });
}

// m and u per level, per field (a field's levels, "missing" included, partition the pairs)
const counts = new Map<string, { m: number; u: number }>();
let M = 0;
let U = 0;
for (const p of pairs) {
  const same = p.a.person === p.b.person;
  same ? M++ : U++;
  for (const e of compare(p.a.patient, p.b.patient).evidence) {
    if (!e.key) continue;
    const c = counts.get(e.key) ?? counts.set(e.key, { m: 0, u: 0 }).get(e.key)!;
    same ? c.m++ : c.u++;
  }
}
const weights: Record<string, number> = { ...matchConfig.weights };
console.log(`${pairs.length} candidate pairs: ${M} of the same person, ${U} of different people`);
for (const [key, c] of [...counts].sort()) {
  // add-one smoothing keeps rare levels finite; weights are bounded to ±12 like an identifier's
  const w = Math.max(-12, Math.min(12, Math.round(2 * Math.log2(((c.m + 1) / (M + 2)) / ((c.u + 1) / (U + 2)))) / 2));
  console.log(`${key.padEnd(24)} m ${(c.m / M).toFixed(4)} u ${(c.u / U).toFixed(4)} log2(m/u) ${w} (config ${matchConfig.weights[key as keyof typeof matchConfig.weights]})`);
  // identifiers, names and the interaction weights keep their reasoned values (docs/match.md): an
  // identifier match is decisive by definition, blocking picks candidate pairs by their names (so
  // name agreement is common among them whoever they are), and twins are too rare for a stable estimate
  if (!/^(identifier|family|given)/.test(key) && !['twins', 'multipleBirthDifferent'].includes(key)) weights[key] = w;
}
if (process.argv.includes('--write')) {
  const path = new URL('../src/mpi/match-config.json', import.meta.url);
  const json = JSON.parse(readFileSync(path, 'utf8'));
  json.weights = { ...json.weights, ...weights };
  writeFileSync(path, JSON.stringify(json, null, 2) + '\n');
  console.log('weights written to src/mpi/match-config.json (restart to sweep with them)');
}

// grade thresholds with the configured weights
const results = pairs.map((p) => ({ ...p, r: compare(p.a.patient, p.b.patient) }));
console.log('certain probable | precision@certain recall@c+p absent c/p');
for (const certain of [12, 13]) {
  for (const probable of [7.5, 8, 8.5, 9, 9.5, 10]) {
    const grades = { certain, probable, possible: Math.min(probable - 1, matchConfig.grades.possible) };
    const answers = new Map<string, { id: string; grade: string }[]>();
    for (const p of results) {
      const r = compare(p.a.patient, p.b.patient, { ...matchConfig, grades });
      if (r.grade !== 'certainly-not') (answers.get(p.key) ?? answers.set(p.key, []).get(p.key)!).push({ id: p.b.patient.id!, grade: r.grade });
    }
    const ev = evaluate(pop, answers);
    console.log(`${String(certain).padStart(7)} ${String(probable).padStart(8)} | ${(ev.byGrade.certain?.precision ?? 1).toFixed(4)} ${ev.recallCertainProbable.toFixed(4)} ${(ev.absentCertainProbable * 100).toFixed(2)} %`);
  }
}
