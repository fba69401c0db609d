import type { Clock, ClockTimer } from '../clock.js';

/** What a partition calls, once, at its next append (or when it closes). */
export interface AppendListener {
  appended(): void;
}

/** The partitions a fetch may wait on: something that takes and drops an {@link AppendListener}. */
export interface AppendSource {
  onAppend(listener: AppendListener): void;
  offAppend(listener: AppendListener): void;
}

/** One fetch waiting for records. */
class AppendWait implements AppendListener {
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly #sources: AppendSource[];
  readonly #waits: AppendWaits;
  readonly #resolve: (woken: boolean) => void;
  settled = false;

  constructor(waits: AppendWaits, sources: AppendSource[], deadline: number, signal: AbortSignal | undefined, resolve: (woken: boolean) => void) {
    this.#waits = waits;
    this.#sources = sources;
    this.deadline = deadline;
    this.signal = signal;
    this.#resolve = resolve;
  }

  appended(): void {
    this.finish(true);
  }

  finish(woken: boolean): void {
    if (this.settled) return;
    this.settled = true;
    for (let i = 0; i < this.#sources.length; i++) this.#sources[i]!.offAppend(this);
    this.#waits.settled();
    this.#resolve(woken);
  }
}

/**
 * The long-poll waits of one broker's fetches (Kafka's delayed fetch purgatory): each resolves
 * `true` at the next append to one of its partitions, `false` at its deadline or when its signal
 * aborts.
 *
 * A fetch that waits and is woken by an append is the event bus's hot path, so a wait costs no
 * timer and no event listener of its own: one clock timer stands for the earliest deadline (a
 * wait woken early leaves it armed; when it fires it expires what is due and re-arms for the
 * next), and each `AbortSignal` gets one listener, ever (a consumer reuses its signal fetch after
 * fetch until it is woken; an abort is rare, so it looks through the waits). An abort that
 * leaves no wait stops the timer: a client that closes leaves no timer behind.
 *
 * Concurrency: single-threaded; waits may start and end in any order.
 */
export class AppendWaits {
  readonly #clock: Clock;
  /** Waits in start order, settled ones among them until {@link #compact} drops them. */
  #waiting: AppendWait[] = [];
  #settled = 0;
  /** Waits not settled yet. */
  #live = 0;
  #timer: ClockTimer | undefined;
  #timerAt = Infinity;
  readonly #listening = new WeakSet<AbortSignal>();
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves true at the next append to one of `sources`, false after `ms` or when `signal` aborts. */
  wait(sources: AppendSource[], ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted || this.#closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const wait = new AppendWait(this, sources, this.#clock.now() + ms, signal, resolve);
      for (let i = 0; i < sources.length; i++) sources[i]!.onAppend(wait);
      this.#waiting.push(wait);
      this.#live++;
      if (signal !== undefined && !this.#listening.has(signal)) this.#listen(signal);
      if (wait.deadline < this.#timerAt) this.#arm(wait.deadline);
    });
  }

  /** A wait settled: drop settled waits once they are half the list (amortised O(1), and they do not live long). */
  settled(): void {
    this.#live--;
    if (++this.#settled > 16 && this.#settled * 2 > this.#waiting.length) this.#compact();
  }

  #compact(): void {
    this.#waiting = this.#waiting.filter((w) => !w.settled);
    this.#settled = 0;
  }

  #listen(signal: AbortSignal): void {
    this.#listening.add(signal);
    signal.addEventListener(
      'abort',
      () => {
        for (const w of this.#waiting.slice()) if (w.signal === signal) w.finish(false);
        // A client stopping (or being woken) with nothing left waiting: no timer left behind.
        if (this.#live === 0) this.#disarm();
      },
      { once: true },
    );
  }

  /** Ends every wait (false) and stops the timer: the broker is closing. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiting.slice()) w.finish(false);
    this.#waiting = [];
    this.#settled = 0;
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #arm(at: number): void {
    this.#disarm();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#expire(), Math.max(0, at - this.#clock.now()));
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    let next = Infinity;
    for (const w of this.#waiting.slice()) {
      if (w.settled) continue;
      if (w.deadline <= now) w.finish(false);
      else if (w.deadline < next) next = w.deadline;
    }
    this.#compact();
    if (next < Infinity) this.#arm(next);
  }
}
