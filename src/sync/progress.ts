// Progress of a sync on stderr: a bar redrawn in place when stderr is a terminal, nothing
// otherwise (logs and pipes get the one-line summary only). Counts and phases, never data.
import type { WriteStream } from 'node:tty';

const WIDTH = 24;

export class Progress {
  private readonly out: NodeJS.WriteStream | WriteStream;
  private readonly enabled: boolean;
  private last = 0;
  private drawn = false;

  private readonly clock: () => number;

  /** `clock`: milliseconds, Date.now unless a test fixes time */
  constructor(out: NodeJS.WriteStream = process.stderr, enabled = Boolean(out.isTTY), clock: () => number = Date.now) {
    this.out = out;
    this.enabled = enabled;
    this.clock = clock;
  }

  /** `phase` with a count, and a bar when the total is known; redrawn at most every 100 ms. */
  update(phase: string, done: number, total?: number, force = false): void {
    if (!this.enabled) return;
    const now = this.clock();
    if (!force && now - this.last < 100) return;
    this.last = now;
    let line = `${phase} ${done}`;
    if (total && total > 0) {
      const filled = Math.min(WIDTH, Math.round((done / total) * WIDTH));
      line = `${phase} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total}`;
    }
    const cols = (this.out as NodeJS.WriteStream).columns || 80;
    this.out.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, 60))}`);
    this.drawn = true;
  }

  /** A line that must not be overdrawn (a retry notice). */
  note(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  clear(): void {
    if (!this.enabled || !this.drawn) return;
    const cols = (this.out as NodeJS.WriteStream).columns || 80;
    this.out.write(`\r${' '.repeat(Math.min(cols - 1, 60))}\r`);
    this.drawn = false;
  }
}
