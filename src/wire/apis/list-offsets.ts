import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type ListOffsetsPartition } from '../../seam/kafka-api.js';
import { KafkaliteError } from '../../errors.js';
import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey, type ListOffsetsResponsePartitionResponse, type ListOffsetsResponseTopicResponse } from '../protocol/index.js';
import type { WireContext } from '../wire-context.js';

/** ListOffsets' other special timestamps (KIP-734, KIP-405). */
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL_TIMESTAMP = -4;
/** ListOffsets' `isolation_level` (v2+) asking for the last stable offset as the latest. */
const READ_COMMITTED = 1;

/**
 * ListOffsets: latest (-1: the high watermark, or the last stable offset for isolation level 1,
 * read_committed, as Kafka answers), earliest (-2; and -4, earliest local, the same
 * with no tiered storage), or the first record at or after a time (through the seam, which starts
 * from FileStorage's time index). Max-timestamp (-3) is UNSUPPORTED_VERSION for now. Each
 * partition is answered on its own, so one bad partition fails only itself; a time lookup that
 * meets a compressed batch is UNSUPPORTED_FOR_MESSAGE_FORMAT (the records need the codec).
 */
export const listOffsets = defineApi({
  apiKey: ApiKey.ListOffsets,
  minVersion: 1,
  maxVersion: 8,
  async handle(ctx, request, version) {
    const topics: ListOffsetsResponseTopicResponse[] = [];
    const lookups: Promise<void>[] = [];
    for (const t of request.topics) {
      const topic = ctx.topics.get(t.name);
      const partitions: ListOffsetsResponsePartitionResponse[] = [];
      for (const p of t.partitions) {
        const out: ListOffsetsResponsePartitionResponse = { partitionIndex: p.partitionIndex, errorCode: KafkaErrorCode.NONE, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
        partitions.push(out);
        let timestamp = p.timestamp;
        if (timestamp === EARLIEST_LOCAL_TIMESTAMP && version >= 8) timestamp = EARLIEST_TIMESTAMP;
        if (topic?.partitions[p.partitionIndex] === undefined) out.errorCode = KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (timestamp === MAX_TIMESTAMP) out.errorCode = KafkaErrorCode.UNSUPPORTED_VERSION;
        else if (timestamp < 0 && timestamp !== LATEST_TIMESTAMP && timestamp !== EARLIEST_TIMESTAMP) out.errorCode = KafkaErrorCode.INVALID_REQUEST;
        else lookups.push(lookup(ctx, { topic: t.name, partition: p.partitionIndex, timestamp }, request.isolationLevel === READ_COMMITTED, out));
      }
      topics.push({ name: t.name, partitions });
    }
    await Promise.all(lookups);
    return { throttleTimeMs: 0, topics };
  },
});

async function lookup(ctx: WireContext, partition: ListOffsetsPartition, readCommitted: boolean, out: ListOffsetsResponsePartitionResponse): Promise<void> {
  try {
    const [answer] = (await ctx.api.listOffsets({ partitions: [partition], isolationLevel: readCommitted ? 'read_committed' : 'read_uncommitted' })).partitions;
    out.offset = answer!.offset;
    out.timestamp = answer!.timestamp;
    if (answer!.offset >= 0) out.leaderEpoch = 0;
  } catch (error) {
    out.errorCode = error instanceof KafkaliteError && error.code === 'UNSUPPORTED' ? KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT : kafkaErrorOf(error).code;
  }
}
