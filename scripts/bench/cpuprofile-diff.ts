// Compares two servers' .cpuprofile files (written by `node scripts/bench/auth.ts --cpu-prof DIR`)
// by self time per function, per request: where the authorized read path spends what the open
// one does not. A call tree spreads one cost over many callers; self time summed by function
// shows a cost paid in small pieces everywhere (a clone, a Date, a regular expression) that no
// single frame of the tree shows above 1 %.
//   node scripts/bench/cpuprofile-diff.ts DIR [--thread main|workers] [--top 50]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { numberOption, option } from '../lib/args.ts';
import { readProfile, sumProfile } from '../lib/cpuprofile.ts';

const DIR = process.argv[2];
const THREAD = option('thread', 'main');
const TOP = numberOption('top', 50);

/** Node names a profile CPU.<date>.<pid>.<thread id>.<n>.cpuprofile; the main thread is 0. */
const isMain = (file: string) => file.split('.')[4] === '0';

/** µs of self time by function over the profiles of one server's chosen threads */
function selfTime(dir: string): Map<string, number> {
  const self = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && isMain(f) === (THREAD === 'main'))) {
    for (const [k, us] of sumProfile(readProfile(join(dir, file)), 'function').self) self.set(k, (self.get(k) ?? 0) + us);
  }
  return self;
}

const requests = JSON.parse(readFileSync(join(DIR, 'requests.json'), 'utf8')) as { open: number; authorized: number };
const open = selfTime(join(DIR, 'open'));
const authorized = selfTime(join(DIR, 'authorized'));
const per = (m: Map<string, number>, k: string, n: number) => (m.get(k) ?? 0) / n;
const total = (m: Map<string, number>, n: number) => [...m.values()].reduce((a, b) => a + b, 0) / n;
console.log(`${THREAD} thread(s), µs of self time per request: open ${total(open, requests.open).toFixed(1)} (${requests.open} requests), authorized ${total(authorized, requests.authorized).toFixed(1)} (${requests.authorized})`);
console.log('    diff    open    auth  function');
const rows = [...new Set([...open.keys(), ...authorized.keys()])].map((k) => ({ k, o: per(open, k, requests.open), a: per(authorized, k, requests.authorized) }));
rows.sort((x, y) => y.a - y.o - (x.a - x.o));
for (const { k, o, a } of rows.slice(0, TOP)) console.log(`${(a - o).toFixed(2).padStart(8)} ${o.toFixed(2).padStart(7)} ${a.toFixed(2).padStart(7)}  ${k}`);
