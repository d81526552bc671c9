// Limits for callers who have not (yet) proved who they are: requests refused for want of a
// valid access token, and token requests. Neither reaches the per-client limit in hardening.ts
// (it runs after authentication), and each would otherwise leave its own AuditEvent, so anyone
// could grow the audit trail without bound. Counted per address in fixed windows; within the
// limit every request is audited as usual, past it the request is answered 429 and only counted,
// and one AuditEvent per key and window states how many were refused (written when the window
// ends, at the key's next request, or at shutdown).
import { FhirError } from '../fhir/errors.ts';

/** what was refused past the limit in one window of one key */
export interface Overflow {
  key: string;
  count: number;
  /** epoch ms of the first and the last refused request */
  first: number;
  last: number;
}

interface Window {
  start: number;
  count: number;
  over: number;
  first: number;
  last: number;
}

/** keys held at most; past it (an address flood) new keys share one window */
export const MAX_KEYS = 100_000;
const SHARED = '*';

export class WindowLimiter {
  readonly max: number;
  readonly windowMs: number;
  private readonly windows = new Map<string, Window>();
  private readonly onOverflow: (o: Overflow) => void;
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: { max: number; windowMs: number; onOverflow: (o: Overflow) => void; now?: () => number; maxKeys?: number }) {
    this.max = opts.max;
    this.windowMs = opts.windowMs;
    this.onOverflow = opts.onOverflow;
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? MAX_KEYS;
    // ended windows are closed (and their count reported) about once a window
    this.timer = setInterval(() => this.sweep(), opts.windowMs);
    this.timer.unref();
  }

  /** Counts one request of `key`: undefined when it is within the limit, else the seconds until
   * the window ends (the request is to be refused with 429 and not audited on its own). */
  hit(key: string): number | undefined {
    const now = this.now();
    let w = this.windows.get(key);
    if (w && now - w.start >= this.windowMs) {
      this.end(key, w);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= this.maxKeys) {
        this.sweep();
        if (this.windows.size >= this.maxKeys && key !== SHARED) return this.hit(SHARED);
      }
      w = { start: now, count: 0, over: 0, first: 0, last: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.max) return undefined;
    if (w.over++ === 0) w.first = now;
    w.last = now;
    return Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
  }

  /** Closes the windows that have ended. */
  sweep(): void {
    const now = this.now();
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.end(key, w);
  }

  /** Closes every window, ended or not (shutdown), and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    for (const [key, w] of this.windows) this.end(key, w);
  }

  private end(key: string, w: Window): void {
    this.windows.delete(key);
    if (w.over) this.onOverflow({ key, count: w.over, first: w.first, last: w.last });
  }
}

/** The 429 of a request past an address limit (the same shape as the per-client limit's). */
export function throttled(limiter: WindowLimiter, retryAfter: number, what: string): FhirError {
  const per = limiter.windowMs === 60_000 ? 'minute' : `${limiter.windowMs / 1000} s`;
  return new FhirError(
    429,
    { code: 'throttled', diagnostics: `Too many ${what} from this address: at most ${limiter.max} per ${per}; retry after ${retryAfter} s` },
    { 'retry-after': String(retryAfter) },
  );
}
