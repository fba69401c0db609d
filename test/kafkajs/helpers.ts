/**
 * Test helpers for the KafkaJS programs: signals to wait on instead of sleeps, and quiet logs.
 */

/** KafkaJS logs at INFO on the console by default; its `KAFKAJS_LOG_LEVEL` override silences it. */
process.env.KAFKAJS_LOG_LEVEL ??= 'nothing';
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/** A promise with its resolve function outside, for signals from handlers. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once `count()` reaches `n`, checked each time `tick()` is called. */
export function countdown(n: number): { done: Promise<void>; tick: () => void; count: () => number } {
  let count = 0;
  const { promise, resolve } = signal();
  if (n <= 0) resolve();
  return {
    done: promise,
    tick: () => {
      count++;
      if (count >= n) resolve();
    },
    count: () => count,
  };
}

/** A broker list of its own for each test: clusters are keyed by it, so tests never meet. */
let seq = 0;
export function brokers(): string[] {
  seq++;
  return [`kafka${seq}-a:9092`, `kafka${seq}-b:9092`];
}

/** Waits on conditions over state that handlers change: handlers call `changed()`, tests `until(...)`. */
export function watcher(): { changed: () => void; until: (condition: () => boolean) => Promise<void> } {
  const waiting: { condition: () => boolean; resolve: () => void }[] = [];
  const changed = (): void => {
    for (const w of [...waiting]) {
      if (w.condition()) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const until = (condition: () => boolean): Promise<void> =>
    condition() ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ condition, resolve }));
  return { changed, until };
}
