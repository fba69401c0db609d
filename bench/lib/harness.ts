/**
 * The shared pieces of the benchmark suite: what a scenario is, how one run is timed, medians,
 * and the per-record "consumer work" every row does (so every row reads the same way).
 */

import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes of every message value. */
export const VALUE_SIZE = 100;

/** One prepared run of a case: `run` is timed, `prepare` and `finish` are not. */
export interface Trial {
  /** The measured part: from the first append/send until the consumer has seen every record. */
  run(): Promise<void> | void;
  /** Checks what the consumer saw (throws if anything is missing or out of order) and cleans up. */
  finish(): Promise<void> | void;
}

/** One row of the table. */
export interface Case {
  /** Row name, as printed; it should say how the row produces and consumes. */
  name: string;
  /** Messages one run moves. */
  messages: number;
  /** The row every other row is divided by (the ceiling). */
  baseline?: boolean;
  /** Builds a fresh broker/log, producer and consumer for one run. */
  prepare(): Promise<Trial> | Trial;
}

export interface ScenarioOptions {
  /** `--messages`: messages per run (a case may cap it, and says so in its name). */
  messages: number;
}

export interface Scenario {
  /** What `npm run bench -- NAME` selects. */
  name: string;
  description: string;
  cases(options: ScenarioOptions): Case[];
}

/** A record as far as the consumer work is concerned: kafkalite's `ConsumerRecord` and the ceiling's plain objects. */
export interface ReadableRecord {
  offset: number;
  value: Buffer | null;
}

/**
 * What every consumer in the suite does per record: counts it, adds up its value length (touching
 * the value) and checks the offset is the next one. `verify` runs after timing.
 */
export class Tally {
  count = 0;
  bytes = 0;
  nextOffset = 0;
  outOfOrder = 0;

  add(record: ReadableRecord): void {
    const value = record.value;
    if (value !== null) this.bytes += value.length;
    if (record.offset !== this.nextOffset) this.outOfOrder++;
    this.nextOffset = record.offset + 1;
    this.count++;
  }

  verify(expected: number, what: string): void {
    const problems: string[] = [];
    if (this.count !== expected) problems.push(`saw ${this.count} records, expected ${expected}`);
    if (this.bytes !== expected * VALUE_SIZE) problems.push(`saw ${this.bytes} value bytes, expected ${expected * VALUE_SIZE}`);
    if (this.outOfOrder !== 0) problems.push(`${this.outOfOrder} records out of offset order`);
    if (problems.length > 0) throw new Error(`${what}: ${problems.join('; ')}`);
  }
}

/** A promise with its resolve function, for "the handler has seen all N". */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection between runs, so one run's garbage is not collected on the next
 * one's clock. Uses `--expose-gc` when given, else turns it on at run time (Node built-ins only).
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    const global = globalThis as { gc?: () => void };
    if (typeof global.gc === 'function') {
      gc = global.gc;
    } else {
      try {
        setFlagsFromString('--expose-gc');
        gc = runInNewContext('gc') as () => void;
      } catch {
        gc = null;
      }
    }
  }
  gc?.();
}

/** Prepares one trial, collects garbage, times `run`, then lets the trial check itself. */
export async function timeTrial(c: Case, timeoutMs: number): Promise<number> {
  const trial = await c.prepare();
  collectGarbage();
  const start = performance.now();
  await withTimeout(Promise.resolve(trial.run()), timeoutMs, c.name);
  const elapsed = performance.now() - start;
  await trial.finish();
  return elapsed;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
