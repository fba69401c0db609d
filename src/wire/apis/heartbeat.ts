import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/** Heartbeat on the classic protocol, answered at once (wire clients do not long-poll it). */
export const heartbeat = defineApi({
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const { error } = await ctx.api.heartbeat({ groupId: request.groupId, generationId: request.generationId, memberId: request.memberId, maxWaitMs: 0 });
    return { throttleTimeMs: 0, errorCode: error === undefined ? KafkaErrorCode.NONE : KafkaErrorCode[error] };
  },
});
