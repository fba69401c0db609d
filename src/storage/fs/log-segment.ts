import { basename, join } from 'node:path';
import type { LRUCache } from 'lru-cache';
import { controlBatchType } from '../../codec/control-batch.js';
import { batchLastOffset, batchMaxTimestamp } from '../../codec/record-batch.js';
import type { ProblemLog } from '../../logger.js';
import { storageCorrupt, storageIo } from '../../errors.js';
import type { AbortedTransaction, AbortedTransactionEntry } from '../storage.js';
import { BatchReader, type WalkStart } from './batch-reader.js';
import type { FdCache } from './fd-cache.js';
import { readOr, writeAll, writeAllSync } from './file-io.js';
import { DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, offsetFileStem, parsePartitionDirName, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX } from './file-names.js';
import type { FileSystem } from './file-system.js';
import { OffsetIndex } from './offset-index.js';
import { TIME_ENTRY_SIZE, TimeIndex } from './time-index.js';
import { TransactionIndex } from './transaction-index.js';

/** Bytes of log between two index entries, Kafka's `index.interval.bytes`. */
export const INDEX_INTERVAL_BYTES = 4096;
/** Recovery reads the log in chunks this large. */
const SCAN_CHUNK = 1 << 20;
/** Reads read at least this much at a time (more when the caller wants more). */
const READ_CHUNK = 64 * 1024;

/** What the segments of one storage share. */
export interface SegmentContext {
  fs: FileSystem;
  fds: FdCache;
  /** Loaded indexes of sealed segments, bounded; evicting one unloads it. */
  indexes: LRUCache<LogSegment, true>;
  /** Where recovery reports what it repaired (a cut tail), so a repair is never silent. */
  log: ProblemLog;
}

/** The abort markers in a batch: an append's, by batch (only batches that are abort markers). */
export type AbortsByBatch = ReadonlyMap<Uint8Array, AbortedTransactionEntry>;

/** The abort markers a recovery walk met, to check the `.txnindex` against. */
export interface WalkedAborts {
  /** The base offset of the first batch walked. */
  from: number;
  /** The offsets of the abort markers walked, in order. */
  offsets: number[];
}

/** How much a read may still take: it stops once `bytes` reaches `maxBytes` (after one batch at least). */
export interface ReadBudget {
  bytes: number;
  maxBytes: number;
}

/** What a walk over the segment found. */
interface Scan {
  /** Byte position just past the last whole, valid batch. */
  end: number;
  /** The offset after the last valid batch (where the walk started if there was none). */
  nextOffset: number;
  maxTimestamp: number;
  /** Batches found valid. */
  batches: number;
  index: OffsetIndex;
  timeIndex: TimeIndex;
  /** How the walk ended, when not at `end`: the reader holds the details. */
  stop: 'end' | 'damage' | 'mismatch';
  reader: BatchReader;
  aborts: WalkedAborts;
}

/**
 * One segment of a partition's log, Kafka's files named by its base offset (20 digits):
 * `<base>.log` holding whole RecordBatch v2 batches back to back, nothing between them, beside
 * its sparse `<base>.index` ({@link OffsetIndex}) and `<base>.timeindex` ({@link TimeIndex}), and
 * `<base>.txnindex` ({@link TransactionIndex}), the aborted transactions whose markers it holds.
 * It owns its append, read, recovery and truncation, all walking the log with one
 * {@link BatchReader}.
 *
 * The active (last) segment keeps its indexes in memory; a sealed one loads its offset index on
 * demand into the storage's bounded cache of loaded indexes.
 *
 * Concurrency: the owning log serialises appends, truncations and deletions; reads may run at
 * any time. `size` and `nextOffset` move only after bytes reached the file (and back at once
 * when a failed round is undone), so reads never see a batch still being written.
 */
export class LogSegment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  readonly txnIndexPath: string;
  /** Bytes of whole batches in the file. */
  size = 0;
  /** The offset after the segment's last batch. */
  nextOffset: number;
  /** The largest record timestamp in the segment, -1 when empty. */
  maxTimestamp = -1;
  /** Recovery cut a torn tail off this segment at open. */
  tailCut = false;
  /** Bytes since the last index entry. */
  #sinceEntry = 0;
  /** The offset index, while loaded (always for the active segment). */
  #index: OffsetIndex | undefined;
  /** The time index appends go to (the active segment's). */
  #timeIndex: TimeIndex | undefined;
  #active = true;
  /** The aborted transactions whose markers the segment holds (the `.txnindex`, always in memory). */
  #txnIndex: TransactionIndex;
  /** Entries were appended to the `.txnindex` since its last fsync. */
  #txnUnsynced = false;
  /** What the last recovery walk met, for the loader to check the `.txnindex` against. */
  walkedAborts: WalkedAborts | undefined;
  readonly #ctx: SegmentContext;
  /** The partition this segment belongs to, for errors. */
  readonly #where: { topic?: string; partition?: number };

  constructor(ctx: SegmentContext, dir: string, baseOffset: number) {
    this.#ctx = ctx;
    this.#where = parsePartitionDirName(basename(dir)) ?? {};
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    const stem = join(dir, offsetFileStem(baseOffset));
    this.logPath = stem + LOG_SUFFIX;
    this.indexPath = stem + INDEX_SUFFIX;
    this.timeIndexPath = stem + TIME_INDEX_SUFFIX;
    this.txnIndexPath = stem + TXN_INDEX_SUFFIX;
    this.#txnIndex = new TransactionIndex(baseOffset);
  }

  get #fs(): FileSystem {
    return this.#ctx.fs;
  }

  /**
   * Creates the segment's (empty) files: a new segment at the end of the log. If one cannot be
   * made, those made are removed again: a stray `.log` would be taken for a segment at the next
   * open, ending the segment before it at the wrong offset.
   */
  create(): void {
    const fs = this.#fs;
    const paths = [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndexPath];
    try {
      for (const path of paths) fs.closeSync(fs.openSync(path, 'a'));
    } catch (error) {
      for (const path of paths) {
        try {
          fs.rmSync(path, { force: true });
        } catch {
          // the error that matters is the one below
        }
      }
      throw storageIo(`creating segment ${this.logPath}`, error);
    }
    this.#index = new OffsetIndex(this.baseOffset);
    this.#timeIndex = new TimeIndex(this.baseOffset);
  }

  /** No more appends: the time index gets its last entry, the index goes to the bounded cache, like every sealed segment's. */
  seal(): void {
    this.finishTimeIndex();
    this.#active = false;
    this.#timeIndex = undefined;
    if (this.#index !== undefined) this.#ctx.indexes.set(this, true);
  }

  /**
   * Appends the segment's largest timestamp to its `.timeindex` unless the last entry holds it
   * already (Kafka does this when a segment becomes inactive and at close): entries are sparse,
   * and time retention and lookups by time read a sealed segment's largest timestamp from the
   * file's last entry. Quiet on failure: the entry is only missed, as a sparse one would be.
   */
  finishTimeIndex(): void {
    const entry = this.#timeIndex?.add(this.maxTimestamp, this.nextOffset - 1);
    if (entry === undefined || this.nextOffset === this.baseOffset) return;
    try {
      const handle = this.#ctx.fds.acquire(this.timeIndexPath);
      try {
        this.#fs.writeSync(handle.fd, entry);
      } finally {
        this.#ctx.fds.release(handle);
      }
    } catch {
      // a time index that falls short is read as it is; see above
    }
  }

  /** The segment is the last again (a failed round dropped those after it); its index is rebuilt by {@link truncateTo}. */
  activate(): void {
    this.#active = true;
    this.#ctx.indexes.delete(this);
  }

  /** Drops the in-memory index of a sealed segment (it is loaded again when needed). */
  unloadIndex(): void {
    this.#index = undefined;
  }

  // ---- append ---------------------------------------------------------------------------------

  /**
   * Writes `batches` at the end of the file (one writev), then the index entries they earned —
   * and the `.txnindex` entries of the abort markers among them (`aborts`, by batch).
   */
  async append(batches: Uint8Array[], aborts?: AbortsByBatch): Promise<void> {
    const fds = this.#ctx.fds;
    const handle = await fds.acquireAsync(this.logPath); // not through #appendTo: a promise less per round
    try {
      await writeAll(this.#fs, handle.fd, batches, this.logPath);
    } finally {
      fds.release(handle);
    }
    const { entries, timeEntries } = this.#appended(batches);
    if (entries.length > 0) await this.#appendTo(this.indexPath, entries);
    if (timeEntries.length > 0) await this.#appendTo(this.timeIndexPath, timeEntries);
    const txnEntries = this.#txnEntries(batches, aborts);
    if (txnEntries !== undefined) await this.#appendTo(this.txnIndexPath, txnEntries);
  }

  /** The `.txnindex` entries of the abort markers among `batches`, added to the index in memory. */
  #txnEntries(batches: Uint8Array[], aborts: AbortsByBatch | undefined): Buffer[] | undefined {
    if (aborts === undefined || aborts.size === 0) return undefined;
    let out: Buffer[] | undefined;
    for (const batch of batches) {
      const entry = aborts.get(batch);
      if (entry !== undefined) (out ??= []).push(this.#txnIndex.add(entry));
    }
    if (out !== undefined) this.#txnUnsynced = true;
    return out;
  }

  /**
   * {@link append} and {@link sync} in the calling thread: the lone durable append's round, which
   * would otherwise pay a thread-pool trip and an event-loop turn for each of its three steps.
   */
  appendAndSyncSync(batches: Uint8Array[], aborts?: AbortsByBatch): void {
    const fds = this.#ctx.fds;
    const handle = fds.acquire(this.logPath);
    try {
      writeAllSync(this.#fs, handle.fd, batches, this.logPath);
      const { entries, timeEntries } = this.#appended(batches);
      if (entries.length > 0) this.#appendToSync(this.indexPath, entries);
      if (timeEntries.length > 0) this.#appendToSync(this.timeIndexPath, timeEntries);
      const txnEntries = this.#txnEntries(batches, aborts);
      if (txnEntries !== undefined) this.#appendToSync(this.txnIndexPath, txnEntries);
      if (this.#txnUnsynced) this.#syncTxnIndexSync();
      try {
        this.#fs.fsyncSync(handle.fd);
      } catch (error) {
        throw storageIo(`fsync of ${this.logPath}`, error);
      }
    } finally {
      fds.release(handle);
    }
  }

  #appendToSync(path: string, chunks: Uint8Array[]): void {
    const handle = this.#ctx.fds.acquire(path);
    try {
      writeAllSync(this.#fs, handle.fd, chunks, path);
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  /** Moves size, end and timestamps past batches just written, and returns the index entries they earned. */
  #appended(batches: Uint8Array[]): { entries: Buffer[]; timeEntries: Buffer[] } {
    const index = this.#index!;
    const timeIndex = this.#timeIndex!;
    const entries: Buffer[] = [];
    const timeEntries: Buffer[] = [];
    let at = this.size;
    for (const batch of batches) {
      const last = batchLastOffset(batch);
      const ts = batchMaxTimestamp(batch);
      if (ts > this.maxTimestamp) this.maxTimestamp = ts;
      if (this.#sinceEntry >= INDEX_INTERVAL_BYTES || at === 0) {
        entries.push(index.add(last, at));
        const t = timeIndex.add(this.maxTimestamp, last);
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

  async #appendTo(path: string, chunks: Uint8Array[]): Promise<void> {
    const handle = await this.#ctx.fds.acquireAsync(path);
    try {
      await writeAll(this.#fs, handle.fd, chunks, path);
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  /**
   * fdatasyncs the `.log` (its offset and time indexes are rebuilt from it when they fall
   * behind), and the `.txnindex` when it has new entries: a segment below the recovery point is
   * not read at open, so its aborted transactions must be on disk before the log is.
   */
  async sync(): Promise<void> {
    const fs = this.#fs;
    if (this.#txnUnsynced) {
      this.#txnUnsynced = false;
      const txn = await this.#ctx.fds.acquireAsync(this.txnIndexPath);
      try {
        await new Promise<void>((resolve, reject) =>
          fs.fdatasync(txn.fd, (error) => (error === null ? resolve() : reject(storageIo(`fsync of ${this.txnIndexPath}`, error)))),
        );
      } catch (error) {
        this.#txnUnsynced = true;
        throw error;
      } finally {
        this.#ctx.fds.release(txn);
      }
    }
    const handle = await this.#ctx.fds.acquireAsync(this.logPath);
    try {
      await new Promise<void>((resolve, reject) =>
        fs.fdatasync(handle.fd, (error) => (error === null ? resolve() : reject(storageIo(`fsync of ${this.logPath}`, error)))),
      );
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  #syncTxnIndexSync(): void {
    const handle = this.#ctx.fds.acquire(this.txnIndexPath);
    try {
      this.#fs.fsyncSync(handle.fd);
      this.#txnUnsynced = false;
    } catch (error) {
      throw storageIo(`fsync of ${this.txnIndexPath}`, error);
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  /** fsyncs the index files, quietly: they are rebuilt from the log if this fails (at close). */
  async syncIndexes(): Promise<void> {
    const fs = this.#fs;
    for (const path of [this.indexPath, this.timeIndexPath, this.txnIndexPath]) {
      const handle = await this.#ctx.fds.acquireAsync(path);
      try {
        await new Promise<void>((resolve) => fs.fsync(handle.fd, () => resolve()));
      } finally {
        this.#ctx.fds.release(handle);
      }
    }
  }

  // ---- read -----------------------------------------------------------------------------------

  /**
   * Reads the batches holding offsets from `offset` into `out`; true once the budget is spent.
   * Every batch is checked on the way (see {@link BatchReader}): damage is STORAGE_CORRUPT,
   * never data. An index entry that does not point at the batch it names is not trusted: the
   * index is rebuilt from the log and the read starts again.
   */
  async read(offset: number, out: Uint8Array[], budget: ReadBudget): Promise<boolean> {
    const fs = this.#fs;
    const handle = await this.#ctx.fds.acquireAsync(this.logPath);
    try {
      for (let attempt = 0; ; attempt++) {
        const entry = this.baseOffset <= offset ? this.#loadIndex(handle.fd).floor(offset) : undefined;
        const start: WalkStart = entry === undefined ? { position: 0, baseOffset: this.baseOffset } : { position: entry.position, lastOffset: entry.offset };
        const reader = new BatchReader(this.logPath, start, this.size);
        const pushedBefore = out.length;
        const bytesBefore = budget.bytes;
        for (;;) {
          reader.end = this.size; // a round completed meanwhile, or was undone
          const step = reader.next();
          if (step === 'batch') {
            if (reader.lastOffset < offset) continue;
            if (out.length > 0 && budget.bytes + reader.batchLength > budget.maxBytes) return true;
            out.push(reader.batch());
            budget.bytes += reader.batchLength;
            if (budget.bytes >= budget.maxBytes) return true; // before looking at (and judging) more
          } else if (step === 'need') {
            await reader.fill(fs, handle.fd, Math.max(budget.maxBytes - budget.bytes, READ_CHUNK));
          } else if (step === 'end') {
            return false;
          } else if (step === 'damage') {
            // What was read before the damage is whole and checked: hand it out; the next read,
            // which starts at the damage, fails.
            if (out.length > 0) return true;
            throw storageCorrupt(this.logPath, reader.damage!.position, reader.damage!.reason, { ...this.#where, offset: reader.nextOffset ?? offset });
          } else {
            break; // mismatch: the index is wrong
          }
        }
        if (attempt > 0) throw storageCorrupt(this.indexPath, 0, 'the rebuilt index does not match its log');
        out.length = pushedBefore;
        budget.bytes = bytesBefore;
        this.#setIndex(this.#rebuild(handle.fd));
      }
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  /** The offset index, loaded from its file (rebuilt from the log when bad) and kept until the cache evicts it. */
  #loadIndex(fd: number): OffsetIndex {
    if (this.#index !== undefined) return this.#index;
    const index = OffsetIndex.load(this.baseOffset, readOr(this.#fs, this.indexPath), this.size) ?? this.#rebuild(fd).index;
    this.#index = index;
    if (!this.#active) this.#ctx.indexes.set(this, true);
    return index;
  }

  #setIndex(scan: { index: OffsetIndex; timeIndex: TimeIndex }): void {
    this.#index = scan.index;
    if (this.#active) this.#timeIndex = scan.timeIndex;
    else this.#ctx.indexes.set(this, true);
  }

  // ---- recovery -------------------------------------------------------------------------------

  /**
   * Finds where the segment's whole batches end in a file of `fileSize` bytes, and rebuilds its
   * indexes on the way. With `trustBelow`, the walk starts at the index entry at or below that
   * offset (`Infinity`: the last entry) when the index holds up there — the batch it points at is
   * whole and ends at that offset — and from the start of the file otherwise.
   *
   * Bytes after the last whole batch are a torn tail when nothing valid follows them: with
   * `cutTornTail` the file is cut back to the last whole batch. Any other damage is
   * STORAGE_CORRUPT, naming the file and the byte position.
   */
  recover(fileSize: number, trustBelow: number | undefined, cutTornTail: boolean): void {
    const fs = this.#fs;
    const handle = this.#ctx.fds.acquire(this.logPath);
    try {
      let scan: Scan | undefined;
      if (trustBelow !== undefined) {
        const index = OffsetIndex.load(this.baseOffset, readOr(fs, this.indexPath), fileSize);
        const entry = index?.floor(trustBelow);
        if (index !== undefined && entry !== undefined) {
          index.truncateTo(entry.position); // the walk adds the entry for its first batch again
          const timeIndex = new TimeIndex(this.baseOffset);
          timeIndex.seed(TimeIndex.read(readOr(fs, this.timeIndexPath)).maxTimestamp);
          const s = this.#scan(handle.fd, { position: entry.position, lastOffset: entry.offset }, fileSize, index, timeIndex);
          if (s.batches > 0) scan = s; // else the entry did not hold: walk the whole file
        }
      }
      const fromStart = scan === undefined;
      scan ??= this.#scan(handle.fd, { position: 0, baseOffset: this.baseOffset }, fileSize);
      if (scan.stop !== 'end') {
        const damage = scan.reader.damage!;
        if (!cutTornTail || scan.reader.validBatchFollows(fs, handle.fd, SCAN_CHUNK)) {
          throw storageCorrupt(this.logPath, damage.position, damage.reason, { ...this.#where, offset: scan.nextOffset });
        }
        try {
          fs.ftruncateSync(handle.fd, scan.end); // a torn tail: back to the last whole batch
        } catch (error) {
          throw storageIo(`truncating ${this.logPath}`, error);
        }
        this.tailCut = true;
        this.#ctx.log.warn(
          `torn tail ${this.logPath}`,
          `cut ${fileSize - scan.end} bytes of torn tail from ${this.logPath} at byte ${scan.end} (${damage.reason}); the log ends at offset ${scan.nextOffset}`,
          { file: this.logPath, position: scan.end },
        );
      }
      this.walkedAborts = scan.batches > 0 ? scan.aborts : undefined;
      if (fromStart) {
        // A full walk rebuilt the indexes: write them (the old ones may be stale or missing).
        this.#adopt(scan);
        this.#writeIndexFiles(scan.index.bytes(), scan.timeIndex.bytes());
      } else {
        // The index held up to where the walk started; past a cut tail, its files may hold
        // entries for bytes that are gone: keep only entries for offsets that remain.
        const kept = scan.stop === 'end' ? undefined : scan.nextOffset - 1 - this.baseOffset;
        const times = TimeIndex.read(readOr(fs, this.timeIndexPath), kept);
        this.#adopt({ ...scan, maxTimestamp: Math.max(scan.maxTimestamp, times.maxTimestamp) });
        if (kept !== undefined) this.#writeIndexFiles(scan.index.bytes(), times.entries);
      }
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  /**
   * Takes a segment sealed and flushed before the last checkpoint as it is: `fileSize` bytes
   * ending at `nextOffset`. Its largest timestamp comes from the time index — which time
   * retention goes by, so a missing or partial one is rebuilt from the log.
   */
  trust(fileSize: number, nextOffset: number): void {
    this.size = fileSize;
    this.nextOffset = nextOffset;
    const times = TimeIndex.read(readOr(this.#fs, this.timeIndexPath));
    this.maxTimestamp = times.maxTimestamp;
    const handle = this.#ctx.fds.acquire(this.logPath);
    try {
      if (fileSize > 0 && !times.whole) this.#rebuild(handle.fd);
      // The next segment must start where this one ends (a segment file lost in between would
      // leave a silent gap): a short walk from the last index entry to the end of the file says.
      const index = OffsetIndex.load(this.baseOffset, readOr(this.#fs, this.indexPath), fileSize);
      const entry = index?.floor(Infinity);
      const start: WalkStart = entry === undefined ? { position: 0, baseOffset: this.baseOffset } : { position: entry.position, lastOffset: entry.offset };
      let scan = this.#scan(handle.fd, start, fileSize);
      if (scan.stop === 'mismatch') scan = this.#scan(handle.fd, { position: 0, baseOffset: this.baseOffset }, fileSize);
      // Damage inside a batch is for reads to report (the records before it stay readable). But
      // bytes after the batch that ends at the next segment's base were never a tail: a sealed
      // segment ends with a whole batch, so they are refused here (and never cut).
      if (scan.stop === 'damage' && scan.nextOffset === nextOffset) {
        throw storageCorrupt(this.logPath, scan.reader.damage!.position, `bytes after the last batch of a sealed segment (${scan.reader.damage!.reason})`, {
          ...this.#where,
          offset: scan.nextOffset,
        });
      }
      if (scan.stop === 'end' && scan.nextOffset !== nextOffset) {
        throw storageCorrupt(this.logPath, fileSize, `the segment ends at offset ${scan.nextOffset}, but the next segment starts at ${nextOffset}: a segment in between is missing`, {
          ...this.#where,
          offset: scan.nextOffset,
        });
      }
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  /** Walks the batches from `start` to `size`, building index entries as appends would have. */
  #scan(fd: number, start: WalkStart, size: number, index = new OffsetIndex(this.baseOffset), timeIndex = new TimeIndex(this.baseOffset)): Scan {
    const reader = new BatchReader(this.logPath, start, size);
    let maxTimestamp = -1;
    let sinceEntry = INDEX_INTERVAL_BYTES;
    let batches = 0;
    const aborts: WalkedAborts = { from: -1, offsets: [] };
    for (;;) {
      const step = reader.next();
      if (step === 'need') {
        reader.fillSync(this.#fs, fd, SCAN_CHUNK);
        continue;
      }
      if (step !== 'batch') {
        const nextOffset = reader.nextOffset ?? this.baseOffset;
        if (batches > 0) timeIndex.add(maxTimestamp, nextOffset - 1); // the largest timestamp, as a sealed segment's file ends
        return { end: reader.position, nextOffset, maxTimestamp, batches, index, timeIndex, stop: step, reader, aborts };
      }
      if (batches++ === 0) aborts.from = reader.baseOffset;
      if (reader.isControl() && controlBatchType(reader.batch()) === 'abort') aborts.offsets.push(reader.baseOffset);
      const ts = reader.maxTimestamp();
      if (ts > maxTimestamp) maxTimestamp = ts;
      if (sinceEntry >= INDEX_INTERVAL_BYTES) {
        index.add(reader.lastOffset, reader.batchPosition);
        timeIndex.add(maxTimestamp, reader.lastOffset);
        sinceEntry = 0;
      }
      sinceEntry += reader.batchLength;
    }
  }

  /** Rebuilds both indexes from the whole log and writes their files; damage is STORAGE_CORRUPT. */
  #rebuild(fd: number): Scan {
    const scan = this.#scan(fd, { position: 0, baseOffset: this.baseOffset }, this.size);
    if (scan.stop !== 'end') throw storageCorrupt(this.logPath, scan.reader.damage!.position, scan.reader.damage!.reason, { ...this.#where, offset: scan.nextOffset });
    this.maxTimestamp = Math.max(this.maxTimestamp, scan.maxTimestamp);
    this.#writeIndexFiles(scan.index.bytes(), scan.timeIndex.bytes());
    return scan;
  }

  /** Adopts what a walk found: the segment ends at `scan.end`. */
  #adopt(scan: Scan): void {
    this.size = scan.end;
    this.nextOffset = scan.nextOffset;
    this.maxTimestamp = scan.maxTimestamp;
    this.#sinceEntry = 0;
    this.#index = scan.index;
    if (this.#active) this.#timeIndex = scan.timeIndex;
    else this.#ctx.indexes.set(this, true);
  }

  #writeIndexFiles(index: Uint8Array, timeIndex: Uint8Array): void {
    try {
      this.#fs.writeFileSync(this.indexPath, index);
      this.#fs.writeFileSync(this.timeIndexPath, timeIndex);
    } catch (error) {
      throw storageIo(`writing ${this.indexPath}`, error);
    }
  }

  // ---- truncation and deletion ----------------------------------------------------------------

  /** Forgets everything past `size` at once — reads stop there — until {@link truncateTo} cuts the file. */
  rewindTo(size: number, nextOffset: number): void {
    this.size = size;
    this.nextOffset = nextOffset;
    this.#index?.truncateTo(size);
    this.#txnIndex.truncateTo(nextOffset);
  }

  /** Cuts the file back to `size` and rebuilds the indexes from what remains (after a failed round). */
  truncateTo(size: number): void {
    const handle = this.#ctx.fds.acquire(this.logPath);
    try {
      this.#fs.ftruncateSync(handle.fd, size);
      const scan = this.#scan(handle.fd, { position: 0, baseOffset: this.baseOffset }, size);
      this.#adopt(scan);
      this.#writeIndexFiles(scan.index.bytes(), scan.timeIndex.bytes());
      this.#txnIndex.truncateTo(scan.nextOffset);
      this.#writeTxnIndex();
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  // ---- aborted transactions -------------------------------------------------------------------

  /**
   * Loads the `.txnindex` (at open, once the segment's end is known); false when it is missing or
   * fails {@link TransactionIndex.load}'s checks — the loader then rebuilds it from the log.
   * Entries past the segment's end (a cut tail) are dropped.
   */
  loadTxnIndex(): boolean {
    let bytes: Buffer;
    try {
      bytes = this.#fs.readFileSync(this.txnIndexPath);
    } catch {
      return false;
    }
    const index = TransactionIndex.load(this.baseOffset, bytes, Infinity);
    if (index === undefined) return false;
    this.#txnIndex = index;
    if (index.truncateTo(this.nextOffset)) this.#writeTxnIndex();
    return true;
  }

  /** The marker offsets of the `.txnindex` entries from `from` on (checked against a recovery walk). */
  txnMarkersFrom(from: number): number[] {
    const out: number[] = [];
    for (const e of this.#txnIndex.entries) if (e.lastOffset >= from) out.push(e.lastOffset);
    return out;
  }

  /** The `.txnindex` entries, in marker order. */
  get abortedTransactions(): readonly AbortedTransactionEntry[] {
    return this.#txnIndex.entries;
  }

  /** Replaces the `.txnindex` with `entries` (rebuilt from the log, or carried over by a cleaning swap) and writes it. */
  setTxnIndex(entries: AbortedTransactionEntry[]): void {
    this.#txnIndex = TransactionIndex.of(this.baseOffset, entries);
    this.walkedAborts = undefined;
    this.#writeTxnIndex();
  }

  /** Kafka's `collectAbortedTxns` over this segment: see {@link TransactionIndex.collect}. */
  collectAborted(from: number, to: number, out: AbortedTransaction[]): boolean {
    return this.#txnIndex.collect(from, to, out);
  }

  /** Writes the whole `.txnindex` and fsyncs it: a segment below the recovery point is trusted with it. */
  #writeTxnIndex(): void {
    const fs = this.#fs;
    try {
      const fd = fs.openSync(this.txnIndexPath, 'w');
      try {
        writeAllSync(fs, fd, [this.#txnIndex.bytes()], this.txnIndexPath);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      this.#txnUnsynced = false;
    } catch (error) {
      throw storageIo(`writing ${this.txnIndexPath}`, error);
    }
  }

  /**
   * Every batch of the segment, in order, synchronously (rebuilding the `.txnindex` at open);
   * false when the walk met damage and stopped there (reads report it).
   */
  eachBatchSync(visit: (batch: Buffer) => void): boolean {
    const handle = this.#ctx.fds.acquire(this.logPath);
    try {
      const reader = new BatchReader(this.logPath, { position: 0, baseOffset: this.baseOffset }, this.size);
      for (;;) {
        const step = reader.next();
        if (step === 'need') reader.fillSync(this.#fs, handle.fd, SCAN_CHUNK);
        else if (step === 'batch') visit(reader.batch());
        else return step === 'end';
      }
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  /**
   * From the `.timeindex` file: the offset after the last entry whose timestamp is below
   * `timestamp` (every record up to that entry is older), else the segment's base. The file may
   * lag the log by a round; an older entry only makes the caller read a little more.
   */
  offsetBeforeTimestamp(timestamp: number): number {
    const { entries } = TimeIndex.read(readOr(this.#fs, this.timeIndexPath));
    let after = this.baseOffset;
    for (let at = 0; at + TIME_ENTRY_SIZE <= entries.length; at += TIME_ENTRY_SIZE) {
      if (Number(entries.readBigInt64BE(at)) >= timestamp) break;
      after = this.baseOffset + entries.readInt32BE(at + 8) + 1;
    }
    return after;
  }

  /** Closes the segment's descriptors and forgets its index (before its files go). */
  forget(): void {
    this.#ctx.indexes.delete(this);
    for (const path of [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndexPath]) this.#ctx.fds.forget(path);
  }

  /** Removes the files at once (a segment made by a round that failed). */
  remove(): void {
    this.forget();
    for (const path of [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndexPath]) this.#fs.rmSync(path, { force: true });
  }

  /** Renames the files to `.deleted`, then removes them in the background (as Kafka). */
  delete(): void {
    const fs = this.#fs;
    this.forget();
    for (const path of [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndexPath]) {
      try {
        fs.renameSync(path, path + DELETED_SUFFIX);
        fs.unlink(path + DELETED_SUFFIX, () => undefined);
      } catch {
        // already gone
      }
    }
  }
}
