import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * DeleteGroups: `group.delete()` for each group — only an empty one (NON_EMPTY_GROUP otherwise),
 * taking its committed offsets with it. A group with neither members nor offsets is
 * GROUP_ID_NOT_FOUND.
 */
export const deleteGroups = defineApi({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const results = [];
    for (const groupId of request.groupsNames) {
      let errorCode: number = KafkaErrorCode.NONE;
      if (groupId === '') errorCode = KafkaErrorCode.INVALID_GROUP_ID;
      else if (!ctx.groups.listGroups().includes(groupId)) errorCode = KafkaErrorCode.GROUP_ID_NOT_FOUND;
      else {
        try {
          await ctx.groups.deleteGroup(groupId);
        } catch (error) {
          errorCode = kafkaErrorOf(error).code;
        }
      }
      results.push({ groupId, errorCode });
    }
    return { throttleTimeMs: 0, results };
  },
});
