import {
  batchBaseOffset,
  batchBaseSequence,
  batchLastOffset,
  batchLastSequence,
  batchProducerEpoch,
  batchProducerId,
  incrementSequence,
  isControlBatch,
  isTransactionalBatch,
} from '../codec/record-batch.js';
import { controlBatchType } from '../codec/control-batch.js';
import { outOfOrderSequence, producerFenced } from '../errors.js';
import type { AbortedTransaction, AbortedTransactionEntry } from '../storage/storage.js';

/** Batches remembered per producer and partition: Kafka's producer keeps at most 5 in flight, so a retry is always among them. */
export const BATCHES_REMEMBERED = 5;

/** One appended batch of a producer: its sequences and where it landed. */
interface BatchEntry {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

interface ProducerEntry {
  epoch: number;
  /** The last batches appended in this epoch, oldest first, at most {@link BATCHES_REMEMBERED}. */
  batches: BatchEntry[];
}

export type { AbortedTransaction } from '../storage/storage.js';

/** What {@link ProducerStateTable.check} decided for a batch. */
export type SequenceCheck =
  /** New and in order: append it. */
  | { duplicateOf: undefined }
  /** Already appended: acknowledge with this base offset, do not append. */
  | { duplicateOf: number };

const APPEND: SequenceCheck = { duplicateOf: undefined };

/**
 * One partition's idempotent producer state (Kafka's `ProducerStateManager`): per producer id,
 * its epoch and the sequences and offsets of its last {@link BATCHES_REMEMBERED} batches. A
 * batch is checked before the partition gives it offsets:
 *
 * - a producer the table does not know may start at any sequence (its earlier batches may have
 *   left with retention, as Kafka allows);
 * - an epoch below the producer's newest is fenced (`PRODUCER_FENCED`); a newer epoch must
 *   start again at sequence 0;
 * - a batch whose sequences match one of the remembered batches is a retry: it is acknowledged
 *   with that batch's base offset and not appended again;
 * - otherwise its first sequence must follow the last one appended, else `OUT_OF_ORDER_SEQUENCE`
 *   (a batch in between was lost).
 *
 * It also follows transactions (Kafka's `ProducerStateManager` and `TransactionIndex`): the
 * first offset of each producer's open transaction — the smallest of them is where the last
 * stable offset stands — and the aborted transactions, for `read_committed` readers to skip.
 *
 * A storage that keeps Kafka's transaction index (FileStorage's `.txnindex`) is handed each
 * aborted transaction as its marker is appended ({@link abortEntry}) and answers readers from
 * it; the table then keeps no list of aborted transactions (`keepAborted` false).
 *
 * The table lives in memory. It is rebuilt by {@link replay}ing the log's batches in offset
 * order (the partition does this once, before the first batch that needs it), so it survives a
 * restart on any storage that keeps the log.
 *
 * Concurrency: none of its own; the partition calls it synchronously, in append order.
 */
export class ProducerStateTable {
  #producers = new Map<number, ProducerEntry>();
  /** Producers with an open transaction here: the offset of its first batch. */
  #ongoing = new Map<number, number>();
  /** Transactions ended by an abort marker, in marker order. */
  #aborted: AbortedTransaction[] = [];
  readonly #keepAborted: boolean;

  /** @param keepAborted whether to keep the aborted transactions for {@link abortedBetween} (false when the log indexes them). */
  constructor(keepAborted = true) {
    this.#keepAborted = keepAborted;
  }

  /** Decides what to do with an idempotent batch; throws when it must be refused. */
  check(topic: string, partition: number, producerId: number, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
    const entry = this.#producers.get(producerId);
    if (entry === undefined) return APPEND;
    if (epoch < entry.epoch) throw producerFenced(`producer ${producerId}`, epoch, entry.epoch, { topic, partition });
    if (epoch > entry.epoch) {
      if (firstSeq !== 0) throw outOfOrderSequence(topic, partition, producerId, 0, firstSeq);
      return APPEND;
    }
    const batches = entry.batches;
    for (let i = batches.length - 1; i >= 0; i--) {
      const b = batches[i]!;
      if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return { duplicateOf: b.firstOffset };
    }
    const last = batches[batches.length - 1];
    const expected = last === undefined ? 0 : incrementSequence(last.lastSeq, 1);
    if (firstSeq !== expected) throw outOfOrderSequence(topic, partition, producerId, expected, firstSeq);
    return APPEND;
  }

  /** Notes an appended batch (checked first); a transactional one opens its producer's transaction here if none is open. */
  record(producerId: number, epoch: number, firstSeq: number, lastSeq: number, firstOffset: number, lastOffset: number, transactional = false): void {
    if (transactional && !this.#ongoing.has(producerId)) this.#ongoing.set(producerId, firstOffset);
    let entry = this.#producers.get(producerId);
    if (entry === undefined) this.#producers.set(producerId, (entry = { epoch, batches: [] }));
    else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.batches.push({ firstSeq, lastSeq, firstOffset, lastOffset });
    if (entry.batches.length > BATCHES_REMEMBERED) entry.batches.shift();
  }

  /**
   * Forgets a producer whose batch could not be written (the log took it back): what the table
   * knew of it may now name a batch that is not in the log, and a retry must be appended again.
   */
  forget(producerId: number): void {
    this.#producers.delete(producerId);
  }

  /**
   * Notes a transaction marker appended at `offset`: the producer's transaction here is over
   * (an aborted one is remembered for `read_committed` readers), and a marker of a newer epoch
   * (the coordinator fenced the producer) makes that epoch the producer's.
   */
  complete(producerId: number, epoch: number, type: 'commit' | 'abort', offset: number): void {
    const first = this.#ongoing.get(producerId);
    this.#ongoing.delete(producerId);
    // A marker with no records before it here (a transaction that added the partition but wrote
    // nothing to it) still counts, from the marker itself, as in Kafka's producer state.
    if (type === 'abort' && this.#keepAborted) this.#aborted.push({ producerId, firstOffset: first ?? offset, lastOffset: offset });
    const entry = this.#producers.get(producerId);
    if (entry === undefined) this.#producers.set(producerId, { epoch, batches: [] });
    else if (epoch > entry.epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
  }

  /**
   * What Kafka's transaction index keeps of the transaction an abort marker of `producerId` at
   * `offset` ends (called before {@link complete}): its first offset here, and the last stable
   * offset once it is over — the first offset of the oldest other open transaction, else the
   * offset after the marker (Kafka's `ProducerStateManager.lastStableOffset(completedTxn)`).
   */
  abortEntry(producerId: number, offset: number): AbortedTransactionEntry {
    let lastStableOffset = offset + 1;
    for (const [id, first] of this.#ongoing) if (id !== producerId && first < lastStableOffset) lastStableOffset = first;
    return { producerId, firstOffset: this.#ongoing.get(producerId) ?? offset, lastOffset: offset, lastStableOffset };
  }

  /** The first offset of the oldest open transaction: the last stable offset, when there is one. */
  firstUnstableOffset(): number | undefined {
    let first: number | undefined;
    for (const offset of this.#ongoing.values()) if (first === undefined || offset < first) first = offset;
    return first;
  }

  /** Aborted transactions with records at or after `from` and before `to` (Fetch's `aborted_transactions`). */
  abortedBetween(from: number, to: number): AbortedTransaction[] {
    const out: AbortedTransaction[] = [];
    for (const t of this.#aborted) if (t.lastOffset >= from && t.firstOffset < to) out.push(t);
    return out;
  }

  /** Applies one batch read back from the log (rebuilding the table at open). */
  replay(batch: Uint8Array): void {
    const producerId = batchProducerId(batch);
    if (producerId < 0) return;
    if (isControlBatch(batch)) {
      const type = controlBatchType(batch);
      if (type !== undefined) this.complete(producerId, batchProducerEpoch(batch), type, batchBaseOffset(batch));
      return;
    }
    this.record(
      producerId,
      batchProducerEpoch(batch),
      batchBaseSequence(batch),
      batchLastSequence(batch),
      batchBaseOffset(batch),
      batchLastOffset(batch),
      isTransactionalBatch(batch),
    );
  }

  /** Producers known (tests and inspection). */
  get size(): number {
    return this.#producers.size;
  }
}
