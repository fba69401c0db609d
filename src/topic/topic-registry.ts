import type { TopicChange } from '../seam/kafka-api.js';
import type { Clock } from '../clock.js';
import { AppendWaits } from './append-waits.js';
import { closed, invalidPartitions, invalidTopic, topicExists, unknownTopic } from '../errors.js';
import type { Storage, StoredTopic } from '../storage/storage.js';
import { isTopicId, newTopicId } from '../storage/topic-id.js';
import type { ResolvedTopicConfig, TopicConfig } from '../types.js';
import { PartitionState } from './partition.js';
import { alterTopicConfig, defaultTopicConfig, isCompacted, resolveTopicConfig, validatePartitionCount, validateTopicName, type TopicConfigChanges } from './topic-config.js';
import { TopicState } from './topic.js';

/**
 * Kafka's controller, in small: the set of topics, their creation, growth and deletion, each
 * persisted to the storage before it becomes visible. Listeners hear of every change, so clients
 * can drop cached metadata.
 *
 * Concurrency: changes to one topic are serialised (a create racing a create of the same name
 * yields one topic and one `TOPIC_EXISTS`); reads of the map are synchronous.
 */
export class TopicRegistry {
  #topics = new Map<string, TopicState>();
  #byId = new Map<string, TopicState>();
  #pending = new Map<string, Promise<unknown>>();
  #storage: Storage;
  #clock: Clock;
  #listeners = new Set<(topic: string, change: TopicChange) => void>();
  #deleteHooks: ((topic: string) => Promise<void>)[] = [];
  /** Topics the broker itself writes (`__consumer_offsets`): clients may read them, not change them. */
  #internal = new Set<string>();
  #closed = false;
  /** Fetches waiting for appends to these topics' partitions. */
  readonly appendWaits: AppendWaits;

  constructor(storage: Storage, clock: Clock) {
    this.#storage = storage;
    this.#clock = clock;
    this.appendWaits = new AppendWaits(clock);
  }

  /** Rebuilds topic states from what the storage already holds. */
  load(stored: StoredTopic[]): void {
    // A topic saved before a config existed (deleteRetentionMs, say) takes its default.
    for (const t of stored) this.#install({ ...t, config: { ...defaultTopicConfig, ...t.config } });
  }

  get(name: string): TopicState | undefined {
    return this.#topics.get(name);
  }

  /** The live topic with this id (Kafka's topic UUID), if any. */
  byId(id: string): TopicState | undefined {
    return this.#byId.get(id);
  }

  require(name: string): TopicState {
    const t = this.#topics.get(name);
    if (t === undefined) throw unknownTopic(name);
    return t;
  }

  names(): string[] {
    return [...this.#topics.keys()];
  }

  onChange(listener: (topic: string, change: TopicChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Marks a topic the broker itself keeps: deleting, growing, reconfiguring or producing to it is refused. */
  protect(name: string): void {
    this.#internal.add(name);
  }

  isInternal(name: string): boolean {
    return this.#internal.has(name);
  }

  /** `INVALID_TOPIC` for a change to a topic the broker keeps for itself, as Kafka refuses it. */
  checkNotInternal(name: string, what: string): void {
    if (this.#internal.has(name)) throw invalidTopic(name, `it is an internal topic, kept by the broker itself: ${what} is refused`);
  }

  /**
   * Runs `hook` inside every topic deletion, after the logs are gone and before anyone hears of
   * it or a topic of that name may be created again (the group coordinator forgets the topic's
   * committed offsets there).
   */
  onDelete(hook: (topic: string) => Promise<void>): void {
    this.#deleteHooks.push(hook);
  }

  create(name: string, config: TopicConfig | undefined, defaultPartitions: number): Promise<TopicState> {
    validateTopicName(name);
    const resolved = resolveTopicConfig(name, config, defaultPartitions);
    return this.#serialise(name, () => {
      if (this.#topics.has(name)) throw topicExists(name);
      return this.#createNow(name, resolved);
    });
  }

  /** The topic, created with defaults if it does not exist (auto-creation). */
  ensure(name: string, defaultPartitions: number): Promise<TopicState> {
    const existing = this.#topics.get(name);
    if (existing !== undefined) return Promise.resolve(existing);
    validateTopicName(name);
    const resolved = resolveTopicConfig(name, undefined, defaultPartitions);
    return this.#serialise(name, () => {
      const raced = this.#topics.get(name);
      return raced === undefined ? this.#createNow(name, resolved) : Promise.resolve(raced);
    });
  }

  async #createNow(name: string, config: ResolvedTopicConfig): Promise<TopicState> {
    this.#checkOpen();
    const stored: StoredTopic = { name, id: newTopicId(), partitions: config.partitions, config };
    await this.#storage.saveTopic(stored);
    const topic = this.#install(stored);
    this.#changed(name, 'created');
    return topic;
  }

  addPartitions(topic: TopicState, total: number): Promise<void> {
    try {
      this.checkNotInternal(topic.name, 'addPartitions');
      validatePartitionCount(total, topic.name);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serialise(topic.name, async () => {
      this.#checkOpen();
      if (this.#topics.get(topic.name) !== topic) throw unknownTopic(topic.name);
      const current = topic.partitions.length;
      if (total <= current) {
        throw invalidPartitions(
          `topic "${topic.name}" has ${current} partitions; addPartitions needs a larger total (got ${total})`,
          topic.name,
        );
      }
      const config = { ...topic.config, partitions: total };
      await this.#storage.saveTopic({ name: topic.name, id: topic.id, partitions: total, config });
      topic.grow(config, (id) => this.#partition(topic, id));
      this.#changed(topic.name, 'grown');
    });
  }

  alterConfig(topic: TopicState, changes: TopicConfigChanges): Promise<void> {
    try {
      this.#checkOpen();
      this.checkNotInternal(topic.name, 'alterConfig');
      alterTopicConfig(topic.name, topic.config, changes); // a bad change is refused at the call
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serialise(topic.name, async () => {
      this.#checkOpen();
      if (this.#topics.get(topic.name) !== topic) throw unknownTopic(topic.name);
      const config = alterTopicConfig(topic.name, topic.config, changes);
      await this.#storage.saveTopic({ name: topic.name, id: topic.id, partitions: config.partitions, config });
      topic.reconfigure(config);
      this.#changed(topic.name, 'altered');
    });
  }

  delete(name: string): Promise<void> {
    try {
      validateTopicName(name);
      this.checkNotInternal(name, 'deleting it');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serialise(name, async () => {
      this.#checkOpen();
      const topic = this.require(name);
      this.#topics.delete(name);
      this.#byId.delete(topic.id);
      await Promise.all(topic.partitions.map((p) => p.close(() => unknownTopic(name))));
      await this.#storage.deleteTopic(name);
      for (const hook of this.#deleteHooks) await hook(name);
      this.#changed(name, 'deleted');
    });
  }

  /** Applies every topic's retention (the periodic check). */
  async applyRetention(): Promise<void> {
    for (const topic of this.#topics.values()) {
      for (const p of topic.partitions) await p.applyRetention();
    }
  }

  /**
   * Runs the log cleaner on every partition of every compacted topic whose dirty ratio reached
   * the topic's `minCleanableDirtyRatio` (the periodic check, Kafka's cleaner thread). A pass that
   * fails (or a storage without a cleaner) is reported to `problem` and the others go on.
   */
  async clean(problem: (topic: string, partition: number, error: unknown) => void): Promise<void> {
    for (const topic of [...this.#topics.values()]) {
      if (!isCompacted(topic.config)) continue;
      for (const p of topic.partitions) {
        if (this.#closed || this.#topics.get(topic.name) !== topic) break;
        await p.clean().catch((error: unknown) => problem(topic.name, p.id, error));
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pending.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.#topics.values()].flatMap((t) => t.partitions.map((p) => p.close(() => closed('broker')))));
    for (const t of this.#topics.values()) t.close();
    this.appendWaits.close();
  }

  #install(stored: StoredTopic): TopicState {
    // A storage that does not keep ids (one written before they existed) gets a new one here.
    const topic = new TopicState(stored.name, isTopicId(stored.id) ? stored.id : newTopicId(), stored.config, this);
    topic.grow({ ...stored.config, partitions: stored.partitions }, (id) => this.#partition(topic, id));
    this.#topics.set(stored.name, topic);
    this.#byId.set(topic.id, topic);
    return topic;
  }

  #partition(topic: TopicState, id: number): PartitionState {
    const clock = this.#clock;
    return new PartitionState(topic.name, id, this.#storage.log(topic.name, id), () => topic.config, () => clock.now(), () =>
      this.checkNotInternal(topic.name, 'deleteRecordsBefore'),
    );
  }

  #changed(name: string, change: TopicChange): void {
    for (const listener of this.#listeners) listener(name, change);
  }

  #checkOpen(): void {
    if (this.#closed) throw closed('broker');
  }

  #serialise<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#pending.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#pending.set(name, next);
    const clear = (): void => {
      if (this.#pending.get(name) === next) this.#pending.delete(name);
    };
    next.then(clear, clear);
    return next;
  }
}
