import { batchBaseOffset, batchLastOffset } from '../../codec/record-batch.js';
import { invalidArgument, KafkaliteError, storageIo } from '../../errors.js';
import { dirtyEnough } from '../offset-map.js';
import type { AbortedTransaction, AbortedTransactionEntry, CleanPolicy, CleanResult, PartitionLog, RetentionPolicy } from '../storage.js';
import { syncDir, syncDirSync } from './file-io.js';
import { LogLoader, type LoadedLog, type OpenMode } from './log-loader.js';
import { LogSegment, type SegmentContext } from './log-segment.js';
import type { LogSegments } from './log-segments.js';
import { cleanSegments } from './segment-cleaner.js';

export type FsyncMode = 'always' | 'interval' | 'never';

/** What every log of one FileStorage shares. */
export interface FileLogContext extends SegmentContext {
  fsync: FsyncMode;
  /** A segment rolls once it would grow past this many bytes. */
  segmentBytes: () => number;
  /** Makes every log's start offset durable (after a DeleteRecords moved one). */
  saveLogStarts: () => void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Inline rounds allowed before the event loop gets a turn (each blocks it for one fsync). */
const INLINE_ROUNDS_PER_TURN = 4;

/**
 * A partition's log on disk: a folder of segments (see {@link LogSegment}), loaded by
 * {@link LogLoader}. Appends are staged in memory and written in rounds, one `writev` per
 * segment per round; with fsync `'always'` a round ends with one `fdatasync` that every append
 * of the round shares (group commit), and the appends resolve only then.
 *
 * A lone durable append — a round of one batch after a round of one batch, nothing else unsynced,
 * no segment to roll — is written and fsynced inline, in the calling thread (SQLite's way): three
 * thread-pool trips and event-loop turns cost more than the fsync itself on a fast disk. Appends
 * that overlap still form rounds of several batches, which go the group-commit way; and at most
 * {@link INLINE_ROUNDS_PER_TURN} inline rounds run before the event loop gets a turn, so timers
 * and I/O are not starved by a producer awaiting each send.
 *
 * Concurrency: appends are taken synchronously in call order; one write round runs at a time;
 * reads see only batches whose round completed.
 */
export class FileLog implements PartitionLog {
  readonly dir: string;
  #ctx: FileLogContext;
  #segments: LogSegments;
  #end: number;
  #queue: Uint8Array[] = [];
  #waiters: Waiter[] = [];
  #draining: Promise<void> | undefined;
  /** Everything below this offset is fsynced. */
  #flushedEnd: number;
  /** Segments written since their last fsync. */
  #unsynced = new Set<LogSegment>();
  /** The last round held one batch (a lone writer, so far). */
  #lastRoundSingle = false;
  /** Inline rounds since the event loop last had a turn. */
  #inlineRounds = 0;
  #closed = false;
  /** The aborted transactions of abort markers queued or being written, by batch, in offset order. */
  #aborts = new Map<Uint8Array, AbortedTransactionEntry>();
  /** A failed round whose bytes are still to be cut from the files (see #undoRound). */
  #pendingUndo: { size: number; dropped: LogSegment[] } | undefined;
  /**
   * Files created in the folder so far (segments rolled, the first segment of a new folder),
   * and how many of them the last folder fsync covered: a file's entry in its folder is durable
   * only once the folder is fsynced, and a record in a file whose entry is lost is lost too.
   */
  #dirChanges = 0;
  #dirSynced = 0;
  /** The folder was created by this open (its own entry is the storage's to make durable). */
  readonly createdDir: boolean;
  /** Recovery cut a torn tail at open (the log may then end before the last recovery point). */
  readonly tailCut: boolean;
  /** Where a DeleteRecords put the start, when that lies past the first segment's base. */
  #deletedBefore: number;
  /** A cleaning pass is running: segments are not dropped meanwhile (retention waits for the next check). */
  #cleaning = false;
  /** The cleaner's checkpoint, in memory: segments from here on were sealed after its last pass (all, after an open). */
  #cleanedEnd = 0;

  private constructor(dir: string, ctx: FileLogContext, loaded: LoadedLog, logStartOffset: number) {
    this.dir = dir;
    this.#ctx = ctx;
    this.#segments = loaded.segments;
    this.#end = this.#segments.active.nextOffset;
    this.#flushedEnd = this.#end;
    this.#deletedBefore = Math.min(logStartOffset, this.#end);
    this.createdDir = loaded.createdDir;
    this.tailCut = loaded.tailCut;
    if (loaded.createdDir || loaded.createdSegment) this.#dirChanges++;
  }

  /** Opens (or creates) the log in `dir`, recovering its tail if the last shutdown was not clean. */
  static open(dir: string, ctx: FileLogContext, mode: OpenMode): FileLog {
    return new FileLog(dir, ctx, LogLoader.load(dir, ctx, mode), mode.logStartOffset ?? 0);
  }

  get logStartOffset(): number {
    return Math.max(this.#segments.first.baseOffset, this.#deletedBefore);
  }

  get logEndOffset(): number {
    return this.#end;
  }

  /** Offsets below this are fsynced (for the recovery checkpoint). */
  get flushedEnd(): number {
    return this.#flushedEnd;
  }

  append(batch: Uint8Array, aborted?: AbortedTransactionEntry): Promise<void> {
    if (this.#closed) return Promise.reject(storageIo(`appending to ${this.dir}`, new Error('the log is closed')));
    if (this.#pendingUndo !== undefined && this.#draining === undefined) {
      const error = this.#finishUndo();
      if (error !== undefined) return Promise.reject(error);
    }
    const base = batchBaseOffset(batch);
    if (base !== this.#end) throw invalidArgument(`batch starts at offset ${base}, but the log ends at ${this.#end}`);
    this.#end = batchLastOffset(batch) + 1;
    this.#queue.push(batch);
    if (aborted !== undefined) this.#aborts.set(batch, aborted);
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
        const mark = { segments: this.#segments.count, size: this.#segments.active.size };
        try {
          if (this.#mayWriteInline(batches)) {
            this.#segments.active.appendAndSyncSync(batches, this.#aborts);
            this.#flushedEnd = this.#end;
          } else {
            await this.#writeRound(batches);
            if (this.#ctx.fsync === 'always') await this.#sync();
          }
          this.#lastRoundSingle = batches.length === 1;
          if (this.#aborts.size > 0) for (const b of batches) this.#aborts.delete(b);
          for (const w of waiters) w.resolve();
        } catch (error) {
          // Nothing of this round (or queued after it) is acknowledged: take the log back to
          // before it, so the next append continues from the last good offset.
          const failed = error instanceof KafkaliteError ? error : storageIo(`writing ${this.dir}`, error);
          const later = this.#waiters;
          this.#queue = [];
          this.#waiters = [];
          this.#end = batchBaseOffset(batches[0]!);
          this.#aborts.clear();
          this.#undoRound(mark);
          for (const w of [...waiters, ...later]) w.reject(failed);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** Whether this round is a lone durable append that may be written and fsynced inline (see the class comment). */
  #mayWriteInline(batches: Uint8Array[]): boolean {
    if (this.#ctx.fsync !== 'always' || batches.length !== 1 || !this.#lastRoundSingle) return false;
    if (this.#unsynced.size > 0 || this.#dirDirty || this.#queue.length > 0) return false;
    const seg = this.#segments.active;
    if (seg.size > 0 && seg.size + batches[0]!.length > this.#ctx.segmentBytes()) return false;
    if (this.#inlineRounds >= INLINE_ROUNDS_PER_TURN) return false;
    if (this.#inlineRounds++ === 0) setImmediate(() => (this.#inlineRounds = 0));
    return true;
  }

  /** Writes the round's batches, segment by segment: one writev per segment, rolling when one is full. */
  async #writeRound(batches: Uint8Array[]): Promise<void> {
    const limit = this.#ctx.segmentBytes();
    let i = 0;
    while (i < batches.length) {
      let seg = this.#segments.active;
      if (seg.size > 0 && seg.size + batches[i]!.length > limit) seg = this.#roll(batchBaseOffset(batches[i]!));
      const run: Uint8Array[] = [];
      let bytes = seg.size;
      while (i < batches.length && (run.length === 0 || bytes + batches[i]!.length <= limit)) {
        bytes += batches[i]!.length;
        run.push(batches[i++]!);
      }
      this.#unsynced.add(seg);
      await seg.append(run, this.#aborts);
    }
  }

  /**
   * After a failed round (it may have failed after its bytes reached the file: on the index
   * writes or the fsync): memory goes back to before it at once — reads never see it — and the
   * files are cut back to match. Until that cut succeeds no round may write, as appends land at
   * the file's physical end: the next append retries it first.
   */
  #undoRound(mark: { segments: number; size: number }): void {
    const dropped = this.#segments.truncateTo(mark.segments);
    for (const seg of dropped) {
      this.#unsynced.delete(seg);
      seg.forget();
    }
    this.#segments.active.rewindTo(mark.size, this.#end);
    this.#pendingUndo = { size: mark.size, dropped: [...(this.#pendingUndo?.dropped ?? []), ...dropped] };
    this.#finishUndo();
  }

  /** Cuts the files back to what memory holds after a failed round; the error if it cannot yet. */
  #finishUndo(): KafkaliteError | undefined {
    const undo = this.#pendingUndo;
    if (undo === undefined) return undefined;
    try {
      for (const seg of undo.dropped) seg.remove();
      undo.dropped = [];
      this.#segments.active.truncateTo(undo.size);
      this.#pendingUndo = undefined;
      return undefined;
    } catch (error) {
      return storageIo(`cutting ${this.dir} back after a failed write`, error);
    }
  }

  /** Seals the active segment and starts a new one at `baseOffset`. */
  #roll(baseOffset: number): LogSegment {
    const seg = new LogSegment(this.#ctx, this.dir, baseOffset);
    this.#dirChanges++; // before the files exist: a failed create may have made some of them
    seg.create();
    this.#segments.roll(seg);
    return seg;
  }

  /**
   * fdatasyncs every segment written since its last sync, and the folder when files were created
   * in it since its last fsync — once per round however many segments the round made.
   */
  async #sync(): Promise<void> {
    const end = this.#end - this.#queue.reduce((n, b) => n + batchLastOffset(b) + 1 - batchBaseOffset(b), 0);
    const dirChanges = this.#dirChanges; // a roll while this sync waits is left for the next one
    const segments = [...this.#unsynced];
    this.#unsynced.clear();
    try {
      for (const seg of segments) await seg.sync();
    } catch (error) {
      for (const s of segments) this.#unsynced.add(s);
      throw error;
    }
    if (dirChanges > this.#dirSynced) {
      await syncDir(this.#ctx.fs, this.dir);
      this.#dirSynced = Math.max(this.#dirSynced, dirChanges);
    }
    this.#flushedEnd = Math.max(this.#flushedEnd, end);
  }

  /** Whether files were created in the folder since its last fsync. */
  get #dirDirty(): boolean {
    return this.#dirChanges > this.#dirSynced;
  }

  async read(offset: number, maxBytes: number): Promise<Uint8Array[]> {
    if (offset >= this.#end) return [];
    const segments = this.#segments;
    const out: Uint8Array[] = [];
    const budget = { bytes: 0, maxBytes };
    // The next segment is found by offset, not by position: while a read waits, retention or a
    // cleaning pass may replace segments before it in the list.
    let from = Math.max(offset, this.logStartOffset);
    for (let previous: LogSegment | undefined; ; ) {
      const seg = segments.at(segments.floor(from));
      if (seg === previous) break;
      previous = seg;
      if (seg.size > 0 && (await seg.read(from, out, budget))) break;
      if (seg.nextOffset >= this.#end) break;
      from = Math.max(from, seg.nextOffset);
    }
    return out;
  }

  applyRetention(policy: RetentionPolicy): number {
    if (this.#cleaning) return this.logStartOffset;
    const { retentionBytes, retentionMs, now } = policy;
    let total = this.#segments.size;
    for (;;) {
      const seg = this.#segments.first;
      const isActive = this.#segments.count === 1;
      const expired = retentionMs >= 0 && seg.maxTimestamp >= 0 && seg.maxTimestamp < now - retentionMs;
      const overSize = !isActive && retentionBytes >= 0 && total - seg.size >= retentionBytes;
      if (!expired && !overSize) break;
      if (isActive) {
        // Every record has expired: roll an empty segment at the end, then drop the old one,
        // so the log remembers where it ends. Not while a round is writing to it.
        if (this.#draining !== undefined || this.#queue.length > 0 || seg.size === 0) break;
        this.#roll(this.#end);
      }
      // A segment goes only once the entries of those after it are durable: a power cut must not
      // leave a folder without its newest segments, the log starting again at an offset it had.
      if (this.#ctx.fsync === 'always' && this.#dirDirty && !this.#syncDirNow()) break;
      this.#segments.shift();
      total -= seg.size;
      this.#unsynced.delete(seg);
      seg.delete();
    }
    return this.logStartOffset;
  }

  /**
   * Moves the start up to `offset`: the new start is made durable first (Kafka's
   * log-start-offset checkpoint), then whole segments that end before it are deleted.
   */
  deleteRecordsBefore(offset: number): void {
    if (offset <= this.logStartOffset) return;
    this.#deletedBefore = Math.min(offset, this.#end);
    this.#ctx.saveLogStarts();
    if (!this.#cleaning) this.#dropBeforeStart();
  }

  /** Deletes whole segments that end before the start a DeleteRecords set. */
  #dropBeforeStart(): void {
    while (this.#segments.count > 1 && this.#segments.at(1).baseOffset <= this.#deletedBefore) {
      if (this.#ctx.fsync === 'always' && this.#dirDirty && !this.#syncDirNow()) break;
      const seg = this.#segments.shift()!;
      this.#unsynced.delete(seg);
      seg.delete();
    }
  }

  /**
   * One cleaning pass over the sealed segments (see {@link cleanSegments}), when dirty enough:
   * bytes of segments sealed since the last pass, against all sealed bytes.
   */
  async clean(policy: CleanPolicy): Promise<CleanResult> {
    if (this.#closed || this.#cleaning) return { cleaned: false, bytesRead: 0, bytesWritten: 0 };
    const sealed = [...this.#segments].slice(0, -1);
    let total = 0;
    let dirty = 0;
    for (const seg of sealed) {
      total += seg.size;
      if (seg.baseOffset >= this.#cleanedEnd) dirty += seg.size;
    }
    if (!dirtyEnough(dirty, total, policy.minDirtyRatio)) return { cleaned: false, bytesRead: 0, bytesWritten: 0 };
    this.#cleaning = true;
    try {
      const result = await cleanSegments(
        {
          dir: this.dir,
          ctx: this.#ctx,
          durable: this.#ctx.fsync !== 'never',
          segmentBytes: this.#ctx.segmentBytes(),
          isOpen: () => !this.#closed,
          replace: (old, fresh) => {
            for (const seg of old) this.#unsynced.delete(seg);
            this.#segments.replace(old, fresh);
          },
        },
        sealed,
        policy,
      );
      this.#cleanedEnd = sealed[sealed.length - 1]!.nextOffset;
      return result;
    } finally {
      this.#cleaning = false;
      if (!this.#closed) this.#dropBeforeStart();
    }
  }

  /**
   * Kafka's `collectAbortedTransactions` over the `.txnindex` of each segment from the one
   * holding `from`, stopping at an entry whose last stable offset reaches `to`; then the abort
   * markers still being written (the partition counts a transaction aborted from its append on).
   */
  abortedTransactions(from: number, to: number): AbortedTransaction[] {
    const out: AbortedTransaction[] = [];
    const segments = this.#segments;
    let seen = -1;
    for (let i = segments.floor(from); i < segments.count; i++) {
      const seg = segments.at(i);
      if (seg.collectAborted(from, to, out)) return out;
      const entries = seg.abortedTransactions;
      if (entries.length > 0) seen = entries[entries.length - 1]!.lastOffset;
    }
    for (const e of this.#aborts.values()) {
      if (e.lastOffset <= seen) continue; // its round wrote it meanwhile
      if (e.lastOffset >= from && e.firstOffset < to) out.push({ producerId: e.producerId, firstOffset: e.firstOffset, lastOffset: e.lastOffset });
      if (e.lastStableOffset >= to) break;
    }
    return out;
  }

  /** From the time index: an offset at or below the first record whose timestamp is at least `timestamp`. */
  offsetBeforeTimestamp(timestamp: number): number {
    for (const seg of this.#segments) {
      if (seg.maxTimestamp >= timestamp) return Math.max(seg.offsetBeforeTimestamp(timestamp), this.logStartOffset);
    }
    return this.#end;
  }

  /** Fsyncs the folder at once; false if that failed (the next round's sync tries again and reports it). */
  #syncDirNow(): boolean {
    const dirChanges = this.#dirChanges;
    try {
      syncDirSync(this.#ctx.fs, this.dir);
    } catch {
      return false;
    }
    this.#dirSynced = Math.max(this.#dirSynced, dirChanges);
    return true;
  }

  async flush(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
    if (this.dirty || this.#flushedEnd < this.#end) await this.#sync();
  }

  /** Whether anything was written (or a file created) since the last fsync. */
  get dirty(): boolean {
    return this.#unsynced.size > 0 || this.#dirDirty;
  }

  /** Flushes, syncs the index files and lets go of every descriptor. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#segments.active.finishTimeIndex();
    await this.#segments.active.syncIndexes();
    this.#forgetAll();
  }

  /** Forgets every file of the log (before its folder is deleted). */
  #forgetAll(): void {
    for (const seg of this.#segments) seg.forget();
  }

  /** Deletes the whole log from disk. */
  async destroy(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining.catch(() => undefined);
    this.#closed = true;
    this.#forgetAll();
    try {
      this.#ctx.fs.rmSync(this.dir, { recursive: true, force: true });
    } catch (error) {
      throw storageIo(`removing ${this.dir}`, error);
    }
  }
}
