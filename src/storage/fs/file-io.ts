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
