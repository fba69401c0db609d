import { CloseConnection, NO_RESPONSE, defineApi } from '../api-handler.js';
import { batchProducerEpoch, batchProducerId, isTransactionalBatch } from '../../codec/record-batch.js';
import { KafkaErrorCode, kafkaErrorOf, txnErrorCode, type KafkaError } from '../kafka-errors.js';
import { checkProducedBatch } from '../produced-batch.js';
import { ApiKey, type ProduceResponsePartitionProduceResponse, type ProduceResponseTopicProduceResponse } from '../protocol/index.js';
import type { WireContext } from '../wire-context.js';
import { firstRecordWithoutKey } from '../../codec/batch-filter.js';
import { isCompacted } from '../../topic/topic-config.js';
import type { ResolvedTopicConfig } from '../../types.js';

/** A batch view this much smaller than the buffer under it is copied before a log keeps it. */
const WASTE_LIMIT = 4096;

/**
 * Produce: each partition's RecordBatch is checked as Kafka checks it (`checkProducedBatch`),
 * then handed to the seam exactly as it came — the partition writes the base offset into the
 * header (outside the CRC) and the storage keeps those bytes; nothing is decoded or re-encoded.
 * Compressed, idempotent and transactional batches are stored as they are; a transactional one
 * only to a partition its producer's open transaction holds (INVALID_TXN_STATE otherwise). acks
 * 1 and -1 are answered once the append is readable (on FileStorage with fsync 'always', once it
 * is on disk); acks 0 gets no response, and a refusal then closes the connection, as Kafka does,
 * so the client notices.
 *
 * All appends are issued synchronously, so pipelined requests on one connection append in the
 * order they were sent.
 */
export const produce = defineApi({
  apiKey: ApiKey.Produce,
  minVersion: 3,
  maxVersion: 11,
  handle(ctx, request, version) {
    const { acks } = request;
    const refuse = acks !== 0 && acks !== 1 && acks !== -1 ? { code: KafkaErrorCode.INVALID_REQUIRED_ACKS, message: `acks must be 0, 1 or -1 (got ${acks})` } : undefined;
    const responses: ProduceResponseTopicProduceResponse[] = [];
    const waits: Promise<void>[] = [];
    let failed = false;
    for (const t of request.topicData) {
      const topic = ctx.topics.get(t.name);
      const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
      for (const p of t.partitionData) {
        const out = response(p.index);
        partitionResponses.push(out);
        const partition = topic?.partitions[p.index];
        const error =
          refuse ??
          (partition === undefined
            ? { code: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `unknown topic or partition ${t.name}-${p.index}` }
            : (checkProducedBatch(p.records, version) ?? fitting(p.records!, topic!.config.maxMessageBytes) ?? keyed(p.records!, topic!.config) ?? inTransaction(ctx, request.transactionalId, t.name, p.index, p.records!)));
        if (error !== undefined) {
          out.errorCode = error.code;
          out.errorMessage = error.message;
          failed = true;
          continue;
        }
        const append = appendOne(ctx, t.name, p.index, p.records!, out);
        if (append !== undefined) waits.push(append);
      }
      responses.push({ name: t.name, partitionResponses });
    }
    if (acks === 0) {
      if (failed) throw new CloseConnection('a Produce request with acks=0 was refused');
      for (const w of waits) w.catch(() => undefined);
      return NO_RESPONSE;
    }
    if (waits.length === 0) return { responses, throttleTimeMs: 0 };
    return Promise.all(waits).then(() => ({ responses, throttleTimeMs: 0 }));
  },
});

function response(index: number): ProduceResponsePartitionProduceResponse {
  return {
    index,
    errorCode: KafkaErrorCode.NONE,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [],
    errorMessage: null,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

function fitting(records: Uint8Array, maxMessageBytes: number): KafkaError | undefined {
  if (records.length <= maxMessageBytes) return undefined;
  return { code: KafkaErrorCode.MESSAGE_TOO_LARGE, message: `the record batch takes ${records.length} bytes, over the topic's max.message.bytes (${maxMessageBytes})` };
}

/** A compacted topic refuses a record without a key: Kafka's INVALID_RECORD ("Compacted topic cannot accept message without key"). */
function keyed(records: Uint8Array, config: ResolvedTopicConfig): { code: number; message: string } | undefined {
  if (!isCompacted(config) || firstRecordWithoutKey(records) === undefined) return undefined;
  return { code: KafkaErrorCode.INVALID_RECORD, message: `compacted topic cannot accept a record without a key (cleanup.policy ${config.cleanupPolicy})` };
}

/**
 * A transactional batch goes only to a partition its producer's open transaction holds
 * (AddPartitionsToTxn first), at the transaction's epoch, and only in a request naming the
 * transactional id; a transactional id with plain batches is taken, as Kafka takes it. The
 * partition then checks the sequence and opens the producer's transaction there (the LSO stops
 * at its first offset until the marker).
 */
function inTransaction(ctx: WireContext, transactionalId: string | null, topic: string, partition: number, batch: Uint8Array): KafkaError | undefined {
  if (!isTransactionalBatch(batch)) return undefined;
  if (transactionalId === null) return { code: KafkaErrorCode.INVALID_TXN_STATE, message: 'a transactional batch in a Produce request without a transactional id' };
  const refused = ctx.api.transactionalProduceRefusal({ transactionalId, producerId: batchProducerId(batch), producerEpoch: batchProducerEpoch(batch) }, topic, partition);
  if (refused === undefined) return undefined;
  // Produce answers an old epoch INVALID_PRODUCER_EPOCH, as Kafka's partitions do.
  return { code: txnErrorCode(refused.error, true), message: refused.message ?? refused.error! };
}

/** Appends one checked batch through the seam; fills `out` when it is readable. Returns the wait, if any. */
function appendOne(ctx: WireContext, topic: string, partition: number, records: Uint8Array, out: ProduceResponsePartitionProduceResponse): Promise<void> | undefined {
  // The batch is a view into the request frame; a log keeps what it is given for as long as it
  // keeps the batch, so a small batch inside a large socket chunk is copied rather than pinning
  // the chunk.
  const batch = records.buffer.byteLength - records.length > WASTE_LIMIT ? Buffer.from(records) : records;
  // The leader epoch (outside the CRC) as kafkalite writes it: one broker, epoch 0.
  batch[12] = batch[13] = batch[14] = batch[15] = 0;
  const done = (baseOffset: number): void => {
    out.baseOffset = baseOffset;
    out.logStartOffset = ctx.topics.get(topic)?.partitions[partition]?.logStartOffset ?? -1;
  };
  const fail = (error: unknown): void => {
    const e = kafkaErrorOf(error);
    out.errorCode = e.code;
    out.errorMessage = e.message;
  };
  try {
    return ctx.api.produce({ partitions: [{ topic, partition, records: batch }] }).then((r) => done(r.baseOffsets[0]!), fail);
  } catch (error) {
    fail(error);
    return undefined;
  }
}
