import { invalidArgument, show } from '../errors.js';
import type { ConsumerRecord } from '../types.js';
import type { ClientContext } from './client-context.js';
import { fetchChunks, type Chunk, type FetchHost } from './fetcher.js';
import type { IsolationLevel, KafkaApi } from '../seam/kafka-api.js';
import type { PartitionCursor } from './positions.js';
import { deserializeChunks, type Deserializers } from './record-deserializer.js';

export interface EachMessagePayload<K = Buffer, V = Buffer> {
  topic: string;
  partition: number;
  message: ConsumerRecord<K, V>;
}

export interface EachBatchPayload<K = Buffer, V = Buffer> {
  batch: {
    topic: string;
    partition: number;
    messages: ConsumerRecord<K, V>[];
    /** The partition's high watermark (the offset its next record gets) when these records were fetched. */
    highWatermark: number;
  };
}

export interface RunOptions<K = Buffer, V = Buffer> {
  eachMessage?: (payload: EachMessagePayload<K, V>) => unknown;
  eachBatch?: (payload: EachBatchPayload<K, V>) => unknown;
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
  /** Fixes positions waiting for a reset (committed offsets, `autoOffsetReset`); undefined when none waits. */
  fixPositions(): Promise<void> | undefined;
  /** A fetch found `cursor`'s position outside the log: reset it (or throw, for `'none'`). */
  outOfRange(cursor: PartitionCursor, logStart: number, logEnd: number): void;
  /** The application is back for more at `now`, having last polled at `previous` (the membership hears of it). */
  polled(now: number, previous: number): void;
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
 * With deserializers, a record that cannot be deserialized ends its chunk (`chunk.failure`): the
 * records before it are delivered, then `poll` and `for await` throw its `DESERIALIZATION_FAILED`
 * and `run` reports it like a failing handler (retried after `retryBackoffMs`); the position stays
 * on it either way, so it is never skipped silently.
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
  #deserializers: Deserializers | undefined;
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
  #fetchHost: FetchHost;

  /** The fetcher's view of a delivery loop: one class's methods, not closures per consumer (why: Consumer's DeliveryHost). */
  static readonly #FetchHost = class implements FetchHost {
    readonly #delivery: Delivery;
    constructor(delivery: Delivery) {
      this.#delivery = delivery;
    }
    isCurrent(cursor: PartitionCursor): boolean {
      return this.#delivery.#host.isCurrent(cursor);
    }
    outOfRange(cursor: PartitionCursor, logStart: number, logEnd: number): void {
      this.#delivery.#host.outOfRange(cursor, logStart, logEnd);
      this.#delivery.#resets++;
    }
    /** Only control batches or aborted records up to `next`: nothing to deliver, the position moves on. */
    skipped(cursor: PartitionCursor, next: number): void {
      cursor.position = next;
      this.#delivery.#host.progressed();
    }
  };

  constructor(
    api: KafkaApi,
    ctx: ClientContext,
    options: { maxPollRecords: number; retryBackoffMs: number; deserializers: Deserializers | undefined; isolationLevel?: IsolationLevel },
    host: DeliveryHost,
  ) {
    this.#api = api;
    this.#ctx = ctx;
    this.#maxPollRecords = options.maxPollRecords;
    this.#isolationLevel = options.isolationLevel ?? 'read_uncommitted';
    this.#retryBackoffMs = options.retryBackoffMs;
    this.#deserializers = options.deserializers;
    this.#host = host;
    this.#polledAt = ctx.clock.now();
    this.#fetchHost = new Delivery.#FetchHost(this);
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

  /**
   * The application is back for more: revocations waiting for it may proceed. Returns the
   * revocation in progress to wait for, or undefined (the loop's usual case: no hop).
   */
  reachSafePoint(): Promise<void> | undefined {
    this.#holdsRecords = false;
    const previous = this.polledAt;
    this.#polledAt = this.#ctx.clock.now();
    this.#host.polled(this.#polledAt, previous);
    if (this.#pollWaiters.length > 0) for (const resolve of this.#pollWaiters.splice(0)) resolve();
    if (this.#safePoint.length > 0) for (const resolve of this.#safePoint.splice(0)) resolve();
    return this.#host.revoking()?.catch(() => undefined);
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
        const chunks = await this.#fetch(Math.max(0, deadline - clock.now()));
        // A record that cannot be deserialized, with nothing before it to hand out first: raised
        // now, before any position moves (the others' records come again with the next poll).
        const failed = this.#deserializers === undefined ? undefined : chunks.find((c) => c.failure !== undefined && c.records.length === 0 && this.#isLive(c));
        if (failed !== undefined) throw failed.failure;
        for (const chunk of chunks) {
          if (!this.#isLive(chunk) || chunk.records.length === 0) continue;
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
          let ok = eachMessage !== undefined ? this.#deliverEach(chunk, eachMessage, 0) : this.#deliverBatch(chunk, eachBatch!);
          if (typeof ok !== 'boolean') ok = await ok;
          failed ||= !ok;
        }
      } catch (error) {
        failed = true;
        this.#host.report('fetch', error);
      }
      if (failed && !this.#host.isClosing()) await this.#sleep(this.#retryBackoffMs);
    }
  }

  /**
   * Hands records to `eachMessage` one by one from index `from`; false when a handler threw.
   * Synchronous while the handlers are: an async handler's promise is awaited before the next.
   */
  #deliverEach(chunk: Chunk, eachMessage: NonNullable<RunOptions['eachMessage']>, from: number): boolean | Promise<boolean> {
    const { cursor, records } = chunk;
    for (let i = from; i < records.length; i++) {
      if (!this.#isLive(chunk) || this.#host.isClosing()) return true;
      const message = records[i]!;
      let r: unknown;
      this.#invoking = true;
      try {
        r = eachMessage({ topic: cursor.topic, partition: cursor.partition, message });
      } catch (error) {
        return this.#handlerFailed('eachMessage', cursor, message.offset, error);
      } finally {
        this.#invoking = false;
      }
      if (isThenable(r)) {
        return this.#handle(r).then(
          () => (this.#deliveredOne(chunk, i) ? this.#deliverEach(chunk, eachMessage, i + 1) : true),
          (error: unknown) => this.#handlerFailed('eachMessage', cursor, message.offset, error),
        );
      }
      if (!this.#deliveredOne(chunk, i)) return true;
    }
    return this.#reportFailure(chunk);
  }

  /** After a chunk's good records: its record that could not be deserialized fails the round, like a handler that threw. */
  #reportFailure(chunk: Chunk): boolean {
    const failure = chunk.failure;
    if (failure === undefined || !this.#isLive(chunk) || this.#host.isClosing()) return true;
    const { topic, partition } = chunk.cursor;
    this.#host.report(`deserializing ${topic}-${partition}`, failure, { topic, partition, offset: failure.offset });
    return false;
  }

  /** Record `i` of the chunk was handled: its position moves past it, unless the handler seeked (its seek wins: false). */
  #deliveredOne(chunk: Chunk, i: number): boolean {
    if (chunk.cursor.epoch !== chunk.epoch) return false;
    this.#delivered(chunk, i);
    return true;
  }

  #handlerFailed(what: string, cursor: PartitionCursor, offset: number, error: unknown): false {
    this.#host.report(`${what} on ${cursor.topic}-${cursor.partition}`, error, { topic: cursor.topic, partition: cursor.partition, offset });
    return false;
  }

  #deliverBatch(chunk: Chunk, eachBatch: NonNullable<RunOptions['eachBatch']>): boolean | Promise<boolean> {
    const { cursor, records, highWatermark } = chunk;
    if (!this.#isLive(chunk)) return true;
    if (records.length === 0) return this.#reportFailure(chunk);
    let r: unknown;
    this.#invoking = true;
    try {
      r = eachBatch({ batch: { topic: cursor.topic, partition: cursor.partition, messages: records, highWatermark } });
    } catch (error) {
      return this.#handlerFailed('eachBatch', cursor, records[0]!.offset, error);
    } finally {
      this.#invoking = false;
    }
    if (isThenable(r)) {
      return this.#handle(r).then(
        () => this.#batchHandled(chunk),
        (error: unknown) => this.#handlerFailed('eachBatch', cursor, records[0]!.offset, error),
      );
    }
    return this.#batchHandled(chunk);
  }

  /** The chunk's batch was handled: positions move past it (unless the handler seeked), then a record that could not be deserialized fails the round. */
  #batchHandled(chunk: Chunk): boolean {
    if (!this.#deliveredOne(chunk, chunk.records.length - 1)) return true;
    return this.#reportFailure(chunk);
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
          if (chunk.failure !== undefined && this.#isLive(chunk) && !this.#host.isClosing()) throw chunk.failure;
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
  #next(maxWaitMs: number): Promise<Chunk[]> {
    const revoking = this.reachSafePoint();
    return revoking === undefined ? this.#fetch(maxWaitMs) : revoking.then(() => this.#fetch(maxWaitMs));
  }

  /** One fetch over the assigned, unpaused partitions; records grouped per partition. */
  #fetch(maxWaitMs: number): Promise<Chunk[]> {
    const wakes = this.#wakes;
    try {
      const fixing = this.#host.fixPositions();
      return fixing === undefined ? this.#fetchFixed(maxWaitMs, wakes) : fixing.then(() => this.#fetchFixed(maxWaitMs, wakes));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #fetchFixed(maxWaitMs: number, wakes: number): Promise<Chunk[]> {
    if (this.#wakes !== wakes || this.#host.isClosing()) maxWaitMs = 0; // woken meanwhile: do not wait
    const cursors: PartitionCursor[] = [];
    for (const c of this.#host.cursors()) if (!c.paused && !c.revoked && !c.unverified && c.position !== undefined) cursors.push(c);
    // One controller serves fetch after fetch until a wake aborts it.
    this.#wakeup ??= new AbortController();
    const first = cursors.length === 0 ? 0 : this.#rotate++ % cursors.length;
    const fetched = fetchChunks(this.#api, cursors, { maxWaitMs, maxRecords: this.#maxPollRecords, first, signal: this.#wakeup.signal, isolationLevel: this.#isolationLevel }, this.#fetchHost);
    const deserializers = this.#deserializers;
    return deserializers === undefined ? fetched : fetched.then((chunks) => deserializeChunks(chunks, deserializers));
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
