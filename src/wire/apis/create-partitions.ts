import { validatePartitionCount } from '../../topic/topic-config.js';
import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';
import { NODE_ID } from '../wire-context.js';

/**
 * CreatePartitions: grows a topic to `count` partitions (`topic.addPartitions`). A count not
 * above the current one is INVALID_PARTITIONS; assignments must name broker 0 alone
 * (INVALID_REPLICA_ASSIGNMENT); a topic named twice is INVALID_REQUEST. `validateOnly` checks and
 * changes nothing.
 */
export const createPartitions = defineApi({
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const seen = new Map<string, number>();
    for (const t of request.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const results = [];
    for (const t of request.topics) {
      const result = { name: t.name, errorCode: KafkaErrorCode.NONE as number, errorMessage: null as string | null };
      results.push(result);
      const fail = (code: number, message: string): void => {
        result.errorCode = code;
        result.errorMessage = message;
      };
      const topic = ctx.topics.get(t.name);
      const current = topic?.partitions.length ?? 0;
      if (seen.get(t.name)! > 1) fail(KafkaErrorCode.INVALID_REQUEST, `topic ${t.name} is named more than once in the request`);
      else if (topic === undefined) fail(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${t.name}`);
      else if (t.count === current) fail(KafkaErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
      else if (t.count < current) fail(KafkaErrorCode.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is higher than the requested ${t.count}.`);
      else if (t.assignments !== null && t.assignments.length !== t.count - current) {
        fail(KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT, `${t.assignments.length} assignments given for ${t.count - current} new partitions`);
      } else if (t.assignments !== null && t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== NODE_ID)) {
        fail(KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT, `kafkalite has one broker: every partition's replicas must be [${NODE_ID}]`);
      } else {
        try {
          validatePartitionCount(t.count, t.name);
          if (!request.validateOnly) await topic.addPartitions(t.count);
        } catch (error) {
          const e = kafkaErrorOf(error);
          fail(e.code, e.message);
        }
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
