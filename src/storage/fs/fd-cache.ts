import { LRUCache } from 'lru-cache';
import { storageIo } from '../../errors.js';
import type { FileSystem } from './file-system.js';

interface Handle {
  fd: number;
  refs: number;
  evicted: boolean;
}

/**
 * Open file descriptors, bounded: an LRU of segment files opened for read and append
 * (`a+`), so thousands of partitions stay within the process's descriptor limit. A descriptor in
 * use is pinned: evicting it closes it only once its last user released it.
 *
 * Concurrency: `acquire` is synchronous; pair every acquire with one `release`.
 */
export class FdCache {
  #lru: LRUCache<string, Handle>;
  #fs: FileSystem;

  /** @param max descriptors kept open at most (more may be open briefly while pinned). */
  constructor(max: number, fs: FileSystem) {
    this.#fs = fs;
    this.#lru = new LRUCache<string, Handle>({
      max,
      dispose: (handle) => {
        handle.evicted = true;
        if (handle.refs === 0) this.#fs.close(handle.fd, () => undefined);
      },
    });
  }

  /** The descriptor of `path`, opened for read and append if it is not open. */
  acquire(path: string): Handle {
    let handle = this.#lru.get(path);
    if (handle === undefined) {
      try {
        handle = { fd: this.#fs.openSync(path, 'a+'), refs: 0, evicted: false };
      } catch (error) {
        throw storageIo(`opening ${path}`, error);
      }
      this.#lru.set(path, handle);
    }
    handle.refs++;
    return handle;
  }

  release(handle: Handle): void {
    handle.refs--;
    if (handle.evicted && handle.refs === 0) this.#fs.close(handle.fd, () => undefined);
  }

  /** Closes `path`'s descriptor (before the file is renamed or deleted). */
  forget(path: string): void {
    this.#lru.delete(path);
  }

  /** Closes every descriptor (those in use once released). */
  clear(): void {
    this.#lru.clear();
  }
}

export type FileHandle = Handle;
