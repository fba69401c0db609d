import { batchLastOffset, decodeRecordsInto } from '../codec/record-batch.js';
import type { KafkaliteError } from '../errors.js';
import { DEFAULT_FETCH_BYTES } from '../topic/partition.js';
import type { ConsumerRecord } from '../types.js';
import type { FetchPartition, FetchResponse, KafkaApi } from './kafka-api.js';
import type { PartitionCursor } from './positions.js';

/** Records fetched for one partition, valid while its cursor's epoch is unchanged. */
export interface Chunk {
  cursor: PartitionCursor;
  epoch: number;
  records: ConsumerRecord[];
  /** The partition's high watermark in the fetch response. */
  highWatermark: number;
  /** With deserializers: the record right after `records` could not be deserialized (see record-deserializer.ts). */
  failure?: KafkaliteError;
}

/** What the fetcher asks of the consumer it fetches for. */
export interface FetchHost {
  /** Whether a cursor is still the one assigned for its partition. */
  isCurrent(cursor: PartitionCursor): boolean;
  /** A fetch found `cursor`'s position outside the log `[logStart, logEnd]`. */
  outOfRange(cursor: PartitionCursor, error: KafkaliteError, logStart: number, logEnd: number): void;
}

/**
 * One Fetch over the given cursors (Kafka's `Fetcher`): long-polls up to `maxWaitMs`, then
 * decodes at most `maxRecords` records, grouped per partition, starting with partition `first`
 * (rotated by the caller, so no partition is always served last). A cursor whose epoch moved
 * while the fetch was out (a seek, a revocation) gets nothing; one whose position fell outside
 * the log goes to `outOfRange`.
 */
export function fetchChunks(
  api: KafkaApi,
  cursors: PartitionCursor[],
  options: { maxWaitMs: number; maxRecords: number; first: number; signal: AbortSignal },
  host: FetchHost,
): Promise<Chunk[]> {
  const partitions: FetchPartition[] = new Array(cursors.length);
  const epochs: number[] = new Array(cursors.length);
  for (let i = 0; i < cursors.length; i++) {
    const c = cursors[i]!;
    partitions[i] = { topic: c.topic, partition: c.partition, fetchOffset: c.position!, maxBytes: DEFAULT_FETCH_BYTES };
    epochs[i] = c.epoch;
  }
  return api
    .fetch({ maxWaitMs: options.maxWaitMs, partitions, signal: options.signal })
    .then((response) => toChunks(response, cursors, epochs, options, host));
}

function toChunks(response: FetchResponse, cursors: PartitionCursor[], epochs: number[], options: { maxRecords: number; first: number }, host: FetchHost): Chunk[] {
  const chunks: Chunk[] = [];
  let budget = options.maxRecords;
  const n = response.partitions.length;
  for (let k = 0; k < n && budget > 0; k++) {
    const i = (options.first + k) % n;
    const p = response.partitions[i]!;
    const cursor = cursors[i]!;
    if (cursor.epoch !== epochs[i] || !host.isCurrent(cursor)) continue;
    if (p.error !== undefined) {
      // A deleted topic or partition has nothing to read; only a bad position needs action.
      if (p.error.code === 'OFFSET_OUT_OF_RANGE') host.outOfRange(cursor, p.error, p.logStartOffset, p.highWatermark);
      continue;
    }
    cursor.highWatermark = p.highWatermark;
    const records: ConsumerRecord[] = [];
    let from = cursor.position!;
    for (const batch of p.batches) {
      decodeRecordsInto(records, batch, 0, cursor.topic, cursor.partition, from, budget - records.length);
      if (records.length >= budget) break;
      from = batchLastOffset(batch) + 1;
    }
    if (records.length === 0) continue;
    budget -= records.length;
    chunks.push({ cursor, epoch: cursor.epoch, records, highWatermark: p.highWatermark });
  }
  return chunks;
}
