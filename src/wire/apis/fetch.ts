import { batchRecordCount } from '../../codec/record-batch.js';
import type { FetchPartition, FetchPartitionResponse, FetchResponse as SeamFetchResponse } from '../../seam/kafka-api.js';
import type { PartitionState } from '../../topic/partition.js';
import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaCodeOf, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';
import type { WireContext } from '../wire-context.js';

const READ_COMMITTED = 1;
/** A fetch session's epoch that closes it: the request is then a plain full fetch. */
const FINAL_EPOCH = -1;

/**
 * Fetch: long-polls through the seam's `fetch` (woken by an append to any partition asked for,
 * up to `maxWaitMs`, or at once when the connection closes), then keeps waiting for appends while
 * fewer than `minBytes` are there. The stored RecordBatch bytes are sent as they are, compressed
 * ones included. Limits as Kafka's: `partitionMaxBytes` per partition and `maxBytes` for the
 * response, except that the first batch of the first partition with data is always sent whole so
 * the consumer makes progress. v13 names topics by id. Fetch sessions are not kept: every
 * response has session id 0 (Kafka's answer when it keeps no session), so clients send full
 * requests; an incremental request for a session is FETCH_SESSION_ID_NOT_FOUND.
 * Isolation level 1 (read_committed) reads up to the last stable offset (the first offset of the
 * oldest open transaction) and lists the aborted transactions among the batches sent
 * (`abortedTransactions`: producer id and first offset), so the client drops their records as
 * it does with Kafka; level 0 reads to the high watermark, and its last stable offset is reported too.
 */
/** One partition of the response, filled in as the answer comes (records are the stored batches, by reference). */
interface PartitionOut {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  preferredReadReplica: number;
  records: Uint8Array[];
}

export const fetch = defineApi({
  apiKey: ApiKey.Fetch,
  minVersion: 4,
  maxVersion: 13,
  async handle(ctx, request, version, session) {
    if (version >= 7 && request.sessionId !== 0 && request.sessionEpoch !== FINAL_EPOCH) {
      return { throttleTimeMs: 0, errorCode: KafkaErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
    }
    const byId = version >= 13;
    const asked: FetchPartition[] = [];
    const slots: PartitionOut[] = [];
    const topics: { topic: string; topicId: string; partitions: PartitionOut[] }[] = [];
    for (const t of request.topics) {
      const name = byId ? ctx.topics.byId(t.topicId)?.name : t.topic;
      const partitions: PartitionOut[] = [];
      for (const p of t.partitions) {
        const data = partitionData(p.partition);
        partitions.push(data);
        if (name === undefined) {
          data.errorCode = KafkaErrorCode.UNKNOWN_TOPIC_ID;
          continue;
        }
        asked.push({ topic: name, partition: p.partition, fetchOffset: p.fetchOffset, maxBytes: Math.max(1, Math.min(p.partitionMaxBytes, request.maxBytes)) });
        slots.push(data);
      }
      topics.push({ topic: t.topic, topicId: t.topicId, partitions });
    }
    try {
      const readCommitted = request.isolationLevel === READ_COMMITTED;
      const result = await fetchAtLeast(ctx, asked, request.maxWaitMs, request.minBytes, readCommitted, session.signal);
      fill(ctx, result.partitions, asked, slots, request.maxBytes, readCommitted);
    } catch (error) {
      const code = kafkaErrorOf(error).code;
      for (const slot of slots) slot.errorCode = code;
    }
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, sessionId: 0, responses: topics };
  },
});

function partitionData(partitionIndex: number): PartitionOut {
  return {
    partitionIndex,
    errorCode: KafkaErrorCode.NONE,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    abortedTransactions: null,
    preferredReadReplica: -1,
    // Kafka sends empty records (not null) with an error or nothing to read; some clients rely on it.
    records: [],
  };
}

/** The seam's long poll, then more waiting on appends while fewer than `minBytes` are there. */
async function fetchAtLeast(ctx: WireContext, partitions: FetchPartition[], maxWaitMs: number, minBytes: number, readCommitted: boolean, signal: AbortSignal): Promise<SeamFetchResponse> {
  const clock = ctx.api.clock;
  const deadline = clock.now() + maxWaitMs;
  const isolationLevel = readCommitted ? 'read_committed' : 'read_uncommitted';
  let result = await ctx.api.fetch({ maxWaitMs, partitions, isolationLevel }, { signal });
  while (minBytes > 1 && !signal.aborted && bytesOf(result) < minBytes && !result.partitions.some((p) => p.error !== undefined)) {
    const left = deadline - clock.now();
    if (left <= 0 || !(await appended(ctx, partitions, left, signal))) break;
    result = await ctx.api.fetch({ maxWaitMs: 0, partitions, isolationLevel }, { signal });
  }
  return result;
}

function bytesOf(response: SeamFetchResponse): number {
  let n = 0;
  for (const p of response.partitions) for (const b of p.batches) n += b.length;
  return n;
}

/** Resolves true at the next append to one of the partitions, false after `ms` or on abort. */
function appended(ctx: WireContext, partitions: FetchPartition[], ms: number, signal: AbortSignal): Promise<boolean> {
  const states: PartitionState[] = [];
  for (const { topic, partition } of partitions) {
    const p = ctx.topics.get(topic)?.partitions[partition];
    if (p !== undefined) states.push(p);
  }
  return ctx.topics.appendWaits.wait(states, ms, signal);
}

/** Copies the seam's answer into the response slots, applying the partition and response byte limits. */
function fill(ctx: WireContext, results: FetchPartitionResponse[], asked: FetchPartition[], slots: PartitionOut[], maxBytes: number, readCommitted: boolean): void {
  let budget = maxBytes;
  let sentAny = false;
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    const slot = slots[i]!;
    slot.highWatermark = r.highWatermark;
    // read_uncommitted gets the last stable offset the partition knows without a read (Kafka
    // reports it at every level; clients use it only for read_committed lag).
    slot.lastStableOffset = r.lastStableOffset ?? ctx.topics.get(r.topic)?.partitions[r.partition]?.lastStableOffsetNow ?? r.highWatermark;
    slot.logStartOffset = r.logStartOffset;
    slot.abortedTransactions = readCommitted ? (r.abortedTransactions ?? []) : null;
    if (r.error !== undefined) {
      slot.errorCode = kafkaCodeOf(r.error);
      continue;
    }
    const limit = Math.min(asked[i]!.maxBytes, budget);
    const batches: Uint8Array[] = [];
    let size = 0;
    for (const batch of r.batches) {
      // The first batch with records of the first partition with data goes whole whatever the
      // limits — after the empty batches a compaction leaves, too: a response of those alone
      // would have a client (KafkaJS) fetch the same offset forever.
      if (size + batch.length > limit && sentAny) break;
      batches.push(batch);
      size += batch.length;
      if (batchRecordCount(batch) > 0) sentAny = true;
    }
    budget -= size;
    slot.records = batches;
  }
}
