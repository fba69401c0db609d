import type { Clock } from '../clock.js';
import type {
  AssignorFunction,
  CallOptions,
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
  ConsumerGroupJoinRequest,
  GroupApi,
  GroupError,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  OffsetCommitRequest,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../seam/kafka-api.js';
import { closed, groupNotEmpty, invalidArgument, KafkaliteError, show, unknownPartition } from '../errors.js';
import type { TopicRegistry } from '../topic/topic-registry.js';
import type { TopicPartition, TopicPartitionOffset } from '../types.js';
import { ClassicGroup } from './classic-group.js';
import { GroupState, type GroupStateName } from './group-state.js';
import type { OffsetStore } from './offset-store.js';

/** What the admin view reads of a group, whichever protocol it runs. */
export interface GroupView {
  readonly state: GroupStateName;
  readonly generation: number;
  members(): { memberId: string; clientId: string; assignment: TopicPartition[] }[];
  subscribedTopics(): Set<string>;
}

/**
 * Kafka's group coordinator, in-process: per group id either a {@link GroupState} (the consumer
 * protocol, kafkalite's in-process consumers) or a {@link ClassicGroup} (Kafka's classic
 * protocol: wire clients, `kafkalite/kafkajs`, consumers with `groupProtocol: 'classic'`) — a
 * group runs the protocol its members joined with, and an empty group takes either; committed
 * offsets in the {@link OffsetStore} either way; rebalances when a subscribed topic gains
 * partitions or goes away.
 *
 * Concurrency: requests interleave freely; each group's state changes synchronously.
 */
export class GroupCoordinator implements GroupApi {
  #groups = new Map<string, GroupState | ClassicGroup>();
  #topics: TopicRegistry;
  #offsets: OffsetStore;
  #clock: Clock;
  #unwatch: () => void;
  #closed = false;

  constructor(topics: TopicRegistry, offsets: OffsetStore, clock: Clock) {
    this.#topics = topics;
    this.#offsets = offsets;
    this.#clock = clock;
    this.#unwatch = topics.onChange((topic) => {
      for (const g of this.#groups.values()) if (g.subscribedTopics().has(topic)) g.rebalance();
    });
    // As Kafka's coordinator: a deleted topic takes every group's committed offsets with it, so a
    // topic created again under that name starts from autoOffsetReset, not at old offsets.
    topics.onDelete((topic) => this.#offsets.deleteTopic(topic));
  }

  get offsets(): OffsetStore {
    return this.#offsets;
  }

  /** The group, for reading (an empty consumer-protocol group if it has never been used). */
  group(groupId: string): GroupView {
    return this.#groups.get(groupId) ?? this.#consumerGroup(groupId);
  }

  /** The group as a consumer-protocol group; an empty classic one is switched over. */
  #consumerGroup(groupId: string): GroupState {
    const g = this.#groups.get(groupId);
    if (g instanceof GroupState) return g;
    if (g !== undefined && g.size > 0) {
      throw invalidArgument(
        `group ${show(groupId)} has members on Kafka's classic protocol (wire clients or kafkalite/kafkajs): create the consumer with groupProtocol: 'classic' to join it`,
      );
    }
    const fresh = new GroupState(groupId, this.#clock, (topic) => this.#topics.get(topic)?.partitions.length);
    this.#groups.set(groupId, fresh);
    return fresh;
  }

  /** The group as a classic group, or undefined when consumer-protocol members hold it. */
  #classicGroup(groupId: string): ClassicGroup | undefined {
    const g = this.#groups.get(groupId);
    if (g instanceof ClassicGroup) return g;
    if (g !== undefined && g.state !== 'Empty') return undefined;
    const fresh = new ClassicGroup(groupId, this.#clock);
    this.#groups.set(groupId, fresh);
    return fresh;
  }

  /** Groups Kafka would list: those with members, and those with committed offsets. */
  listGroups(): string[] {
    const ids = new Set(this.#offsets.groups());
    for (const [id, g] of this.#groups) if (g.state !== 'Empty' && g.state !== 'Dead') ids.add(id);
    return [...ids].sort();
  }

  consumerGroupJoin(request: ConsumerGroupJoinRequest, options?: { assignor?: AssignorFunction }): Promise<{ memberId: string }> {
    this.checkOpen();
    return Promise.resolve({ memberId: this.#consumerGroup(request.groupId).join(request, options?.assignor) });
  }

  consumerGroupHeartbeat(request: ConsumerGroupHeartbeatRequest, options?: CallOptions): Promise<ConsumerGroupHeartbeatResponse> {
    this.checkOpen();
    const g = this.#groups.get(request.groupId);
    if (!(g instanceof GroupState)) return Promise.resolve({ error: 'UNKNOWN_MEMBER_ID', generation: -1, revoke: [], assign: [], settled: false });
    return g.heartbeat(request, options?.signal);
  }

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    this.checkOpen();
    const g = this.#classicGroup(request.groupId);
    if (g === undefined) {
      return Promise.resolve({ error: 'INCONSISTENT_GROUP_PROTOCOL', generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: request.memberId, members: [] });
    }
    return g.join(request);
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    this.checkOpen();
    const g = this.#groups.get(request.groupId);
    if (!(g instanceof ClassicGroup)) return Promise.resolve({ error: 'UNKNOWN_MEMBER_ID', protocolType: null, protocolName: null, assignment: new Uint8Array(0) });
    return g.sync(request);
  }

  heartbeat(request: HeartbeatRequest, options?: CallOptions): Promise<HeartbeatResponse> {
    this.checkOpen();
    const g = this.#groups.get(request.groupId);
    if (!(g instanceof ClassicGroup)) return Promise.resolve({ error: 'UNKNOWN_MEMBER_ID' });
    return g.heartbeat(request, options?.signal);
  }

  leaveGroup(request: { groupId: string; memberId: string }): Promise<void> {
    this.leave(request.groupId, request.memberId);
    return Promise.resolve();
  }

  /** LeaveGroup; false when the group has no such member (Kafka's UNKNOWN_MEMBER_ID). */
  leave(groupId: string, memberId: string): boolean {
    const g = this.#groups.get(groupId);
    if (g === undefined) return false;
    return g.leave(memberId);
  }

  /** DescribeGroups for a classic group: its protocol and members with their bytes (undefined for a consumer-protocol group). */
  describeClassic(groupId: string): ClassicGroup | undefined {
    const g = this.#groups.get(groupId);
    return g instanceof ClassicGroup ? g : undefined;
  }

  /** Why a classic group refuses a commit from this member and generation (Kafka's error), if it does. */
  classicCommitError(groupId: string, memberId: string | undefined, generationId: number | undefined): GroupError | undefined {
    const g = this.#groups.get(groupId);
    return g instanceof ClassicGroup ? g.commitError(memberId, generationId) : undefined;
  }

  async offsetCommit(request: OffsetCommitRequest): Promise<void> {
    this.checkOpen();
    const { groupId, memberId, offsets } = request;
    for (const o of offsets) {
      const topic = this.#topics.require(o.topic);
      if (topic.partitions[o.partition] === undefined) throw unknownPartition(o.topic, o.partition, topic.partitions.length);
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw invalidArgument(`a committed offset must be an integer >= 0 (got ${show(o.offset)} for ${o.topic}-${o.partition})`, o);
      }
      const g = this.#groups.get(groupId);
      if (memberId !== undefined && g instanceof GroupState && !g.mayCommit(memberId, o)) {
        throw new KafkaliteError(
          'NOT_IN_GROUP',
          `member ${show(memberId)} of group ${show(groupId)} no longer holds ${o.topic}-${o.partition}: it was removed from the group or the partition moved`,
          { topic: o.topic, partition: o.partition, offset: o.offset },
        );
      }
    }
    const refused = this.classicCommitError(groupId, memberId, request.generationId);
    if (refused !== undefined) {
      throw new KafkaliteError(
        'NOT_IN_GROUP',
        `group ${show(groupId)} refuses the commit of ${memberId === undefined ? 'a client that is not a member' : `member ${show(memberId)} (generation ${request.generationId ?? -1})`} (${refused}): it no longer holds ${offsets.map((o) => `${o.topic}-${o.partition}`).join(', ')} — it was removed, or the group rebalanced since`,
      );
    }
    await this.#offsets.commit(groupId, offsets);
  }

  /**
   * A committed transaction's offsets (its TxnOffsetCommit), written once the transaction is
   * decided. As Kafka's coordinator, they are taken without a member id or generation also while
   * the group has members (KafkaJS' TxnOffsetCommit carries neither; the member check applies
   * only to plain commits), so a consume-transform-produce member's transaction moves its group.
   */
  async commitTransactional(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    this.checkOpen();
    await this.#offsets.commit(groupId, offsets);
  }

  /** Kafka's DeleteGroups: only an empty group (`GROUP_NOT_EMPTY` otherwise); its committed offsets go too. */
  async deleteGroup(groupId: string): Promise<void> {
    this.checkOpen();
    const g = this.#groups.get(groupId);
    if (g !== undefined && g.state !== 'Empty') throw groupNotEmpty(groupId, g.state, 'be deleted');
    await this.#offsets.delete(groupId);
    if (this.#groups.get(groupId) === g && g !== undefined && g.state === 'Empty') {
      g.close(true);
      this.#groups.delete(groupId);
    }
  }

  offsetFetch(request: { groupId: string; partitions: TopicPartition[] }): Promise<(number | undefined)[]> {
    this.checkOpen();
    return Promise.resolve(request.partitions.map((tp) => this.#offsets.committed(request.groupId, tp.topic, tp.partition)));
  }

  close(): void {
    this.#closed = true;
    this.#unwatch();
    for (const g of this.#groups.values()) g.close(false);
  }

  /** Throws `CLOSED` once the broker closed (for the admin views that read the coordinator directly). */
  checkOpen(): void {
    if (this.#closed) throw closed('broker');
  }
}
