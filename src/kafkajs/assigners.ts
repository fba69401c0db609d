/**
 * `PartitionAssigners`: KafkaJS' only built-in assigner, round robin (protocol name
 * `RoundRobinAssigner`), which is also the default: the partitions of the leader's subscribed
 * topics, in topic order, dealt in turn to the member ids in sorted order. It runs as any custom
 * assigner does, client-side in the group's leader (see assigner-adapter.ts).
 */

import { AssignerProtocol } from './assigner-protocol.js';
import type { Assigner, Assignment, PartitionAssigner } from './types.js';

export const ROUND_ROBIN_PROTOCOL = 'RoundRobinAssigner';

const roundRobin: PartitionAssigner = ({ cluster }) => {
  const assigner: Assigner = {
    name: ROUND_ROBIN_PROTOCOL,
    version: 0,
    async assign({ members, topics }) {
      const memberIds = members.map((m) => m.memberId).sort();
      const assignment = new Map<string, Assignment>();
      const partitions = topics.flatMap((topic) => cluster.findTopicPartitionMetadata(topic).map((m) => ({ topic, partition: m.partitionId })));
      partitions.forEach(({ topic, partition }, i) => {
        const memberId = memberIds[i % memberIds.length]!;
        let own = assignment.get(memberId);
        if (own === undefined) assignment.set(memberId, (own = Object.create(null) as Assignment));
        (own[topic] ??= []).push(partition);
      });
      return [...assignment].map(([memberId, own]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: assigner.version, assignment: own, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return {
        name: assigner.name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: assigner.version, topics, userData: Buffer.alloc(0) }),
      };
    },
  };
  return assigner;
};

export const PartitionAssigners: { roundRobin: PartitionAssigner } = { roundRobin };
