import { join } from 'node:path';
import type { LRUCache } from 'lru-cache';
import { batchBaseOffset, batchLastOffset, batchSize, checkBatch, RECORD_BATCH_HEADER_SIZE } from '../../codec/record-batch.js';
import { KafkaliteError, storageCorrupt, storageIo } from '../../errors.js';
import type { PartitionLog, RetentionPolicy } from '../storage.js';
import type { FdCache } from './fd-cache.js';
import { DELETED_SUFFIX, LOG_SUFFIX, parseSegmentName } from './file-names.js';
import type { FileSystem } from './file-system.js';
import { OffsetIndex } from './offset-index.js';
import { LogSegment, readAt, scanSegment } from './segment.js';
import { batchAt, fileSize, lastTimestamp, readOr, readTimeIndex, syncDir, writeAll } from './file-io.js';

export type FsyncMode = 'always' | 'interval' | 'never';

/** What every log of one FileStorage shares. */
export interface FileLogContext {
  fs: FileSystem;
  fds: FdCache;
  /** Loaded indexes of sealed segments, bounded; evicting one unloads it. */
  indexes: LRUCache<LogSegment, true>;
  fsync: FsyncMode;
  /** A segment rolls once it would grow past this many bytes. */
  segmentBytes: () => number;
}

/** How to open a log: after a clean shutdown, or recovering from `recoveryPoint`. */
export interface OpenMode {
  clean: boolean;
  /** Offsets below this were on disk at the last checkpoint; recovery scans from there. */
  recoveryPoint: number;
}

const READ_CHUNK = 64 * 1024;

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A partition's log on disk: a folder of segments (see {@link LogSegment}). Appends are staged
 * in memory and written in rounds, one `writev` per segment per round; with fsync `'always'` a
 * round ends with one `fdatasync` that every append of the round shares (group commit), and the
 * appends resolve only then.
 *
 * Concurrency: appends are taken synchronously in call order; one write round runs at a time;
 * reads see only batches whose round completed.
 */
export class FileLog implements PartitionLog {
  readonly dir: string;
  #ctx: FileLogContext;
  #segments: LogSegment[];
  #end: number;
  #queue: Uint8Array[] = [];
  #waiters: Waiter[] = [];
  #draining: Promise<void> | undefined;
  /** Everything below this offset is fsynced. */
  #flushedEnd: number;
  /** Segments written since their last fsync. */
  #unsynced = new Set<LogSegment>();
  #closed = false;
  /** A failed round whose bytes are still to be cut from the files (see #undoRound). */
  #pendingUndo: { size: number; dropped: LogSegment[] } | undefined;

  private constructor(dir: string, ctx: FileLogContext, segments: LogSegment[]) {
    this.dir = dir;
    this.#ctx = ctx;
    this.#segments = segments;
    this.#end = segments[segments.length - 1]!.nextOffset;
    this.#flushedEnd = this.#end;
  }

  /** Opens (or creates) the log in `dir`, recovering its tail if the last shutdown was not clean. */
  static open(dir: string, ctx: FileLogContext, mode: OpenMode): FileLog {
    const fs = ctx.fs;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw storageIo(`creating ${dir}`, error);
    }
    const names = fs.readdirSync(dir);
    const bases: number[] = [];
    for (const name of names) {
      if (name.endsWith(DELETED_SUFFIX)) fs.rmSync(join(dir, name), { force: true }); // a deletion cut short
      const base = parseSegmentName(name, LOG_SUFFIX);
      if (base !== undefined) bases.push(base);
    }
    bases.sort((a, b) => a - b);
    if (bases.length === 0) bases.push(0);
    const segments = bases.map((base) => new LogSegment(ctx.fs, dir, base));
    const log = new FileLog(dir, ctx, segments);
    log.#load(mode);
    return log;
  }

  #load(mode: OpenMode): void {
    const fs = this.#ctx.fs;
    const segments = this.#segments;
    const last = segments.length - 1;
    // A segment holding the recovery point (or later) may have an unflushed tail: scan it.
    let firstToScan = last;
    if (!mode.clean) {
      firstToScan = 0;
      for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= mode.recoveryPoint) firstToScan = i;
    }
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const size = fileSize(fs, seg.logPath);
      const next = segments[i + 1]?.baseOffset;
      if (i < firstToScan) {
        // Trusted: sealed and flushed before the checkpoint.
        seg.size = size;
        seg.nextOffset = next ?? seg.baseOffset;
        const times = readTimeIndex(fs, seg.timeIndexPath, undefined);
        seg.maxTimestamp = times.max;
        if (size > 0 && !times.whole) {
          // Time retention goes by these timestamps: a missing or partial time index is rebuilt.
          const handle = this.#ctx.fds.acquire(seg.logPath);
          try {
            seg.rebuildIndex(handle.fd);
          } finally {
            this.#ctx.fds.release(handle);
          }
        }
        continue;
      }
      // After a clean close only the tail of the last segment is read; after a crash, the
      // segment holding the recovery point is read from its index entry for that point.
      const from = mode.clean ? Infinity : i === firstToScan ? mode.recoveryPoint : undefined;
      this.#recover(seg, size, i === last, from);
      if (next !== undefined && seg.nextOffset !== next) {
        throw storageCorrupt(seg.logPath, seg.size, `segment ends at offset ${seg.nextOffset} but the next segment starts at ${next}`);
      }
    }
    this.#end = segments[last]!.nextOffset;
    this.#flushedEnd = this.#end;
  }

  /**
   * Scans a segment and cuts a torn tail. With `trustBelow`, the scan starts at the index entry
   * at or below that offset (`Infinity`: the last entry) when the index holds up there — the
   * batch it points at is whole and has that offset — and from the start of the file otherwise.
   */
  #recover(seg: LogSegment, size: number, isLast: boolean, trustBelow: number | undefined): void {
    const fs = this.#ctx.fs;
    const handle = this.#ctx.fds.acquire(seg.logPath);
    try {
      let from = 0;
      let expected = seg.baseOffset;
      let index: OffsetIndex | undefined;
      if (trustBelow !== undefined) {
        const loaded = OffsetIndex.load(seg.baseOffset, readOr(fs, seg.indexPath), size);
        const entry = loaded?.floor(trustBelow);
        const head = entry === undefined ? undefined : batchAt(fs, handle.fd, entry.position, size);
        if (loaded !== undefined && entry !== undefined && head !== undefined && head.last === entry.offset) {
          from = entry.position;
          expected = head.base;
          loaded.truncateTo(from);
          loaded.seedTime(lastTimestamp(fs, seg.timeIndexPath));
          index = loaded;
        }
      }
      const scan = scanSegment(fs, handle.fd, seg.logPath, seg.baseOffset, from, size, expected, index);
      if (scan.damage !== undefined) {
        // Only a crash tears a write: after a clean close, damage anywhere is corruption.
        const clean = trustBelow === Infinity;
        if (clean || !isLast || !scan.damage.tail) throw storageCorrupt(seg.logPath, scan.damage.position, scan.damage.reason);
        try {
          fs.ftruncateSync(handle.fd, scan.end); // a torn tail: back to the last whole batch
        } catch (error) {
          throw storageIo(`truncating ${seg.logPath}`, error);
        }
      }
      if (from === 0) {
        // A full scan rebuilt the index: write it (the old one may be stale or missing).
        seg.scanned(scan);
        seg.writeIndexFiles(scan.index);
      } else {
        // The index held up to `from`; past a cut tail, its files may hold entries for bytes
        // that are gone: keep only entries for offsets that remain.
        const kept = scan.damage === undefined ? undefined : scan.nextOffset - 1 - seg.baseOffset;
        const timestamps = readTimeIndex(fs, seg.timeIndexPath, kept);
        seg.scanned({ ...scan, maxTimestamp: Math.max(scan.maxTimestamp, timestamps.max) });
        if (kept !== undefined) {
          fs.writeFileSync(seg.indexPath, scan.index.indexBytes());
          fs.writeFileSync(seg.timeIndexPath, timestamps.bytes);
        }
      }
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  get logStartOffset(): number {
    return this.#segments[0]!.baseOffset;
  }

  get logEndOffset(): number {
    return this.#end;
  }

  /** Offsets below this are fsynced (for the recovery checkpoint). */
  get flushedEnd(): number {
    return this.#flushedEnd;
  }

  append(batch: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(storageIo(`appending to ${this.dir}`, new Error('the log is closed')));
    if (this.#pendingUndo !== undefined && this.#draining === undefined) {
      const error = this.#finishUndo();
      if (error !== undefined) return Promise.reject(error);
    }
    const base = batchBaseOffset(batch);
    if (base !== this.#end) throw new RangeError(`batch starts at offset ${base}, but the log ends at ${this.#end}`);
    this.#end = batchLastOffset(batch) + 1;
    this.#queue.push(batch);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#draining ??= this.#drain();
    return done;
  }

  /** Writes queued batches round after round until the queue is empty. */
  async #drain(): Promise<void> {
    await Promise.resolve(); // let the rest of this tick's appends join the round
    try {
      while (this.#queue.length > 0) {
        const batches = this.#queue;
        const waiters = this.#waiters;
        this.#queue = [];
        this.#waiters = [];
        const mark = { segments: this.#segments.length, size: this.#active().size };
        try {
          await this.#writeRound(batches);
          if (this.#ctx.fsync === 'always') await this.#sync();
          for (const w of waiters) w.resolve();
        } catch (error) {
          // Nothing of this round (or queued after it) is acknowledged: take the log back to
          // before it, so the next append continues from the last good offset.
          const failed = error instanceof KafkaliteError ? error : storageIo(`writing ${this.dir}`, error);
          const later = this.#waiters;
          this.#queue = [];
          this.#waiters = [];
          this.#end = batchBaseOffset(batches[0]!);
          this.#undoRound(mark);
          for (const w of [...waiters, ...later]) w.reject(failed);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #writeRound(batches: Uint8Array[]): Promise<void> {
    const fs = this.#ctx.fs;
    const limit = this.#ctx.segmentBytes();
    let i = 0;
    while (i < batches.length) {
      let seg = this.#active();
      if (seg.size > 0 && seg.size + batches[i]!.length > limit) seg = this.#roll(batchBaseOffset(batches[i]!));
      const run: Uint8Array[] = [];
      let bytes = seg.size;
      while (i < batches.length && (run.length === 0 || bytes + batches[i]!.length <= limit)) {
        bytes += batches[i]!.length;
        run.push(batches[i++]!);
      }
      const handle = await this.#ctx.fds.acquireAsync(seg.logPath);
      try {
        await writeAll(fs, handle.fd, run, seg.logPath);
      } finally {
        this.#ctx.fds.release(handle);
      }
      const position = seg.size;
      const { entries, timeEntries } = seg.appended(run, position, seg.loadedIndex!);
      this.#unsynced.add(seg);
      if (entries.length > 0) await this.#appendFile(seg.indexPath, entries);
      if (timeEntries.length > 0) await this.#appendFile(seg.timeIndexPath, timeEntries);
    }
  }

  async #appendFile(path: string, chunks: Buffer[]): Promise<void> {
    const fs = this.#ctx.fs;
    const handle = await this.#ctx.fds.acquireAsync(path);
    try {
      await writeAll(fs, handle.fd, chunks, path);
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  /**
   * After a failed round (it may have failed after its bytes reached the file: on the index
   * writes or the fsync): memory goes back to before it at once — reads never see it — and the
   * files are cut back to match. Until that cut succeeds no round may write, as appends land at
   * the file's physical end: the next append retries it first.
   */
  #undoRound(mark: { segments: number; size: number }): void {
    const dropped = this.#segments.splice(mark.segments);
    for (const seg of dropped) {
      this.#unsynced.delete(seg);
      this.#ctx.indexes.delete(seg);
    }
    const seg = this.#active();
    this.#ctx.indexes.delete(seg); // the active segment again: its index stays loaded
    seg.size = mark.size;
    seg.nextOffset = this.#end;
    seg.loadedIndex?.truncateTo(mark.size);
    this.#pendingUndo = { size: mark.size, dropped: [...(this.#pendingUndo?.dropped ?? []), ...dropped] };
    this.#finishUndo();
  }

  /** Cuts the files back to what memory holds after a failed round; the error if it cannot yet. */
  #finishUndo(): KafkaliteError | undefined {
    const undo = this.#pendingUndo;
    if (undo === undefined) return undefined;
    const fs = this.#ctx.fs;
    try {
      for (const seg of undo.dropped) {
        for (const path of [seg.logPath, seg.indexPath, seg.timeIndexPath]) {
          this.#ctx.fds.forget(path);
          fs.rmSync(path, { force: true });
        }
      }
      undo.dropped = [];
      const seg = this.#active();
      const handle = this.#ctx.fds.acquire(seg.logPath);
      try {
        fs.ftruncateSync(handle.fd, undo.size);
        const scan = scanSegment(fs, handle.fd, seg.logPath, seg.baseOffset, 0, undo.size, seg.baseOffset);
        seg.scanned(scan);
        seg.writeIndexFiles(scan.index);
      } finally {
        this.#ctx.fds.release(handle);
      }
      this.#pendingUndo = undefined;
      return undefined;
    } catch (error) {
      return storageIo(`cutting ${this.dir} back after a failed write`, error);
    }
  }

  #active(): LogSegment {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** Seals the active segment and starts a new one at `baseOffset`. */
  #roll(baseOffset: number): LogSegment {
    const fs = this.#ctx.fs;
    const sealed = this.#active();
    const seg = new LogSegment(this.#ctx.fs, this.dir, baseOffset);
    try {
      fs.closeSync(fs.openSync(seg.logPath, 'a'));
      fs.closeSync(fs.openSync(seg.indexPath, 'a'));
      fs.closeSync(fs.openSync(seg.timeIndexPath, 'a'));
    } catch (error) {
      throw storageIo(`creating segment ${seg.logPath}`, error);
    }
    seg.adoptIndex(new OffsetIndex(baseOffset));
    this.#segments.push(seg);
    // The sealed segment's index now lives in the bounded cache, like every sealed one.
    this.#ctx.indexes.set(sealed, true);
    return seg;
  }

  /** fdatasyncs every segment written since its last sync, and the folder if segments were made. */
  async #sync(): Promise<void> {
    const fs = this.#ctx.fs;
    const end = this.#end - this.#queue.reduce((n, b) => n + batchLastOffset(b) + 1 - batchBaseOffset(b), 0);
    const segments = [...this.#unsynced];
    this.#unsynced.clear();
    for (const seg of segments) {
      const handle = await this.#ctx.fds.acquireAsync(seg.logPath);
      try {
        await new Promise<void>((resolve, reject) =>
          fs.fdatasync(handle.fd, (error) => (error === null ? resolve() : reject(storageIo(`fsync of ${seg.logPath}`, error)))),
        );
      } catch (error) {
        for (const s of segments) this.#unsynced.add(s);
        throw error;
      } finally {
        this.#ctx.fds.release(handle);
      }
    }
    if (segments.length > 1 || segments.some((s) => s.size === 0)) await syncDir(fs, this.dir);
    this.#flushedEnd = Math.max(this.#flushedEnd, end);
  }

  async read(offset: number, maxBytes: number): Promise<Uint8Array[]> {
    const segments = this.#segments;
    if (offset >= this.#end) return [];
    const out: Uint8Array[] = [];
    const budget = { bytes: 0, maxBytes };
    for (let i = segmentFor(segments, Math.max(offset, this.logStartOffset)); i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg.size === 0) continue;
      const full = await this.#readSegment(seg, offset, out, budget);
      if (full) break;
    }
    return out;
  }

  /**
   * Reads the batches of one segment holding offsets from `offset` into `out`; true once
   * `maxBytes` is reached. Every batch is checked: CRC-32C, and offsets following on from the
   * segment's base (the CRC does not cover `baseOffset`), so damage is STORAGE_CORRUPT, never
   * data. An index entry that does not point at the batch it names is not trusted: the index is
   * rebuilt from the log and the read starts again.
   */
  async #readSegment(seg: LogSegment, offset: number, out: Uint8Array[], budget: { bytes: number; maxBytes: number }): Promise<boolean> {
    const fs = this.#ctx.fs;
    const handle = await this.#ctx.fds.acquireAsync(seg.logPath);
    try {
      for (let attempt = 0; ; attempt++) {
        const entry = seg.baseOffset <= offset ? seg.index(handle.fd, this.#ctx.indexes).floor(offset) : undefined;
        let pos = entry?.position ?? 0;
        let expected = entry === undefined ? seg.baseOffset : undefined; // from an entry: its batch ends at entry.offset
        const pushedBefore = out.length;
        const bytesBefore = budget.bytes;
        let indexWrong = false;
        scan: while (pos < seg.size) {
          const want = Math.min(seg.size - pos, Math.max(budget.maxBytes - budget.bytes, READ_CHUNK));
          let chunk = await readAt(fs, handle.fd, seg.logPath, pos, want);
          let at = 0;
          while (at + RECORD_BATCH_HEADER_SIZE <= chunk.length) {
            const length = batchSize(chunk, at);
            if (length < RECORD_BATCH_HEADER_SIZE) throw storageCorrupt(seg.logPath, pos + at, `batch length ${length} is smaller than a header`);
            if (at + length > chunk.length) {
              if (at > 0) break;
              chunk = await readAt(fs, handle.fd, seg.logPath, pos, length); // one batch larger than the chunk
              if (chunk.length < length) throw storageCorrupt(seg.logPath, pos, `batch of ${length} bytes runs past the end of the segment`);
            }
            const bad = checkBatch(chunk, at, at + length);
            if (bad !== undefined) throw storageCorrupt(seg.logPath, pos + at, bad);
            const base = batchBaseOffset(chunk, at);
            const last = batchLastOffset(chunk, at);
            if (expected === undefined) {
              if (last !== entry!.offset) {
                indexWrong = true;
                break scan;
              }
            } else if (base !== expected) {
              throw storageCorrupt(seg.logPath, pos + at, `batch starts at offset ${base}, expected ${expected}`);
            }
            expected = last + 1;
            if (last >= offset) {
              if (out.length > 0 && budget.bytes + length > budget.maxBytes) return true;
              out.push(chunk.subarray(at, at + length));
              budget.bytes += length;
              if (budget.bytes >= budget.maxBytes) return true; // before looking at (and judging) more
            }
            at += length;
          }
          if (at === 0) throw storageCorrupt(seg.logPath, pos, 'a batch header cut short');
          pos += at;
          if (budget.bytes >= budget.maxBytes) return true;
        }
        if (!indexWrong) return false;
        if (attempt > 0) throw storageCorrupt(seg.indexPath, 0, 'the rebuilt index does not match its log');
        out.length = pushedBefore;
        budget.bytes = bytesBefore;
        seg.adoptIndex(seg.rebuildIndex(handle.fd));
        if (seg !== this.#active()) this.#ctx.indexes.set(seg, true);
      }
    } finally {
      this.#ctx.fds.release(handle);
    }
  }

  applyRetention(policy: RetentionPolicy): number {
    const { retentionBytes, retentionMs, now } = policy;
    let total = 0;
    for (const s of this.#segments) total += s.size;
    while (this.#segments.length > 0) {
      const seg = this.#segments[0]!;
      const isActive = this.#segments.length === 1;
      const expired = retentionMs >= 0 && seg.maxTimestamp >= 0 && seg.maxTimestamp < now - retentionMs;
      const overSize = !isActive && retentionBytes >= 0 && total - seg.size >= retentionBytes;
      if (!expired && !overSize) break;
      if (isActive) {
        // Every record has expired: roll an empty segment at the end, then drop the old one,
        // so the log remembers where it ends. Not while a round is writing to it.
        if (this.#draining !== undefined || this.#queue.length > 0 || seg.size === 0) break;
        this.#roll(this.#end);
      }
      this.#segments.shift();
      total -= seg.size;
      this.#deleteSegment(seg);
    }
    return this.logStartOffset;
  }

  /** Renames a segment's files to `.deleted`, then removes them in the background (as Kafka). */
  #deleteSegment(seg: LogSegment): void {
    const fs = this.#ctx.fs;
    this.#ctx.indexes.delete(seg);
    this.#unsynced.delete(seg);
    for (const path of [seg.logPath, seg.indexPath, seg.timeIndexPath]) {
      this.#ctx.fds.forget(path);
      try {
        fs.renameSync(path, path + DELETED_SUFFIX);
        fs.unlink(path + DELETED_SUFFIX, () => undefined);
      } catch {
        // already gone
      }
    }
  }

  async flush(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
    if (this.#unsynced.size > 0 || this.#flushedEnd < this.#end) await this.#sync();
  }

  /** Whether anything was written since the last fsync. */
  get dirty(): boolean {
    return this.#unsynced.size > 0;
  }

  /** Flushes, syncs the index files and lets go of every descriptor. */
  async close(): Promise<void> {
    const fs = this.#ctx.fs;
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    const active = this.#active();
    for (const path of [active.indexPath, active.timeIndexPath]) {
      const handle = await this.#ctx.fds.acquireAsync(path);
      try {
        await new Promise<void>((resolve) => fs.fsync(handle.fd, () => resolve()));
      } finally {
        this.#ctx.fds.release(handle);
      }
    }
    this.#forgetAll();
  }

  /** Forgets every file of the log (before its folder is deleted). */
  #forgetAll(): void {
    for (const seg of this.#segments) {
      this.#ctx.indexes.delete(seg);
      for (const path of [seg.logPath, seg.indexPath, seg.timeIndexPath]) this.#ctx.fds.forget(path);
    }
  }

  /** Deletes the whole log from disk. */
  async destroy(): Promise<void> {
    const fs = this.#ctx.fs;
    while (this.#draining !== undefined) await this.#draining.catch(() => undefined);
    this.#closed = true;
    this.#forgetAll();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The index of the last segment whose base offset is at most `offset`. */
function segmentFor(segments: LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (segments[mid]!.baseOffset <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
