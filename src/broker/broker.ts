import type { Clock, ClockTimer } from '../clock.js';
import { Consumer } from '../client/consumer.js';
import type { ConsumerOptions } from '../client/consumer-options.js';
import type { ClientContext } from '../client/client-context.js';
import { Producer } from '../client/producer.js';
import type { ProducerOptions } from '../client/producer-options.js';
import { closed, invalidArgument, show } from '../errors.js';
import { ConsumerGroupView, type ConsumerGroup } from '../group/consumer-group.js';
import { GroupCoordinator } from '../group/coordinator.js';
import { OffsetStore } from '../group/offset-store.js';
import type { Topic } from '../topic/topic.js';
import { TopicRegistry } from '../topic/topic-registry.js';
import { validateTopicName } from '../topic/topic-config.js';
import { ProblemLog } from '../logger.js';
import type { TopicConfig } from '../types.js';
import { resolveBrokerOptions, type BrokerOptions, type ResolvedBrokerOptions } from './broker-options.js';
import { RequestHandler } from './request-handler.js';
import { newTopicId } from '../storage/topic-id.js';
import { resolveListenOptions, type ListenOptions } from '../wire/listen-options.js';
import { TcpListener, type Listener } from '../wire/listener.js';
import type { WireBroker } from '../wire/wire-context.js';

/**
 * The embedding root: one broker holds the topics of one storage and hands out producers and
 * consumers, which reach it only through its {@link RequestHandler} (the Kafka-request seam).
 *
 * Concurrency: every method may be called at any time from any async context; `close` waits for
 * producers to flush and consumers to stop, and everything after it rejects with `CLOSED`.
 */
/**
 * Lets a component built on a broker (a schema registry given `{ broker }`) be closed with it,
 * before its producers: not part of the public API (not exported from the package root).
 */
export let closeWithBroker: (broker: Broker, closeable: { close(): Promise<void> }) => () => void;

export class Broker {
  #options: ResolvedBrokerOptions;
  #topics: TopicRegistry;
  #api: RequestHandler;
  #groups: GroupCoordinator;
  /** Typed or not, the broker only closes them. */
  #producers = new Set<{ close(): Promise<void> }>();
  #consumers = new Set<{ close(): Promise<void> }>();
  #retentionTimer: ClockTimer | undefined;
  #closing: Promise<void> | undefined;
  #ctx: ClientContext;
  #listeners = new Set<TcpListener>();
  #attached = new Set<{ close(): Promise<void> }>();

  static {
    closeWithBroker = (broker, closeable) => {
      broker.#attached.add(closeable);
      return () => broker.#attached.delete(closeable);
    };
  }
  /** What the broker's listeners share (cluster id, producer ids); made by the first `listen`. */
  #wire: WireBroker | undefined;

  private constructor(options: ResolvedBrokerOptions, topics: TopicRegistry, offsets: OffsetStore, log: ProblemLog) {
    this.#options = options;
    this.#topics = topics;
    this.#ctx = { clock: options.clock, log };
    this.#groups = new GroupCoordinator(topics, offsets, options.clock);
    this.#api = new RequestHandler(topics, this.#groups, options.clock, options);
    this.#scheduleRetention();
  }

  /** Opens a broker on `options.storage` (default: a new `MemoryStorage`). */
  static async open(options?: BrokerOptions): Promise<Broker> {
    const resolved = resolveBrokerOptions(options);
    const log = new ProblemLog(resolved.logger, resolved.clock);
    const stored = await resolved.storage.open({ clock: resolved.clock, logger: resolved.logger });
    const topics = new TopicRegistry(resolved.storage, resolved.clock);
    topics.load(stored);
    const offsets = await OffsetStore.open(topics, () => resolved.clock.now());
    const broker = new Broker(resolved, topics, offsets, log);
    await broker.#api.recover();
    return broker;
  }

  /**
   * The clock the broker was opened with (`options.clock`): what its timestamps, timers and
   * timeouts follow. Layers built on a broker (as `kafkalite/kafkajs`) take their time from it.
   */
  get clock(): Clock {
    return this.#options.clock;
  }

  /** Creates a topic; `TOPIC_EXISTS` if it exists, `INVALID_TOPIC` / `INVALID_CONFIG` / `INVALID_PARTITIONS` for bad input. */
  async createTopic(name: string, config?: TopicConfig): Promise<Topic> {
    this.#checkOpen();
    return this.#topics.create(name, config, this.#options.defaultPartitions);
  }

  /** The topic called `name`; `UNKNOWN_TOPIC` if there is none. */
  topic(name: string): Topic {
    this.#checkOpen();
    validateTopicName(name);
    return this.#topics.require(name);
  }

  /** Topic names, sorted; internal ones (starting with `__`) are left out. */
  listTopics(): string[] {
    this.#checkOpen();
    return this.#topics
      .names()
      .filter((n) => !n.startsWith('__'))
      .sort();
  }

  async deleteTopic(name: string): Promise<void> {
    this.#checkOpen();
    await this.#topics.delete(name);
  }

  /** A producer; with `serializers`, typed by them (`send` takes their types). */
  producer<K = string | Uint8Array, V = string | Uint8Array>(options?: ProducerOptions<K, V>): Producer<K, V> {
    this.#checkOpen();
    const producer = new Producer<K, V>(this.#api, this.#ctx, options, (p) => this.#producers.delete(p));
    this.#producers.add(producer);
    return producer;
  }

  /** A consumer; with `deserializers`, typed by them (records carry their types). */
  consumer<K = Buffer, V = Buffer>(options?: ConsumerOptions<K, V>): Consumer<K, V> {
    this.#checkOpen();
    const consumer = new Consumer<K, V>(this.#api, this.#ctx, options, (c) => this.#consumers.delete(c));
    this.#consumers.add(consumer);
    return consumer;
  }

  /** The consumer group `groupId`: its state, members, committed offsets and lag. */
  group(groupId: string): ConsumerGroup {
    this.#checkOpen();
    if (typeof groupId !== 'string' || groupId.length === 0) throw invalidArgument(`groupId must be a non-empty string (got ${show(groupId)})`);
    return new ConsumerGroupView(groupId, this.#groups, this.#topics);
  }

  /** Ids of the groups that have members or committed offsets, sorted (Kafka's ListGroups). */
  listGroups(): string[] {
    this.#checkOpen();
    return this.#groups.listGroups();
  }

  /**
   * Serves the broker over Kafka's wire protocol on a TCP port, so that any Kafka client can
   * connect; wire and in-process clients share topics, records, groups and committed offsets.
   * Binds to loopback unless `options.host` says otherwise.
   */
  async listen(options?: ListenOptions): Promise<Listener> {
    this.#checkOpen();
    const resolved = resolveListenOptions(options);
    this.#wire ??= {
      api: this.#api,
      topics: this.#topics,
      groups: this.#groups,
      options: this.#options,
      log: this.#ctx.log,
      clusterId: newTopicId(),
    };
    const listener = await TcpListener.open(this.#wire, resolved, (l) => this.#listeners.delete(l));
    if (this.#closing !== undefined) {
      await listener.close();
      throw closed('broker');
    }
    this.#listeners.add(listener);
    return listener;
  }

  /** Closes listeners, flushes producers, closes consumers, then the storage. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#listeners].map((l) => l.close()));
      await Promise.allSettled([...this.#attached].map((c) => c.close()));
      if (this.#retentionTimer !== undefined) this.#options.clock.clearTimeout(this.#retentionTimer);
      await Promise.allSettled([...this.#producers].map((p) => p.close()));
      await Promise.allSettled([...this.#consumers].map((c) => c.close()));
      this.#groups.close();
      this.#api.close();
      await this.#topics.close();
      await this.#options.storage.close();
    })();
    return this.#closing;
  }

  #scheduleRetention(): void {
    const clock = this.#options.clock;
    this.#retentionTimer = clock.setTimeout(async () => {
      if (this.#closing !== undefined) return;
      await this.#topics.applyRetention();
      await this.#topics.clean((topic, partition, error) => {
        const detail = error instanceof Error ? error.message : String(error);
        this.#ctx.log.warn(`clean ${topic}`, `log cleaning of ${topic}-${partition} failed, the partition stays as it is: ${detail}`, { topic, partition, error });
      });
      this.#scheduleRetention();
    }, this.#options.retentionCheckIntervalMs);
    this.#retentionTimer.unref?.();
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw closed('broker');
  }
}
