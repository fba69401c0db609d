import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * ListGroups: groups with members or committed offsets (as `broker.listGroups()`), each with its
 * state (v4+) and type (v5+: `classic`), filtered by the request's states and types, matched
 * without regard to case as Kafka does.
 */
export const listGroups = defineApi({
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request, version) {
    const states = new Set((version >= 4 ? request.statesFilter : []).map((s) => s.toLowerCase()));
    const types = new Set((version >= 5 ? request.typesFilter : []).map((s) => s.toLowerCase()));
    const groups = [];
    for (const groupId of ctx.groups.listGroups()) {
      const groupState = ctx.groups.group(groupId).state;
      if (states.size > 0 && !states.has(groupState.toLowerCase())) continue;
      if (types.size > 0 && !types.has('classic')) continue;
      groups.push({ groupId, protocolType: 'consumer', groupState, groupType: 'classic' });
    }
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, groups };
  },
});
