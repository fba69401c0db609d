import { storageIo } from '../../errors.js';
import type { LogSegment } from './log-segment.js';

/**
 * The segments of one partition's log, in base-offset order, never empty: the last is the
 * active segment (the one appends go to), every other is sealed. Segment `N+1` starts at the
 * offset after segment `N`'s last batch.
 *
 * Concurrency: in memory and synchronous; the owning log decides when segments are added and
 * dropped (one write round at a time).
 */
export class LogSegments {
  #list: LogSegment[];

  /** @param segments at least one, in base-offset order; the last is active. */
  constructor(segments: LogSegment[]) {
    this.#list = segments;
  }

  get count(): number {
    return this.#list.length;
  }

  get first(): LogSegment {
    return this.#list[0]!;
  }

  get active(): LogSegment {
    return this.#list[this.#list.length - 1]!;
  }

  /** Bytes of every segment. */
  get size(): number {
    let total = 0;
    for (const s of this.#list) total += s.size;
    return total;
  }

  at(i: number): LogSegment {
    return this.#list[i]!;
  }

  [Symbol.iterator](): Iterator<LogSegment> {
    return this.#list[Symbol.iterator]();
  }

  /** Seals the active segment and makes `segment` (new, at the log's end) the active one. */
  roll(segment: LogSegment): void {
    this.active.seal();
    this.#list.push(segment);
  }

  /** Drops the oldest segment (retention) and returns it; the active segment is never dropped. */
  shift(): LogSegment | undefined {
    return this.#list.length > 1 ? this.#list.shift() : undefined;
  }

  /** Puts `fresh` (a cleaned segment) in the place of `old`, consecutive sealed segments still in the list. */
  replace(old: LogSegment[], fresh: LogSegment): void {
    const at = this.#list.indexOf(old[0]!);
    if (at < 0 || this.#list[at + old.length - 1] !== old[old.length - 1] || at + old.length >= this.#list.length) {
      throw storageIo('swapping in a cleaned segment', new Error('the segments it replaces are not (or no longer) sealed segments of the log'));
    }
    this.#list.splice(at, old.length, fresh);
  }

  /** Drops the segments from the `count`-th on (made by a failed round) and returns them; the one before becomes active again. */
  truncateTo(count: number): LogSegment[] {
    const dropped = this.#list.splice(count);
    if (dropped.length > 0) this.active.activate();
    return dropped;
  }

  /** The position of the last segment whose base offset is at most `offset` (0 when none is). */
  floor(offset: number): number {
    const list = this.#list;
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (list[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
