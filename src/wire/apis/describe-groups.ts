import { defineApi } from '../api-handler.js';
import { encodeAssignment, encodeSubscription } from '../consumer-protocol.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';
import type { WireContext } from '../wire-context.js';

const NOT_REQUESTED = -2147483648;
/** READ, DELETE, DESCRIBE (Kafka's AclOperation codes as bits): what a group allows, with no ACLs. */
const GROUP_OPERATIONS = [3, 6, 8].reduce((bits, op) => bits | (1 << op), 0);

/**
 * DescribeGroups: state and members of each group. A group with neither members nor committed
 * offsets is `Dead`, as Kafka reports an unknown group. Members are the broker's in-process
 * consumers (wire clients cannot join groups yet); their metadata is a ConsumerProtocol
 * subscription to the group's subscribed topics and their assignment what each holds now.
 */
export const describeGroups = defineApi({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const operations = request.includeAuthorizedOperations ? GROUP_OPERATIONS : NOT_REQUESTED;
    return { throttleTimeMs: 0, groups: request.groups.map((id) => describe(ctx, id, operations)) };
  },
});

function describe(ctx: WireContext, groupId: string, authorizedOperations: number) {
  const empty = { groupId, protocolType: '', protocolData: '', members: [], authorizedOperations };
  if (groupId === '') return { ...empty, errorCode: KafkaErrorCode.INVALID_GROUP_ID, groupState: 'Dead' };
  if (!ctx.groups.listGroups().includes(groupId)) return { ...empty, errorCode: KafkaErrorCode.NONE, groupState: 'Dead' };
  const group = ctx.groups.group(groupId);
  const subscription = encodeSubscription([...group.subscribedTopics()].sort());
  const members = group.members().map((m) => ({
    memberId: m.memberId,
    groupInstanceId: null,
    clientId: m.clientId,
    clientHost: '/in-process',
    memberMetadata: subscription,
    memberAssignment: encodeAssignment(m.assignment),
  }));
  return { errorCode: KafkaErrorCode.NONE, groupId, groupState: group.state, protocolType: 'consumer', protocolData: '', members, authorizedOperations };
}
