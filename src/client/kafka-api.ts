/**
 * The one seam between clients and the broker, shaped like Kafka's own requests (Metadata,
 * Produce, Fetch, ListOffsets; the group requests join it with consumer groups). In-process the
 * calls are plain method calls with no serialisation; the same clients can later run against a
 * real cluster through an implementation that speaks Kafka's wire protocol, and the broker can be
 * served over that protocol to any Kafka client.
 *
 * Clients (Producer, Consumer) import this file and nothing of the broker's.
 */

import type { Clock } from '../clock.js';
import type { KafkaliteError } from '../errors.js';

/** ListOffsets' special timestamps, as in Kafka. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface MetadataRequest {
  topics: string[];
  /** Create missing topics with the broker's defaults (when the broker allows it). */
  allowAutoTopicCreation: boolean;
}

export interface TopicMetadata {
  name: string;
  partitionCount: number;
  /** The topic's `maxMessageBytes`, which Kafka clients learn through DescribeConfigs. */
  maxMessageBytes: number;
}

export interface MetadataResponse {
  /** One entry per requested topic that exists (after auto-creation). */
  topics: TopicMetadata[];
}

export interface ProducePartitionData {
  topic: string;
  partition: number;
  /** One RecordBatch v2, which the broker takes over (it writes the base offset into it). */
  records: Uint8Array;
}

export interface ProduceRequest {
  partitions: ProducePartitionData[];
}

export interface ProduceResponse {
  /** The base offset given to each batch, in request order. */
  baseOffsets: number[];
}

export interface FetchPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  /** Bytes of batches to return for this partition, at least one batch when there is one. */
  maxBytes: number;
}

export interface FetchRequest {
  /** How long to wait when no partition has records at its fetch offset. */
  maxWaitMs: number;
  partitions: FetchPartition[];
  /** Ends the wait early (Kafka's consumer `wakeup()`); the response then holds what there is. */
  signal?: AbortSignal;
}

export interface FetchPartitionResponse {
  topic: string;
  partition: number;
  /** `UNKNOWN_TOPIC`, `UNKNOWN_PARTITION` or `OFFSET_OUT_OF_RANGE`; no batches then. */
  error?: KafkaliteError;
  highWatermark: number;
  logStartOffset: number;
  batches: Uint8Array[];
}

export interface FetchResponse {
  partitions: FetchPartitionResponse[];
}

export interface ListOffsetsPartition {
  topic: string;
  partition: number;
  /** {@link LATEST_TIMESTAMP} or {@link EARLIEST_TIMESTAMP}. */
  timestamp: number;
}

export interface ListOffsetsResponse {
  partitions: { topic: string; partition: number; offset: number }[];
}

export interface KafkaApi {
  /** The broker's clock: clients take timestamps and timers from it. */
  readonly clock: Clock;

  metadata(request: MetadataRequest): Promise<MetadataResponse>;

  /**
   * Appends every batch, or none: the request is checked whole (topics, partitions, sizes)
   * before the first append.
   */
  produce(request: ProduceRequest): Promise<ProduceResponse>;

  /** Long-polls: returns at once when any partition has records, else waits up to `maxWaitMs`. */
  fetch(request: FetchRequest): Promise<FetchResponse>;

  listOffsets(request: { partitions: ListOffsetsPartition[] }): Promise<ListOffsetsResponse>;

  /**
   * Calls `listener` with a topic's name whenever its metadata changes (created, grown,
   * deleted), so clients can drop what they cached. Returns the function that unsubscribes.
   */
  watchMetadata(listener: (topic: string) => void): () => void;
}
