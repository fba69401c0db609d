import { closed, unknownPartition } from '../errors.js';
import type { ResolvedTopicConfig } from '../types.js';
import type { Partition } from './partition.js';
import { PartitionState } from './partition.js';

/** A topic, as users see it. */
export interface Topic {
  readonly name: string;
  /** The resolved configuration, every default filled in. */
  readonly config: Readonly<ResolvedTopicConfig>;
  readonly partitions: readonly Partition[];
  /** Throws `UNKNOWN_PARTITION` for an id the topic does not have. */
  partition(id: number): Partition;
  /** Grows the topic to `total` partitions; a total not above the current count is `INVALID_PARTITIONS`. */
  addPartitions(total: number): Promise<void>;
}

/**
 * A topic's live state: its config and partitions. Growing it goes through the registry, which
 * persists the change first.
 *
 * Concurrency: `partitions` only grows, and only through {@link TopicState.grow}.
 */
export class TopicState implements Topic {
  readonly name: string;
  #config: Readonly<ResolvedTopicConfig>;
  #partitions: PartitionState[] = [];
  #addPartitions: (topic: TopicState, total: number) => Promise<void>;
  #closed = false;

  constructor(name: string, config: ResolvedTopicConfig, addPartitions: (topic: TopicState, total: number) => Promise<void>) {
    this.name = name;
    this.#config = Object.freeze({ ...config });
    this.#addPartitions = addPartitions;
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
    return this.#addPartitions(this, total);
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
