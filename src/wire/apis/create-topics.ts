import { resolveTopicConfig, validatePartitionCount, validateTopicName } from '../../topic/topic-config.js';
import type { TopicConfig } from '../../types.js';
import { defineApi } from '../api-handler.js';
import { describeTopicConfigs, kafkaConfigError, parseTopicConfigs } from '../kafka-configs.js';
import { KafkaErrorCode, kafkaErrorOf, type KafkaError } from '../kafka-errors.js';
import { ApiKey, ZERO_UUID, type CreateTopicsRequestCreatableTopic } from '../protocol/index.js';
import { NODE_ID, type WireContext } from '../wire-context.js';

/**
 * CreateTopics, with Kafka's config names (the seven kafkalite keeps; Kafka's other topic configs
 * only at the one value kafkalite has). Per topic: INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS,
 * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (anything but 1 or -1: there is one broker),
 * INVALID_REPLICA_ASSIGNMENT (a replica other than broker 0), INVALID_CONFIG, and INVALID_REQUEST
 * for a topic named twice in one request. `validateOnly` checks everything and creates nothing.
 * v5+ answers with the topic's partitions, replication factor and configs; v7 with its id.
 */
export const createTopics = defineApi({
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, request) {
    const seen = new Map<string, number>();
    for (const t of request.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const topics = [];
    for (const t of request.topics) {
      const result = {
        name: t.name,
        topicId: ZERO_UUID,
        errorCode: KafkaErrorCode.NONE as number,
        errorMessage: null as string | null,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null as ReturnType<typeof responseConfigs> | null,
      };
      topics.push(result);
      const checked = seen.get(t.name)! > 1 ? { error: { code: KafkaErrorCode.INVALID_REQUEST, message: `topic ${t.name} is named more than once in the request` } } : check(ctx, t);
      if ('error' in checked) {
        result.errorCode = checked.error.code;
        result.errorMessage = checked.error.message;
        continue;
      }
      try {
        const resolved = resolveTopicConfig(t.name, checked.config, ctx.options.defaultPartitions);
        if (!request.validateOnly) {
          const topic = await ctx.topics.create(t.name, checked.config, ctx.options.defaultPartitions);
          result.topicId = topic.id;
        }
        result.numPartitions = resolved.partitions;
        result.replicationFactor = 1;
        result.configs = responseConfigs(resolved);
      } catch (error) {
        const e = kafkaConfigError(error) ?? kafkaErrorOf(error);
        result.errorCode = e.code;
        result.errorMessage = e.message;
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});

function responseConfigs(config: ReturnType<typeof resolveTopicConfig>) {
  return describeTopicConfigs(config).map((c) => ({ name: c.name, value: c.value, readOnly: c.readOnly, configSource: c.source, isSensitive: false }));
}

/** Everything CreateTopics checks before creating: the topic's config in kafkalite's terms, or why not. */
function check(ctx: WireContext, t: CreateTopicsRequestCreatableTopic): { config: TopicConfig } | { error: KafkaError } {
  try {
    validateTopicName(t.name);
  } catch (error) {
    return { error: kafkaErrorOf(error) };
  }
  if (ctx.topics.get(t.name) !== undefined) return { error: { code: KafkaErrorCode.TOPIC_ALREADY_EXISTS, message: `Topic '${t.name}' already exists.` } };
  let partitions: number;
  if (t.assignments.length > 0) {
    if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
      return { error: { code: KafkaErrorCode.INVALID_REQUEST, message: 'both numPartitions or replicationFactor and replica assignments were set' } };
    }
    const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
    if (indexes.some((p, i) => p !== i)) return { error: { code: KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT, message: 'replica assignments must cover partitions 0 to n-1, each once' } };
    if (t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== NODE_ID)) {
      return { error: { code: KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT, message: `kafkalite has one broker: every partition's replicas must be [${NODE_ID}]` } };
    }
    partitions = t.assignments.length;
  } else {
    partitions = t.numPartitions === -1 ? ctx.options.defaultPartitions : t.numPartitions;
    if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
      return { error: { code: KafkaErrorCode.INVALID_REPLICATION_FACTOR, message: `kafkalite has one broker: the replication factor must be 1 or -1 (got ${t.replicationFactor})` } };
    }
  }
  try {
    validatePartitionCount(partitions, t.name);
  } catch (error) {
    return { error: kafkaErrorOf(error) };
  }
  const parsed = parseTopicConfigs(t.configs);
  if ('error' in parsed) return parsed;
  const config: Record<string, unknown> = { partitions };
  for (const [key, value] of Object.entries(parsed.changes)) if (value !== null) config[key] = value;
  return { config: config as TopicConfig };
}
