/**
 * Consumer groups as KafkaJS' admin describes them (DescribeGroups, ListGroups), from kafkalite's
 * `broker.group(id)` and what the adapter knows of the members it created.
 */

import { AssignerProtocol } from './assigner-protocol.js';
import type { Cluster } from './cluster.js';
import type { Assignment, ConsumerGroupState, GroupDescription, MemberDescription } from './types.js';

/** The shape KafkaJS returns, which also carries Kafka's error code. */
export type DescribedGroup = GroupDescription & { errorCode: number };

/**
 * Kafka forgets a group that has neither members nor committed offsets: such a group (or one never
 * seen) is `Dead`, with no protocol.
 */
export async function describeGroup(cluster: Cluster, groupId: string): Promise<DescribedGroup> {
  const group = cluster.broker.group(groupId);
  const members = group.members();
  if (members.length === 0 && !(await cluster.hasOffsets(groupId))) {
    return { groupId, members: [], protocol: '', protocolType: '', state: 'Dead', errorCode: 0 };
  }
  const described: MemberDescription[] = members.map((m) => {
    const known = cluster.members.get(m.memberId);
    const assignment: Assignment = {};
    for (const { topic, partition } of m.assignment) (assignment[topic] ??= []).push(partition);
    for (const list of Object.values(assignment)) list.sort((a, b) => a - b);
    return {
      memberId: m.memberId,
      clientId: known?.clientId ?? m.clientId,
      clientHost: '/127.0.0.1',
      memberMetadata: known?.metadata ?? AssignerProtocol.MemberMetadata.encode({ version: 0, topics: known?.topics ?? Object.keys(assignment), userData: Buffer.alloc(0) }),
      memberAssignment: leaderBytes(cluster.assignmentBytes.get(m.memberId), assignment) ?? AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
    };
  });
  const leader = members[0] === undefined ? undefined : cluster.members.get(members[0].memberId);
  return {
    groupId,
    members: described,
    protocol: members.length === 0 ? '' : (leader?.protocol ?? 'range'),
    protocolType: 'consumer',
    state: group.state as ConsumerGroupState,
    errorCode: 0,
  };
}

/** Groups Kafka would list: those with members, and those with committed offsets. */
export async function listGroupIds(cluster: Cluster): Promise<string[]> {
  return cluster.broker.listGroups();
}

/** The bytes a KafkaJS leader gave the member, as Kafka returns them — if they still say what the member holds. */
function leaderBytes(bytes: Buffer | undefined, holds: Assignment): Buffer | undefined {
  if (bytes === undefined) return undefined;
  const said = AssignerProtocol.MemberAssignment.decode(bytes)?.assignment ?? {};
  const norm = (a: Assignment) => JSON.stringify(Object.keys(a).filter((t) => a[t]!.length > 0).sort().map((t) => [t, [...a[t]!].sort((x, y) => x - y)]));
  return norm(said) === norm(holds) ? bytes : undefined;
}
