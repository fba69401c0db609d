import { filterBatch, forEachRecord, plainRecords, type BatchPlace, type Filtered } from '../codec/batch-filter.js';
import { batchCodec } from '../codec/compressed-batch.js';
import { COMPRESSION_CODECS, compressorReady } from '../codec/compression.js';
import type { CleanPolicy } from './storage.js';

/**
 * The cleaner's map of each key to the offset of its latest record (Kafka's `OffsetMap`), built
 * over the cleanable range of a log before that range is rewritten. Kafka's is a fixed-size hash
 * table of key digests; this one keeps every key of the range in memory (as a latin1 string of
 * its bytes), so it is exact and costs memory in proportion to the distinct keys.
 *
 * The records of compressed batches count as any others: a batch is decompressed to map its keys
 * (and again to filter it, as Kafka's cleaner does, rather than holding every decompressed batch
 * of the range), so an older value in a compressed batch never outlives a newer record of its key.
 *
 * Concurrency: single-threaded; one pass owns it.
 */
export class OffsetMap {
  readonly #latest = new Map<string, number>();
  readonly #where: BatchPlace;
  /** Bit `id` set for each compression codec id seen among the batches added. */
  #codecs = 0;

  /** @param where the partition whose log is cleaned, named in errors. */
  constructor(where: BatchPlace) {
    this.#where = where;
  }

  /** Records the keys of one batch (batches must come in offset order). */
  add(batch: Uint8Array): void {
    const plain = plainRecords(batch, this.#where);
    if (plain === undefined) return;
    if (plain !== batch) this.#codecs |= 1 << batchCodec(batch);
    forEachRecord(plain, (key, offset) => {
      if (key !== undefined) this.#latest.set(key, offset);
    });
  }

  /**
   * Undefined when every codec met by {@link add} can compress at once; else a promise that
   * resolves once they can (zstd's wasm on Node before 22.15 loads asynchronously). A pass waits
   * for it before filtering, which may recompress a batch of each of them.
   */
  compressorsReady(): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (let id = 1; id < COMPRESSION_CODECS.length; id++) {
      if ((this.#codecs & (1 << id)) === 0) continue;
      const wait = compressorReady(COMPRESSION_CODECS[id]!);
      if (wait !== undefined) (waits ??= []).push(wait);
    }
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
  }

  /**
   * What the pass keeps of `batch`: each key's latest record (a record without a key, which a
   * compacted topic refuses, or of a key the map did not see, is kept), minus tombstones past their
   * horizon. A compressed batch rewritten (records removed, or a horizon stamped) is compressed
   * again with its own codec.
   */
  filter(batch: Uint8Array, policy: CleanPolicy): Filtered {
    return filterBatch(batch, (key, offset) => key === undefined || (this.#latest.get(key) ?? offset) <= offset, policy.now, policy.deleteRetentionMs, this.#where);
  }
}

/** Kafka's trigger: the dirty bytes' share of the cleanable bytes reaches `minDirtyRatio` (0: always, if anything is cleanable). */
export function dirtyEnough(dirtyBytes: number, cleanableBytes: number, minDirtyRatio: number): boolean {
  if (cleanableBytes === 0) return false;
  return minDirtyRatio <= 0 || dirtyBytes / cleanableBytes >= minDirtyRatio;
}
