import { batchLastOffset, batchProducerId, decodeRecordsInto, isControlBatch, isTransactionalBatch } from '../codec/record-batch.js';
import { controlBatchType } from '../codec/control-batch.js';
import type { KafkaliteError } from '../errors.js';
import { DEFAULT_FETCH_BYTES } from '../topic/partition.js';
import type { ConsumerRecord } from '../types.js';
import type { FetchPartition, FetchPartitionResponse, FetchResponse, IsolationLevel, KafkaApi } from '../seam/kafka-api.js';
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
  outOfRange(cursor: PartitionCursor, logStart: number, logEnd: number): void;
  /** A fetch held only transaction markers or aborted records up to `next`: move past them. */
  skipped(cursor: PartitionCursor, next: number): void;
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
  options: { maxWaitMs: number; maxRecords: number; first: number; signal: AbortSignal; isolationLevel?: IsolationLevel },
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
    .fetch({ maxWaitMs: options.maxWaitMs, partitions, isolationLevel: options.isolationLevel }, { signal: options.signal })
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
      if (p.error === 'OFFSET_OUT_OF_RANGE') host.outOfRange(cursor, p.logStartOffset, p.highWatermark);
      continue;
    }
    cursor.highWatermark = p.highWatermark;
    const records: ConsumerRecord[] = [];
    let from = cursor.position!;
    const aborted = p.abortedTransactions === undefined || p.abortedTransactions.length === 0 ? undefined : new AbortedFilter(p.abortedTransactions);
    for (const batch of p.batches) {
      if (aborted === undefined || !aborted.skips(batch)) decodeRecordsInto(records, batch, 0, cursor.topic, cursor.partition, from, budget - records.length);
      if (records.length >= budget) break;
      from = batchLastOffset(batch) + 1;
    }
    if (records.length === 0) {
      // Markers or aborted records only: move past them, or the next fetch finds them again.
      if (p.batches.length > 0 && from > cursor.position!) host.skipped(cursor, from);
      continue;
    }
    budget -= records.length;
    chunks.push({ cursor, epoch: cursor.epoch, records, highWatermark: p.highWatermark });
  }
  return chunks;
}

/**
 * Kafka's consumer-side skipping of aborted transactions (`CompletedFetch`): a producer's
 * transactional batches are skipped from the first offset of one of its aborted transactions up
 * to that transaction's abort marker. Batches are fed in offset order.
 */
class AbortedFilter {
  #pending: NonNullable<FetchPartitionResponse['abortedTransactions']>;
  #aborting = new Set<number>();

  constructor(aborted: NonNullable<FetchPartitionResponse['abortedTransactions']>) {
    this.#pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Whether `batch` holds records of an aborted transaction (control batches hold none anyway). */
  skips(batch: Uint8Array): boolean {
    const last = batchLastOffset(batch);
    while (this.#pending.length > 0 && this.#pending[0]!.firstOffset <= last) this.#aborting.add(this.#pending.shift()!.producerId);
    const producerId = batchProducerId(batch);
    if (isControlBatch(batch)) {
      if (controlBatchType(batch) === 'abort') this.#aborting.delete(producerId);
      return true;
    }
    return isTransactionalBatch(batch) && this.#aborting.has(producerId);
  }
}
