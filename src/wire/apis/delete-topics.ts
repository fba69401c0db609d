import { OFFSETS_TOPIC } from '../../group/offset-store.js';
import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey, ZERO_UUID } from '../protocol/index.js';

/**
 * DeleteTopics: by name, or (v6) by id. An unknown name is UNKNOWN_TOPIC_OR_PARTITION, an unknown
 * id UNKNOWN_TOPIC_ID; both or neither in one entry is INVALID_REQUEST. The internal
 * `__consumer_offsets` is not deleted (INVALID_REQUEST): the group coordinator lives in it.
 */
export const deleteTopics = defineApi({
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, request, version) {
    const entries = version >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses = [];
    for (const entry of entries) {
      const result = { name: entry.name, topicId: entry.topicId, errorCode: KafkaErrorCode.NONE as number, errorMessage: null as string | null };
      responses.push(result);
      const fail = (code: number, message: string): void => {
        result.errorCode = code;
        result.errorMessage = message;
      };
      const byId = entry.topicId !== ZERO_UUID;
      if (byId === (entry.name !== null)) {
        fail(KafkaErrorCode.INVALID_REQUEST, 'give a topic name or a topic id, not both or neither');
        continue;
      }
      const topic = byId ? ctx.topics.byId(entry.topicId) : ctx.topics.get(entry.name!);
      if (topic === undefined) {
        if (byId) fail(KafkaErrorCode.UNKNOWN_TOPIC_ID, `no topic has id ${entry.topicId}`);
        else fail(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${entry.name}`);
        continue;
      }
      result.name = topic.name;
      result.topicId = topic.id;
      if (topic.name === OFFSETS_TOPIC) {
        fail(KafkaErrorCode.INVALID_REQUEST, `the internal topic ${OFFSETS_TOPIC} cannot be deleted`);
        continue;
      }
      try {
        await ctx.topics.delete(topic.name);
      } catch (error) {
        const e = kafkaErrorOf(error);
        fail(e.code, e.message);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
