/**
 * KafkaJS' Transaction (what `await producer.transaction()` returns) on kafkalite's
 * {@link CoreTransaction}: `send` / `sendBatch` as the producer's, `sendOffsets`, `commit`,
 * `abort`, `isActive`. As in KafkaJS, the transaction stops being active the moment `commit` or
 * `abort` is called, and every call after that rejects with "Cannot continue to use transaction
 * once ended"; a fenced producer's calls reject with KafkaJS' `INVALID_PRODUCER_EPOCH`.
 */

import assert from 'node:assert';
import type { Transaction as CoreTransaction } from '../index.js';
import { KafkaJSNonRetriableError, kafkaJSErrors } from './errors.js';
import type { Offsets, ProducerBatch, ProducerRecord, RecordMetadata, Transaction } from './types.js';

const ended = (): KafkaJSNonRetriableError => new KafkaJSNonRetriableError('Cannot continue to use transaction once ended');

/**
 * Concurrency: calls may be fired without awaiting them. `commit` and `abort` first wait for every
 * `send`, `sendBatch` and `sendOffsets` called before them (KafkaJS leaves that race to its
 * user; here a send fired just before `commit` is in the transaction), then end it.
 */
export class LiteTransaction implements Transaction {
  #core: CoreTransaction;
  #sendBatch: (batch: ProducerBatch) => Promise<RecordMetadata[]>;
  #onEnd: () => void;
  #active = true;
  /** Calls made on this transaction and not settled yet. */
  #pending = new Set<Promise<unknown>>();

  /** @internal made by `LiteProducer.transaction()`; `sendBatch` is the producer's send path into `core`. */
  constructor(core: CoreTransaction, sendBatch: (batch: ProducerBatch) => Promise<RecordMetadata[]>, onEnd: () => void) {
    this.#core = core;
    this.#sendBatch = sendBatch;
    this.#onEnd = onEnd;
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const { acks, timeout, compression, topic, messages } = record ?? ({} as ProducerRecord);
    return this.sendBatch({ acks, timeout, compression, topicMessages: [{ topic, messages }] });
  }

  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    if (!this.#active) return Promise.reject(ended());
    return this.#track(this.#sendBatch(batch));
  }

  async sendOffsets({ consumerGroupId, topics }: Offsets & { consumerGroupId: string }): Promise<void> {
    if (!this.#active) throw ended();
    // KafkaJS asserts these two (node's AssertionError).
    assert(consumerGroupId, 'Missing consumerGroupId');
    assert(topics, 'Missing offset topics');
    // Tracked before the first await: a `commit` called right after waits for it.
    return this.#track(kafkaJSErrors(() => this.#core.sendOffsets({ consumerGroupId, topics })));
  }

  commit(): Promise<void> {
    return this.#end(true);
  }

  abort(): Promise<void> {
    return this.#end(false);
  }

  isActive(): boolean {
    return this.#active;
  }

  async #end(commit: boolean): Promise<void> {
    if (!this.#active) throw ended();
    this.#active = false;
    try {
      // Calls fired before this one reach the core transaction before it ends.
      await Promise.allSettled([...this.#pending]);
      await kafkaJSErrors(() => (commit ? this.#core.commit() : this.#core.abort()));
    } finally {
      this.#onEnd();
    }
  }

  #track<T>(call: Promise<T>): Promise<T> {
    this.#pending.add(call);
    const settled = (): void => void this.#pending.delete(call);
    call.then(settled, settled);
    return call;
  }
}
