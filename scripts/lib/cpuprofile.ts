// Reads a V8 .cpuprofile (node --cpu-prof) and sums its samples by function or by source file:
// self time (the frame running) and total time (the frame anywhere on the stack, once a sample
// however deep it recurses). Shared by scripts/lib/cpuprofile-summary.ts (one profile) and
// scripts/bench/cpuprofile-diff.ts (two servers' profiles compared per request).
import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export type SumBy = 'function' | 'file';

export interface ProfileSums {
  /** µs not idle, and idle, in the window */
  busy: number;
  idle: number;
  self: Map<string, number>;
  total: Map<string, number>;
}

export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/** A frame's name: `function src/file.ts:line`, or the file alone (paths shortened to the repo's). */
export function frameLabel(frame: ProfileNode['callFrame'], by: SumBy): string {
  const url = frame.url.replace(/^file:\/\/.*?\/(src|scripts|node_modules)\//, '$1/');
  if (by === 'file') return url || `(${frame.functionName || 'native'})`;
  return `${frame.functionName || '(anonymous)'} ${url ? `${url}:${frame.lineNumber + 1}` : ''}`.trim();
}

/** Each sample's time on the profile's clock (monotonic µs): the start plus the deltas so far. */
export function sampleTimes(profile: Profile): number[] {
  const times: number[] = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    times.push(t);
  }
  return times;
}

/** Sums the samples taken in [from, to] (each sample counts the time up to the next one). */
export function sumProfile(profile: Profile, by: SumBy, from = -Infinity, to = Infinity): ProfileSums {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times = sampleTimes(profile);
  const sums: ProfileSums = { busy: 0, idle: 0, self: new Map(), total: new Map() };
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i] < from || times[i] > to) continue;
    const dt = (times[i + 1] ?? profile.endTime) - times[i];
    const node = byId.get(profile.samples[i])!;
    if (node.callFrame.functionName === '(idle)') {
      sums.idle += dt;
      continue;
    }
    sums.busy += dt;
    const own = frameLabel(node.callFrame, by);
    sums.self.set(own, (sums.self.get(own) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const l = frameLabel(byId.get(id)!.callFrame, by);
      if (seen.has(l)) continue;
      seen.add(l);
      sums.total.set(l, (sums.total.get(l) ?? 0) + dt);
    }
  }
  return sums;
}
