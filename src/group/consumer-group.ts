import { groupNotEmpty, invalidArgument, show } from '../errors.js';
import type { TopicRegistry } from '../topic/topic-registry.js';
import type { TopicPartition } from '../types.js';
import type { GroupCoordinator } from './coordinator.js';
import type { GroupStateName } from './group-state.js';

export interface GroupLag {
  topic: string;
  partition: number;
  committed: number | undefined;
  logEndOffset: number;
  /** `logEndOffset - committed`; with nothing committed, everything kept (`logEndOffset - logStartOffset`). */
  lag: number;
}

/** A consumer group, as an administrator sees it. */
export interface ConsumerGroup {
  readonly id: string;
  readonly state: GroupStateName;
  readonly generation: number;
  members(): { memberId: string; clientId: string; assignment: TopicPartition[] }[];
  committed(tp: TopicPartition): Promise<number | undefined>;
  /** Per partition of the topics the group subscribes to or has offsets for. */
  lag(): Promise<GroupLag[]>;
  /** Sets the group's offsets for every partition of `topic`; only while the group is `'Empty'`. */
  resetOffsets(options: { topic: string; to: 'earliest' | 'latest' | number }): Promise<void>;
  /** Kafka's DeleteGroups: forgets the group and its committed offsets; only while it is `'Empty'` (`GROUP_NOT_EMPTY`). */
  delete(): Promise<void>;
}

/**
 * The admin view of one group: reads its live state from the coordinator on every access.
 *
 * Concurrency: `resetOffsets` checks `Empty` and commits in one step, so a member cannot join
 * in between.
 */
export class ConsumerGroupView implements ConsumerGroup {
  readonly id: string;
  #coordinator: GroupCoordinator;
  #topics: TopicRegistry;

  constructor(id: string, coordinator: GroupCoordinator, topics: TopicRegistry) {
    this.id = id;
    this.#coordinator = coordinator;
    this.#topics = topics;
  }

  get state(): GroupStateName {
    return this.#coordinator.group(this.id).state;
  }

  get generation(): number {
    return this.#coordinator.group(this.id).generation;
  }

  members(): { memberId: string; clientId: string; assignment: TopicPartition[] }[] {
    this.#coordinator.checkOpen();
    return this.#coordinator.group(this.id).members();
  }

  async committed(tp: TopicPartition): Promise<number | undefined> {
    const [offset] = await this.#coordinator.offsetFetch({ groupId: this.id, partitions: [tp] });
    return offset;
  }

  async lag(): Promise<GroupLag[]> {
    this.#coordinator.checkOpen();
    const topics = this.#coordinator.group(this.id).subscribedTopics();
    for (const o of this.#coordinator.offsets.groupOffsets(this.id)) topics.add(o.topic);
    const out: GroupLag[] = [];
    for (const name of [...topics].sort()) {
      const topic = this.#topics.get(name);
      if (topic === undefined) continue;
      for (const p of topic.partitions) {
        const committed = this.#coordinator.offsets.committed(this.id, name, p.id);
        const logEndOffset = p.logEndOffset;
        out.push({ topic: name, partition: p.id, committed, logEndOffset, lag: logEndOffset - (committed ?? p.logStartOffset) });
      }
    }
    return out;
  }

  delete(): Promise<void> {
    return this.#coordinator.deleteGroup(this.id);
  }

  async resetOffsets(options: { topic: string; to: 'earliest' | 'latest' | number }): Promise<void> {
    this.#coordinator.checkOpen();
    const { topic: name, to } = options ?? {};
    const topic = this.#topics.require(name);
    if (to !== 'earliest' && to !== 'latest' && !(Number.isSafeInteger(to) && to >= 0)) {
      throw invalidArgument(`resetOffsets to must be 'earliest', 'latest' or an offset >= 0 (got ${show(to)})`, { topic: name });
    }
    const state = this.state;
    if (state !== 'Empty') throw groupNotEmpty(this.id, state);
    const offsets = topic.partitions.map((p) => ({
      topic: name,
      partition: p.id,
      offset: to === 'earliest' ? p.logStartOffset : to === 'latest' ? p.logEndOffset : to,
    }));
    await this.#coordinator.offsetCommit({ groupId: this.id, offsets });
  }
}
