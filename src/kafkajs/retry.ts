/**
 * KafkaJS' retry options and which errors it retries. In-process no request ever fails for a
 * network reason, so only a consumer's failing handler is retried: after `initialRetryTime`, then
 * times `multiplier`, up to `maxRetryTime`, `retries` times in a row; then the consumer crashes.
 */

import type { RetryOptions } from './types.js';

export interface ResolvedRetry {
  maxRetryTime: number;
  initialRetryTime: number;
  factor: number;
  multiplier: number;
  retries: number;
  restartOnFailure?: (e: Error) => Promise<boolean>;
}

/** KafkaJS' defaults; it uses quicker ones when `NODE_ENV` is `test` (as under vitest or jest). */
export function retryDefaults(): ResolvedRetry {
  return process.env.NODE_ENV === 'test'
    ? { maxRetryTime: 1000, initialRetryTime: 50, factor: 0.02, multiplier: 1.5, retries: 15 }
    : { maxRetryTime: 30_000, initialRetryTime: 300, factor: 0.2, multiplier: 2, retries: 5 };
}

/** Later layers win; `undefined` fields do not override. */
export function resolveRetry(...layers: (RetryOptions | undefined)[]): ResolvedRetry {
  const out: ResolvedRetry = retryDefaults();
  for (const layer of layers) {
    if (layer == null) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}

/** The wait after retry `attempt` (0 for the first): KafkaJS' exponential backoff, without its jitter. */
export function retryTime(retry: ResolvedRetry, attempt: number): number {
  let time = retry.initialRetryTime;
  for (let i = 0; i < attempt; i++) time = Math.min(time * retry.multiplier, retry.maxRetryTime);
  return Math.min(time, retry.maxRetryTime);
}

const unrecoverable = new Set(['RangeError', 'ReferenceError', 'SyntaxError', 'TypeError']);

/**
 * As KafkaJS: an error is retried unless it says `retriable: false` or is a programming error
 * (`TypeError`, `ReferenceError`, `RangeError`, `SyntaxError`).
 */
export function isRetriable(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  return (error as { retriable?: boolean }).retriable !== false && !unrecoverable.has(error.name);
}

/** The first cause in a chain of `cause`s. */
export function originalCause(error: Error): Error {
  let e: Error = error;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}
