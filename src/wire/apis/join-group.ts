import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * JoinGroup on the classic protocol (`ClassicGroup`): the request waits until the rebalance
 * completes — every member rejoined, or the rebalance timeout passed — and the leader gets every
 * member's metadata. From v4 a new member first gets its id with MEMBER_ID_REQUIRED. v0 has no
 * rebalance timeout: the session timeout stands in, as in Kafka. A group whose members are
 * kafkalite's in-process consumer-protocol consumers answers INCONSISTENT_GROUP_PROTOCOL.
 */
export const joinGroup = defineApi({
  apiKey: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request, version, session) {
    if (request.groupId === '') return { throttleTimeMs: 0, errorCode: KafkaErrorCode.INVALID_GROUP_ID, generationId: -1, protocolType: null, protocolName: '', leader: '', skipAssignment: false, memberId: request.memberId, members: [] };
    const response = await ctx.api.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: version >= 5 ? request.groupInstanceId : null,
      clientId: session.clientId ?? '',
      clientHost: session.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: version >= 1 && request.rebalanceTimeoutMs >= 0 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      requireKnownMemberId: version >= 4,
    });
    return {
      throttleTimeMs: 0,
      errorCode: response.error === undefined ? KafkaErrorCode.NONE : KafkaErrorCode[response.error],
      generationId: response.generationId,
      protocolType: response.protocolType,
      protocolName: response.protocolName ?? (version >= 7 ? null : ''),
      leader: response.leader,
      skipAssignment: false,
      memberId: response.memberId,
      members: response.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    };
  },
});
