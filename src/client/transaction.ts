import { invalidArgument, invalidTxnState, show } from '../errors.js';
import type { RecordMetadata, TopicMessages, TopicPartitionOffset } from '../types.js';

/** Offsets a transaction commits for a consumer group: for each partition the next offset to consume. */
export interface SendOffsetsRequest {
  consumerGroupId: string;
  topics: { topic: string; partitions: { partition: number; offset: number | string }[] }[];
}

/** What a transaction needs of its producer (`K`, `V`: the producer's, as its serializers type them). */
export interface TransactionHost<K, V> {
  /** Resolves once the producer holds its id and epoch (and is not fenced). */
  ready(): Promise<void>;
  send(record: TopicMessages<K, V>): Promise<RecordMetadata[]>;
  sendBatch(batch: { topicMessages: TopicMessages<K, V>[] }): Promise<RecordMetadata[]>;
  /** Appends everything handed over so far and waits for it. */
  flush(): Promise<void>;
  sendOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>;
  /** Ends the transaction at the broker (after `flush`). */
  end(commit: boolean): Promise<void>;
  /** The transaction no longer takes sends. */
  closed(transaction: Transaction<K, V>): void;
}

/**
 * One transaction of a producer with a `transactionalId` (Kafka's `beginTransaction` …
 * `commitTransaction`): its sends, and the consumer offsets given to `sendOffsets`, become
 * visible to `read_committed` readers all at once on `commit()`, or never, on `abort()`.
 *
 * `K` and `V` are the producer's: a producer typed by its `serializers` takes the same keys and
 * values in its transactions' sends.
 *
 * Concurrency: sends may be fired without awaiting; `commit()` and `abort()` first wait for every
 * send made before them. After either is called the transaction takes nothing more
 * (`INVALID_TXN_STATE`); a producer runs one transaction at a time.
 */
export class Transaction<K = string | Uint8Array, V = string | Uint8Array> {
  #host: TransactionHost<K, V>;
  #active = true;

  /** @internal made by `producer.transaction()`. */
  constructor(host: TransactionHost<K, V>) {
    this.#host = host;
  }

  send(record: TopicMessages<K, V>): Promise<RecordMetadata[]> {
    if (!this.#active) return Promise.reject(ended('send'));
    return this.#host.send(record);
  }

  sendBatch(batch: { topicMessages: TopicMessages<K, V>[] }): Promise<RecordMetadata[]> {
    if (!this.#active) return Promise.reject(ended('sendBatch'));
    return this.#host.sendBatch(batch);
  }

  /**
   * Resolves once the producer holds its id and epoch for its `transactionalId` (InitProducerId,
   * started by `producer.transaction()`): from then on an older producer with the same id is
   * fenced. Rejects `PRODUCER_FENCED` when a newer producer has taken the id over. Sends,
   * `sendOffsets` and `commit` wait for this themselves; KafkaJS' `await producer.transaction()`
   * waits for it.
   */
  ready(): Promise<void> {
    return this.#host.ready();
  }

  /** Commits these offsets for the group if, and when, the transaction commits (consume-transform-produce). */
  async sendOffsets(request: SendOffsetsRequest): Promise<void> {
    if (!this.#active) throw ended('sendOffsets');
    if (request === null || typeof request !== 'object' || typeof request.consumerGroupId !== 'string' || request.consumerGroupId.length === 0) {
      throw invalidArgument(`sendOffsets takes { consumerGroupId, topics } with a non-empty consumerGroupId (got ${show(request)})`);
    }
    if (!Array.isArray(request.topics)) throw invalidArgument(`sendOffsets: topics must be an array (got ${show(request.topics)})`);
    const offsets: TopicPartitionOffset[] = [];
    for (const t of request.topics) {
      for (const p of t?.partitions ?? []) {
        const offset = typeof p.offset === 'string' ? Number(p.offset) : p.offset;
        if (typeof t.topic !== 'string' || !Number.isInteger(p.partition) || p.partition < 0 || !Number.isSafeInteger(offset) || offset < 0) {
          throw invalidArgument(`sendOffsets: each offset needs a topic, a partition >= 0 and an offset >= 0 (got ${show({ topic: t.topic, ...p })})`);
        }
        offsets.push({ topic: t.topic, partition: p.partition, offset });
      }
    }
    await this.#host.sendOffsets(request.consumerGroupId, offsets);
  }

  /** Waits for the transaction's sends, then makes them (and its offsets) visible at once. */
  commit(): Promise<void> {
    return this.#end(true);
  }

  /** Waits for the transaction's sends, then drops them (and its offsets). */
  abort(): Promise<void> {
    return this.#end(false);
  }

  /** True until `commit()` or `abort()` is called. */
  isActive(): boolean {
    return this.#active;
  }

  async #end(commit: boolean): Promise<void> {
    if (!this.#active) throw ended(commit ? 'commit' : 'abort');
    this.#active = false;
    this.#host.closed(this);
    await this.#host.flush();
    await this.#host.end(commit);
  }
}

const ended = (what: string) => invalidTxnState(`${what} on a transaction that was already committed or aborted`);
