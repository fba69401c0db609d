/**
 * The shared pieces of the benchmark suite: what a scenario is, how one run is timed, medians,
 * and the per-record "consumer work" every row does (so every row reads the same way).
 */

import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes of every message value. */
export const VALUE_SIZE = 100;

/**
 * What a run measured besides its time: the latency rows' histogram (hdr-histogram-js, compressed
 * base64, values in nanoseconds) and the memory rows' retained bytes.
 */
export interface Sample {
  /** `encodeIntoCompressedBase64` of the run's latency histogram (nanoseconds, from the intended send time). */
  latencyHistogram?: string;
  /** The same from the moment `send` was actually called. */
  serviceHistogram?: string;
  /** Messages per second the run actually offered (latency rows pace their sends). */
  offeredPerSec?: number;
  /** Bytes the retained messages hold (memory rows), and how they were counted. */
  retainedBytes?: number;
  /** Process RSS growth over the run (memory rows), for reference. */
  rssBytes?: number;
  /**
   * Bytes of the record batches the log holds (kafkalite memory rows): what the retained heap is
   * compared with (`retainedBytes / logBytes`, the storage's overhead over the bytes themselves).
   */
  logBytes?: number;
}

/** One prepared run of a case: `run` is timed, `prepare` and `finish` are not. */
export interface Trial {
  /** The measured part: from the first append/send until the consumer has seen every record. */
  run(): Promise<void> | void;
  /**
   * Checks what the consumer saw (throws if anything is missing or out of order) and cleans up;
   * latency and memory rows return what they measured.
   */
  finish(): Promise<Sample | void> | Sample | void;
}

/**
 * What a row reports: `throughput` (msgs/s, the default), `latency` (percentiles at a fixed
 * offered rate), `memory` (bytes per retained message) or `duration` (only the time matters:
 * rebalances, reopen).
 */
export type RowKind = 'throughput' | 'latency' | 'memory' | 'duration';

/** One row of the table. */
export interface Case {
  /** Row name, as printed; it should say how the row produces and consumes. */
  name: string;
  /** Messages one run moves. */
  messages: number;
  /** Bytes one run moves, for the MB/s column, when that is not `messages × VALUE_SIZE` (the cleaner's log bytes). */
  bytes?: number;
  /** The row every other row is divided by (the ceiling). */
  baseline?: boolean;
  /** Default `throughput`. */
  kind?: RowKind;
  /** A stable id for rows the report quotes (the figures), e.g. `redis-memory`. */
  id?: string;
  /** Which system runs: `kafkalite`, `ceiling` or a peer's name (charts colour by it). */
  system?: string;
  /**
   * What an acknowledged message survives: `none` (not kept), `memory` (lost with the process),
   * `process crash` (in the OS page cache: lost on power loss), `power loss` (fsync before ack).
   */
  durability?: string;
  /** What this peer does not offer that kafkalite does (no replay, no consumer groups, …). */
  lacks?: string;
  /** Caps `--runs` for slow rows (the row name says so). */
  maxRuns?: number;
  /**
   * Latency rows: the rate (msgs/s) the pacer offers. A latency row is compared with the baseline
   * row of the same rate.
   */
  rate?: number;
  /** Builds a fresh broker/log, producer and consumer for one run. */
  prepare(): Promise<Trial> | Trial;
}

/**
 * Thrown by `prepare` when a row cannot run here (a peer not installed, a native addon not
 * built): the row is reported with this message instead of figures, and the suite goes on.
 */
export class Unavailable extends Error {
  override name = 'Unavailable';
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Registers work to do when the row's process is done (stopping a server the row started). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** Runs (and forgets) every registered cleanup, newest first; errors are printed, not thrown. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (error) {
      console.error(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
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
 * the value) and checks the offset is the next one — or, with `markers`, a later one (a
 * transaction's commit marker takes an offset no reader sees). `verify` runs after timing.
 */
export class Tally {
  count = 0;
  bytes = 0;
  nextOffset = 0;
  outOfOrder = 0;
  #markers: boolean;

  constructor(options: { markers?: boolean } = {}) {
    this.#markers = options.markers ?? false;
  }

  add(record: ReadableRecord): void {
    const value = record.value;
    if (value !== null) this.bytes += value.length;
    if (this.#markers ? record.offset < this.nextOffset : record.offset !== this.nextOffset) this.outOfOrder++;
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

/** What one timed run gives: its time and what `finish` measured. */
export interface TrialResult {
  ms: number;
  sample?: Sample;
}

/** Prepares one trial, collects garbage, times `run`, then lets the trial check itself. */
export async function timeTrial(c: Case, timeoutMs: number): Promise<TrialResult> {
  const trial = await c.prepare();
  collectGarbage();
  const start = performance.now();
  await withTimeout(Promise.resolve(trial.run()), timeoutMs, c.name);
  const ms = performance.now() - start;
  const sample = await trial.finish();
  return sample === undefined ? { ms } : { ms, sample };
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
