// CPU time of a process (and of each of its threads) from Linux /proc, for the benchmarks: CPU
// per unit of work moves far less with the machine's other load than a rate does. Times are in
// seconds; /proc counts clock ticks of USER_HZ = 100 per second. Elsewhere, undefined / empty.
import { readdirSync, readFileSync } from 'node:fs';

/** utime and stime of a /proc/…/stat line (fields 14 and 15, counted after the command name) */
function times(stat: string): { user: number; system: number } {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** CPU seconds (user, system) the process has used so far. */
export function processCpu(pid: number | undefined): { user: number; system: number } | undefined {
  try {
    return times(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** CPU seconds (user + system) the process has used so far. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  const t = processCpu(pid);
  return t && t.user + t.system;
}

/** CPU seconds (user + system) of each thread of the process by thread name ('main' for the
 * main thread; Node's worker threads are 'WorkerThread', V8's 'V8Worker', libuv's pool …). */
export function threadCpuSeconds(pid: number | undefined): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const { user, system } = times(stat);
      byName.set(name, (byName.get(name) ?? 0) + user + system);
    }
  } catch {
    // not Linux, or the process is gone
  }
  return byName;
}
