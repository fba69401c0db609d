import { KafkaliteError } from '../../errors.js';
import { OFFSETS_TOPIC } from '../../group/offset-store.js';
import type { TopicState } from '../../topic/topic.js';
import { validateTopicName } from '../../topic/topic-config.js';
import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey, ZERO_UUID, type MetadataResponsePartition, type MetadataResponseTopic } from '../protocol/index.js';
import { NODE_ID, type WireContext } from '../wire-context.js';

/** Kafka's "not requested" marker for authorized operations. */
const NOT_REQUESTED = -2147483648;
/** READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (Kafka's AclOperation codes as bits): no ACLs here. */
const ALL_TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);

/**
 * Metadata: one broker (node 0, the advertised address) leading every partition, and the topics
 * asked for — all of them (internal `__consumer_offsets` too, flagged as Kafka flags it) for a
 * null list (or an empty one in v0). An unknown topic is created through the seam when the broker
 * allows auto-creation and the request does (always, before v4); v10+ may name topics by id.
 */
export const metadata = defineApi({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(ctx, request, version) {
    const brokers = [{ nodeId: NODE_ID, host: ctx.listen.advertisedHost, port: ctx.port, rack: null }];
    const authorized = request.includeTopicAuthorizedOperations;
    const out: MetadataResponseTopic[] = [];
    if (request.topics === null || (version === 0 && request.topics.length === 0)) {
      for (const name of ctx.topics.names().sort()) out.push(describe(ctx.topics.get(name)!, authorized));
    } else {
      const allowAuto = version < 4 || request.allowAutoTopicCreation;
      const seen = new Set<string>();
      const missing: { name: string; at: number }[] = [];
      for (const requested of request.topics) {
        if (requested.name === null) {
          const topic = ctx.topics.byId(requested.topicId);
          // A name is nullable in responses from v12 on only.
          out.push(topic === undefined ? failed(version >= 12 ? null : '', requested.topicId, KafkaErrorCode.UNKNOWN_TOPIC_ID) : describe(topic, authorized));
          continue;
        }
        const name = requested.name;
        if (seen.has(name)) continue;
        seen.add(name);
        const topic = ctx.topics.get(name);
        if (topic !== undefined) {
          out.push(describe(topic, authorized));
        } else if (!validName(name)) {
          out.push(failed(name, ZERO_UUID, KafkaErrorCode.INVALID_TOPIC_EXCEPTION));
        } else {
          missing.push({ name, at: out.length });
          out.push(failed(name, ZERO_UUID, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        }
      }
      if (missing.length > 0 && allowAuto && ctx.options.autoCreateTopics) await autoCreate(ctx, missing, out, authorized);
    }
    return { throttleTimeMs: 0, brokers, clusterId: ctx.clusterId, controllerId: NODE_ID, topics: out };
  },
});

async function autoCreate(ctx: WireContext, missing: { name: string; at: number }[], out: MetadataResponseTopic[], authorized: boolean): Promise<void> {
  await Promise.all(
    missing.map(async ({ name, at }) => {
      try {
        await ctx.api.metadata({ topics: [name], allowAutoTopicCreation: true });
        const topic = ctx.topics.get(name);
        if (topic !== undefined) out[at] = describe(topic, authorized);
      } catch (error) {
        out[at] = failed(name, ZERO_UUID, kafkaErrorOf(error).code);
      }
    }),
  );
}

function validName(name: string): boolean {
  try {
    validateTopicName(name);
    return true;
  } catch (error) {
    if (error instanceof KafkaliteError) return false;
    throw error;
  }
}

function describe(topic: TopicState, authorized: boolean): MetadataResponseTopic {
  const partitions: MetadataResponsePartition[] = topic.partitions.map((p) => ({
    errorCode: KafkaErrorCode.NONE,
    partitionIndex: p.id,
    leaderId: NODE_ID,
    leaderEpoch: 0,
    replicaNodes: [NODE_ID],
    isrNodes: [NODE_ID],
    offlineReplicas: [],
  }));
  return {
    errorCode: KafkaErrorCode.NONE,
    name: topic.name,
    topicId: topic.id,
    isInternal: topic.name === OFFSETS_TOPIC,
    partitions,
    topicAuthorizedOperations: authorized ? ALL_TOPIC_OPERATIONS : NOT_REQUESTED,
  };
}

function failed(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: NOT_REQUESTED };
}
