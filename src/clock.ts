import { invalidArgument, show } from './errors.js';

/**
 * Time, injectable. Every timestamp, timer, timeout and retention check in kafkalite goes through
 * a {@link Clock}, so a test can drive time with a {@link ManualClock} instead of sleeping.
 */

/** A handle returned by {@link Clock.setTimeout}. */
export interface ClockTimer {
  /** Not kept alive: a pending timer does not hold the process open (system clock only). */
  unref?(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once, `ms` from now. A callback may return a promise of its work. */
  setTimeout(callback: () => void | Promise<void>, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

/** The real clock: `Date.now()` and Node's timers. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void | Promise<void>, ms: number): ClockTimer {
    return setTimeout(callback, Math.max(0, ms));
  }

  clearTimeout(timer: ClockTimer): void {
    clearTimeout(timer as ReturnType<typeof setTimeout>);
  }
}

interface ManualTimer extends ClockTimer {
  at: number;
  seq: number;
  callback: () => void | Promise<void>;
  cancelled: boolean;
}

/**
 * A clock that moves only when told. `advance(ms)` fires, in time order, every timer that falls
 * due, and resolves after their work (and the promise chains they start) has settled.
 *
 * Concurrency: one `advance` at a time; calling it again before the last one resolved queues.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];
  #advancing: Promise<void> = Promise.resolve();

  /** @param startMs the time `now()` starts at. @default 0 */
  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw invalidArgument(`ManualClock startMs must be a finite number (got ${show(startMs)})`);
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void | Promise<void>, ms: number): ClockTimer {
    const timer: ManualTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback, cancelled: false };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    const t = timer as ManualTimer;
    t.cancelled = true;
    const i = this.#timers.indexOf(t);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      return Promise.reject(invalidArgument(`advance(ms) needs a finite number >= 0 (got ${show(ms)})`));
    }
    const run = this.#advancing.then(() => this.#advance(ms));
    this.#advancing = run.catch(() => undefined);
    return run;
  }

  async #advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      this.#timers.splice(this.#timers.indexOf(next), 1);
      await next.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  #nextDue(target: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers) {
      if (t.at > target) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Lets every queued microtask and promise chain run (a macrotask turn). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
