import { invalidArgument, show } from '../errors.js';
import type { ConsumerRecord } from '../types.js';
import type { ClientContext } from './client-context.js';
import { fetchChunks, type Chunk } from './fetcher.js';
import type { IsolationLevel, KafkaApi } from './kafka-api.js';
import type { PartitionCursor } from './positions.js';

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: ConsumerRecord;
}

export interface EachBatchPayload {
  batch: {
    topic: string;
    partition: number;
    messages: ConsumerRecord[];
    /** The partition's high watermark (the offset its next record gets) when these records were fetched. */
    highWatermark: number;
  };
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => unknown;
  eachBatch?: (payload: EachBatchPayload) => unknown;
}

/** What the delivery loop asks of the consumer it delivers for. */
export interface DeliveryHost {
  /** The assigned partitions, now. */
  cursors(): Iterable<PartitionCursor>;
  /** Whether a cursor is still the one assigned for its partition. */
  isCurrent(cursor: PartitionCursor): boolean;
  isClosing(): boolean;
  /** Whether the consumer is a group member: records handed out then hold up revocations until the next poll. */
  inGroup(): boolean;
  /** Fixes positions waiting for a reset (committed offsets, `autoOffsetReset`). */
  fixPositions(): Promise<void>;
  /** A fetch found `cursor`'s position outside the log: reset it (or throw, for `'none'`). */
  outOfRange(cursor: PartitionCursor, logStart: number, logEnd: number): void;
  /** The application is back for more at `now` (the membership hears of it). */
  polled(now: number): void;
  /** The revocation in progress, if any: the safe point waits for it. */
  revoking(): Promise<void> | undefined;
  /** Positions moved: `caughtUp()` waiters may be done. */
  progressed(): void;
  /** A failure no call returns: emitted and logged. */
  report(what: string, error: unknown, fields?: Record<string, unknown>): void;
}

/** How long one internal fetch of `run` and `for await` waits before looking around again. */
const IDLE_WAIT_MS = 1000;

/**
 * The one delivery loop behind `poll`, `run` and `for await`: it reaches the safe point (the
 * application is back, so revocations waiting for it may go; once per `poll` call, before each
 * fetch in `run` and `for await`), fixes positions, fetches from the assigned, unpaused partitions
 * and hands out the chunks still current; the three modes differ only in when a record counts as
 * delivered (its position moves past it): `poll` when returned, `for await` when yielded, `run`
 * when its handler returned.
 *
 * A wake (a seek, pause, assignment change, close) ends a waiting fetch at once; wakes are counted,
 * so one that comes before the fetch is out is not lost. A chunk whose cursor changed meanwhile
 * (seek, pause, revocation: its epoch or flags moved) is dropped.
 *
 * Concurrency: one mode at a time — a second `poll`, `poll` during `run`, or iterating while
 * polling is `INVALID_ARGUMENT`. `wake()` may be called at any time, from anywhere.
 */
export class Delivery {
  #api: KafkaApi;
  #ctx: ClientContext;
  #maxPollRecords: number;
  #isolationLevel: IsolationLevel;
  #retryBackoffMs: number;
  #host: DeliveryHost;
  #mode: 'poll' | 'run' | 'iterate' | undefined;
  #wakeup: AbortController | undefined;
  /** Counts wakes, so one that comes before a fetch has its controller is not lost. */
  #wakes = 0;
  /** Counts positions reset because a fetch found them out of range. */
  #resets = 0;
  #rotate = 0;
  #runLoop: Promise<void> | undefined;
  /** The handler `run` is awaiting, if any. */
  #handling: Promise<unknown> | undefined;
  /** True during the synchronous call of a run handler (a `close()` then comes from inside it). */
  #invoking = false;
  /** `poll` (or `for await`) handed out records the application may still be processing. */
  #holdsRecords = false;
  #polledAt: number;
  /** Revocations waiting for the application to come back. */
  #safePoint: (() => void)[] = [];
  /** Waiting for the application's next poll. */
  #pollWaiters: (() => void)[] = [];

  constructor(api: KafkaApi, ctx: ClientContext, options: { maxPollRecords: number; retryBackoffMs: number; isolationLevel?: IsolationLevel }, host: DeliveryHost) {
    this.#api = api;
    this.#ctx = ctx;
    this.#maxPollRecords = options.maxPollRecords;
    this.#isolationLevel = options.isolationLevel ?? 'read_uncommitted';
    this.#retryBackoffMs = options.retryBackoffMs;
    this.#host = host;
    this.#polledAt = ctx.clock.now();
  }

  /** When the application last polled or a handler returned; in `run` mode between handlers, now. */
  get polledAt(): number {
    return this.#mode === 'run' && this.#handling === undefined ? this.#ctx.clock.now() : this.#polledAt;
  }

  /** The handler `run` is awaiting, if any (a revocation waits for it). */
  get handling(): Promise<unknown> | undefined {
    return this.#handling;
  }

  /** The application is about to join or rejoin: counts as a poll for the poll interval. */
  touch(): void {
    this.#polledAt = this.#ctx.clock.now();
  }

  /** Resolves the next time the application polls. */
  nextPoll(): Promise<void> {
    return new Promise<void>((resolve) => this.#pollWaiters.push(resolve));
  }

  /**
   * Resolves once no records handed out are still with the application; `undefined` when none
   * are (then a revocation must go on synchronously: a microtask later a fetch may hand out
   * records of partitions it is giving up).
   */
  safePoint(): Promise<void> | undefined {
    if (!this.#holdsRecords || this.#host.isClosing()) return undefined;
    return new Promise<void>((resolve) => this.#safePoint.push(resolve));
  }

  /** Ends a waiting fetch early, so changes of assignment, position or pause take effect now. */
  wake(): void {
    this.#wakes++;
    this.#wakeup?.abort();
    this.#wakeup = undefined;
  }

  /** Ends delivery: wakes a waiting fetch and waits for a running handler and the `run` loop. */
  async stop(): Promise<void> {
    this.wake();
    // Called from inside a handler, the run loop is waiting for this very call: it ends by itself
    // once the handler returns, and waiting for it here would never end.
    if (!this.#invoking) await this.#runLoop?.catch(() => undefined);
    await this.reachSafePoint();
  }

  /** The application is back for more: revocations waiting for it may proceed. */
  async reachSafePoint(): Promise<void> {
    this.#holdsRecords = false;
    this.#polledAt = this.#ctx.clock.now();
    this.#host.polled(this.#polledAt);
    for (const resolve of this.#pollWaiters.splice(0)) resolve();
    const waiting = this.#safePoint;
    this.#safePoint = [];
    for (const resolve of waiting) resolve();
    await this.#host.revoking()?.catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // The three modes

  /**
   * Returns the records there are (at most `maxPollRecords`), or waits up to `timeoutMs` for the
   * first one and returns `[]` if none came. Positions move past every record returned.
   */
  async poll(timeoutMs: number): Promise<ConsumerRecord[]> {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw invalidArgument(`poll timeoutMs must be a number >= 0 (got ${show(timeoutMs)})`);
    this.#enter('poll');
    try {
      const clock = this.#ctx.clock;
      await this.reachSafePoint(); // once: the rounds of one poll are one visit of the application
      const deadline = clock.now() + timeoutMs;
      let resetRetried = false;
      for (;;) {
        const resets = this.#resets;
        const out: ConsumerRecord[] = [];
        for (const chunk of await this.#fetch(Math.max(0, deadline - clock.now()))) {
          if (!this.#isLive(chunk)) continue;
          this.#delivered(chunk, chunk.records.length - 1);
          for (const r of chunk.records) out.push(r);
        }
        if (out.length > 0) this.#holdsRecords = this.#host.inGroup();
        this.#polledAt = clock.now();
        // A position found out of range was reset: fetch once more from there, even with no time left.
        if (out.length === 0 && this.#resets !== resets && !resetRetried) {
          resetRetried = true;
          continue;
        }
        if (out.length > 0 || clock.now() >= deadline || this.#host.isClosing()) return out;
      }
    } finally {
      this.#mode = undefined;
    }
  }

  /**
   * Push mode: starts the loop that calls `eachMessage` for every record (or `eachBatch` per
   * partition's records), in offset order per partition. A handler that throws leaves the
   * position on its record, which is delivered again after `retryBackoffMs`. Resolves once
   * running, with positions fixed.
   */
  async run(handlers: RunOptions): Promise<void> {
    const { eachMessage, eachBatch } = handlers ?? {};
    if ((eachMessage === undefined) === (eachBatch === undefined)) {
      throw invalidArgument('run takes exactly one of eachMessage and eachBatch');
    }
    const handler = eachMessage ?? eachBatch;
    if (typeof handler !== 'function') throw invalidArgument(`run handlers must be functions (got ${show(handler)})`);
    this.#enter('run');
    await this.#host.fixPositions();
    this.#runLoop = this.#run(eachMessage, eachBatch);
  }

  async #run(eachMessage: RunOptions['eachMessage'], eachBatch: RunOptions['eachBatch']): Promise<void> {
    while (!this.#host.isClosing()) {
      let failed = false;
      try {
        for (const chunk of await this.#next(IDLE_WAIT_MS)) {
          if (this.#host.isClosing()) break;
          const ok = eachMessage !== undefined ? await this.#deliverEach(chunk, eachMessage) : await this.#deliverBatch(chunk, eachBatch!);
          failed ||= !ok;
        }
      } catch (error) {
        failed = true;
        this.#host.report('fetch', error);
      }
      if (failed && !this.#host.isClosing()) await this.#sleep(this.#retryBackoffMs);
    }
  }

  /** Hands records to `eachMessage` one by one; false when a handler threw. */
  async #deliverEach(chunk: Chunk, eachMessage: NonNullable<RunOptions['eachMessage']>): Promise<boolean> {
    const { cursor, records } = chunk;
    for (let i = 0; i < records.length; i++) {
      if (!this.#isLive(chunk) || this.#host.isClosing()) return true;
      const message = records[i]!;
      try {
        this.#invoking = true;
        let r: unknown;
        try {
          r = eachMessage({ topic: cursor.topic, partition: cursor.partition, message });
        } finally {
          this.#invoking = false;
        }
        if (isThenable(r)) await this.#handle(r);
      } catch (error) {
        this.#host.report(`eachMessage on ${cursor.topic}-${cursor.partition}`, error, { topic: cursor.topic, partition: cursor.partition, offset: message.offset });
        return false;
      }
      if (cursor.epoch !== chunk.epoch) return true; // the handler seeked: its seek wins
      this.#delivered(chunk, i);
    }
    return true;
  }

  async #deliverBatch(chunk: Chunk, eachBatch: NonNullable<RunOptions['eachBatch']>): Promise<boolean> {
    const { cursor, records, highWatermark } = chunk;
    if (!this.#isLive(chunk)) return true;
    try {
      this.#invoking = true;
      let r: unknown;
      try {
        r = eachBatch({ batch: { topic: cursor.topic, partition: cursor.partition, messages: records, highWatermark } });
      } finally {
        this.#invoking = false;
      }
      if (isThenable(r)) await this.#handle(r);
    } catch (error) {
      this.#host.report(`eachBatch on ${cursor.topic}-${cursor.partition}`, error, { topic: cursor.topic, partition: cursor.partition, offset: records[0]!.offset });
      return false;
    }
    if (cursor.epoch === chunk.epoch) this.#delivered(chunk, records.length - 1);
    return true;
  }

  /** Awaits a handler's promise, visible to revocations that must wait for it. */
  async #handle(r: PromiseLike<unknown>): Promise<void> {
    const handling = Promise.resolve(r);
    this.#handling = handling;
    try {
      await handling;
    } finally {
      this.#handling = undefined;
      this.#polledAt = this.#ctx.clock.now();
    }
  }

  /** `for await (const record of consumer)`: each record is delivered as it is yielded. */
  async *iterate(): AsyncGenerator<ConsumerRecord, void, undefined> {
    this.#enter('iterate');
    try {
      while (!this.#host.isClosing()) {
        for (const chunk of await this.#next(IDLE_WAIT_MS)) {
          for (let i = 0; i < chunk.records.length; i++) {
            if (!this.#isLive(chunk) || this.#host.isClosing()) break;
            this.#delivered(chunk, i);
            this.#holdsRecords = this.#host.inGroup();
            yield chunk.records[i]!;
            await this.reachSafePoint();
          }
        }
      }
    } finally {
      this.#mode = undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // The shared step

  /**
   * One round of the loop: the safe point, then one fetch. Each mode checks a chunk is still
   * live ({@link #isLive}) in the same synchronous step that moves its position: a revocation
   * may come in any microtask between.
   */
  async #next(maxWaitMs: number): Promise<Chunk[]> {
    await this.reachSafePoint();
    return this.#fetch(maxWaitMs);
  }

  /** One fetch over the assigned, unpaused partitions; records grouped per partition. */
  async #fetch(maxWaitMs: number): Promise<Chunk[]> {
    const wakes = this.#wakes;
    await this.#host.fixPositions();
    if (this.#wakes !== wakes || this.#host.isClosing()) maxWaitMs = 0; // woken meanwhile: do not wait
    const cursors = [...this.#host.cursors()].filter((c) => !c.paused && !c.revoked && !c.unverified && c.position !== undefined);
    // One controller serves fetch after fetch until a wake aborts it.
    this.#wakeup ??= new AbortController();
    const first = cursors.length === 0 ? 0 : this.#rotate++ % cursors.length;
    return fetchChunks(
      this.#api,
      cursors,
      { maxWaitMs, maxRecords: this.#maxPollRecords, first, signal: this.#wakeup.signal, isolationLevel: this.#isolationLevel },
      (c) => this.#host.isCurrent(c),
      (c, _error, logStart, logEnd) => {
        this.#host.outOfRange(c, logStart, logEnd);
        this.#resets++;
      },
      // Only control batches or aborted records there: nothing to deliver, the position moves on.
      (c, next) => {
        c.position = next;
        this.#host.progressed();
      },
    );
  }

  /** Whether a chunk may still be handed out: its cursor was not seeked, paused or revoked meanwhile. */
  #isLive(chunk: Chunk): boolean {
    const c = chunk.cursor;
    return c.epoch === chunk.epoch && !c.paused && !c.revoked;
  }

  /** The chunk's records up to index `last` are delivered: the position moves past them. */
  #delivered(chunk: Chunk, last: number): void {
    chunk.cursor.position = chunk.records[last]!.offset + 1;
    this.#host.progressed();
  }

  #enter(mode: 'poll' | 'run' | 'iterate'): void {
    if (this.#mode !== undefined) {
      throw invalidArgument(`cannot ${mode === 'iterate' ? 'iterate' : mode} while the consumer is already in ${this.#mode} mode`);
    }
    this.#mode = mode;
  }

  /** Waits `ms` on the clock; a wake (seek, pause, close, …) ends the wait early. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const clock = this.#ctx.clock;
      const timer = clock.setTimeout(() => this.wake(), ms);
      this.#wakeup ??= new AbortController();
      this.#wakeup.signal.addEventListener(
        'abort',
        () => {
          clock.clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}
