/**
 * The `Storage` interface: where a broker keeps its logs and its topic metadata. It is public and
 * small on purpose, so a user can write their own and pass it to `Broker.open({ storage })`.
 *
 * Bytes-first: a log holds Kafka RecordBatch v2 bytes exactly as the partition hands them over
 * (offsets already assigned in the header), and gives the same bytes back. A storage never
 * decodes records; it may read the header fields through the helpers of `kafkalite`'s codec.
 *
 * Methods that may finish at once return a plain value instead of a promise (`MaybePromise`):
 * the in-memory storage does, and the broker then skips a microtask on the hot path.
 */

import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { ResolvedTopicConfig } from '../types.js';

export type MaybePromise<T> = T | Promise<T>;

/** What a storage persists about one topic. */
export interface StoredTopic {
  name: string;
  /**
   * The topic's id (Kafka's topic UUID, 22 base64url characters), given at creation and kept for
   * the topic's life; a topic deleted and created again gets a new one. Optional for storages
   * written before ids existed: a topic loaded without one is given a new id at every open, so a
   * storage should keep what `saveTopic` hands it.
   */
  id?: string;
  partitions: number;
  config: ResolvedTopicConfig;
}

/** Which records a log may drop, decided by the partition from the topic's config. */
export interface RetentionPolicy {
  /**
   * Keep at most this many bytes of batches; -1 for no limit. Whole batches (or segments) are
   * dropped from the front while the rest still holds `retentionBytes`; the newest batch (the
   * active segment) is never dropped for size.
   */
  retentionBytes: number;
  /** Drop batches whose newest record is older than `now - retentionMs`; -1 keeps them. */
  retentionMs: number;
  now: number;
}

/**
 * What the log cleaner of a compacted topic is told (Kafka's log compaction), decided by the
 * partition from the topic's config.
 */
export interface CleanPolicy {
  /**
   * Clean only when the bytes appended since the last pass, outside the active segment, are at
   * least this share of all the bytes outside it (Kafka's `min.cleanable.dirty.ratio`); 0 cleans
   * whatever is cleanable.
   */
  minDirtyRatio: number;
  /** How long a tombstone is kept after the pass that first kept it (Kafka's `delete.retention.ms`). */
  deleteRetentionMs: number;
  now: number;
}

/** What one cleaning pass did. */
export interface CleanResult {
  /** False when the pass did nothing: nothing outside the active segment, or not dirty enough. */
  cleaned: boolean;
  /** Bytes of batches the pass read and rewrote (the cleanable range). */
  bytesRead: number;
  /** Bytes of batches the pass wrote in their place. */
  bytesWritten: number;
}

/** A transaction ended by an abort marker (Fetch's `aborted_transactions`): its producer's records from `firstOffset` up to the marker at `lastOffset` are to be skipped by `read_committed` readers. */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

/**
 * What Kafka's transaction index keeps of an aborted transaction (`AbortedTxn`): also the last
 * stable offset once its marker was appended (the first offset of the oldest transaction then
 * still open, or the offset after the marker), which lets a search stop early: no transaction
 * aborted later has records below it.
 */
export interface AbortedTransactionEntry extends AbortedTransaction {
  lastStableOffset: number;
}

/**
 * One partition's log: an append-only sequence of record batches.
 *
 * Concurrency: the partition above calls `append` one batch at a time, in offset order, and never
 * calls it again before the previous call returned (a promise counts as returned once created);
 * `read` may be called at any time, also while an append is in flight.
 */
export interface PartitionLog {
  /** The first offset still kept. */
  readonly logStartOffset: number;
  /** The offset the next appended batch will start at. */
  readonly logEndOffset: number;

  /**
   * Appends one batch whose `baseOffset` equals `logEndOffset`. `logEndOffset` moves past the
   * batch before `append` returns; a returned promise resolves once the batch is as durable as
   * the storage promises (for a file storage with fsync 'always', on disk). The storage owns
   * `batch` from here on: the caller never changes it again.
   *
   * `aborted` comes with every abort marker (a control batch): the transaction it ends, for a
   * storage that keeps Kafka's transaction index (see {@link abortedTransactions}); others ignore it.
   */
  append(batch: Uint8Array, aborted?: AbortedTransactionEntry): MaybePromise<void>;

  /**
   * Optional: the aborted transactions (those `append` was told of) whose marker is at or after
   * `from` and whose first offset is below `to`, in marker order — what a `read_committed` fetch
   * of `[from, to)` hands the reader. Kafka's `collectAbortedTxns` over its `.txnindex` files.
   * Without it the partition keeps every aborted transaction in memory, rebuilt from the log.
   */
  abortedTransactions?(from: number, to: number): MaybePromise<AbortedTransaction[]>;

  /**
   * Whole batches holding offsets from `offset` (the first may begin before it) up to the end of
   * the log, stopping once `maxBytes` is reached — but always at least one batch when there is
   * one, as Kafka does. Returns `[]` when `offset >= logEndOffset`. A storage that finds damage
   * may stop early, before it: the records before it stay readable, and the read that starts at
   * the damage rejects (`STORAGE_CORRUPT`). The buffers returned may
   * share memory with the log: callers must not change them.
   */
  read(offset: number, maxBytes: number): MaybePromise<Uint8Array[]>;

  /** Drops whole batches that fall outside `policy`; returns the new `logStartOffset`. */
  applyRetention(policy: RetentionPolicy): MaybePromise<number>;

  /**
   * Kafka's DeleteRecords: moves `logStartOffset` up to `offset` (the partition checks that it
   * lies between the current start and the log end), dropping batches that end before it. The
   * start may fall inside a batch; records below it are never read again. A durable storage
   * keeps the new start across restarts before the promise resolves. Optional: without it,
   * `partition.deleteRecordsBefore` is `UNSUPPORTED`.
   */
  deleteRecordsBefore?(offset: number): MaybePromise<void>;

  /**
   * Optional help for lookups by time: an offset at or below that of the first record whose
   * timestamp is at least `timestamp` (from a time index, say), so the partition need not read
   * the log from its start. Without it the partition scans from `logStartOffset`.
   */
  offsetBeforeTimestamp?(timestamp: number): MaybePromise<number>;

  /**
   * Kafka's log cleaner, for compacted topics. Outside the active segment (which is never
   * cleaned), keeps only the latest record of each key (inside compressed batches too), and
   * drops tombstones once their delete horizon has passed (see `docs/format.md`): offsets never
   * change, so the log has gaps, which `read` skips (a read from an offset that is gone starts at
   * the next one). `logStartOffset` and `logEndOffset` stay. A durable storage swaps the cleaned
   * bytes in so that a crash leaves either the old or the new ones. The partition never runs two passes at once; appends and reads
   * go on meanwhile. Optional: without it a compacted topic is not compacted (the broker says so),
   * and `topic.compact()` is `UNSUPPORTED`.
   */
  clean?(policy: CleanPolicy): MaybePromise<CleanResult>;

  /** Makes everything appended so far durable. */
  flush(): Promise<void>;
}

/** What the broker hands a storage when it opens it. */
export interface StorageContext {
  /** The broker's clock, for any timer the storage runs (periodic fsync, checkpoints). */
  clock: Clock;
  /**
   * Where to report failures of background work no caller waits for (a periodic fsync or
   * checkpoint failing). Absent when the storage is opened outside a broker.
   */
  logger?: Logger;
}

export interface Storage {
  /** Opens the storage and returns the topics it already holds. Called once, by `Broker.open`. */
  open(context?: StorageContext): Promise<StoredTopic[]>;

  /** Records a new topic or a changed one (more partitions); creates missing partition logs. */
  saveTopic(topic: StoredTopic): Promise<void>;

  /** Forgets a topic and deletes its logs. */
  deleteTopic(name: string): Promise<void>;

  /** The log of one partition of a saved topic. */
  log(topic: string, partition: number): PartitionLog;

  /** Flushes and releases everything. The storage is not used again. */
  close(): Promise<void>;
}
