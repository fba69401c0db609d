import { RecordBatchBuilder } from '../codec/record-batch.js';
import type { PartitionState } from '../topic/partition.js';
import type { TopicRegistry } from '../topic/topic-registry.js';

/** Kafka's internal topic for transaction state; kafkalite also keeps its producer id blocks there. */
export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** Producer ids reserved per record written: one append per this many producers. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/**
 * Key version of a producer id block record. Kafka's own keys in this topic are version 0
 * (TransactionLogKey: a transactional id); Kafka keeps its id blocks in the controller, which
 * kafkalite does not have, so the block gets a key version of its own.
 */
const BLOCK_KEY_VERSION = 0x7f00;
const BLOCK_KEY = Buffer.from([BLOCK_KEY_VERSION >>> 8, BLOCK_KEY_VERSION & 0xff]);

/**
 * Hands out producer ids that are never handed out twice, across restarts: ids are reserved in
 * blocks of {@link PRODUCER_ID_BLOCK_SIZE}, each block's end written to `__transaction_state`
 * (key: int16 version 0x7f00; value: int16 version 0, int64 end of the reserved block) before
 * any id in it is given. At open the last block record says where the next block starts, so a
 * restarted broker skips what its predecessor may have given out.
 *
 * The topic is created on first use, so a broker that never sees an idempotent producer has none.
 *
 * Concurrency: `next` calls are served in call order; a call that needs a new block waits for its
 * append, and the calls behind it wait too.
 */
export class ProducerIdManager {
  #topics: TopicRegistry;
  #now: () => number;
  #opening: Promise<PartitionState> | undefined;
  #next = 0;
  #blockEnd = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(topics: TopicRegistry, now: () => number) {
    this.#topics = topics;
    this.#now = now;
    if (topics.get(TRANSACTION_STATE_TOPIC) !== undefined) topics.protect(TRANSACTION_STATE_TOPIC);
  }

  /** A producer id no one had. */
  next(): Promise<number> {
    const id = this.#queue.then(async () => {
      if (this.#next >= this.#blockEnd) await this.#reserve();
      return this.#next++;
    });
    this.#queue = id.catch(() => undefined);
    return id;
  }

  async #reserve(): Promise<void> {
    const log = await this.#open();
    const end = Math.max(this.#next, this.#blockEnd) + PRODUCER_ID_BLOCK_SIZE;
    const value = Buffer.alloc(10);
    value.writeInt16BE(0, 0);
    value.writeBigInt64BE(BigInt(end), 2);
    const builder = new RecordBatchBuilder(64);
    builder.append(this.#now(), BLOCK_KEY, value);
    await log.append(builder.build());
    this.#next = Math.max(this.#next, this.#blockEnd);
    this.#blockEnd = end;
  }

  /** `__transaction_state`'s partition, created if need be (the transaction coordinator keeps its state there too). */
  stateLog(): Promise<PartitionState> {
    return this.#open();
  }

  #open(): Promise<PartitionState> {
    this.#opening ??= this.#openNow();
    this.#opening.catch(() => (this.#opening = undefined));
    return this.#opening;
  }

  /** The topic's partition 0, created if needed; the first time, the last block is read back. */
  async #openNow(): Promise<PartitionState> {
    const topic =
      this.#topics.get(TRANSACTION_STATE_TOPIC) ??
      (await this.#topics.create(TRANSACTION_STATE_TOPIC, { partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 }, 1));
    this.#topics.protect(TRANSACTION_STATE_TOPIC);
    const log = topic.partition(0) as PartitionState;
    let next = log.logStartOffset;
    for (;;) {
      const records = await log.read(next, { maxRecords: 10_000 });
      if (records.length === 0) break;
      for (const r of records) {
        if (r.key !== null && r.key.length === 2 && r.key.equals(BLOCK_KEY) && r.value !== null && r.value.length >= 10) {
          this.#blockEnd = Math.max(this.#blockEnd, Number(r.value.readBigInt64BE(2)));
        }
      }
      next = records[records.length - 1]!.offset + 1;
    }
    this.#next = this.#blockEnd;
    return log;
  }
}
