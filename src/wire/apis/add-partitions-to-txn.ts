import type { TopicPartition } from '../../types.js';
import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, txnCallCode } from '../kafka-errors.js';
import { ApiKey, type AddPartitionsToTxnResponseTopicResult } from '../protocol/index.js';

/**
 * AddPartitionsToTxn (v0–3, one transaction per request, what producers send): through the
 * seam's transaction coordinator, which opens the transaction and records its partitions in
 * `__transaction_state` before answering. All or nothing, as on Kafka: an unknown partition fails
 * with UNKNOWN_TOPIC_OR_PARTITION and the others with OPERATION_NOT_ATTEMPTED; a refusal of the
 * producer (fenced, another producer's id) is every partition's error. v4+ (brokers verifying
 * for each other, KIP-890) is not served.
 */
export const addPartitionsToTxn = defineApi({
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request, version) {
    const partitions: TopicPartition[] = [];
    for (const t of request.v3AndBelowTopics) for (const partition of t.partitions) partitions.push({ topic: t.name, partition });
    const unknown = partitions.filter(({ topic, partition }) => ctx.topics.get(topic)?.partitions[partition] === undefined);
    const code =
      unknown.length > 0
        ? KafkaErrorCode.OPERATION_NOT_ATTEMPTED
        : await txnCallCode(
            () =>
              ctx.api.addPartitionsToTxn({
                transactionalId: request.v3AndBelowTransactionalId,
                producerId: request.v3AndBelowProducerId,
                producerEpoch: request.v3AndBelowProducerEpoch,
                partitions,
              }),
            version < 2,
          );
    const resultsByTopicV3AndBelow: AddPartitionsToTxnResponseTopicResult[] = request.v3AndBelowTopics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((partitionIndex) => ({
        partitionIndex,
        partitionErrorCode: unknown.some((u) => u.topic === t.name && u.partition === partitionIndex) ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION : code,
      })),
    }));
    return { throttleTimeMs: 0, resultsByTopicV3AndBelow };
  },
});
