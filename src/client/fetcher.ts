import { batchLastOffset, decodeRecordsInto } from '../codec/record-batch.js';
import type { KafkaliteError } from '../errors.js';
import { DEFAULT_FETCH_BYTES } from '../topic/partition.js';
import type { ConsumerRecord } from '../types.js';
import type { FetchPartition, KafkaApi } from './kafka-api.js';
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

/**
 * One Fetch over the given cursors (Kafka's `Fetcher`): long-polls up to `maxWaitMs`, then
 * decodes at most `maxRecords` records, grouped per partition, starting with partition `first`
 * (rotated by the caller, so no partition is always served last). A cursor whose epoch moved
 * while the fetch was out (a seek, a revocation) gets nothing; one whose position fell outside
 * the log goes to `outOfRange`.
 */
export async function fetchChunks(
  api: KafkaApi,
  cursors: PartitionCursor[],
  options: { maxWaitMs: number; maxRecords: number; first: number; signal: AbortSignal },
  isCurrent: (cursor: PartitionCursor) => boolean,
  outOfRange: (cursor: PartitionCursor, error: KafkaliteError, logStart: number, logEnd: number) => void,
): Promise<Chunk[]> {
  const partitions: FetchPartition[] = cursors.map((c) => ({
    topic: c.topic,
    partition: c.partition,
    fetchOffset: c.position!,
    maxBytes: DEFAULT_FETCH_BYTES,
  }));
  const epochs = cursors.map((c) => c.epoch);
  const response = await api.fetch({ maxWaitMs: options.maxWaitMs, partitions, signal: options.signal });

  const chunks: Chunk[] = [];
  let budget = options.maxRecords;
  const n = response.partitions.length;
  for (let k = 0; k < n && budget > 0; k++) {
    const i = (options.first + k) % n;
    const p = response.partitions[i]!;
    const cursor = cursors[i]!;
    if (cursor.epoch !== epochs[i] || !isCurrent(cursor)) continue;
    if (p.error === undefined) cursor.highWatermark = p.highWatermark;
    if (p.error !== undefined) {
      // A deleted topic or partition has nothing to read; only a bad position needs action.
      if (p.error.code === 'OFFSET_OUT_OF_RANGE') outOfRange(cursor, p.error, p.logStartOffset, p.highWatermark);
      continue;
    }
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
