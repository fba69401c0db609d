/**
 * A KafkaJS partition assigner as a kafkalite `PartitionAssignor`, run client-side on Kafka's
 * classic group protocol by the group's leader, as KafkaJS runs it:
 *
 * - Every join, the member's subscription carries what the assigner's `protocol({ topics })`
 *   encoded: its metadata is decoded (`AssignerProtocol.MemberMetadata`) and its `userData` goes
 *   out in kafkalite's subscription (Kafka's consumer protocol, the same bytes on the wire).
 * - The leader rebuilds each member's `memberMetadata` (version, topics, userData) as KafkaJS'
 *   coordinator would hand it over, calls `assign({ members, topics })` with the leader's own
 *   subscription as `topics` (as KafkaJS does), and decodes each `memberAssignment` into
 *   partitions and userData.
 *
 * As a KafkaJS member drops assigned topics it did not subscribe to (with a warning), the leader
 * leaves them out of that member's share; partitions that do not exist are left out too. KafkaJS'
 * assigners are eager: every member gives up its partitions before each rebalance.
 *
 * Concurrency: `protocol` and `assign` may be async; kafkalite awaits them.
 */

import type { AssignorMember, MemberShare, PartitionAssignor, TopicPartition } from '../index.js';
import { AssignerProtocol } from './assigner-protocol.js';
import { KafkaJSNonRetriableError } from './errors.js';
import type { Assigner, GroupMember, Logger } from './types.js';

/** Checks what a `partitionAssigners` factory returned, naming what is missing. */
export function checkAssigner(assigner: unknown, index: number): asserts assigner is Assigner {
  const a = assigner as Partial<Assigner> | null;
  const problem =
    a === null || typeof a !== 'object'
      ? `returned ${a === null ? 'null' : typeof a}, not an assigner`
      : typeof a.name !== 'string' || a.name.length === 0
        ? `has no name (got ${JSON.stringify(a.name)})`
        : typeof a.protocol !== 'function'
          ? `"${a.name}" has no protocol() method`
          : typeof a.assign !== 'function'
            ? `"${a.name}" has no assign() method`
            : undefined;
  if (problem !== undefined) throw new KafkaJSNonRetriableError(`partitionAssigners[${index}] ${problem}`);
}

export interface AdapterContext {
  /** This member's subscription (KafkaJS passes the leader's own topics to `assign`). */
  topics(): string[];
  /** The bytes the assigner's last `protocol()` made, for DescribeGroups. */
  onMetadata?(name: string, metadata: Buffer): void;
  /** The bytes the assigner gave a member (this member leads), for DescribeGroups. */
  onAssignment?(memberId: string, memberAssignment: Buffer): void;
  logger: Logger;
}

export function toPartitionAssignor(assigner: Assigner, ctx: AdapterContext): PartitionAssignor {
  const name = assigner.name;
  return {
    name,
    rebalance: 'eager',
    async userData({ topics }) {
      // A method call: assigners are often class instances that use `this`.
      const { metadata } = await assigner.protocol({ topics });
      ctx.onMetadata?.(name, metadata);
      return AssignerProtocol.MemberMetadata.decode(metadata)?.userData ?? null;
    },
    async assign({ members, partitionCounts }) {
      const version = typeof assigner.version === 'number' ? assigner.version : 0;
      const groupMembers: GroupMember[] = members.map((m) => ({
        memberId: m.memberId,
        memberMetadata: AssignerProtocol.MemberMetadata.encode({ version, topics: m.topics, userData: toBuffer(m.userData) as Buffer }),
      }));
      const result = await assigner.assign({ members: groupMembers, topics: ctx.topics() });
      if (!Array.isArray(result)) {
        throw new KafkaJSNonRetriableError(`partition assigner "${name}" must return an array of { memberId, memberAssignment } (got ${typeof result})`);
      }
      const byId = new Map<string, AssignorMember>(members.map((m) => [m.memberId, m]));
      const shares = new Map<string, MemberShare>();
      for (const { memberId, memberAssignment } of result) {
        const member = byId.get(memberId);
        if (member === undefined) {
          ctx.logger.warn(`Partition assigner "${name}" assigned to "${memberId}", who is not in the group; ignored`, { memberId });
          continue;
        }
        if (memberAssignment != null && !(memberAssignment instanceof Uint8Array)) {
          throw new KafkaJSNonRetriableError(
            `partition assigner "${name}" gave ${memberId} a memberAssignment that is not bytes (got ${typeof memberAssignment}): encode it with AssignerProtocol.MemberAssignment.encode`,
          );
        }
        const bytes = memberAssignment == null ? null : toBuffer(memberAssignment)!;
        if (bytes !== null) ctx.onAssignment?.(memberId, bytes);
        const decoded = bytes === null ? null : AssignerProtocol.MemberAssignment.decode(bytes);
        const partitions: TopicPartition[] = [];
        const subscribed = new Set(member.topics);
        for (const [topic, list] of Object.entries(decoded?.assignment ?? {})) {
          const count = partitionCounts.get(topic) ?? 0;
          for (const partition of list) {
            if (subscribed.has(topic) && Number.isInteger(partition) && partition >= 0 && partition < count) partitions.push({ topic, partition });
            else ctx.logger.warn(`Partition assigner "${name}" gave ${memberId} ${topic}-${partition}, which it ${subscribed.has(topic) ? 'cannot have: no such partition' : 'did not subscribe to'}; left out`, { memberId, topic, partition });
          }
        }
        shares.set(memberId, { partitions, userData: decoded?.userData ?? null });
      }
      return shares;
    },
  };
}

function toBuffer(bytes: Uint8Array | null): Buffer | null {
  if (bytes === null) return null;
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
