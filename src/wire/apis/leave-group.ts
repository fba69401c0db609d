import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/** LeaveGroup: one member (v0–v2) or a batch of them (v3+, KIP-345); the group rebalances at once. */
export const leaveGroup = defineApi({
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request, version) {
    const groupId = request.groupId;
    if (version < 3) {
      const known = ctx.groups.leave(groupId, request.memberId);
      return { throttleTimeMs: 0, errorCode: known ? KafkaErrorCode.NONE : KafkaErrorCode.UNKNOWN_MEMBER_ID, members: [] };
    }
    const members = request.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: ctx.groups.leave(groupId, m.memberId) ? KafkaErrorCode.NONE : KafkaErrorCode.UNKNOWN_MEMBER_ID,
    }));
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, members };
  },
});
