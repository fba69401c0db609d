import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/** SyncGroup on the classic protocol: the leader's assignments out to every member (followers wait for the leader's). */
export const syncGroup = defineApi({
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request, version) {
    const response = await ctx.api.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      protocolType: version >= 5 ? request.protocolType : null,
      protocolName: version >= 5 ? request.protocolName : null,
      assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: response.error === undefined ? KafkaErrorCode.NONE : KafkaErrorCode[response.error],
      protocolType: response.protocolType,
      protocolName: response.protocolName,
      assignment: response.assignment,
    };
  },
});
