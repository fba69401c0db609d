import { invalidArgument, show } from '../errors.js';
import { assignors as builtIns, type Assignor } from '../group/assignors.js';
import { tpKey, type TopicPartition } from '../types.js';
import type { AssignorFunction } from '../seam/kafka-api.js';

/** A member as the group's leader sees it when assigning (decoded from its JoinGroup subscription). */
export interface AssignorMember {
  memberId: string;
  topics: string[];
  /** What the member holds now (cooperative rebalancing); empty for eager members, which gave everything up. */
  owned: TopicPartition[];
  /** What the member's own assignor put in its subscription. */
  userData: Uint8Array | null;
}

/** One member's share: its partitions, and optional bytes for its assignor. */
export type MemberShare = TopicPartition[] | { partitions: TopicPartition[]; userData?: Uint8Array | null };

/**
 * A client-side assignor for Kafka's classic group protocol (Kafka's `ConsumerPartitionAssignor`,
 * KafkaJS's assigners): members offer the assignors they support by `name`, in order of
 * preference; the group picks one all members support, and the member the coordinator makes
 * leader runs its `assign` over every member's subscription. May be async.
 */
export interface PartitionAssignor {
  /** The protocol name members vote on, the same in every client (Kafka's: `'range'`, `'roundrobin'`, `'cooperative-sticky'`). */
  readonly name: string;
  /**
   * `'eager'`: every member gives up everything before each rebalance; `'cooperative'`: members keep
   * their partitions and give up only what moves, in a second rebalance.
   * @default 'eager'
   */
  readonly rebalance?: 'eager' | 'cooperative';
  /** Bytes this member sends in its subscription with every join (e.g. what it held before). */
  userData?(input: { topics: string[]; owned: TopicPartition[]; generation: number }): Uint8Array | null | Promise<Uint8Array | null>;
  /** Run by the leader: each member's share, by member id (a member left out gets nothing). */
  assign(input: { members: AssignorMember[]; partitionCounts: ReadonlyMap<string, number> }): Map<string, MemberShare> | Promise<Map<string, MemberShare>>;
}

function fromFunction(name: string, rebalance: 'eager' | 'cooperative', fn: Assignor | AssignorFunction): PartitionAssignor {
  return { name, rebalance, assign: ({ members, partitionCounts }) => fn({ members, partitionCounts }) };
}

/** kafkalite's built-in assignors, under Kafka's protocol names, for the classic protocol. */
export const builtInAssignors: Readonly<Record<'range' | 'roundrobin' | 'cooperative-sticky', PartitionAssignor>> = {
  range: fromFunction('range', 'eager', builtIns.range),
  roundrobin: fromFunction('roundrobin', 'eager', builtIns.roundrobin),
  'cooperative-sticky': fromFunction('cooperative-sticky', 'cooperative', builtIns['cooperative-sticky']),
};

/** The protocol name a custom assignor function gets on the classic protocol. */
export const CUSTOM_FUNCTION_PROTOCOL = 'kafkalite-custom';

/** The consumer's `assignor` option as the classic protocol's list of assignors, most preferred first. */
export function classicAssignors(option: unknown): PartitionAssignor[] {
  const list = Array.isArray(option) ? option : [option];
  if (list.length === 0) throw invalidArgument('assignor must name at least one assignor (got an empty array)');
  return list.map((a) => {
    if (typeof a === 'string') {
      const builtIn = builtInAssignors[a as keyof typeof builtInAssignors];
      if (builtIn === undefined) throw invalidArgument(`assignor must be 'range', 'roundrobin', 'cooperative-sticky', a function or a PartitionAssignor (got ${show(a)})`);
      return builtIn;
    }
    if (typeof a === 'function') return fromFunction(CUSTOM_FUNCTION_PROTOCOL, 'cooperative', a as AssignorFunction);
    if (a !== null && typeof a === 'object' && typeof (a as PartitionAssignor).name === 'string' && typeof (a as PartitionAssignor).assign === 'function') {
      const r = (a as PartitionAssignor).rebalance;
      if (r !== undefined && r !== 'eager' && r !== 'cooperative') throw invalidArgument(`assignor ${show((a as PartitionAssignor).name)}: rebalance must be 'eager' or 'cooperative' (got ${show(r)})`);
      return a as PartitionAssignor;
    }
    throw invalidArgument(`assignor must be 'range', 'roundrobin', 'cooperative-sticky', a function or a PartitionAssignor (got ${show(a)})`);
  });
}

/**
 * Cooperative rebalancing's first round: a partition the leader gives one member while another
 * still holds it is left out for now; the holder gives it up, rejoins, and the next rebalance
 * hands it over — so no partition is held by two members at once.
 */
export function withoutPartitionsHeldElsewhere(shares: Map<string, TopicPartition[]>, members: AssignorMember[]): Map<string, TopicPartition[]> {
  const holder = new Map<string, string>();
  for (const m of members) for (const tp of m.owned) holder.set(tpKey(tp.topic, tp.partition), m.memberId);
  const out = new Map<string, TopicPartition[]>();
  for (const [memberId, partitions] of shares) {
    out.set(
      memberId,
      partitions.filter((tp) => {
        const h = holder.get(tpKey(tp.topic, tp.partition));
        return h === undefined || h === memberId;
      }),
    );
  }
  return out;
}
