/**
 * End-to-end latency at a fixed offered rate, the same way for every row.
 *
 * The pacer sends message i at (or, when the loop was busy, as soon as possible after) its
 * intended time `start + i / rate`, and stamps it with that *intended* time in a side array
 * (`sentAt[i]`, indexed by the message's sequence number, which every consumer knows: the offset
 * for kafkalite, the argument for an emitter, the arrival order for Redis). Latency is the
 * consumer's `performance.now()` minus the intended time, so a stall of the process (GC, a busy
 * loop) counts against every message that should have been sent during it — no coordinated
 * omission. Between batches of due sends the pacer yields with `setImmediate`, so its own
 * resolution (a few µs) is part of every row, the ceiling included. On a loaded machine those
 * stalls (the process waiting for a core) dominate; so each message is also timed from the loop
 * turn that actually sent it ("from send"), which leaves them out.
 *
 * Latencies go into an hdr-histogram-js histogram (nanoseconds, 3 significant digits); each run
 * sends its histogram to the runner compressed (`encodeIntoCompressedBase64`).
 */

import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { signal, type Sample, type Trial } from './harness.js';

export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  return hdr.build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 3.6e12, autoResize: true });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32);
}

/**
 * Records each message's latency twice: from its intended send time (`histogram`, the figure
 * reported) and from the moment the pacer actually called `send` (`service`: what the bus itself
 * adds, without the time the message waited for the pacer to get the CPU). `done` resolves at the last.
 */
export class LatencyRecorder {
  /** Intended send time of message i (ms, performance.now() clock). */
  readonly intendedAt: Float64Array;
  /** When the pacer's loop turn that sent message i began (ms). */
  readonly sentAt: Float64Array;
  readonly histogram: Histogram = newHistogram();
  readonly service: Histogram = newHistogram();
  readonly done = signal();
  count = 0;

  constructor(readonly messages: number) {
    this.intendedAt = new Float64Array(messages);
    this.sentAt = new Float64Array(messages);
  }

  /** Message `i` has reached the consumer. */
  record(i: number): void {
    const now = performance.now();
    const ns = Math.round((now - this.intendedAt[i]!) * 1e6);
    this.histogram.recordValue(ns < 1 ? 1 : ns);
    const service = Math.round((now - this.sentAt[i]!) * 1e6);
    this.service.recordValue(service < 1 ? 1 : service);
    if (++this.count === this.messages) this.done.resolve();
  }
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sends `messages` at `rate` per second; returns the rate actually offered. */
export async function pace(rate: number, recorder: LatencyRecorder, send: (i: number) => void): Promise<number> {
  const { messages, intendedAt, sentAt } = recorder;
  const interval = 1000 / rate;
  const start = performance.now();
  let i = 0;
  while (i < messages) {
    const now = performance.now();
    const due = Math.min(messages, Math.floor((now - start) / interval) + 1);
    for (; i < due; i++) {
      intendedAt[i] = start + i * interval;
      sentAt[i] = now;
      send(i);
    }
    if (i < messages) await immediate();
  }
  const seconds = (performance.now() - start) / 1000;
  return messages / Math.max(seconds, (messages - 1) / rate / 1000 + 1e-9);
}

export interface PacedOptions {
  rate: number;
  /** Issues message i (not awaited). */
  send(i: number): void;
  /** A pull-style consumer loop that records every message; push-style rows record from their handler. */
  consume?(): Promise<void>;
  /** Checks and cleans up after the run. */
  close(): Promise<void> | void;
}

/** A latency trial: the run paces the sends and ends when every message was recorded. */
export function pacedTrial(recorder: LatencyRecorder, o: PacedOptions): Trial {
  let offered = 0;
  return {
    async run() {
      const consumed = o.consume?.() ?? recorder.done.promise;
      offered = await pace(o.rate, recorder, o.send);
      await consumed;
      await recorder.done.promise;
    },
    async finish(): Promise<Sample> {
      await o.close();
      if (recorder.count !== recorder.messages) throw new Error(`recorded ${recorder.count} of ${recorder.messages} messages`);
      return { latencyHistogram: encodeHistogram(recorder.histogram), serviceHistogram: encodeHistogram(recorder.service), offeredPerSec: offered };
    },
  };
}

/** Percentiles (as fractions of 100) that the report and the CDF chart read off a histogram. */
export const CDF_PERCENTILES = [
  0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96.25, 97.5, 98, 98.75, 99, 99.25, 99.5, 99.6, 99.7, 99.8, 99.9,
  99.925, 99.95, 99.97, 99.98, 99.99, 99.995, 99.999, 100,
];
