import { SystemClock, type Clock, type ClockTimer } from '../clock.js';
import { Consumer } from '../client/consumer.js';
import type { ConsumerOptions } from '../client/consumer-options.js';
import type { ClientContext } from '../client/client-context.js';
import { Producer } from '../client/producer.js';
import type { ProducerOptions } from '../client/producer-options.js';
import { closed, invalidArgument, show, unsupported } from '../errors.js';
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
import type { KafkaApi } from '../seam/kafka-api.js';
import { ClusterClient } from '../remote/cluster-client.js';
import { ClientLink } from '../remote/cluster-link.js';
import { RemoteCatalog } from '../remote/remote-admin.js';
import { RemoteKafkaApi } from '../remote/remote-kafka-api.js';
import { resolveConnectOptions, type ConnectOptions } from './connect-options.js';

/** An in-process broker's parts: its topics, its group coordinator, and the seam's handler on them. */
interface LocalParts {
  readonly kind: 'local';
  readonly options: ResolvedBrokerOptions;
  readonly topics: TopicRegistry;
  readonly groups: GroupCoordinator;
  readonly api: RequestHandler;
}

/** A broker opened on a Kafka cluster: the seam over the cluster's connections, and its admin calls. */
interface RemoteParts {
  readonly kind: 'remote';
  readonly api: RemoteKafkaApi;
  readonly catalog: RemoteCatalog;
  readonly link: ClientLink;
  readonly replicationFactor: number;
  /** A seam on connections of its own, for one producer or consumer (as each Kafka client has its own). */
  session(): { api: RemoteKafkaApi; close(): Promise<void> };
}

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
  #parts: LocalParts | RemoteParts;
  #clock: Clock;
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

  private constructor(parts: LocalParts | RemoteParts, clock: Clock, log: ProblemLog) {
    this.#parts = parts;
    this.#clock = clock;
    this.#ctx = { clock, log };
    if (parts.kind === 'local') this.#scheduleRetention(parts);
  }

  static #local(options: ResolvedBrokerOptions, topics: TopicRegistry, offsets: OffsetStore, log: ProblemLog): Broker {
    const groups = new GroupCoordinator(topics, offsets, options.clock);
    const api = new RequestHandler(topics, groups, options.clock, options);
    return new Broker({ kind: 'local', options, topics, groups, api }, options.clock, log);
  }

  /**
   * Opens a broker on a Kafka cluster: the same Producer, Consumer, Topic and ConsumerGroup API,
   * over Kafka's wire protocol to `options.brokers` (docs/cluster.md says what differs). Rejects
   * with `NETWORK_ERROR` when no bootstrap broker answers, `AUTHENTICATION_FAILED`, or
   * `UNSUPPORTED` for an option only an in-process broker has (`clock`, `storage`, …).
   */
  static async connect(options: ConnectOptions): Promise<Broker> {
    const resolved = resolveConnectOptions(options);
    const { clientId, tls, sasl, connectTimeoutMs, requestTimeoutMs } = resolved.remote;
    const client = await ClusterClient.connect({ brokers: resolved.brokers, clientId, ssl: tls ?? false, ...(sasl === undefined ? {} : { sasl }), connectTimeoutMs, requestTimeoutMs });
    const link = new ClientLink(client);
    // Clients' metadata lookups teach the catalog (for the synchronous topic() and listTopics()).
    const known: { catalog?: RemoteCatalog } = {};
    const learn = (response: Parameters<RemoteCatalog['learn']>[0], topics: string[]): void => known.catalog?.learn(response, topics);
    const api = new RemoteKafkaApi(link, resolved.api, learn);
    const catalog = (known.catalog = new RemoteCatalog(link, api, resolved.api.metadataMaxAgeMs));
    try {
      await catalog.refresh();
    } catch (error) {
      catalog.close();
      await client.close();
      throw error;
    }
    const session = (): { api: RemoteKafkaApi; close(): Promise<void> } => {
      const own = new ClientLink(client.fork());
      const ownApi = new RemoteKafkaApi(own, resolved.api, learn);
      return { api: ownApi, close: () => (ownApi.close(), own.close()) };
    };
    const clock = new SystemClock();
    return new Broker({ kind: 'remote', api, catalog, link, replicationFactor: resolved.replicationFactor, session }, clock, new ProblemLog(resolved.logger, clock));
  }

  /** Opens a broker on `options.storage` (default: a new `MemoryStorage`). */
  static async open(options?: BrokerOptions): Promise<Broker> {
    const resolved = resolveBrokerOptions(options);
    const log = new ProblemLog(resolved.logger, resolved.clock);
    const stored = await resolved.storage.open({ clock: resolved.clock, logger: resolved.logger });
    const topics = new TopicRegistry(resolved.storage, resolved.clock);
    topics.load(stored);
    const offsets = await OffsetStore.open(topics, () => resolved.clock.now());
    const broker = Broker.#local(resolved, topics, offsets, log);
    await (broker.#parts as LocalParts).api.recover();
    return broker;
  }

  /**
   * The clock the broker was opened with (`options.clock`): what its timestamps, timers and
   * timeouts follow. Layers built on a broker (as `kafkalite/kafkajs`) take their time from it.
   */
  get clock(): Clock {
    return this.#clock;
  }

  /** Creates a topic; `TOPIC_EXISTS` if it exists, `INVALID_TOPIC` / `INVALID_CONFIG` / `INVALID_PARTITIONS` for bad input. */
  async createTopic(name: string, config?: TopicConfig): Promise<Topic> {
    this.#checkOpen();
    const parts = this.#parts;
    if (parts.kind === 'remote') return parts.catalog.create(name, config, parts.replicationFactor);
    return parts.topics.create(name, config, parts.options.defaultPartitions);
  }

  /** The topic called `name`; `UNKNOWN_TOPIC` if there is none. */
  topic(name: string): Topic {
    this.#checkOpen();
    if (this.#parts.kind === 'remote') return this.#parts.catalog.require(name);
    validateTopicName(name);
    return this.#parts.topics.require(name);
  }

  /** Topic names, sorted; internal ones (starting with `__`) are left out. */
  listTopics(): string[] {
    this.#checkOpen();
    if (this.#parts.kind === 'remote') return this.#parts.catalog.names();
    return this.#parts.topics
      .names()
      .filter((n) => !n.startsWith('__'))
      .sort();
  }

  async deleteTopic(name: string): Promise<void> {
    this.#checkOpen();
    if (this.#parts.kind === 'remote') await this.#parts.catalog.delete(name);
    else await this.#parts.topics.delete(name);
  }

  /** A producer; with `serializers`, typed by them (`send` takes their types). */
  producer<K = string | Uint8Array, V = string | Uint8Array>(options?: ProducerOptions<K, V>): Producer<K, V> {
    this.#checkOpen();
    const { api, closed } = this.#session();
    const producer = new Producer<K, V>(api, this.#ctx, options, (p) => {
      this.#producers.delete(p);
      closed();
    });
    this.#producers.add(producer);
    return producer;
  }

  /** A consumer; with `deserializers`, typed by them (records carry their types). */
  consumer<K = Buffer, V = Buffer>(options?: ConsumerOptions<K, V>): Consumer<K, V> {
    this.#checkOpen();
    // On a cluster, consumers speak Kafka's classic group protocol unless told otherwise.
    const resolved = this.#parts.kind === 'remote' && options?.groupProtocol === undefined ? { ...options, groupProtocol: 'classic' as const } : options;
    const { api, closed } = this.#session();
    const consumer = new Consumer<K, V>(api, this.#ctx, resolved, (c) => {
      this.#consumers.delete(c);
      closed();
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  /** The consumer group `groupId`: its state, members, committed offsets and lag. */
  group(groupId: string): ConsumerGroup {
    this.#checkOpen();
    if (this.#parts.kind === 'remote') return this.#parts.catalog.group(groupId);
    if (typeof groupId !== 'string' || groupId.length === 0) throw invalidArgument(`groupId must be a non-empty string (got ${show(groupId)})`);
    return new ConsumerGroupView(groupId, this.#parts.groups, this.#parts.topics);
  }

  /** Ids of the groups that have members or committed offsets, sorted (Kafka's ListGroups). */
  listGroups(): string[] {
    this.#checkOpen();
    if (this.#parts.kind === 'remote') throw unsupported('listGroups() on a Kafka cluster', 'the list takes a request to every broker there (ListGroups): use Kafka\'s tooling');
    return this.#parts.groups.listGroups();
  }

  /**
   * Serves the broker over Kafka's wire protocol on a TCP port, so that any Kafka client can
   * connect; wire and in-process clients share topics, records, groups and committed offsets.
   * Binds to loopback unless `options.host` says otherwise.
   */
  async listen(options?: ListenOptions): Promise<Listener> {
    this.#checkOpen();
    const parts = this.#parts;
    if (parts.kind === 'remote') throw unsupported('listen() on a broker opened with Broker.connect', 'its clients can reach the cluster itself');
    const resolved = resolveListenOptions(options);
    this.#wire ??= {
      api: parts.api,
      topics: parts.topics,
      groups: parts.groups,
      options: parts.options,
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
      if (this.#retentionTimer !== undefined) this.#clock.clearTimeout(this.#retentionTimer);
      await Promise.allSettled([...this.#producers].map((p) => p.close()));
      await Promise.allSettled([...this.#consumers].map((c) => c.close()));
      const parts = this.#parts;
      if (parts.kind === 'remote') {
        parts.api.close();
        parts.catalog.close();
        await parts.link.close();
        return;
      }
      parts.groups.close();
      parts.api.close();
      await parts.topics.close();
      await parts.options.storage.close();
    })();
    return this.#closing;
  }

  /** The seam a new client gets, and what to do when it closes: on a cluster, connections of its own. */
  #session(): { api: KafkaApi; closed: () => void } {
    if (this.#parts.kind === 'local') return { api: this.#parts.api, closed: () => undefined };
    const session = this.#parts.session();
    return { api: session.api, closed: () => void session.close().catch(() => undefined) };
  }

  #scheduleRetention(parts: LocalParts): void {
    const clock = parts.options.clock;
    this.#retentionTimer = clock.setTimeout(async () => {
      if (this.#closing !== undefined) return;
      await parts.topics.applyRetention();
      await parts.topics.clean((topic, partition, error) => {
        const detail = error instanceof Error ? error.message : String(error);
        this.#ctx.log.warn(`clean ${topic}`, `log cleaning of ${topic}-${partition} failed, the partition stays as it is: ${detail}`, { topic, partition, error });
      });
      this.#scheduleRetention(parts);
    }, parts.options.retentionCheckIntervalMs);
    this.#retentionTimer.unref?.();
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw closed('broker');
  }
}
