import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.js';
import { invalidArgument, show } from './errors.js';

/** Structured context of a log line: topic, partition, group, the error, … */
export type LogFields = Record<string, unknown>;

/**
 * Where kafkalite reports what no caller can see: a `run` handler failing again and again, a
 * background commit or fsync failing. Shaped like KafkaJS's and pino's loggers, so either can be
 * adapted in one line.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const noop = (): void => undefined;

/** Logs nothing (`logger: 'silent'`). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** The default: warnings and errors to stderr, one line each; debug and info dropped. */
export const stderrLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (message, fields) => writeLine('warn', message, fields),
  error: (message, fields) => writeLine('error', message, fields),
};

function writeLine(level: string, message: string, fields: LogFields | undefined): void {
  process.stderr.write(`kafkalite ${level}: ${message}${fields === undefined ? '' : ` ${renderFields(fields)}`}\n`);
}

/** `key=value` pairs; an `error` field is left out (the message already describes it; structured loggers get the object). */
function renderFields(fields: LogFields): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) if (k !== 'error') out.push(`${k}=${show(v)}`);
  return out.join(' ');
}

/** Checks a user's `logger` option: `'silent'` or an object with the four methods. */
export function resolveLogger(logger: unknown): Logger {
  if (logger === undefined) return stderrLogger;
  if (logger === 'silent') return silentLogger;
  if (logger !== null && typeof logger === 'object') {
    const l = logger as Record<string, unknown>;
    const missing = ['debug', 'info', 'warn', 'error'].find((m) => typeof l[m] !== 'function');
    if (missing === undefined) return logger as Logger;
    throw invalidArgument(`logger must be 'silent' or have debug, info, warn and error methods (it has no ${missing}())`);
  }
  throw invalidArgument(`logger must be 'silent' or have debug, info, warn and error methods (got ${show(logger)})`);
}

/** How long a cause stays quiet after it was logged; repeats in between are counted. */
export const REPEAT_INTERVAL_MS = 60_000;

/**
 * A logger for problems that repeat in the background: each cause (a key such as
 * `run handler orders-0: TypeError: boom`) is logged the first time, then at most once per
 * {@link REPEAT_INTERVAL_MS} on the broker's clock, with how often it repeated meanwhile. A
 * handler failing in a loop thus leaves one line, not thousands. Causes are remembered in a
 * bounded cache.
 *
 * Concurrency: synchronous; shared by every client of one broker.
 */
export class ProblemLog {
  readonly logger: Logger;
  #clock: Clock;
  #seen = new LRUCache<string, { at: number; repeats: number }>({ max: 1000 });

  constructor(logger: Logger, clock: Clock) {
    this.logger = logger;
    this.#clock = clock;
  }

  warn(cause: string, message: string, fields?: LogFields): void {
    this.#log('warn', cause, message, fields);
  }

  error(cause: string, message: string, fields?: LogFields): void {
    this.#log('error', cause, message, fields);
  }

  #log(level: 'warn' | 'error', cause: string, message: string, fields: LogFields | undefined): void {
    const now = this.#clock.now();
    const seen = this.#seen.get(cause);
    if (seen !== undefined && now - seen.at < REPEAT_INTERVAL_MS) {
      seen.repeats++;
      return;
    }
    const repeats = seen?.repeats ?? 0;
    this.#seen.set(cause, { at: now, repeats: 0 });
    const text = repeats > 0 ? `${message} (${repeats} more time${repeats === 1 ? '' : 's'} since last logged)` : message;
    try {
      this.logger[level](text, fields);
    } catch {
      // A throwing logger must not take the broker's background work down with it.
    }
  }
}

/** A short, stable description of an error for a {@link ProblemLog} cause key. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}${'code' in error ? ` ${String((error as { code: unknown }).code)}` : ''}: ${error.message}`;
  return show(error);
}
