import { basename, join } from 'node:path';
import { emptyBatch } from '../../codec/batch-filter.js';
import { batchBaseOffset, batchLastOffset, batchSize, checkBatch } from '../../codec/record-batch.js';
import { storageCorrupt, storageIo } from '../../errors.js';
import { OffsetMap } from '../offset-map.js';
import type { CleanPolicy, CleanResult } from '../storage.js';
import { syncDirSync, writeAll } from './file-io.js';
import { CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, offsetFileStem, parsePartitionDirName, SWAP_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX } from './file-names.js';
import { LogSegment, type SegmentContext } from './log-segment.js';

/** Bytes of a segment read at a time while cleaning. */
const READ_BYTES = 1 << 20;

/** What the cleaner needs of the log it cleans. */
export interface CleanTarget {
  dir: string;
  ctx: SegmentContext;
  /** Whether the cleaned files are fsynced before they are swapped in (fsync not 'never'). */
  durable: boolean;
  /** A cleaned segment holds at most this many bytes (the topic's `segmentBytes`). */
  segmentBytes: number;
  /** Whether the log still takes a swap (not closed meanwhile): if not, the pass stops. */
  isOpen(): boolean;
  /** Puts `fresh` in the place of `old` (consecutive segments of the log) once its files are in place. */
  replace(old: LogSegment[], fresh: LogSegment): void;
}

/** Kept bytes, or offsets whose batches all went (written as one empty batch). */
type Item = Uint8Array | { first: number; last: number };

/**
 * Kafka's cleaner over the sealed segments of one FileStorage log (the active segment is not
 * among them): an {@link OffsetMap} of their keys, then each segment's batches filtered, and
 * consecutive segments whose cleaned bytes fit in `segmentBytes` written together as one new
 * segment named by the first one's base offset — swapped in with Kafka's protocol:
 *
 * 1. the cleaned bytes are written to `<base>.log.cleaned` (and fsynced);
 * 2. it is renamed `<base>.log.swap` (folder fsynced): from here the new segment is the truth;
 * 3. the old segments' files are renamed `.deleted` and removed;
 * 4. `<base>.log.swap` is renamed `<base>.log` (folder fsynced), and its indexes built from it;
 *    its `.txnindex` holds the old segments' entries (markers are never cleaned away).
 *
 * A crash before 2 leaves the old segments and a `.cleaned` file, which the next open removes; a
 * crash after it leaves a `.swap` file, which the next open completes ({@link completeSwaps}):
 * either the old segments or the new one, never a mix, never a loss.
 *
 * Compressed batches are cleaned too: decompressed to map and to filter, and one that changes is
 * written compressed again with its own codec (see batch-filter.ts).
 *
 * Where whole batches are removed, an empty batch (no records) covers their offsets, so the
 * batches of a segment still follow one another offset by offset — which recovery and every read
 * check, the base offset being outside a batch's CRC — and each segment still ends where the next
 * begins.
 *
 * Concurrency: one pass at a time per log (the partition serialises them). Reads and appends
 * (to the active segment) go on while the pass reads and writes; each swap is synchronous.
 */
export async function cleanSegments(target: CleanTarget, sealed: LogSegment[], policy: CleanPolicy): Promise<CleanResult> {
  const map = new OffsetMap(parsePartitionDirName(basename(target.dir)) ?? { topic: target.dir, partition: 0 });
  let bytesRead = 0;
  for (const seg of sealed) await eachBatch(seg, (batch) => map.add(batch));
  // The filtering below recompresses compressed batches it thins, synchronously, batch by batch.
  await map.compressorsReady();
  let bytesWritten = 0;
  let group: LogSegment[] = [];
  let items: Item[] = [];
  let groupBytes = 0;
  const flush = async (): Promise<boolean> => {
    if (group.length === 0) return true;
    const chunks = toChunks(items);
    for (const c of chunks) bytesWritten += c.length;
    const ok = await swapIn(target, group, chunks);
    group = [];
    items = [];
    groupBytes = 0;
    return ok;
  };
  for (const seg of sealed) {
    bytesRead += seg.size;
    const own: Item[] = [];
    let bytes = 0;
    await eachBatch(seg, (batch) => {
      const result = map.filter(batch, policy);
      if (result.kind === 'removed') {
        const prev = own[own.length - 1];
        if (prev !== undefined && !(prev instanceof Uint8Array)) prev.last = batchLastOffset(batch);
        else {
          own.push({ first: batchBaseOffset(batch), last: batchLastOffset(batch) });
          bytes += EMPTY_BATCH_BYTES;
        }
        return;
      }
      // A batch kept as it is is copied: a view would pin the whole read buffer it lies in.
      const kept = result.kind === 'same' ? Uint8Array.prototype.slice.call(batch) : result.batch;
      own.push(kept);
      bytes += kept.length;
    });
    if (group.length > 0 && groupBytes + bytes > target.segmentBytes && !(await flush())) break;
    group.push(seg);
    for (const item of own) items.push(item); // not push(...own): a segment may hold millions
    groupBytes += bytes;
  }
  await flush();
  return { cleaned: true, bytesRead, bytesWritten };
}

const EMPTY_BATCH_BYTES = emptyBatch(0, 0).length;

/** Every batch of a segment, in order (views into the reads' own buffers). */
async function eachBatch(seg: LogSegment, visit: (batch: Uint8Array) => void): Promise<void> {
  let offset = seg.baseOffset;
  while (offset < seg.nextOffset) {
    const out: Uint8Array[] = [];
    await seg.read(offset, out, { bytes: 0, maxBytes: READ_BYTES });
    if (out.length === 0) break;
    for (const batch of out) {
      if (batchLastOffset(batch) >= seg.nextOffset) return;
      visit(batch);
      offset = batchLastOffset(batch) + 1;
    }
  }
}

/** The group's bytes, runs of removed batches merged into one empty batch each. */
function toChunks(items: Item[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let gap: { first: number; last: number } | undefined;
  for (const item of items) {
    if (item instanceof Uint8Array) {
      if (gap !== undefined) out.push(emptyBatch(gap.first, gap.last));
      gap = undefined;
      out.push(item);
    } else if (gap === undefined) gap = { ...item };
    else gap.last = item.last;
  }
  if (gap !== undefined) out.push(emptyBatch(gap.first, gap.last));
  return out;
}

/** Steps 1–4 for one group; false when the log no longer takes it (the `.cleaned` file is removed). */
async function swapIn(target: CleanTarget, group: LogSegment[], chunks: Uint8Array[]): Promise<boolean> {
  const { dir, ctx } = target;
  const fs = ctx.fs;
  const base = group[0]!.baseOffset;
  const logPath = join(dir, offsetFileStem(base) + LOG_SUFFIX);
  const cleaned = logPath + CLEANED_SUFFIX;
  const swap = logPath + SWAP_SUFFIX;
  try {
    const fd = fs.openSync(cleaned, 'w');
    try {
      await writeAll(fs, fd, chunks, cleaned);
      if (target.durable) await new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error === null ? resolve() : reject(error))));
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    fs.rmSync(cleaned, { force: true });
    throw storageIo(`writing ${cleaned}`, error);
  }
  // From here on, synchronous: no read or append sees the log between the old and the new segments.
  if (!target.isOpen()) {
    fs.rmSync(cleaned, { force: true });
    return false;
  }
  const fresh = new LogSegment(ctx, dir, base);
  fresh.seal();
  try {
    fs.renameSync(cleaned, swap);
    if (target.durable) syncDirSync(fs, dir);
  } catch (error) {
    fs.rmSync(cleaned, { force: true });
    throw storageIo(`renaming ${cleaned}`, error);
  }
  const size = chunks.reduce((n, c) => n + c.length, 0);
  try {
    for (const seg of group) seg.delete();
    fs.renameSync(swap, logPath);
    if (target.durable) syncDirSync(fs, dir);
    fresh.recover(size, undefined, false);
    // The markers stay (the cleaner keeps control batches), so their entries do too.
    fresh.setTxnIndex(group.flatMap((seg) => seg.abortedTransactions));
  } catch (error) {
    // The `.swap` (or the new `.log`) holds everything: the next open completes the swap.
    throw storageIo(`swapping in ${logPath}`, error);
  }
  target.replace(group, fresh);
  return true;
}

/**
 * At open, before segments are listed: removes `.cleaned` files (a pass cut short before its
 * swap) and completes every `<base>.log.swap` — the segments it replaces (their `.log` files
 * from `base` up to where the swap ends) are removed and the swap renamed into place.
 */
export function completeSwaps(dir: string, ctx: SegmentContext, names: string[]): void {
  const fs = ctx.fs;
  const logs = new Map<number, string>();
  const swaps: number[] = [];
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX)) fs.rmSync(join(dir, name), { force: true });
    const stem = name.slice(0, 20);
    if (!/^\d{20}$/.test(stem)) continue;
    if (name === stem + LOG_SUFFIX) logs.set(Number(stem), stem);
    if (name === stem + LOG_SUFFIX + SWAP_SUFFIX) swaps.push(Number(stem));
  }
  for (const base of swaps.sort((a, b) => a - b)) {
    const stem = join(dir, offsetFileStem(base));
    const swap = stem + LOG_SUFFIX + SWAP_SUFFIX;
    const bytes = fs.readFileSync(swap);
    let end = base;
    for (let at = 0; at < bytes.length; at += batchSize(bytes, at)) {
      const bad = checkBatch(bytes, at);
      if (bad !== undefined) throw storageCorrupt(swap, at, bad);
      end = batchLastOffset(bytes, at) + 1;
    }
    for (const [b, s] of logs) {
      if (b < base || b >= end) continue;
      for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) fs.rmSync(join(dir, s + suffix), { force: true });
      logs.delete(b);
    }
    // The old index files of `base`, if its segment was already gone, would not match (a
    // `.txnindex` removed here is rebuilt from the log by the loader).
    for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) fs.rmSync(stem + suffix, { force: true });
    fs.renameSync(swap, stem + LOG_SUFFIX);
    syncDirSync(fs, dir);
  }
}
