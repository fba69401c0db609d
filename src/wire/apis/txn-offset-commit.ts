import type { TopicPartitionOffset } from '../../types.js';
import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, txnCallCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * TxnOffsetCommit: offsets the group gets if, and when, the transaction commits (after
 * AddOffsetsToTxn); kept by the seam's transaction coordinator with the transaction. Offsets of
 * unknown partitions are UNKNOWN_TOPIC_OR_PARTITION and negative ones INVALID_REQUEST, each on
 * its own; the rest are handed over together and share the coordinator's answer. The group
 * generation and member (v3+, KIP-447) are not checked, and commit metadata is not kept.
 */
export const txnOffsetCommit = defineApi({
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request, version) {
    const offsets: TopicPartitionOffset[] = [];
    const slots: { errorCode: number }[] = [];
    const topics = request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const out: { partitionIndex: number; errorCode: number } = { partitionIndex: p.partitionIndex, errorCode: KafkaErrorCode.NONE };
        if (ctx.topics.get(t.name)?.partitions[p.partitionIndex] === undefined) out.errorCode = KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (!Number.isSafeInteger(p.committedOffset) || p.committedOffset < 0) out.errorCode = KafkaErrorCode.INVALID_REQUEST;
        else {
          offsets.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset });
          slots.push(out);
        }
        return out;
      }),
    }));
    if (offsets.length > 0) {
      const { transactionalId, producerId, producerEpoch, groupId } = request;
      const code = await txnCallCode(() => ctx.api.txnOffsetCommit({ transactionalId, producerId, producerEpoch, groupId, offsets }), version < 2);
      for (const slot of slots) slot.errorCode = code;
    }
    return { throttleTimeMs: 0, topics };
  },
});
