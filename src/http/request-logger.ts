// The logger of one request (Fastify's request.log and reply.log). Fastify makes a pino child per
// request, its request id bound: an object, the binding serialized to text and every level
// method set on it, for every request — though at --log-level warn (as a busy server and the
// benchmarks run) a request that succeeds writes nothing: 'incoming request' and 'request
// completed' are info lines. Here the child is made when a line is actually written at an
// enabled level (or a child of it, or a level of its own, is asked for): every line written still
// carries the request id, as before. At info (the default) every request writes, and gets its
// child with its first line.
import type { FastifyBaseLogger } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;
type LogArgs = Parameters<FastifyBaseLogger['info']>;

/** What the server's logger (pino) has besides Fastify's logger interface. */
interface Pino extends FastifyBaseLogger {
  isLevelEnabled(level: string): boolean;
  bindings(): Bindings;
}

class RequestLogger {
  readonly #parent: Pino;
  readonly #bindings: Bindings;
  #child: Pino | undefined;

  constructor(parent: Pino, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  /** the pino child, made once */
  get #made(): Pino {
    return (this.#child ??= this.#parent.child(this.#bindings) as Pino);
  }

  #write(level: Level, args: LogArgs): void {
    if (this.#child) (this.#child[level] as (...a: LogArgs) => void)(...args);
    else if (this.#parent.isLevelEnabled(level)) (this.#made[level] as (...a: LogArgs) => void)(...args);
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.#made.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }

  bindings(): Bindings {
    return this.#child ? this.#child.bindings() : { ...this.#parent.bindings(), ...this.#bindings };
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#made.child(bindings, options);
  }

  fatal(...args: LogArgs): void {
    this.#write('fatal', args);
  }

  error(...args: LogArgs): void {
    this.#write('error', args);
  }

  warn(...args: LogArgs): void {
    this.#write('warn', args);
  }

  info(...args: LogArgs): void {
    this.#write('info', args);
  }

  debug(...args: LogArgs): void {
    this.#write('debug', args);
  }

  trace(...args: LogArgs): void {
    this.#write('trace', args);
  }

  silent(): void {}
}

/** Fastify's childLoggerFactory: a route with a log level or serializers of its own gets its
 * pino child at once, as Fastify would make it; every other request a RequestLogger. */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options);
  return new RequestLogger(logger as Pino, bindings) as unknown as FastifyBaseLogger;
}
