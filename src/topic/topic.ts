import { closed, invalidArgument, show, unknownPartition } from '../errors.js';
import type { ResolvedTopicConfig } from '../types.js';
import { isCompacted, type TopicConfigChanges } from './topic-config.js';
import type { Partition } from './partition.js';
import { PartitionState } from './partition.js';

/** A topic, as users see it. */
export interface Topic {
  readonly name: string;
  /**
   * Kafka's topic id: 22 base64url characters, given at creation and kept across restarts; a
   * topic deleted and created again under the same name gets a new one.
   */
  readonly id: string;
  /** The resolved configuration, every default filled in. */
  readonly config: Readonly<ResolvedTopicConfig>;
  readonly partitions: readonly Partition[];
  /** Throws `UNKNOWN_PARTITION` for an id the topic does not have. */
  partition(id: number): Partition;
  /** Grows the topic to `total` partitions; a total not above the current count is `INVALID_PARTITIONS`. */
  addPartitions(total: number): Promise<void>;
  /**
   * Changes configs (Kafka's IncrementalAlterConfigs): a value sets one, `null` puts the default
   * back, a key left out stays. Checked as at creation (`INVALID_CONFIG`), persisted, then in
   * effect: retention at the next check, `segmentBytes` at the next roll, `maxMessageBytes` at once.
   */
  alterConfig(changes: TopicConfigChanges): Promise<void>;
  /**
   * Runs a pass of the log cleaner on every partition now, whatever the dirty ratio (for tests;
   * the broker runs passes on its own once `minCleanableDirtyRatio` is reached). As in Kafka, the
   * active segment is never cleaned: a record is cleaned once its segment rolled (`segmentBytes`).
   * `INVALID_ARGUMENT` for a topic whose `cleanupPolicy` does not compact; `UNSUPPORTED` when its
   * storage has no cleaner.
   */
  compact(): Promise<void>;
}

/** The registry's side of a topic's admin calls: each persists its change before it shows. */
export interface TopicAdmin {
  addPartitions(topic: TopicState, total: number): Promise<void>;
  alterConfig(topic: TopicState, changes: TopicConfigChanges): Promise<void>;
}

/**
 * A topic's live state: its config and partitions. Growing it goes through the registry, which
 * persists the change first.
 *
 * Concurrency: `partitions` only grows, and only through {@link TopicState.grow}.
 */
export class TopicState implements Topic {
  readonly name: string;
  readonly id: string;
  #config: Readonly<ResolvedTopicConfig>;
  #partitions: PartitionState[] = [];
  #admin: TopicAdmin;
  #closed = false;

  constructor(name: string, id: string, config: ResolvedTopicConfig, admin: TopicAdmin) {
    this.name = name;
    this.id = id;
    this.#config = Object.freeze({ ...config });
    this.#admin = admin;
  }

  get config(): Readonly<ResolvedTopicConfig> {
    return this.#config;
  }

  get partitions(): readonly PartitionState[] {
    return this.#partitions;
  }

  partition(id: number): PartitionState {
    if (this.#closed) throw closed('broker');
    const p = this.#partitions[id];
    if (p === undefined || !Number.isInteger(id)) throw unknownPartition(this.name, id, this.#partitions.length);
    return p;
  }

  addPartitions(total: number): Promise<void> {
    return this.#admin.addPartitions(this, total);
  }

  alterConfig(changes: TopicConfigChanges): Promise<void> {
    return this.#admin.alterConfig(this, changes);
  }

  async compact(): Promise<void> {
    if (this.#closed) throw closed('broker');
    if (!isCompacted(this.#config)) {
      throw invalidArgument(`topic ${show(this.name)} is not compacted (cleanupPolicy ${show(this.#config.cleanupPolicy)}): compact() needs 'compact' or 'compact,delete'`, { topic: this.name });
    }
    await Promise.all(this.#partitions.map((p) => p.clean(0)));
  }

  /** Takes a changed config (called by the registry once saved). */
  reconfigure(config: ResolvedTopicConfig): void {
    this.#config = Object.freeze({ ...config });
  }

  /** The broker closed: `partition()` refuses with `CLOSED` from now on. */
  close(): void {
    this.#closed = true;
  }

  /** Adds partition states up to `config.partitions` (called by the registry once saved). */
  grow(config: ResolvedTopicConfig, make: (id: number) => PartitionState): void {
    this.#config = Object.freeze({ ...config });
    while (this.#partitions.length < config.partitions) this.#partitions.push(make(this.#partitions.length));
  }
}
