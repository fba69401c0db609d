import type { PartitionCursor } from './positions.js';

interface Waiter {
  targets: { cursor: PartitionCursor; offset: number }[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The consumer's pending `caughtUp()` calls: each waits until every partition it names has been
 * delivered up to the log end it saw — or is no longer assigned (`isCurrent` false), or paused.
 *
 * Concurrency: single-threaded; `check()` is called whenever positions, pauses or the assignment
 * change (cheap when nobody waits), `rejectAll()` once, on close.
 */
export class CaughtUpWaiters {
  #waiters: Waiter[] = [];
  #isCurrent: (cursor: PartitionCursor) => boolean;

  constructor(isCurrent: (cursor: PartitionCursor) => boolean) {
    this.#isCurrent = isCurrent;
  }

  /** Resolves once each cursor's position reaches its offset (checked at once, then at every {@link check}). */
  wait(targets: { cursor: PartitionCursor; offset: number }[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ targets, resolve, reject });
      this.check();
    });
  }

  check(): void {
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => {
      for (const { cursor, offset } of w.targets) {
        if (!this.#isCurrent(cursor) || cursor.paused) continue;
        if (cursor.position === undefined || cursor.position < offset) return true;
      }
      w.resolve();
      return false;
    });
  }

  rejectAll(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }
}
