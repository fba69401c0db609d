import { batchBaseOffset, batchLastOffset, batchSize, checkBatch, RECORD_BATCH_HEADER_SIZE } from '../../codec/record-batch.js';
import { storageIo } from '../../errors.js';
import type { FileSystem } from './file-system.js';

/* File helpers of a partition log: sizes, whole-file reads, the batch at a position, time
 * indexes, full writes and folder syncs — all through the injected FileSystem. */

export function fileSize(fs: FileSystem, path: string): number {
  try {
    return fs.statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw storageIo(`reading the size of ${path}`, error);
  }
}

export function readOr(fs: FileSystem, path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
}

/** The first and last offsets of the batch at `position`, if a whole valid batch starts there. */
export function batchAt(fs: FileSystem, fd: number, position: number, size: number): { base: number; last: number } | undefined {
  if (size - position < RECORD_BATCH_HEADER_SIZE) return undefined;
  const head = Buffer.allocUnsafe(RECORD_BATCH_HEADER_SIZE);
  fs.readSync(fd, head, 0, RECORD_BATCH_HEADER_SIZE, position);
  const length = batchSize(head);
  if (length < RECORD_BATCH_HEADER_SIZE || position + length > size) return undefined;
  const whole = Buffer.allocUnsafe(length);
  fs.readSync(fd, whole, 0, length, position);
  return checkBatch(whole) === undefined ? { base: batchBaseOffset(whole), last: batchLastOffset(whole) } : undefined;
}

/** The largest timestamp in a `.timeindex` (its last entry), or -1. */
export function lastTimestamp(fs: FileSystem, path: string): number {
  return readTimeIndex(fs, path, undefined).max;
}

/**
 * A `.timeindex`'s whole entries (only those up to relative offset `maxRel`), their largest
 * timestamp, and whether the file was whole (present, non-empty, no partial entry).
 */
export function readTimeIndex(fs: FileSystem, path: string, maxRel: number | undefined): { bytes: Buffer; max: number; whole: boolean } {
  const raw = readOr(fs, path);
  let end = raw.length - (raw.length % 12);
  if (maxRel !== undefined) while (end >= 12 && raw.readInt32BE(end - 4) > maxRel) end -= 12;
  const bytes = raw.subarray(0, end);
  return { bytes, max: end >= 12 ? Number(bytes.readBigInt64BE(end - 12)) : -1, whole: raw.length > 0 && raw.length % 12 === 0 };
}

/** Writes every buffer, in order, looping over short writes. */
export function writeAll(fs: FileSystem, fd: number, buffers: Uint8Array[], path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (bufs: Uint8Array[]): void => {
      fs.writev(fd, bufs as NodeJS.ArrayBufferView[], (error, written) => {
        if (error !== null) return reject(storageIo(`writing ${path}`, error));
        let left = written;
        let k = 0;
        while (k < bufs.length && left >= bufs[k]!.length) left -= bufs[k++]!.length;
        if (k === bufs.length) return resolve();
        const rest = bufs.slice(k);
        rest[0] = rest[0]!.subarray(left);
        step(rest);
      });
    };
    step(buffers);
  });
}

export function syncDir(fs: FileSystem, dir: string): Promise<void> {
  return new Promise((resolve) => {
    let fd: number;
    try {
      fd = fs.openSync(dir, 'r');
    } catch {
      resolve();
      return;
    }
    fs.fsync(fd, () => {
      fs.closeSync(fd);
      resolve();
    });
  });
}
