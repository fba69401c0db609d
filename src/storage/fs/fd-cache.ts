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
  #max: number;
  /** Descriptors in use right now (pinned); `acquireAsync` waits while there are `max` of them. */
  #pinned = 0;
  #waiting: (() => void)[] = [];

  /** @param max descriptors kept open at most (more may be open briefly while pinned). */
  constructor(max: number, fs: FileSystem) {
    this.#fs = fs;
    this.#max = max;
    this.#lru = new LRUCache<string, Handle>({
      max,
      dispose: (handle) => {
        handle.evicted = true;
        if (handle.refs === 0) closeQuietly(this.#fs, handle.fd);
      },
    });
  }

  /**
   * The descriptor of `path`, waiting first while `max` descriptors are in use, so that any
   * number of concurrent appends and reads stay within the limit.
   */
  async acquireAsync(path: string): Promise<Handle> {
    while (this.#pinned >= this.#max && !(this.#lru.peek(path)?.refs ?? 0)) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    return this.acquire(path);
  }

  /** The descriptor of `path`, opened for read and append if it is not open (no waiting). */
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
    if (handle.refs++ === 0) this.#pinned++;
    return handle;
  }

  release(handle: Handle): void {
    if (--handle.refs > 0) return;
    this.#pinned--;
    if (handle.evicted) closeQuietly(this.#fs, handle.fd);
    this.#waiting.shift()?.();
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

/** Closes at once (a late asynchronous close would keep the descriptor counted meanwhile). */
function closeQuietly(fs: FileSystem, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}
