import { join } from 'node:path';
import {
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  batchSize,
  checkBatch,
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
} from '../../codec/record-batch.js';
import { storageCorrupt, storageIo } from '../../errors.js';
import { INDEX_SUFFIX, LOG_SUFFIX, offsetFileStem, TIME_INDEX_SUFFIX } from './file-names.js';
import type { FileSystem } from './file-system.js';
import { OffsetIndex } from './offset-index.js';

/** Bytes of log between two index entries, Kafka's `index.interval.bytes`. */
export const INDEX_INTERVAL_BYTES = 4096;
const SCAN_CHUNK = 1 << 20;

/** Where a scan stopped: the end of the last whole batch, and why it stopped early if it did. */
export interface ScanResult {
  /** Byte position just past the last whole, valid batch. */
  end: number;
  /** The offset after the last valid batch (the segment's base if there was none). */
  nextOffset: number;
  maxTimestamp: number;
  index: OffsetIndex;
  /** Set when bytes past `end` are not a valid batch. `tail`: nothing valid follows them. */
  damage?: { position: number; reason: string; tail: boolean };
}

/**
 * One segment of a partition's log: `<base>.log` holding whole RecordBatch v2 batches back to
 * back, beside its sparse `<base>.index` and `<base>.timeindex` (see {@link OffsetIndex}).
 *
 * Concurrency: the owning log serialises writes; `size` and `nextOffset` move only after bytes
 * reached the file, so reads never see a batch still being written.
 */
export class LogSegment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  /** Bytes of whole batches in the file. */
  size = 0;
  /** The offset after the segment's last batch. */
  nextOffset: number;
  /** The largest record timestamp in the segment, -1 when empty. */
  maxTimestamp = -1;
  /** Bytes since the last index entry. */
  #sinceEntry = 0;
  /** The index, while loaded (always for the active segment). */
  #index: OffsetIndex | undefined;

  readonly #fs: FileSystem;

  constructor(fs: FileSystem, dir: string, baseOffset: number) {
    this.#fs = fs;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    const stem = join(dir, offsetFileStem(baseOffset));
    this.logPath = stem + LOG_SUFFIX;
    this.indexPath = stem + INDEX_SUFFIX;
    this.timeIndexPath = stem + TIME_INDEX_SUFFIX;
  }

  /**
   * The segment's offset index, loaded from its file (rebuilt from the log when bad) and kept
   * until `loaded` (a bounded cache of loaded indexes) evicts it.
   */
  index(fd: number, loaded: { set(segment: LogSegment, value: true): unknown }): OffsetIndex {
    if (this.#index !== undefined) return this.#index;
    let bytes: Buffer | undefined;
    try {
      bytes = this.#fs.readFileSync(this.indexPath);
    } catch {
      bytes = undefined;
    }
    const index = (bytes === undefined ? undefined : OffsetIndex.load(this.baseOffset, bytes, this.size)) ?? this.rebuildIndex(fd);
    this.#index = index;
    loaded.set(this, true);
    return index;
  }

  /** The index if it is in memory (always, for the active segment). */
  get loadedIndex(): OffsetIndex | undefined {
    return this.#index;
  }

  /** Drops the in-memory index of a sealed segment (it is loaded again when needed). */
  unloadIndex(): void {
    this.#index = undefined;
  }

  /** Keeps `index` in memory (the active segment, or one just scanned). */
  adoptIndex(index: OffsetIndex): void {
    this.#index = index;
  }

  /** Rebuilds the index from the log and writes both index files anew. */
  rebuildIndex(fd: number): OffsetIndex {
    const scan = scanSegment(this.#fs, fd, this.logPath, this.baseOffset, 0, this.size, this.baseOffset);
    if (scan.damage !== undefined) throw storageCorrupt(this.logPath, scan.damage.position, scan.damage.reason);
    this.maxTimestamp = Math.max(this.maxTimestamp, scan.maxTimestamp);
    this.writeIndexFiles(scan.index);
    return scan.index;
  }

  writeIndexFiles(index: OffsetIndex): void {
    try {
      this.#fs.writeFileSync(this.indexPath, index.indexBytes());
      this.#fs.writeFileSync(this.timeIndexPath, index.timeIndexBytes());
    } catch (error) {
      throw storageIo(`writing ${this.indexPath}`, error);
    }
  }

  /**
   * Records batches just written at `position`: moves size, end and timestamps, and returns the
   * index and time-index entries they earned (for the caller to append to the files).
   */
  appended(batches: Uint8Array[], position: number, index: OffsetIndex): { entries: Buffer[]; timeEntries: Buffer[] } {
    const entries: Buffer[] = [];
    const timeEntries: Buffer[] = [];
    let at = position;
    for (const batch of batches) {
      const last = batchLastOffset(batch);
      const ts = batchMaxTimestamp(batch);
      if (ts > this.maxTimestamp) this.maxTimestamp = ts;
      if (this.#sinceEntry >= INDEX_INTERVAL_BYTES || at === 0) {
        entries.push(index.add(last, at));
        const t = index.addTime(this.maxTimestamp, last);
        if (t !== undefined) timeEntries.push(t);
        this.#sinceEntry = 0;
      }
      this.#sinceEntry += batch.length;
      at += batch.length;
      this.nextOffset = last + 1;
    }
    this.size = at;
    return { entries, timeEntries };
  }

  /** Adopts what a scan found: the segment ends at `scan.end`. */
  scanned(scan: ScanResult): void {
    this.size = scan.end;
    this.nextOffset = scan.nextOffset;
    this.maxTimestamp = scan.maxTimestamp;
    this.#sinceEntry = 0;
    this.#index = scan.index;
  }
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export function readAt(fs: FileSystem, fd: number, path: string, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, 0, length, position, (error, bytesRead) => {
      if (error !== null) reject(storageIo(`reading ${path}`, error));
      else resolve(bytesRead === length ? buf : buf.subarray(0, bytesRead));
    });
  });
}

/**
 * Walks the batches of a segment from `from` to `size`, checking each (length, magic, CRC-32C,
 * offsets following on from `expectedNext`), and rebuilds the index on the way. Stops at the
 * first bad batch and says whether anything valid follows it (if not, it is a torn tail).
 */
export function scanSegment(
  fs: FileSystem,
  fd: number,
  path: string,
  baseOffset: number,
  from: number,
  size: number,
  expectedNext: number,
  index = new OffsetIndex(baseOffset),
): ScanResult {
  let buf = Buffer.allocUnsafe(0);
  let bufStart = 0;
  const load = (position: number, length: number): number => {
    // Makes [position, position + length) available in buf; returns the offset of position in it.
    if (position >= bufStart && position + length <= bufStart + buf.length) return position - bufStart;
    const want = Math.min(Math.max(length, SCAN_CHUNK), size - position);
    buf = Buffer.allocUnsafe(want);
    let got = 0;
    try {
      while (got < want) {
        const n = fs.readSync(fd, buf, got, want - got, position + got);
        if (n === 0) break;
        got += n;
      }
    } catch (error) {
      throw storageIo(`reading ${path}`, error);
    }
    buf = buf.subarray(0, got);
    bufStart = position;
    return 0;
  };

  let pos = from;
  let next = expectedNext;
  let maxTimestamp = -1;
  let sinceEntry = INDEX_INTERVAL_BYTES;
  while (pos < size) {
    const reason = checkAt(pos);
    if (reason !== undefined) {
      return { end: pos, nextOffset: next, maxTimestamp, index, damage: { position: pos, reason, tail: !validBatchFollows(pos) } };
    }
    const at = pos - bufStart;
    const length = batchSize(buf, at);
    const last = batchLastOffset(buf, at);
    const ts = batchMaxTimestamp(buf, at);
    if (ts > maxTimestamp) maxTimestamp = ts;
    if (sinceEntry >= INDEX_INTERVAL_BYTES) {
      index.add(last, pos);
      index.addTime(maxTimestamp, last);
      sinceEntry = 0;
    }
    sinceEntry += length;
    next = last + 1;
    pos += length;
  }
  return { end: pos, nextOffset: next, maxTimestamp, index };

  /** Why the batch at `position` is not valid, or undefined. */
  function checkAt(position: number): string | undefined {
    if (size - position < RECORD_BATCH_HEADER_SIZE) return `${size - position} bytes left, fewer than a batch header`;
    let at = load(position, RECORD_BATCH_HEADER_SIZE);
    const length = batchSize(buf, at);
    if (length < RECORD_BATCH_HEADER_SIZE || position + length > size) {
      return `batch length ${length - LOG_OVERHEAD} runs past the end of the file (${size - position - LOG_OVERHEAD} bytes left)`;
    }
    at = load(position, length);
    const bad = checkBatch(buf, at, at + length);
    if (bad !== undefined) return bad;
    const base = batchBaseOffset(buf, at);
    if (base !== next) return `batch starts at offset ${base}, expected ${next}`;
    return undefined;
  }

  /**
   * Whether a whole, valid batch starts anywhere after the damaged position: then the damage is
   * inside the log, not a torn tail (a torn write leaves nothing valid behind it). The damaged
   * batch's own length cannot be trusted, so every later position is tried.
   */
  function validBatchFollows(position: number): boolean {
    for (let q = position + 1; q + RECORD_BATCH_HEADER_SIZE <= size; q++) {
      const at = load(q, RECORD_BATCH_HEADER_SIZE);
      if (buf[at + 16] !== 2) continue; // magic
      const length = batchSize(buf, at);
      if (length < RECORD_BATCH_HEADER_SIZE || q + length > size) continue;
      const whole = load(q, length);
      // Only a batch that could come next counts: a copy of an earlier batch inside a record's
      // value (torn off at the tail) is not evidence of a damaged middle.
      const base = batchBaseOffset(buf, whole);
      if (base <= next || base > next + (q - position)) continue;
      if (checkBatch(buf, whole, whole + length) === undefined) return true;
    }
    return false;
  }
}
