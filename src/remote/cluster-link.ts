import type { ApiKey, ApiMessageTypes, EncodeInput, MetadataResponse } from '../wire/protocol/index.js';
import { laneOf, type ClusterClient, type CoordinatorType } from './cluster-client.js';
import { clusterError } from './remote-errors.js';

/** How one request goes out: an abort signal, and a highest version (for an API whose newer versions name things differently). */
export interface LinkSendOptions {
  signal?: AbortSignal;
  maxVersion?: number;
}

/**
 * What the remote seam needs of a cluster: metadata with each partition's leader, requests to a
 * node, the coordinators of groups and transactional ids — by node id, with coordinator errors
 * already turned into (retriable) errors. Kept narrow so the seam's translation of requests does
 * not depend on how connections are pooled.
 */
export interface ClusterLink {
  /** Fresh metadata of `topics` (null: every topic); the leaders are cached. */
  metadata(topics: string[] | null, allowAutoTopicCreation: boolean): Promise<MetadataResponse>;
  /** The cached leader's node id, or undefined when the partition has none (or is unknown). */
  leaderFor(topic: string, partition: number): number | undefined;
  /** The topic's partition count in the cached metadata; undefined when the topic is not in it. */
  partitionCount(topic: string): number | undefined;
  /** A node to ask what any node can answer. */
  anyNode(): number;
  /** The controller's node id, where admin requests go, when the cluster names one it lists. */
  controller(): number | undefined;
  /** Whether `node` serves `apiKey` in a version both sides know. */
  supports(node: number, apiKey: ApiKey): Promise<boolean>;
  send<K extends ApiKey>(node: number, apiKey: K, request: EncodeInput<ApiMessageTypes[K]['request']>, options?: LinkSendOptions): Promise<ApiMessageTypes[K]['response']>;
  /** The coordinator node of a group or transactional id (FindCoordinator, cached); its error as a `KafkaliteError`. */
  coordinator(type: CoordinatorType, key: string): Promise<number>;
  forgetCoordinator(type: CoordinatorType, key: string): void;
  close(): Promise<void>;
}

/** A {@link ClusterLink} on a {@link ClusterClient}'s connections (one per node and lane). */
export class ClientLink implements ClusterLink {
  #client: ClusterClient;

  constructor(client: ClusterClient) {
    this.#client = client;
  }

  metadata(topics: string[] | null, allowAutoTopicCreation: boolean): Promise<MetadataResponse> {
    return this.#client.metadata(topics, allowAutoTopicCreation);
  }

  leaderFor(topic: string, partition: number): number | undefined {
    return this.#client.leaderFor(topic, partition)?.leaderId;
  }

  partitionCount(topic: string): number | undefined {
    return this.#client.topic(topic)?.partitions.length;
  }

  anyNode(): number {
    const nodes = this.#client.nodes;
    return nodes[Math.floor(Math.random() * nodes.length)]!.nodeId;
  }

  controller(): number | undefined {
    const id = this.#client.controllerId;
    return this.#client.nodes.some((n) => n.nodeId === id) ? id : undefined;
  }

  async supports(node: number, apiKey: ApiKey): Promise<boolean> {
    const connection = await this.#client.connection(node, laneOf(apiKey));
    try {
      connection.version(apiKey);
      return true;
    } catch {
      return false;
    }
  }

  async send<K extends ApiKey>(node: number, apiKey: K, request: EncodeInput<ApiMessageTypes[K]['request']>, options?: LinkSendOptions): Promise<ApiMessageTypes[K]['response']> {
    const connection = await this.#client.connection(node, laneOf(apiKey));
    const version = options?.maxVersion === undefined ? undefined : Math.min(connection.version(apiKey), options.maxVersion);
    const response = await connection.send(apiKey, request, { ...(version === undefined ? {} : { version }), ...(options?.signal === undefined ? {} : { signal: options.signal }) });
    return response as ApiMessageTypes[K]['response'];
  }

  async coordinator(type: CoordinatorType, key: string): Promise<number> {
    const found = await this.#client.coordinator(type, key);
    if (found.errorCode !== 0) throw clusterError(found.errorCode, `FindCoordinator for ${type} ${JSON.stringify(key)}`, { message: found.errorMessage });
    return found.nodeId;
  }

  forgetCoordinator(type: CoordinatorType, key: string): void {
    this.#client.forgetCoordinator(type, key);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
