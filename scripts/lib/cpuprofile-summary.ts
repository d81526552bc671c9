// Sums a V8 .cpuprofile (node --cpu-prof) by function or file: self time and total (inclusive)
// time, over the whole profile or only part of it (a bench's server exits right after the timed
// load, so the tail is the timed part without start-up and warm-up).
// A window.json beside the profile (scripts/bench/validate.ts writes one: the timed load's
// monotonic microseconds, the clock V8's profiles use) limits it to that window.
// `--busiest N` takes the N seconds with the least idle time instead (the load's steady state).
// `--per N` also prints µs a unit of work (e.g. the messages or requests sent).
//   node scripts/lib/cpuprofile-summary.ts FILE.cpuprofile [--last 5 | --busiest 5] [--top 40] [--by function|file] [--per N]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { numberOption, option } from './args.ts';
import { readProfile, sampleTimes, sumProfile, type SumBy } from './cpuprofile.ts';

const file = process.argv.slice(2).find((a) => a.endsWith('.cpuprofile'));
if (!file) throw new Error('usage: cpuprofile-summary.ts FILE.cpuprofile [--last SECONDS | --busiest SECONDS] [--top N] [--by function|file] [--per N]');
const LAST = numberOption('last', 0);
const BUSIEST = numberOption('busiest', 0);
const TOP = numberOption('top', 40);
const PER = numberOption('per', 0);
const BY = option('by', 'function') as SumBy;

const profile = readProfile(file);
let from = LAST > 0 ? profile.endTime - LAST * 1e6 : -Infinity;
let to = Infinity;
const windowFile = join(dirname(file), 'window.json');
const timed = !LAST && !BUSIEST && existsSync(windowFile);
if (timed) ({ from, to } = JSON.parse(readFileSync(windowFile, 'utf8')) as { from: number; to: number });
if (BUSIEST > 0) {
  // two pointers over the samples: the window of BUSIEST seconds with the most busy time
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const times = sampleTimes(profile);
  const idle = (i: number) => byId.get(profile.samples[i])!.callFrame.functionName === '(idle)';
  const dtOf = (i: number) => (times[i + 1] ?? profile.endTime) - times[i];
  let best = -1;
  let busy = 0;
  let a = 0;
  for (let b = 0; b < times.length; b++) {
    if (!idle(b)) busy += dtOf(b);
    while (times[b] - times[a] > BUSIEST * 1e6) {
      if (!idle(a)) busy -= dtOf(a);
      a++;
    }
    if (busy > best) {
      best = busy;
      from = times[a];
      to = times[b];
    }
  }
}
const { busy, idle, self, total } = sumProfile(profile, BY, from, to);
const pct = (x: number) => `${((100 * x) / busy).toFixed(1).padStart(5)} %`;
const perUnit = (x: number) => (PER ? `  ${(x / PER).toFixed(1).padStart(7)} µs` : '');
const where = LAST ? ` in the last ${LAST} s` : BUSIEST ? ` in the busiest ${BUSIEST} s` : timed ? ` in the timed window of ${windowFile}` : '';
console.log(`${(busy / 1e3).toFixed(0)} ms busy, ${(idle / 1e3).toFixed(0)} ms idle${where}${PER ? ` (${(busy / PER).toFixed(1)} µs a unit over ${PER})` : ''}`);
console.log('\nself time');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(v)}${perUnit(v)}  ${k}`);
console.log('\ntotal time');
for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(v)}${perUnit(v)}  ${k}`);
