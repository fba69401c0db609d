import type { Clock } from '../clock.js';
import type {
  GroupApi,
  GroupHeartbeatRequest,
  GroupHeartbeatResponse,
  JoinGroupRequest,
  OffsetCommitRequest,
} from '../client/kafka-api.js';
import { closed, groupNotEmpty, invalidArgument, KafkaliteError, show, unknownPartition } from '../errors.js';
import type { TopicRegistry } from '../topic/topic-registry.js';
import type { TopicPartition } from '../types.js';
import { GroupState } from './group-state.js';
import type { OffsetStore } from './offset-store.js';

/**
 * Kafka's group coordinator, in-process: one {@link GroupState} per group id, committed offsets in
 * the {@link OffsetStore}, and rebalances when a subscribed topic gains partitions or goes away.
 *
 * Concurrency: requests interleave freely; each group's state changes synchronously.
 */
export class GroupCoordinator implements GroupApi {
  #groups = new Map<string, GroupState>();
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

  /** The group's state, created empty on first use. */
  group(groupId: string): GroupState {
    let g = this.#groups.get(groupId);
    if (g === undefined) {
      g = new GroupState(groupId, this.#clock, (topic) => this.#topics.get(topic)?.partitions.length);
      this.#groups.set(groupId, g);
    }
    return g;
  }

  /** Groups Kafka would list: those with members, and those with committed offsets. */
  listGroups(): string[] {
    const ids = new Set(this.#offsets.groups());
    for (const [id, g] of this.#groups) if (g.state !== 'Empty' && g.state !== 'Dead') ids.add(id);
    return [...ids].sort();
  }

  joinGroup(request: JoinGroupRequest): Promise<{ memberId: string }> {
    this.checkOpen();
    return Promise.resolve({ memberId: this.group(request.groupId).join(request) });
  }

  groupHeartbeat(request: GroupHeartbeatRequest): Promise<GroupHeartbeatResponse> {
    this.checkOpen();
    return this.group(request.groupId).heartbeat(request);
  }

  leaveGroup(request: { groupId: string; memberId: string }): Promise<void> {
    this.#groups.get(request.groupId)?.leave(request.memberId);
    return Promise.resolve();
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
      if (memberId !== undefined && !this.group(groupId).mayCommit(memberId, o)) {
        throw new KafkaliteError(
          'NOT_IN_GROUP',
          `member ${show(memberId)} of group ${show(groupId)} no longer holds ${o.topic}-${o.partition}: it was removed from the group or the partition moved`,
          { topic: o.topic, partition: o.partition, offset: o.offset },
        );
      }
    }
    this.group(groupId);
    await this.#offsets.commit(groupId, offsets);
  }

  /** Kafka's DeleteGroups: only an empty group (`GROUP_NOT_EMPTY` otherwise); its committed offsets go too. */
  async deleteGroup(groupId: string): Promise<void> {
    this.checkOpen();
    const g = this.#groups.get(groupId);
    if (g !== undefined && g.state !== 'Empty') throw groupNotEmpty(groupId, g.state, 'deleted');
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
