/**
 * A batch as KafkaJS' `eachBatch` gets it: the records of one partition from one fetch, with the
 * partition's high watermark at that fetch, and KafkaJS' offset helpers.
 */

import type { ConsumerRecord } from '../index.js';
import { toKafkaMessage, type ConsumedMessage } from './messages.js';
import type { Batch, IBatchProcessEvent } from './types.js';

export class LiteBatch implements Batch {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: string;
  readonly messages: ConsumedMessage[];
  /** The offset the fetch started at. */
  readonly fetchedOffset: string;

  constructor(topic: string, partition: number, records: ConsumerRecord[], highWatermark: number) {
    this.topic = topic;
    this.partition = partition;
    this.messages = records.map(toKafkaMessage);
    this.highWatermark = String(Math.max(highWatermark, (records[records.length - 1]?.offset ?? -1) + 1));
    this.fetchedOffset = String(records[0]?.offset ?? highWatermark);
  }

  isEmpty(): boolean {
    return this.messages.length === 0;
  }

  firstOffset(): string | null {
    return this.messages[0]?.offset ?? null;
  }

  /** The last message's offset; for an empty batch, the high watermark minus one. */
  lastOffset(): string {
    return this.messages[this.messages.length - 1]?.offset ?? String(Number(this.highWatermark) - 1);
  }

  /** Messages after this batch: `highWatermark - 1 - lastOffset`. */
  offsetLag(): string {
    return String(Number(this.highWatermark) - 1 - Number(this.lastOffset()));
  }

  /** Messages from this batch's first on: `highWatermark - 1 - firstOffset`. */
  offsetLagLow(): string {
    const first = this.firstOffset();
    return first === null ? '0' : String(Number(this.highWatermark) - 1 - Number(first));
  }

  /** The payload of `START_BATCH_PROCESS` / `END_BATCH_PROCESS`. */
  describe(): IBatchProcessEvent {
    return {
      topic: this.topic,
      partition: this.partition,
      highWatermark: this.highWatermark,
      offsetLag: this.offsetLag(),
      offsetLagLow: this.offsetLagLow(),
      batchSize: this.messages.length,
      firstOffset: this.firstOffset() ?? this.fetchedOffset,
      lastOffset: this.lastOffset(),
    };
  }
}
