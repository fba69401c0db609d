import { batchBaseOffset, batchLastOffset, batchMaxTimestamp } from '../../codec/record-batch.js';
import { invalidArgument } from '../../errors.js';
import type { PartitionLog, RetentionPolicy } from '../storage.js';

/**
 * A partition log in memory: the appended batches, each kept as the one buffer it arrived in.
 * Retention drops whole batches from the front, so memory stays bounded when the topic says so.
 *
 * Concurrency: single-threaded and synchronous; every method completes before it returns.
 */
export class MemoryLog implements PartitionLog {
  #batches: Uint8Array[] = [];
  #baseOffsets: number[] = [];
  /** Index of the first live batch; dropped ones before it are cleared and compacted away lazily. */
  #head = 0;
  #bytes = 0;
  #logStartOffset = 0;
  #logEndOffset = 0;

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  get logEndOffset(): number {
    return this.#logEndOffset;
  }

  /** Bytes of batches kept. */
  get size(): number {
    return this.#bytes;
  }

  append(batch: Uint8Array): void {
    const base = batchBaseOffset(batch);
    if (base !== this.#logEndOffset) {
      throw invalidArgument(`batch starts at offset ${base}, but the log ends at ${this.#logEndOffset}`);
    }
    this.#batches.push(batch);
    this.#baseOffsets.push(base);
    this.#bytes += batch.length;
    this.#logEndOffset = batchLastOffset(batch) + 1;
  }

  read(offset: number, maxBytes: number): Uint8Array[] {
    if (offset >= this.#logEndOffset || this.#head === this.#batches.length) return [];
    let i = this.#find(Math.max(offset, this.#logStartOffset));
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (const n = this.#batches.length; i < n; i++) {
      const batch = this.#batches[i]!;
      if (out.length > 0 && bytes + batch.length > maxBytes) break;
      out.push(batch);
      bytes += batch.length;
    }
    return out;
  }

  /** The index of the last live batch whose base offset is at most `offset`. */
  #find(offset: number): number {
    const bases = this.#baseOffsets;
    let lo = this.#head;
    let hi = bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (bases[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  deleteRecordsBefore(offset: number): void {
    if (offset <= this.#logStartOffset) return;
    this.#logStartOffset = Math.min(offset, this.#logEndOffset);
    this.#dropBefore();
  }

  /** Drops batches that end before `logStartOffset`, and compacts the arrays now and then. */
  #dropBefore(): void {
    const n = this.#batches.length;
    while (this.#head < n && batchLastOffset(this.#batches[this.#head]!) < this.#logStartOffset) {
      this.#bytes -= this.#batches[this.#head]!.length;
      this.#batches[this.#head] = EMPTY;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > n) {
      this.#batches = this.#batches.slice(this.#head);
      this.#baseOffsets = this.#baseOffsets.slice(this.#head);
      this.#head = 0;
    }
  }

  applyRetention(policy: RetentionPolicy): number {
    const { retentionBytes, retentionMs, now } = policy;
    const n = this.#batches.length;
    while (this.#head < n) {
      const batch = this.#batches[this.#head]!;
      // As Kafka keeps its active segment, size retention keeps the newest batch.
      const overSize = retentionBytes >= 0 && this.#head < n - 1 && this.#bytes - batch.length >= retentionBytes;
      const expired = retentionMs >= 0 && batchMaxTimestamp(batch) < now - retentionMs;
      if (!overSize && !expired) break;
      this.#bytes -= batch.length;
      this.#batches[this.#head] = EMPTY;
      this.#head++;
      // A start moved by deleteRecordsBefore inside the next batch stays where it is.
      this.#logStartOffset = Math.max(this.#logStartOffset, this.#head < n ? this.#baseOffsets[this.#head]! : this.#logEndOffset);
    }
    this.#dropBefore();
    return this.#logStartOffset;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}

const EMPTY = new Uint8Array(0);
