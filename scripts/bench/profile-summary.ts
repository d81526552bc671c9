// Sums a V8 .cpuprofile's self time by function (name, file and line), to compare where a
// thread's time goes before and after a change (the benches' --cpu-prof leaves one file per
// thread). `--per N` divides by N units of work (e.g. the messages sent), printing µs a unit;
// `--by file` sums by source file instead of by function; `--inclusive` counts each function's
// time with what it calls (once a sample, however deep it recurses).
//   node scripts/bench/profile-summary.ts FILE.cpuprofile [--top 40] [--per N] [--by function|file] [--inclusive]
import { readFileSync } from 'node:fs';
import { numberOption, option } from '../lib/args.ts';

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
if (!file) throw new Error('usage: node scripts/bench/profile-summary.ts FILE.cpuprofile [--top 40] [--per N] [--by function|file]');
const TOP = numberOption('top', 40);
const PER = numberOption('per', 0);
const BY = option('by', 'function');
const INCLUSIVE = process.argv.includes('--inclusive');

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
/** µs of samples attributed to each node: a sample's delta is the time up to it */
const self = new Map<number, number>();
for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));

const shortUrl = (url: string) => url.replace(/^file:\/\/.*?\/(src|node_modules|scripts)\//, '$1/').replace(/^node:/, 'node:');
const keyOf = (n: ProfileNode) => {
  const { functionName, url, lineNumber } = n.callFrame;
  if (BY === 'file') return url ? shortUrl(url) : `(${functionName || 'anonymous'})`;
  return `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
};
/** each node's parent, for inclusive sums */
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const sums = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, us] of self) {
  const node = byId.get(id)!;
  const name = node.callFrame.functionName;
  if (name === '(idle)') {
    idle += us;
    continue;
  }
  total += us;
  if (!INCLUSIVE) {
    const key = keyOf(node);
    sums.set(key, (sums.get(key) ?? 0) + us);
    continue;
  }
  const keys = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) keys.add(keyOf(byId.get(at)!));
  for (const key of keys) sums.set(key, (sums.get(key) ?? 0) + us);
}
const wall = profile.endTime - profile.startTime;
const unit = PER ? ` (${(total / PER).toFixed(1)} µs a unit over ${PER})` : '';
console.log(`${file}: ${(wall / 1e6).toFixed(2)} s profiled, ${(total / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle${unit}`);
for (const [key, us] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  const share = ((100 * us) / total).toFixed(1).padStart(5);
  console.log(`${share} %  ${(us / 1000).toFixed(0).padStart(7)} ms${PER ? `  ${(us / PER).toFixed(1).padStart(7)} µs` : ''}  ${key}`);
}
