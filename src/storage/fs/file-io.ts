import { storageIo } from '../../errors.js';
import type { FileSystem } from './file-system.js';

/* File helpers of a partition log: sizes, whole-file reads, full writes and folder syncs — all
 * through the injected FileSystem. */

export function fileSize(fs: FileSystem, path: string): number {
  try {
    return fs.statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw storageIo(`reading the size of ${path}`, error);
  }
}

/** The file's bytes, or none when it cannot be read (an index: rebuilt from the log then). */
export function readOr(fs: FileSystem, path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
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

/** {@link writeAll}, synchronously (the inline round of a lone durable append). */
export function writeAllSync(fs: FileSystem, fd: number, buffers: Uint8Array[], path: string): void {
  try {
    for (const buffer of buffers) {
      for (let at = 0; at < buffer.length; ) at += fs.writeSync(fd, buffer, at, buffer.length - at);
    }
  } catch (error) {
    throw storageIo(`writing ${path}`, error);
  }
}

/**
 * fsyncs a folder, making the entries of the files created or renamed in it durable (a file's own
 * fsync does not). Failing is STORAGE_IO: what depends on those entries must not be acknowledged.
 */
export function syncDir(fs: FileSystem, dir: string): Promise<void> {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (error) {
    return Promise.reject(storageIo(`fsync of the folder ${dir}`, error));
  }
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (error) => {
      try {
        fs.closeSync(fd);
      } catch {
        // the sync's outcome is what counts; a descriptor that will not close is gone anyway
      }
      if (error === null) resolve();
      else reject(storageIo(`fsync of the folder ${dir}`, error));
    });
  });
}

/** {@link syncDir}, synchronously. */
export function syncDirSync(fs: FileSystem, dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (error) {
    throw storageIo(`fsync of the folder ${dir}`, error);
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // as above
      }
    }
  }
}
