import { closed, invalidArgument, leaderNotAvailable, networkError, show, unsupported, type KafkaliteError } from '../errors.js';
import { KafkaErrorCode, isRetriableKafkaError } from '../wire/kafka-errors.js';
import {
  ApiKey,
  type FindCoordinatorResponseCoordinator,
  type MetadataResponse,
  type MetadataResponseBroker,
  type MetadataResponsePartition,
  type MetadataResponseTopic,
} from '../wire/protocol/index.js';
import { BrokerConnection, type RequestOf, type ResponseOf, type SendOptions } from './broker-connection.js';
import { parseBrokerAddress, resolveRemoteOptions, type RemoteOptions, type ResolvedRemoteOptions } from './remote-options.js';

export interface ClusterClientOptions extends RemoteOptions {
  /** Bootstrap brokers, `'host:port'` each (Kafka's `bootstrap.servers`), tried in turn until one answers. */
  brokers: string[];
}

/** Which coordinator FindCoordinator looks for: a consumer group's, or a transactional id's. */
export type CoordinatorType = 'group' | 'transaction';

/**
 * Which of a node's connections a request travels on. Kafka answers each connection's requests
 * in order, so a Fetch long poll (up to its `maxWaitMs`) or a JoinGroup waiting out a rebalance
 * would hold up every response behind it: those get connections of their own — as Kafka's Java
 * client keeps its coordinator apart, and as its producer and consumer never share one.
 */
export type ConnectionLane = 'default' | 'fetch' | 'coordinator';

/** The requests a group or transaction coordinator serves (InitProducerId may wait on a transaction's end). */
const COORDINATOR_APIS = new Set<number>([
  ApiKey.JoinGroup,
  ApiKey.SyncGroup,
  ApiKey.Heartbeat,
  ApiKey.LeaveGroup,
  ApiKey.OffsetCommit,
  ApiKey.OffsetFetch,
  ApiKey.InitProducerId,
  ApiKey.AddPartitionsToTxn,
  ApiKey.AddOffsetsToTxn,
  ApiKey.EndTxn,
  ApiKey.TxnOffsetCommit,
]);

/** The lane an API's requests take by default. */
export function laneOf(apiKey: ApiKey): ConnectionLane {
  return apiKey === ApiKey.Fetch ? 'fetch' : COORDINATOR_APIS.has(apiKey) ? 'coordinator' : 'default';
}

/** A topic of the last metadata, with its partitions by index. */
interface CachedTopic {
  readonly topic: MetadataResponseTopic;
  readonly partitions: (MetadataResponsePartition | undefined)[];
}

/** A connection being opened or open; `connection` is set once it is. */
interface Slot {
  readonly opening: Promise<BrokerConnection>;
  connection: BrokerConnection | undefined;
}

const KEY_TYPE: Record<CoordinatorType, number> = { group: 0, transaction: 1 };

/**
 * A view of one Kafka cluster: its nodes, topics, partition leaders (with leader epochs) and
 * coordinators, from Metadata and FindCoordinator, and a connection per node and
 * {@link ConnectionLane}, opened on first use and replaced on the next use after it died.
 *
 * Requests are never retried here — only the caller knows whether sending one again is safe
 * (a Produce without idempotence is not) — but {@link ClusterClient.isRetriable} says which Kafka
 * error codes are worth it, and the caches are refreshed by {@link metadata} and dropped by
 * {@link forgetCoordinator}. The one retry is at `connect`, across the bootstrap addresses.
 *
 * Concurrency: every method may be called concurrently; concurrent first uses of a node share
 * one connection attempt. `close` may be called at any time, more than once; calls after it reject
 * with `CLOSED`.
 */
export class ClusterClient {
  readonly #options: ResolvedRemoteOptions;
  readonly #slots = new Map<string, Slot>();
  /** Nodes of the last metadata, by id. */
  #nodes = new Map<number, MetadataResponseBroker>();
  /** Coordinators FindCoordinator named outside the last metadata (a node that just joined). */
  readonly #extraNodes = new Map<number, { host: string; port: number }>();
  readonly #topics = new Map<string, CachedTopic>();
  readonly #coordinators = new Map<string, FindCoordinatorResponseCoordinator>();
  #clusterId: string | null = null;
  #controllerId = -1;
  #closed = false;

  private constructor(options: ResolvedRemoteOptions) {
    this.#options = options;
  }

  /**
   * Connects to the first bootstrap broker that answers (in the order given) and loads the
   * cluster's nodes with a Metadata request. Rejects with `INVALID_ARGUMENT` (bad options),
   * `NETWORK_ERROR` naming every address tried when none answers, or at once with the first
   * error that another address would not change (`AUTHENTICATION_FAILED`, `UNSUPPORTED`).
   */
  static async connect(options: ClusterClientOptions): Promise<ClusterClient> {
    const resolved = resolveRemoteOptions(options, 'cluster', ['brokers']);
    const brokers: unknown = options.brokers;
    if (!Array.isArray(brokers) || brokers.length === 0) throw invalidArgument(`brokers must be a non-empty array of 'host:port' strings (got ${show(brokers)})`);
    const addresses = brokers.map(parseBrokerAddress);
    const client = new ClusterClient(resolved);
    const failures: string[] = [];
    let last: unknown;
    for (const { host, port } of addresses) {
      let connection: BrokerConnection | undefined;
      try {
        connection = await BrokerConnection.open({ ...client.#connectionOptions(), host, port });
        client.#apply(await connection.send(ApiKey.Metadata, client.#metadataRequest(connection, [], false)), []);
      } catch (error) {
        await connection?.close();
        if ((error as KafkaliteError).retriable !== true) throw error;
        failures.push(`${host}:${port}: ${(error as Error).message}`);
        last = error;
        continue;
      }
      client.#adoptBootstrap(connection, host, port);
      return client;
    }
    throw networkError(`cannot reach any bootstrap broker (${failures.join('; ')})`, last);
  }

  /**
   * A client of its own on the same cluster: what this one knows (nodes, topics, leaders) and
   * none of its connections — as each of Kafka's producers and consumers keeps its own. A broker
   * answers each connection's requests in order, so members of a group sharing one coordinator
   * connection would wait behind each other's JoinGroup and miss their heartbeats.
   */
  fork(): ClusterClient {
    const copy = new ClusterClient(this.#options);
    copy.#nodes = new Map(this.#nodes);
    for (const [name, topic] of this.#topics) copy.#topics.set(name, topic);
    copy.#clusterId = this.#clusterId;
    copy.#controllerId = this.#controllerId;
    return copy;
  }

  /** Whether a request that a broker answered with this Kafka error code may succeed if sent again (after a metadata refresh for the metadata errors). */
  static isRetriable(errorCode: number): boolean {
    return isRetriableKafkaError(errorCode);
  }

  /** The cluster id of the last metadata (null from brokers before Kafka 0.10.1). */
  get clusterId(): string | null {
    return this.#clusterId;
  }

  /** The controller's node id in the last metadata (-1 when unknown). */
  get controllerId(): number {
    return this.#controllerId;
  }

  /** The nodes of the last metadata. */
  get nodes(): readonly MetadataResponseBroker[] {
    return [...this.#nodes.values()];
  }

  /** A topic as the last metadata that included it described it (errors are not cached). */
  topic(name: string): MetadataResponseTopic | undefined {
    return this.#topics.get(name)?.topic;
  }

  /**
   * Asks a broker for metadata and updates the cache: `topics` null for every topic, a list for
   * those (an empty list for the nodes only). Resolves with the decoded response, topic errors
   * and all; a topic answered with an error is dropped from the cache.
   */
  async metadata(topics: string[] | null = null, allowAutoTopicCreation = false): Promise<MetadataResponse> {
    const connection = await this.#anyConnection();
    const response = await connection.send(ApiKey.Metadata, this.#metadataRequest(connection, topics, allowAutoTopicCreation));
    if (!this.#closed) this.#apply(response, topics);
    return response;
  }

  /** The leader of a partition and its epoch, as the last metadata said; undefined when it named none. */
  leaderFor(topic: string, partition: number): { leaderId: number; leaderEpoch: number } | undefined {
    const p = this.#topics.get(topic)?.partitions[partition];
    return p === undefined || p.leaderId < 0 ? undefined : { leaderId: p.leaderId, leaderEpoch: p.leaderEpoch };
  }

  /**
   * The connection to a node on a lane, opened on first use and reused; a dead one is replaced.
   * Rejects with `NETWORK_ERROR` (unreachable, or a node no metadata named), the open's errors,
   * `CLOSED`.
   */
  connection(nodeId: number, lane: ConnectionLane = 'default'): Promise<BrokerConnection> {
    if (this.#closed) return Promise.reject(closed('the cluster client'));
    const key = `${nodeId}/${lane}`;
    const slot = this.#slots.get(key);
    if (slot !== undefined && (slot.connection === undefined || !slot.connection.isClosed)) return slot.opening;
    const address = this.#nodes.get(nodeId) ?? this.#extraNodes.get(nodeId);
    if (address === undefined) return Promise.reject(networkError(`node ${nodeId} is not in the cluster metadata: no address to connect to (refresh the metadata)`));
    return this.#open(key, address.host, address.port);
  }

  /** Sends to a node, on the lane of the API ({@link laneOf}). Rejects as {@link connection} and {@link BrokerConnection.send}. */
  async sendToNode<K extends ApiKey>(nodeId: number, apiKey: K, request: RequestOf<K>, options?: SendOptions): Promise<ResponseOf<K>> {
    return (await this.connection(nodeId, laneOf(apiKey))).send(apiKey, request, options);
  }

  /** Sends to the partition's leader in the last metadata; `LEADER_NOT_AVAILABLE` (retriable) when it names none — refresh with {@link metadata}. */
  sendToLeader<K extends ApiKey>(topic: string, partition: number, apiKey: K, request: RequestOf<K>, options?: SendOptions): Promise<ResponseOf<K>> {
    const leader = this.leaderFor(topic, partition);
    if (leader === undefined) return Promise.reject(leaderNotAvailable(topic, partition));
    return this.sendToNode(leader.leaderId, apiKey, request, options);
  }

  /** Sends to any node: the open one with the fewest requests in flight, else the first that connects. */
  async sendToAny<K extends ApiKey>(apiKey: K, request: RequestOf<K>, options?: SendOptions): Promise<ResponseOf<K>> {
    return (await this.#anyConnection()).send(apiKey, request, options);
  }

  /**
   * The coordinator of a group or transactional id, by FindCoordinator (cached until
   * {@link forgetCoordinator}). Resolves with Kafka's answer, error code included: only an answer
   * without error is cached, and the caller decides what an error means (COORDINATOR_NOT_AVAILABLE
   * and COORDINATOR_LOAD_IN_PROGRESS are retriable). Send to it with {@link sendToNode}.
   */
  async coordinator(type: CoordinatorType, key: string): Promise<FindCoordinatorResponseCoordinator> {
    const cacheKey = `${type}/${key}`;
    const cached = this.#coordinators.get(cacheKey);
    if (cached !== undefined) return cached;
    const connection = await this.#anyConnection();
    const version = connection.version(ApiKey.FindCoordinator);
    if (type === 'transaction' && version < 1) throw unsupported(`FindCoordinator for transactions with the broker at ${connection.address}`, 'it speaks only FindCoordinator v0');
    // Versions 4 and later look up a list of keys; the encoders ignore the fields a version lacks.
    const r = await connection.send(ApiKey.FindCoordinator, { key, keyType: KEY_TYPE[type], coordinatorKeys: [key] }, { version });
    const found: FindCoordinatorResponseCoordinator =
      version >= 4
        ? (r.coordinators.find((c) => c.key === key) ?? { key, nodeId: -1, host: '', port: -1, errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'no answer for the key', unknownTaggedFields: [] })
        : { key, nodeId: r.nodeId, host: r.host, port: r.port, errorCode: r.errorCode, errorMessage: r.errorMessage, unknownTaggedFields: [] };
    if (found.errorCode === KafkaErrorCode.NONE && !this.#closed) {
      this.#coordinators.set(cacheKey, found);
      const known = this.#nodes.get(found.nodeId);
      if (known === undefined || known.host !== found.host || known.port !== found.port) this.#extraNodes.set(found.nodeId, { host: found.host, port: found.port });
    }
    return found;
  }

  /** Drops a cached coordinator (after NOT_COORDINATOR, say): the next {@link coordinator} asks again. */
  forgetCoordinator(type: CoordinatorType, key: string): void {
    this.#coordinators.delete(`${type}/${key}`);
  }

  /** Closes every connection; what is in flight rejects with `CLOSED`. */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = [...this.#slots.values()];
    this.#slots.clear();
    await Promise.all(slots.map((s) => s.opening.then((c) => c.close(), () => undefined)));
  }

  #open(key: string, host: string, port: number): Promise<BrokerConnection> {
    const opening = BrokerConnection.open({ ...this.#connectionOptions(), host, port }).then(
      async (connection) => {
        if (this.#closed) {
          await connection.close();
          throw closed('the cluster client');
        }
        slot.connection = connection;
        return connection;
      },
      (error: unknown) => {
        if (this.#slots.get(key) === slot) this.#slots.delete(key);
        throw error;
      },
    );
    const slot: Slot = { opening, connection: undefined };
    this.#slots.set(key, slot);
    return opening;
  }

  /** The least loaded open default connection, else the first node (of the last metadata) that connects. */
  async #anyConnection(): Promise<BrokerConnection> {
    if (this.#closed) throw closed('the cluster client');
    let best: BrokerConnection | undefined;
    for (const [key, slot] of this.#slots) {
      const c = slot.connection;
      if (key.endsWith('/default') && c !== undefined && !c.isClosed && (best === undefined || c.inFlight < best.inFlight)) best = c;
    }
    if (best !== undefined) return best;
    let last: unknown;
    for (const nodeId of this.#nodes.keys()) {
      try {
        return await this.connection(nodeId);
      } catch (error) {
        if ((error as KafkaliteError).retriable !== true) throw error;
        last = error;
      }
    }
    throw networkError(`cannot reach any node of the cluster (${[...this.#nodes.values()].map((n) => `${n.host}:${n.port}`).join(', ') || 'none known'})`, last);
  }

  /** Metadata's request: v0 has no null list (its empty list means every topic). */
  #metadataRequest(connection: BrokerConnection, topics: string[] | null, allowAutoTopicCreation: boolean): RequestOf<typeof ApiKey.Metadata> {
    const list = topics === null ? (connection.version(ApiKey.Metadata) === 0 ? [] : null) : topics.map((name) => ({ name }));
    return { topics: list, allowAutoTopicCreation, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };
  }

  /** Takes a Metadata response into the cache; nodes whose address changed lose their connections. */
  #apply(response: MetadataResponse, requested: string[] | null): void {
    const nodes = new Map(response.brokers.map((b) => [b.nodeId, b]));
    for (const [key, slot] of this.#slots) {
      const nodeId = Number(key.slice(0, key.indexOf('/')));
      const before = this.#nodes.get(nodeId);
      const after = nodes.get(nodeId);
      if (before !== undefined && after !== undefined && (before.host !== after.host || before.port !== after.port)) {
        this.#slots.delete(key);
        void slot.opening.then((c) => c.close(), () => undefined);
      }
    }
    this.#nodes = nodes;
    for (const id of nodes.keys()) this.#extraNodes.delete(id);
    this.#clusterId = response.clusterId;
    this.#controllerId = response.controllerId;
    if (requested === null) this.#topics.clear();
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== KafkaErrorCode.NONE) {
        this.#topics.delete(t.name);
        continue;
      }
      const partitions: (MetadataResponsePartition | undefined)[] = [];
      for (const p of t.partitions) partitions[p.partitionIndex] = p;
      this.#topics.set(t.name, { topic: t, partitions });
    }
  }

  /** The bootstrap connection serves on as its node's default connection when the metadata names its address. */
  #adoptBootstrap(connection: BrokerConnection, host: string, port: number): void {
    const node = [...this.#nodes.values()].find((n) => n.host === host && n.port === port);
    if (node === undefined) {
      void connection.close();
      return;
    }
    this.#slots.set(`${node.nodeId}/default`, { opening: Promise.resolve(connection), connection });
  }

  #connectionOptions(): RemoteOptions {
    const o = this.#options;
    return { clientId: o.clientId, ssl: o.tls ?? false, sasl: o.sasl, connectTimeoutMs: o.connectTimeoutMs, requestTimeoutMs: o.requestTimeoutMs, clock: o.clock };
  }
}
