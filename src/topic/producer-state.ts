import {
  batchBaseOffset,
  batchBaseSequence,
  batchLastOffset,
  batchLastSequence,
  batchProducerEpoch,
  batchProducerId,
  incrementSequence,
  isControlBatch,
} from '../codec/record-batch.js';
import { outOfOrderSequence, producerFenced } from '../errors.js';

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
 * The table lives in memory. It is rebuilt by {@link replay}ing the log's batches in offset
 * order (the partition does this once, before the first batch that needs it), so it survives a
 * restart on any storage that keeps the log.
 *
 * Concurrency: none of its own; the partition calls it synchronously, in append order.
 */
export class ProducerStateTable {
  #producers = new Map<number, ProducerEntry>();

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

  /** Notes an appended batch (checked first). */
  record(producerId: number, epoch: number, firstSeq: number, lastSeq: number, firstOffset: number, lastOffset: number): void {
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

  /** Applies one batch read back from the log (rebuilding the table at open). */
  replay(batch: Uint8Array): void {
    const producerId = batchProducerId(batch);
    if (producerId < 0 || isControlBatch(batch)) return;
    this.record(producerId, batchProducerEpoch(batch), batchBaseSequence(batch), batchLastSequence(batch), batchBaseOffset(batch), batchLastOffset(batch));
  }

  /** Producers known (tests and inspection). */
  get size(): number {
    return this.#producers.size;
  }
}
