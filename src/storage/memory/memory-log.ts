import { batchBaseOffset, batchLastOffset, batchMaxTimestamp } from '../../codec/record-batch.js';
import { invalidArgument } from '../../errors.js';
import type { BatchPlace } from '../../codec/batch-filter.js';
import { dirtyEnough, OffsetMap } from '../offset-map.js';
import type { CleanPolicy, CleanResult, PartitionLog, RetentionPolicy } from '../storage.js';

/** Slabs start this small (a partition with a few records costs little) and double up to the largest. */
const FIRST_SLAB_BYTES = 4096;
const LARGEST_SLAB_BYTES = 1 << 20;
/**
 * A batch at least this big whose buffer holds little else (at most an eighth more: a producer's
 * batches of many records, the wire's copies) is kept as it is, a slab of its own: copying it would
 * cost more than the one heap object saves. Smaller ones (views of Node's 8 KiB Buffer pool, or of
 * a larger buffer) are copied into slabs.
 */
const KEEP_AS_IS_BYTES = 4 << 10;

/**
 * A partition log in memory, laid out as Kafka lays out a log on disk: the appended batch bytes go
 * one after another into slabs (from 4 KiB, doubling up to 1 MiB; a batch of 4 KiB or more that
 * (about) owns its buffer is kept as it is), and where each batch lies — slab, position, length,
 * base and last offset, max timestamp — is kept in typed arrays. A million retained batches are a
 * few hundred heap objects, not a million, so the garbage collector has little to walk; reads hand
 * out views into the slabs. Retention drops whole batches from the front and frees a slab once
 * nothing in it is live.
 *
 * Segments are only counted, not kept apart: the batches since the log last passed `segmentBytes`
 * form the active segment, which the cleaner leaves alone, as Kafka's does. A cleaning pass
 * rewrites the rest into fresh slabs (removed batches leave gaps in the offsets, as in Kafka).
 *
 * Concurrency: single-threaded and synchronous; every method completes before it returns — but
 * `clean`, which may first wait for a compression codec to load (zstd on Node before 22.15) and
 * then runs its pass synchronously, as if called then.
 */
export class MemoryLog implements PartitionLog {
  /** Slabs by number, from `#firstSlab` on; freed ones are `undefined`. */
  #slabs: (Uint8Array | undefined)[] = [];
  #firstSlab = 0;
  /** The slab being filled, its number, and how far. */
  #fill: Uint8Array | undefined;
  #fillNo = -1;
  #fillUsed = 0;
  #nextSlabBytes = FIRST_SLAB_BYTES;
  // Per batch, index `#head` .. `#count - 1` live:
  #slab = new Int32Array(64);
  #pos = new Int32Array(64);
  #len = new Int32Array(64);
  #base = new Float64Array(64);
  #last = new Float64Array(64);
  #maxTs = new Float64Array(64);
  #count = 0;
  #head = 0;
  #bytes = 0;
  #logStartOffset = 0;
  #logEndOffset = 0;
  /** Where the active segment starts, and its bytes. */
  #activeStart = 0;
  #activeBytes = 0;
  /** The cleaner's checkpoint: batches from here on were appended after its last pass. */
  #cleanedEnd = 0;
  readonly #segmentBytes: () => number;
  readonly #where: BatchPlace;

  /**
   * @param segmentBytes where the active segment ends (the topic's `segmentBytes`).
   * @param where the partition, named in the errors of a cleaning pass.
   */
  constructor(segmentBytes: () => number = () => Infinity, where: BatchPlace = { topic: '(memory log)', partition: 0 }) {
    this.#segmentBytes = segmentBytes;
    this.#where = where;
  }

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

  /** @internal Slabs still held (for tests: retention must free them). */
  get slabsHeld(): number {
    return this.#slabs.filter((x) => x !== undefined).length;
  }

  append(batch: Uint8Array): void {
    const base = batchBaseOffset(batch);
    if (base !== this.#logEndOffset) {
      throw invalidArgument(`batch starts at offset ${base}, but the log ends at ${this.#logEndOffset}`);
    }
    if (this.#activeBytes > 0 && this.#activeBytes + batch.length > this.#segmentBytes()) {
      this.#activeStart = base;
      this.#activeBytes = 0;
    }
    this.#activeBytes += batch.length;
    this.#place(batch);
  }

  /** Puts a batch after the last one: into the slab being filled, or a slab of its own. */
  #place(batch: Uint8Array): void {
    const base = batchBaseOffset(batch);
    const last = batchLastOffset(batch);
    if (this.#count === this.#slab.length) this.#grow();
    const i = this.#count;
    const length = batch.length;
    if (length >= KEEP_AS_IS_BYTES && batch.buffer.byteLength - length <= (length >>> 3) + 64) {
      this.#slab[i] = this.#addSlab(batch);
      this.#pos[i] = 0;
      this.#finishAppend(i, length, base, last, batch);
      return;
    }
    if (this.#fill === undefined || this.#fillUsed + length > this.#fill.length) {
      if (length > LARGEST_SLAB_BYTES >> 1) {
        // A big batch gets a slab of its own (a copy: the caller's buffer may be a view of more).
        this.#slab[i] = this.#addSlab(new Uint8Array(batch));
        this.#pos[i] = 0;
        this.#finishAppend(i, length, base, last, batch);
        return;
      }
      this.#retireFill();
      let size = this.#nextSlabBytes;
      while (size < length) size *= 2;
      this.#nextSlabBytes = Math.min(size * 2, LARGEST_SLAB_BYTES);
      this.#fill = new Uint8Array(size);
      this.#fillNo = this.#addSlab(this.#fill);
      this.#fillUsed = 0;
    }
    this.#fill.set(batch, this.#fillUsed);
    this.#slab[i] = this.#fillNo;
    this.#pos[i] = this.#fillUsed;
    this.#fillUsed += length;
    this.#finishAppend(i, length, base, last, batch);
  }

  #finishAppend(i: number, length: number, base: number, last: number, batch: Uint8Array): void {
    this.#len[i] = length;
    this.#base[i] = base;
    this.#last[i] = last;
    this.#maxTs[i] = batchMaxTimestamp(batch);
    this.#count++;
    this.#bytes += length;
    this.#logEndOffset = last + 1;
  }

  read(offset: number, maxBytes: number): Uint8Array[] {
    if (offset >= this.#logEndOffset || this.#head === this.#count) return [];
    let i = this.#find(Math.max(offset, this.#logStartOffset));
    // A cleaned log has gaps: the batch found may end before `offset`.
    if (this.#last[i]! < offset) i++;
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (const n = this.#count; i < n; i++) {
      const length = this.#len[i]!;
      if (out.length > 0 && bytes + length > maxBytes) break;
      const pos = this.#pos[i]!;
      out.push(this.#slabs[this.#slab[i]! - this.#firstSlab]!.subarray(pos, pos + length));
      bytes += length;
    }
    return out;
  }

  /** The index of the last live batch whose base offset is at most `offset`. */
  #find(offset: number): number {
    const bases = this.#base;
    let lo = this.#head;
    let hi = this.#count - 1;
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
    while (this.#head < this.#count && this.#last[this.#head]! < this.#logStartOffset) this.#dropHead();
    this.#compact();
  }

  applyRetention(policy: RetentionPolicy): number {
    const { retentionBytes, retentionMs, now } = policy;
    while (this.#head < this.#count) {
      const h = this.#head;
      // As Kafka keeps its active segment, size retention keeps the newest batch.
      const overSize = retentionBytes >= 0 && h < this.#count - 1 && this.#bytes - this.#len[h]! >= retentionBytes;
      const expired = retentionMs >= 0 && this.#maxTs[h]! < now - retentionMs;
      if (!overSize && !expired) break;
      this.#dropHead();
      // A start moved by deleteRecordsBefore inside the next batch stays where it is.
      this.#logStartOffset = Math.max(this.#logStartOffset, this.#head < this.#count ? this.#base[this.#head]! : this.#logEndOffset);
    }
    while (this.#head < this.#count && this.#last[this.#head]! < this.#logStartOffset) this.#dropHead();
    this.#compact();
    return this.#logStartOffset;
  }

  /**
   * One cleaning pass, synchronous: the batches before the active segment are filtered through
   * an {@link OffsetMap} of their keys and placed, with the active segment's, in fresh slabs;
   * readers holding views of the old slabs keep them. Compressed batches among them whose codec
   * cannot compress yet (zstd's wasm loading) make it wait for that first, then start over.
   */
  clean(policy: CleanPolicy): CleanResult | Promise<CleanResult> {
    const stop = this.#firstAtOrAfter(this.#activeStart);
    let total = 0;
    let dirty = 0;
    for (let i = this.#head; i < stop; i++) {
      total += this.#len[i]!;
      if (this.#base[i]! >= this.#cleanedEnd) dirty += this.#len[i]!;
    }
    if (!dirtyEnough(dirty, total, policy.minDirtyRatio)) return { cleaned: false, bytesRead: 0, bytesWritten: 0 };
    const map = new OffsetMap(this.#where);
    for (let i = this.#head; i < stop; i++) map.add(this.#batchAt(i));
    // Appends may come meanwhile (and roll the active segment): the pass starts over once loaded.
    const loading = map.compressorsReady();
    if (loading !== undefined) return loading.then(() => this.clean(policy));
    const kept: Uint8Array[] = [];
    let written = 0;
    for (let i = this.#head; i < stop; i++) {
      const batch = this.#batchAt(i);
      const result = map.filter(batch, policy);
      if (result.kind === 'removed') continue;
      const out = result.kind === 'same' ? batch : result.batch;
      kept.push(out);
      written += out.length;
    }
    for (let i = stop; i < this.#count; i++) kept.push(this.#batchAt(i));
    const end = this.#logEndOffset;
    this.#slabs = [];
    this.#firstSlab = 0;
    this.#fill = undefined;
    this.#fillNo = -1;
    this.#fillUsed = 0;
    this.#nextSlabBytes = FIRST_SLAB_BYTES;
    this.#count = this.#head = this.#bytes = 0;
    for (const batch of kept) this.#place(batch);
    this.#logEndOffset = end;
    this.#cleanedEnd = this.#activeStart;
    return { cleaned: true, bytesRead: total, bytesWritten: written };
  }

  #batchAt(i: number): Uint8Array {
    const pos = this.#pos[i]!;
    return this.#slabs[this.#slab[i]! - this.#firstSlab]!.subarray(pos, pos + this.#len[i]!);
  }

  /** The index of the first live batch whose base offset is at least `offset` (`#count` when none). */
  #firstAtOrAfter(offset: number): number {
    let i = this.#head;
    while (i < this.#count && this.#base[i]! < offset) i++;
    return i;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  #addSlab(slab: Uint8Array): number {
    return this.#slabs.push(slab) - 1 + this.#firstSlab;
  }

  /** Drops the first live batch; frees its slab once no live batch is left in it (the slab being filled stays). */
  #dropHead(): void {
    const h = this.#head;
    this.#bytes -= this.#len[h]!;
    this.#head++;
    const slab = this.#slab[h]!;
    const next = this.#head < this.#count ? this.#slab[this.#head]! : -1;
    if (next !== slab && slab !== this.#fillNo) this.#freeSlab(slab);
  }

  /** The slab being filled is full: it is freed now if nothing in it is live any more. */
  #retireFill(): void {
    const no = this.#fillNo;
    if (no < 0) return;
    if (this.#head === this.#count || this.#slab[this.#head]! > no) this.#freeSlab(no);
  }

  #freeSlab(no: number): void {
    this.#slabs[no - this.#firstSlab] = undefined;
    let dead = 0;
    while (dead < this.#slabs.length && this.#slabs[dead] === undefined) dead++;
    if (dead > 64 && dead * 2 > this.#slabs.length) {
      this.#slabs = this.#slabs.slice(dead);
      this.#firstSlab += dead;
    }
  }

  #grow(): void {
    const n = this.#slab.length * 2;
    const widen = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.#slab = widen(this.#slab, (k) => new Int32Array(k));
    this.#pos = widen(this.#pos, (k) => new Int32Array(k));
    this.#len = widen(this.#len, (k) => new Int32Array(k));
    this.#base = widen(this.#base, (k) => new Float64Array(k));
    this.#last = widen(this.#last, (k) => new Float64Array(k));
    this.#maxTs = widen(this.#maxTs, (k) => new Float64Array(k));
  }

  /** Moves the live entries to the front now and then, so dropped ones do not pile up. */
  #compact(): void {
    const h = this.#head;
    if (h <= 1024 || h * 2 <= this.#count) return;
    for (const a of [this.#slab, this.#pos, this.#len, this.#base, this.#last, this.#maxTs]) a.copyWithin(0, h, this.#count);
    this.#count -= h;
    this.#head = 0;
  }
}
