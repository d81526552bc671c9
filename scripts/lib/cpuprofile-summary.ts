// Sums a V8 .cpuprofile (node --cpu-prof) by function: self time and total (inclusive) time,
// over the whole profile or only its last seconds (a bench's server exits right after the timed
// load, so the tail is the timed part without start-up and warm-up).
// A window.json beside the profile (scripts/bench/validate.ts writes one: the timed load's
// monotonic microseconds, the clock V8's profiles use) limits it to that window.
// `--busiest N` takes the N seconds with the least idle time instead (the load's steady state).
//   node scripts/lib/cpuprofile-summary.ts FILE.cpuprofile [--last 5 | --busiest 5] [--top 40] [--by function|file]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { numberOption, option } from './args.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv.slice(2).find((a) => a.endsWith('.cpuprofile'));
if (!file) throw new Error('usage: cpuprofile-summary.ts FILE.cpuprofile [--last SECONDS] [--top N] [--by function|file]');
const LAST = numberOption('last', 0);
const BUSIEST = numberOption('busiest', 0);
const TOP = numberOption('top', 40);
const BY = option('by', 'function');

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function label(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(src|scripts|node_modules)\//, '$1/');
  if (BY === 'file') return url || `(${n.callFrame.functionName || 'native'})`;
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
}

// each sample's time is the delta to the next one
const times: number[] = [];
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  times.push(t);
}
const idle = (i: number) => byId.get(profile.samples[i])!.callFrame.functionName === '(idle)';
const dtOf = (i: number) => (times[i + 1] ?? profile.endTime) - times[i];
let from = LAST > 0 ? profile.endTime - LAST * 1e6 : -Infinity;
let to = Infinity;
const windowFile = join(dirname(file), 'window.json');
const timed = !LAST && !BUSIEST && existsSync(windowFile);
if (timed) ({ from, to } = JSON.parse(readFileSync(windowFile, 'utf8')) as { from: number; to: number });
if (BUSIEST > 0) {
  // two pointers over the samples: the window of BUSIEST seconds with the most busy time
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
const self = new Map<string, number>();
const total = new Map<string, number>();
let sum = 0;
for (let i = 0; i < profile.samples.length; i++) {
  if (times[i] < from || times[i] > to) continue;
  const dt = dtOf(i);
  const node = byId.get(profile.samples[i])!;
  if (idle(i)) continue;
  sum += dt;
  const own = label(node);
  self.set(own, (self.get(own) ?? 0) + dt);
  // inclusive: each label once per sample however often it recurs on the stack
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id)!);
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + dt);
  }
}
const pct = (x: number) => `${((100 * x) / sum).toFixed(1).padStart(5)} %`;
console.log(`${(sum / 1e3).toFixed(0)} ms busy${LAST ? ` in the last ${LAST} s` : BUSIEST ? ` in the busiest ${BUSIEST} s` : timed ? ` in the timed window of ${windowFile}` : ''}`);
console.log('\nself time');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(v)}  ${k}`);
console.log('\ntotal time');
for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(v)}  ${k}`);
