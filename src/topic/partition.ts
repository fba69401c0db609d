import {
  batchBaseOffset,
  batchBaseSequence,
  batchLastOffset,
  batchLastSequence,
  batchMaxTimestamp,
  batchProducerEpoch,
  batchProducerId,
  batchRecordCount,
  decodeRecordsInto,
  isControlBatch,
  isTransactionalBatch,
  setBatchBaseOffset,
} from '../codec/record-batch.js';
import { controlBatchType } from '../codec/control-batch.js';
import { closed, invalidArgument, type KafkaliteError, offsetOutOfRange, show, unsupported } from '../errors.js';
import type { CleanResult, MaybePromise, PartitionLog } from '../storage/storage.js';
import type { ConsumerRecord, ResolvedTopicConfig } from '../types.js';
import type { AppendListener, AppendSource } from './append-waits.js';
import { deletesOldRecords } from './topic-config.js';
import { ProducerStateTable, type AbortedTransaction } from './producer-state.js';

/** An append held while the producer state is rebuilt. */
interface HeldAppend {
  batch: Uint8Array;
  resolve: (offset: MaybePromise<number>) => void;
  reject: (error: unknown) => void;
}

/** One partition of a topic, as users see it: a read-only window on its log. */
export interface Partition {
  /** The topic's name. */
  readonly topic: string;
  readonly id: number;
  /** The first offset still kept. */
  readonly logStartOffset: number;
  /** The offset the next record will get. */
  readonly logEndOffset: number;
  /** Reads records from `offset` on, for inspection; it does not move any consumer. */
  read(offset: number, options?: { maxRecords?: number }): Promise<ConsumerRecord[]>;
  /**
   * Kafka's DeleteRecords: moves `logStartOffset` up to `offset` (at most the log end, else
   * `OFFSET_OUT_OF_RANGE`); earlier records are gone for every reader. A no-op when the log
   * already starts there or later.
   */
  deleteRecordsBefore(offset: number): Promise<void>;
  /**
   * The offset of the first record whose timestamp is at least `timestamp`, or `undefined` when
   * there is none (Kafka's ListOffsets by time, through the time index on FileStorage).
   */
  offsetForTimestamp(timestamp: number): Promise<number | undefined>;
}

/** Bytes fetched per partition and read, as Kafka's `max.partition.fetch.bytes`. */
export const DEFAULT_FETCH_BYTES = 1_048_576;

/**
 * A partition's leader state: it assigns offsets, appends batches to its {@link PartitionLog},
 * keeps the high watermark (what readers may see) and wakes readers waiting for records.
 *
 * Batches from idempotent producers (a producer id in the header) are checked against the
 * partition's {@link ProducerStateTable} first: a retried batch is acknowledged with its first
 * append's offset and not appended again. The table is rebuilt from the log the first time such
 * a batch comes (a scan of the batch headers from the log start).
 *
 * Concurrency: appends are serialised — offsets are assigned in call order, synchronously, and
 * the high watermark moves in the same order as each append completes. While the producer state
 * is rebuilt, every append waits, and all go on in call order once it is done. Reads may run at
 * any time and see only records below the high watermark.
 */
export class PartitionState implements Partition, AppendSource {
  readonly topic: string;
  readonly id: number;
  #log: PartitionLog;
  #config: () => ResolvedTopicConfig;
  #now: () => number;
  #highWatermark: number;
  /** The last pending durable append, so completions are applied in offset order. */
  #tail: Promise<void> | undefined;
  /** Readers waiting for the next append; swapped with `#spare` as they are woken (no allocation per append). */
  #waiters: AppendListener[] = [];
  #spare: AppendListener[] = [];
  /** Why the partition no longer serves (its broker closed, or its topic was deleted), as a fresh error. */
  #closed: (() => KafkaliteError) | undefined;

  #checkDeletable: () => void;
  /** The cleaning pass in flight: passes on one partition run one after another. */
  #cleaning: Promise<unknown> | undefined;
  /** Idempotent producers' sequences: undefined until a batch needs them. */
  #producers: ProducerStateTable | undefined;
  /** Appends waiting while the producer state is rebuilt, in call order. */
  #held: HeldAppend[] | undefined;
  /** Settles once the producer state rebuild under way is over. */
  #loading: Promise<void> | undefined;

  /** `checkDeletable` throws when the topic's records may not be deleted (an internal topic). */
  constructor(topic: string, id: number, log: PartitionLog, config: () => ResolvedTopicConfig, now: () => number, checkDeletable: () => void = () => undefined) {
    this.#checkDeletable = checkDeletable;
    this.topic = topic;
    this.id = id;
    this.#log = log;
    this.#config = config;
    this.#now = now;
    this.#highWatermark = log.logEndOffset;
    // Nothing to rebuild from an empty log.
    if (log.logStartOffset === log.logEndOffset) this.#producers = new ProducerStateTable(log.abortedTransactions === undefined);
  }

  get logStartOffset(): number {
    return this.#log.logStartOffset;
  }

  get logEndOffset(): number {
    return this.#highWatermark;
  }

  /**
   * Appends one batch (built by a producer) and returns its base offset once it is readable.
   * The batch's header is rewritten in place with the offset; the caller gives it up.
   */
  append(batch: Uint8Array): MaybePromise<number> {
    if (this.#closed !== undefined) throw this.#closed();
    if (this.#held !== undefined) return this.#hold(batch);
    const producerId = batchProducerId(batch);
    let producers: ProducerStateTable | undefined;
    const control = producerId >= 0 && isControlBatch(batch);
    if (producerId >= 0) {
      producers = this.#producers;
      if (producers === undefined) {
        this.#loadProducers();
        return this.#hold(batch);
      }
      if (!control) {
        const { duplicateOf } = producers.check(this.topic, this.id, producerId, batchProducerEpoch(batch), batchBaseSequence(batch), batchLastSequence(batch));
        if (duplicateOf !== undefined) return this.#acknowledge(duplicateOf);
      }
    }
    const log = this.#log;
    const baseOffset = log.logEndOffset;
    setBatchBaseOffset(batch, baseOffset);
    const type = control ? controlBatchType(batch) : undefined;
    // An abort marker comes with the transaction it ends, for a log that indexes them.
    const pending = type === 'abort' ? log.append(batch, producers!.abortEntry(producerId, baseOffset)) : log.append(batch);
    const end = batchLastOffset(batch) + 1;
    if (producers !== undefined) {
      if (control) {
        if (type !== undefined) producers.complete(producerId, batchProducerEpoch(batch), type, baseOffset);
      } else {
        producers.record(producerId, batchProducerEpoch(batch), batchBaseSequence(batch), batchLastSequence(batch), baseOffset, end - 1, isTransactionalBatch(batch));
        pending?.catch(() => producers.forget(producerId));
      }
    }
    if (pending === undefined && this.#tail === undefined) {
      this.#advance(end);
      return baseOffset;
    }
    // Completions apply in offset order; a failed append fails only itself (the log has
    // already taken back what it could not write).
    const previous = this.#tail?.catch(() => undefined);
    const done = Promise.all([previous, pending]).then(() => {
      this.#advance(end);
      return baseOffset;
    });
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.#tail = settled;
    void settled.then(() => {
      if (this.#tail === settled) this.#tail = undefined;
    });
    return done;
  }

  /** A retried batch: its first append's offset, once that append is readable. */
  #acknowledge(baseOffset: number): MaybePromise<number> {
    if (baseOffset < this.#highWatermark || this.#tail === undefined) return baseOffset;
    return this.#tail.then(() => baseOffset);
  }

  #hold(batch: Uint8Array): Promise<number> {
    return new Promise<MaybePromise<number>>((resolve, reject) => this.#held!.push({ batch, resolve, reject })) as Promise<number>;
  }

  /** Rebuilds the producer state from the log, then lets the held appends go on in order. */
  #loadProducers(): void {
    this.#held = [];
    let loaded!: () => void;
    this.#loading = new Promise<void>((resolve) => (loaded = resolve));
    const release = (producers: ProducerStateTable | undefined, error?: unknown): void => {
      this.#producers = producers;
      const held = this.#held!;
      this.#held = undefined;
      this.#loading = undefined;
      loaded();
      for (const h of held) {
        if (producers === undefined) {
          h.reject(error);
          continue;
        }
        try {
          h.resolve(this.append(h.batch));
        } catch (e) {
          h.reject(e);
        }
      }
    };
    this.#scanProducers().then(release, (error: unknown) => release(undefined, error));
  }

  /** The producer state, rebuilt from the log first if need be. */
  async #producerState(): Promise<ProducerStateTable> {
    for (;;) {
      if (this.#producers !== undefined) return this.#producers;
      if (this.#loading === undefined) this.#loadProducers();
      await this.#loading;
      if (this.#closed !== undefined) throw this.#closed();
    }
  }

  /**
   * Kafka's last stable offset: the first offset of the oldest transaction still open here, or
   * the high watermark when none is. `read_committed` readers stop there.
   */
  async lastStableOffset(): Promise<number> {
    return this.#lso(await this.#producerState());
  }

  /** The last stable offset when the producer state is at hand (else `undefined`), without waiting. */
  get lastStableOffsetNow(): number | undefined {
    return this.#producers === undefined ? undefined : this.#lso(this.#producers);
  }

  #lso(producers: ProducerStateTable): number {
    const first = producers.firstUnstableOffset();
    return first === undefined || first > this.#highWatermark ? this.#highWatermark : first;
  }

  /**
   * A `read_committed` read: batches from `offset` below the last stable offset, about
   * `maxBytes` of them, with the aborted transactions whose records they may hold (Fetch's
   * `aborted_transactions`: the reader skips those producers' batches from `firstOffset` up to
   * their abort marker).
   */
  async readCommitted(offset: number, maxBytes: number): Promise<{ batches: Uint8Array[]; lastStableOffset: number; abortedTransactions: AbortedTransaction[] }> {
    const producers = await this.#producerState();
    const lastStableOffset = this.#lso(producers);
    if (offset >= lastStableOffset) return { batches: [], lastStableOffset, abortedTransactions: [] };
    const kept = await this.#withRecords(visibleBelow(await this.#log.read(offset, maxBytes), lastStableOffset), lastStableOffset);
    const n = kept.length;
    const end = n === 0 ? offset : batchLastOffset(kept[n - 1]!) + 1;
    const log = this.#log;
    const abortedTransactions = log.abortedTransactions === undefined ? producers.abortedBetween(offset, end) : await log.abortedTransactions(offset, end);
    return { batches: kept, lastStableOffset, abortedTransactions };
  }

  async #scanProducers(): Promise<ProducerStateTable> {
    const producers = new ProducerStateTable(this.#log.abortedTransactions === undefined);
    const end = this.#log.logEndOffset;
    let next = this.#log.logStartOffset;
    while (next < end) {
      const batches = await this.#log.read(next, DEFAULT_FETCH_BYTES);
      if (batches.length === 0) break;
      for (const batch of batches) {
        if (batchBaseOffset(batch) >= end) return producers;
        producers.replay(batch);
        next = batchLastOffset(batch) + 1;
      }
    }
    return producers;
  }

  #advance(end: number): void {
    this.#highWatermark = end;
    const config = this.#config();
    if (config.retentionBytes >= 0 && deletesOldRecords(config)) this.applyRetention();
    if (this.#waiters.length > 0) this.#wakeAll();
  }

  /** Drops what the topic's retention no longer keeps; returns the new log start offset. A `'compact'` topic keeps everything (its cleaner decides). */
  applyRetention(): MaybePromise<number> {
    const config = this.#config();
    if (!deletesOldRecords(config)) return this.#log.logStartOffset;
    return this.#log.applyRetention({ retentionBytes: config.retentionBytes, retentionMs: config.retentionMs, now: this.#now() });
  }

  /**
   * One pass of the log cleaner with the topic's `deleteRetentionMs`, when the dirty ratio reaches
   * `minDirtyRatio` (the topic's `minCleanableDirtyRatio` unless given; 0 forces a pass). Passes run
   * one after another; `UNSUPPORTED` when the storage has no cleaner.
   */
  clean(minDirtyRatio?: number): Promise<CleanResult> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed());
    const log = this.#log;
    if (log.clean === undefined) {
      return Promise.reject(unsupported('compaction', `this storage does not implement PartitionLog.clean: ${this.topic}-${this.id} is not compacted`));
    }
    const run = async (): Promise<CleanResult> => {
      if (this.#closed !== undefined) throw this.#closed();
      const config = this.#config();
      return log.clean!({ minDirtyRatio: minDirtyRatio ?? config.minCleanableDirtyRatio, deleteRetentionMs: config.deleteRetentionMs, now: this.#now() });
    };
    const next = (this.#cleaning ?? Promise.resolve()).catch(() => undefined).then(run);
    this.#cleaning = next;
    const clear = (): void => {
      if (this.#cleaning === next) this.#cleaning = undefined;
    };
    next.then(clear, clear);
    return next;
  }

  /** Record batches from `offset` up to the high watermark, about `maxBytes` of them. */
  readBatches(offset: number, maxBytes: number): MaybePromise<Uint8Array[]> {
    const hw = this.#highWatermark;
    if (offset >= hw) return [];
    const batches = this.#log.read(offset, maxBytes);
    return batches instanceof Promise ? batches.then((b) => this.#withRecords(visibleBelow(b, hw), hw)) : this.#withRecords(visibleBelow(batches, hw), hw);
  }

  /**
   * Batches that hold only the empty batches a compaction leaves are followed by the next batch,
   * whatever its size: a read must not end before the first record when there is one (a client
   * would fetch the same offset again and again).
   */
  #withRecords(batches: Uint8Array[], hw: number): MaybePromise<Uint8Array[]> { // hw: the bound read up to (high watermark, or LSO)
    if (batches.length === 0 || batches.some((b) => batchRecordCount(b) > 0)) return batches;
    const next = batchLastOffset(batches[batches.length - 1]!) + 1;
    if (next >= hw) return batches;
    const read = this.#log.read(next, 1);
    const more = (b: Uint8Array[]): MaybePromise<Uint8Array[]> => {
      const after = this.#withRecords(visibleBelow(b, hw), hw);
      return after instanceof Promise ? after.then((m) => batches.concat(m)) : batches.concat(after);
    };
    return read instanceof Promise ? read.then(more) : more(read);
  }

  async read(offset: number, options: { maxRecords?: number } = {}): Promise<ConsumerRecord[]> {
    if (this.#closed !== undefined) throw this.#closed();
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw invalidArgument(`offset must be an integer >= 0 (got ${show(offset)})`, { topic: this.topic, partition: this.id });
    }
    const maxRecords = options.maxRecords ?? 500;
    if (!Number.isInteger(maxRecords) || maxRecords < 1) {
      throw invalidArgument(`maxRecords must be a positive integer (got ${show(maxRecords)})`);
    }
    const out: ConsumerRecord[] = [];
    let next = Math.max(offset, this.logStartOffset);
    while (out.length < maxRecords) {
      let batches: Uint8Array[];
      try {
        batches = await this.readBatches(next, DEFAULT_FETCH_BYTES);
      } catch (error) {
        // Damage further on: what was read before it is whole; the next read from there fails.
        if (out.length > 0 && (error as KafkaliteError).code === 'STORAGE_CORRUPT') break;
        throw error;
      }
      if (batches.length === 0) break;
      for (const batch of batches) {
        decodeRecordsInto(out, batch, 0, this.topic, this.id, next, maxRecords - out.length);
        next = batchLastOffset(batch) + 1;
        if (out.length >= maxRecords) break;
      }
    }
    return out;
  }

  async deleteRecordsBefore(offset: number): Promise<void> {
    if (this.#closed !== undefined) throw this.#closed();
    this.#checkDeletable();
    const context = { topic: this.topic, partition: this.id };
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalidArgument(`deleteRecordsBefore offset must be an integer >= 0 (got ${show(offset)})`, context);
    const hw = this.#highWatermark;
    if (offset > hw) throw offsetOutOfRange(this.topic, this.id, offset, this.logStartOffset, hw, 'deleteRecordsBefore takes at most the log end');
    if (offset <= this.logStartOffset) return;
    const log = this.#log;
    if (log.deleteRecordsBefore === undefined) throw unsupported('deleteRecordsBefore', 'this storage does not implement PartitionLog.deleteRecordsBefore');
    await log.deleteRecordsBefore(offset);
  }

  async offsetForTimestamp(timestamp: number): Promise<number | undefined> {
    return (await this.findByTimestamp(timestamp))?.offset;
  }

  /** The first record whose timestamp is at least `timestamp`: its offset and timestamp. */
  async findByTimestamp(timestamp: number): Promise<{ offset: number; timestamp: number } | undefined> {
    if (this.#closed !== undefined) throw this.#closed();
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      // Kafka's ListOffsets takes -1 and -2 for latest and earliest; here those are logEndOffset and logStartOffset.
      throw invalidArgument(`timestamp must be milliseconds from 0 to ${Number.MAX_SAFE_INTEGER} (got ${show(timestamp)}; for the log's ends read logStartOffset / logEndOffset)`, {
        topic: this.topic,
        partition: this.id,
      });
    }
    const start = Math.max(this.logStartOffset, (await this.#log.offsetBeforeTimestamp?.(timestamp)) ?? 0);
    let next = start;
    for (;;) {
      const batches = await this.readBatches(next, DEFAULT_FETCH_BYTES);
      if (batches.length === 0) return undefined;
      for (const batch of batches) {
        if (batchMaxTimestamp(batch) >= timestamp) {
          const records: ConsumerRecord[] = [];
          decodeRecordsInto(records, batch, 0, this.topic, this.id, start, Infinity);
          const found = records.find((r) => r.timestamp >= timestamp);
          if (found !== undefined) return { offset: found.offset, timestamp: found.timestamp };
        }
        next = batchLastOffset(batch) + 1;
      }
    }
  }

  /** Calls `listener` once, the next time records become readable (or the partition closes). */
  onAppend(listener: AppendListener): void {
    this.#waiters.push(listener);
  }

  offAppend(listener: AppendListener): void {
    const i = this.#waiters.indexOf(listener);
    if (i >= 0) this.#waiters.splice(i, 1);
  }

  #wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = this.#spare;
    this.#spare = waiters;
    for (let i = 0; i < waiters.length; i++) waiters[i]!.appended();
    waiters.length = 0;
  }

  /** Waits for in-flight appends, then refuses new ones (and reads) with `reason` and wakes every waiting reader. */
  async close(reason: () => KafkaliteError = () => closed(`partition ${this.topic}-${this.id}`)): Promise<void> {
    this.#closed ??= reason;
    await this.#tail?.catch(() => undefined);
    await this.#cleaning?.catch(() => undefined);
    this.#wakeAll();
  }
}

/** The batches wholly below the high watermark: one still being made durable is not visible yet. */
function visibleBelow(batches: Uint8Array[], hw: number): Uint8Array[] {
  let n = batches.length;
  while (n > 0 && batchLastOffset(batches[n - 1]!) >= hw) n--;
  return n === batches.length ? batches : batches.slice(0, n);
}
