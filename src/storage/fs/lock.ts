import { join } from 'node:path';
import { storageIo, storageLocked } from '../../errors.js';
import type { FileSystem } from './file-system.js';

/** Directories held by brokers of this process (a lock file alone cannot tell them apart). */
const heldHere = new Set<string>();

export const LOCK_FILE = '.lock';

/**
 * One broker per directory: an in-process registry plus a lock file holding the owner's pid,
 * created with O_EXCL. A lock whose pid no longer runs was left by a crash and is taken over.
 *
 * Concurrency: acquire/release are synchronous, so two opens in one process cannot interleave.
 */
export class DirLock {
  readonly dir: string;
  #path: string;
  #held = false;
  #fs: FileSystem;

  constructor(dir: string, fs: FileSystem) {
    this.dir = dir;
    this.#fs = fs;
    this.#path = join(dir, LOCK_FILE);
  }

  acquire(): void {
    const fs = this.#fs;
    const key = fs.realpathSync(this.dir);
    if (heldHere.has(key)) throw storageLocked(this.dir);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(this.#path, 'wx');
        try {
          fs.writeSync(fd, `${process.pid}\n`);
        } catch (error) {
          fs.closeSync(fd);
          fs.rmSync(this.#path, { force: true });
          throw error;
        }
        fs.closeSync(fd);
        heldHere.add(key);
        this.#held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw storageIo(`locking ${this.dir}`, error);
      }
      const owner = readOwner(fs, this.#path);
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw storageLocked(this.dir);
      try {
        fs.unlinkSync(this.#path); // left by a process that died (or by this one, closed uncleanly)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageIo(`reclaiming the lock of ${this.dir}`, error);
      }
    }
    throw storageLocked(this.dir);
  }

  release(): void {
    if (!this.#held) return;
    const fs = this.#fs;
    this.#held = false;
    heldHere.delete(fs.realpathSync(this.dir));
    try {
      fs.unlinkSync(this.#path);
    } catch {
      // already gone: nothing to release
    }
  }
}

function readOwner(fs: FileSystem, path: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
