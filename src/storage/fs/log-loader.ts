import { join } from 'node:path';
import { controlBatchType } from '../../codec/control-batch.js';
import { batchBaseOffset, batchProducerId, isControlBatch, isTransactionalBatch } from '../../codec/record-batch.js';
import { storageCorrupt, storageIo } from '../../errors.js';
import type { AbortedTransactionEntry } from '../storage.js';
import { fileSize } from './file-io.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, LOG_SUFFIX, parseSegmentName, SWAP_SUFFIX } from './file-names.js';
import { LogSegment, type SegmentContext } from './log-segment.js';
import { LogSegments } from './log-segments.js';
import { completeSwaps } from './segment-cleaner.js';

/** How to open a log: after a clean shutdown, or recovering from `recoveryPoint`. */
export interface OpenMode {
  clean: boolean;
  /** Offsets below this were on disk at the last checkpoint; recovery scans from there. */
  recoveryPoint: number;
  /** The log start a DeleteRecords moved inside the first segment (Kafka's log-start-offset checkpoint), if any. */
  logStartOffset?: number;
}

/** A log's folder as loaded. */
export interface LoadedLog {
  segments: LogSegments;
  /** The partition's folder was created by the load. */
  createdDir: boolean;
  /** A segment's files were created by the load (its folder held none). */
  createdSegment: boolean;
  /** A torn tail was cut off the last segment. */
  tailCut: boolean;
}

/**
 * Opens a partition's folder (Kafka's `LogLoader`): creates it if missing, finishes deletions
 * cut short (`*.deleted` files) and cleaning passes cut short (`*.cleaned` removed, `*.swap`
 * completed: see {@link completeSwaps}), lists the segments and finds where the log ends.
 *
 * What is read: after a clean shutdown, only the tail of the last segment, from its last index
 * entry; after a crash, every segment from the one holding the recovery point. Segments below
 * it were sealed and flushed before the checkpoint, and are trusted. Reads check every batch
 * anyway, so damage in a segment not read here is still refused later, never served.
 *
 * The torn-tail rule, the same after a clean shutdown and after a crash: bytes after the last
 * whole batch of the last segment with nothing valid behind them are cut off; damage followed by
 * a valid batch, or in any other segment, is STORAGE_CORRUPT naming the file and byte.
 *
 * Concurrency: synchronous; runs before the log takes any append or read.
 */
export class LogLoader {
  static load(dir: string, ctx: SegmentContext, mode: OpenMode): LoadedLog {
    const fs = ctx.fs;
    let createdDir: boolean;
    const bases: number[] = [];
    try {
      createdDir = fs.mkdirSync(dir, { recursive: true }) !== undefined;
      let names = fs.readdirSync(dir);
      if (names.some((n) => n.endsWith(CLEANED_SUFFIX) || n.endsWith(SWAP_SUFFIX))) {
        completeSwaps(dir, ctx, names); // a cleaning pass cut short
        names = fs.readdirSync(dir);
      }
      for (const name of names) {
        if (name.endsWith(DELETED_SUFFIX)) fs.rmSync(join(dir, name), { force: true }); // a deletion cut short
        const base = parseSegmentName(name, LOG_SUFFIX);
        if (base !== undefined) bases.push(base);
      }
    } catch (error) {
      throw storageIo(`opening ${dir}`, error);
    }
    bases.sort((a, b) => a - b);
    const createdSegment = bases.length === 0;
    if (createdSegment) bases.push(0);
    const list = bases.map((base) => new LogSegment(ctx, dir, base));
    const last = list.length - 1;
    for (let i = 0; i < last; i++) list[i]!.seal();

    // The segment holding the recovery point (or later) may have an unflushed tail: read it.
    let firstToRead = last;
    if (!mode.clean) {
      firstToRead = 0;
      for (let i = 0; i < list.length; i++) if (list[i]!.baseOffset <= mode.recoveryPoint) firstToRead = i;
    }
    for (let i = 0; i < list.length; i++) {
      const seg = list[i]!;
      const size = fileSize(fs, seg.logPath);
      const next = list[i + 1]?.baseOffset;
      if (i < firstToRead) {
        seg.trust(size, next ?? seg.baseOffset);
        continue;
      }
      // After a clean close only the tail of the last segment is read; after a crash, the
      // segment holding the recovery point is read from its index entry for that point.
      const trustBelow = mode.clean ? Infinity : i === firstToRead ? mode.recoveryPoint : undefined;
      // A torn tail is cut whatever the clean-shutdown marker says: the marker tells how much to
      // read, not what the bytes past the last whole batch are (garbage written after a clean
      // close, a copy of a live folder, a marker that survived while data did not). Only the
      // last segment has a tail; damage anywhere else is STORAGE_CORRUPT.
      seg.recover(size, trustBelow, i === last);
      if (next !== undefined && seg.nextOffset !== next) {
        throw storageCorrupt(seg.logPath, seg.size, `segment ends at offset ${seg.nextOffset} but the next segment starts at ${next}`, { offset: seg.nextOffset });
      }
    }
    checkTxnIndexes(list);
    return { segments: new LogSegments(list), createdDir, createdSegment, tailCut: list[last]!.tailCut };
  }
}

/**
 * Loads every segment's `.txnindex` and rebuilds from the log those that are missing, torn or
 * wrong: the log is trusted over the index. A segment read at open (after a crash, from the
 * recovery point) must have an entry for each abort marker the walk met — a crash may have cut
 * the round between the marker and its entry. (Segments below the recovery point are trusted:
 * their `.txnindex` was fsynced with the log.)
 */
function checkTxnIndexes(list: LogSegment[]): void {
  const stale = new Set<LogSegment>();
  for (const seg of list) {
    const walked = seg.walkedAborts;
    seg.walkedAborts = undefined;
    if (!seg.loadTxnIndex()) stale.add(seg);
    else if (walked !== undefined && seg.txnMarkersFrom(walked.from).join() !== walked.offsets.join()) stale.add(seg);
  }
  if (stale.size > 0) rebuildTxnIndexes(list, stale);
}

/**
 * Rebuilds the `.txnindex` of the `stale` segments by walking the log's batches from its first
 * segment (an entry needs the first offset of its transaction, which may lie in an earlier
 * segment, and the transactions then open): as the partition's producer state replays them.
 */
function rebuildTxnIndexes(list: LogSegment[], stale: Set<LogSegment>): void {
  /** Producer id → the first offset of its open transaction. */
  const ongoing = new Map<number, number>();
  let lastStale = 0;
  list.forEach((seg, i) => stale.has(seg) && (lastStale = i));
  for (let i = 0; i <= lastStale; i++) {
    const seg = list[i]!;
    const entries: AbortedTransactionEntry[] = [];
    // A walk stops at damage (reads refuse it); the later segments are still walked, so their
    // aborted transactions stay known (those begun in the damaged bytes then count from their
    // first batch after it).
    seg.eachBatchSync((batch) => {
      const producerId = batchProducerId(batch);
      if (producerId < 0 || !isTransactionalBatch(batch)) return;
      const offset = batchBaseOffset(batch);
      if (!isControlBatch(batch)) {
        if (!ongoing.has(producerId)) ongoing.set(producerId, offset);
        return;
      }
      const type = controlBatchType(batch);
      if (type === undefined) return;
      const firstOffset = ongoing.get(producerId) ?? offset;
      ongoing.delete(producerId);
      if (type !== 'abort') return;
      let lastStableOffset = offset + 1;
      for (const first of ongoing.values()) if (first < lastStableOffset) lastStableOffset = first;
      entries.push({ producerId, firstOffset, lastOffset: offset, lastStableOffset });
    });
    if (stale.has(seg)) seg.setTxnIndex(entries);
  }
}
