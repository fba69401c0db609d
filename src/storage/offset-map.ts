import { filterBatch, forEachRecord, type Filtered } from '../codec/batch-filter.js';
import type { CleanPolicy } from './storage.js';

/**
 * The cleaner's map of each key to the offset of its latest record (Kafka's `OffsetMap`), built
 * over the cleanable range of a log before that range is rewritten. Kafka's is a fixed-size hash
 * table of key digests; this one keeps every key of the range in memory (as a latin1 string of
 * its bytes), so it is exact and costs memory in proportion to the distinct keys.
 *
 * Concurrency: single-threaded; one pass owns it.
 */
export class OffsetMap {
  readonly #latest = new Map<string, number>();

  /** Records the keys of one batch (batches must come in offset order). */
  add(batch: Uint8Array): void {
    forEachRecord(batch, (key, offset) => {
      if (key !== undefined) this.#latest.set(key, offset);
    });
  }

  /**
   * What the pass keeps of `batch`: each key's latest record (a record without a key, which a
   * compacted topic refuses, or of a key the map did not see, is kept), minus tombstones past their
   * horizon.
   */
  filter(batch: Uint8Array, policy: CleanPolicy): Filtered {
    return filterBatch(batch, (key, offset) => key === undefined || (this.#latest.get(key) ?? offset) <= offset, policy.now, policy.deleteRetentionMs);
  }
}

/** Kafka's trigger: the dirty bytes' share of the cleanable bytes reaches `minDirtyRatio` (0: always, if anything is cleanable). */
export function dirtyEnough(dirtyBytes: number, cleanableBytes: number, minDirtyRatio: number): boolean {
  if (cleanableBytes === 0) return false;
  return minDirtyRatio <= 0 || dirtyBytes / cleanableBytes >= minDirtyRatio;
}
