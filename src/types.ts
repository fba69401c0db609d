/** Shapes shared by every layer. Names follow Kafka and KafkaJS. */

/**
 * What a producer sends. `value: null` is a tombstone. `K` and `V` are what the producer's
 * `serializers` take; without them, bytes or strings (UTF-8).
 */
export interface Message<K = string | Uint8Array, V = string | Uint8Array> {
  key?: K | null;
  value: V | null;
  /** A key given an array is written once per element, in order (Kafka allows repeated header keys). */
  headers?: Record<string, string | Uint8Array | (string | Uint8Array)[]>;
  /** Milliseconds since the epoch; defaults to the broker clock's `now()` at `send`. */
  timestamp?: number;
  /** An explicit partition wins over the key. */
  partition?: number;
}

/**
 * What a consumer receives; `key`, `value` and header values are its own copies. `K` and `V` are
 * what the consumer's `deserializers` give; without them, the bytes.
 */
export interface ConsumerRecord<K = Buffer, V = Buffer> {
  topic: string;
  partition: number;
  offset: number;
  key: K | null;
  value: V | null;
  /** A key that occurs more than once in the record reads as an array, in record order. */
  headers: Record<string, Buffer | Buffer[]>;
  timestamp: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

/** A map key for one partition of a topic (topic names never hold a NUL). */
export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** One entry per partition a `send` wrote to; `baseOffset` is the offset of the call's first record there. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  baseOffset: number;
}

export interface TopicMessages<K = string | Uint8Array, V = string | Uint8Array> {
  topic: string;
  messages: Message<K, V>[];
}

/**
 * What happens to old records: `'delete'` drops them by `retentionMs` / `retentionBytes`;
 * `'compact'` keeps the latest record per key (Kafka's log compaction); `'compact,delete'` both.
 */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/** A topic's configuration as given to `createTopic`; every field is optional. */
export interface TopicConfig {
  /** @default the broker's `defaultPartitions` */
  partitions?: number;
  /** How long records are kept; -1 keeps them forever. @default 604800000 (7 days, Kafka's) */
  retentionMs?: number;
  /** Bytes kept per partition before the oldest are dropped; -1 for no limit. @default -1 */
  retentionBytes?: number;
  /** Size at which a log segment rolls. @default 1073741824 (1 GiB, Kafka's) */
  segmentBytes?: number;
  /**
   * `'compact'` keeps the latest record per key and refuses records without a key; time and size
   * retention apply only with `'delete'` (or `'compact,delete'`). @default 'delete'
   */
  cleanupPolicy?: CleanupPolicy;
  /**
   * How long a tombstone (a record with a null value) of a compacted topic is kept after the
   * cleaner first saw it, so that consumers reading behind learn of the delete. @default 86400000 (1 day, Kafka's)
   */
  deleteRetentionMs?: number;
  /**
   * The cleaner cleans a compacted partition once the bytes written since its last pass (outside
   * the active segment) reach this share of its cleanable bytes. @default 0.5
   */
  minCleanableDirtyRatio?: number;
  /** Largest record batch the topic accepts, in bytes. @default 1048576 */
  maxMessageBytes?: number;
}

/** A topic's configuration with every default filled in. */
export type ResolvedTopicConfig = Required<TopicConfig>;
