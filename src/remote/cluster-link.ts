import type { ApiKey, ApiMessageTypes, EncodeInput, MetadataResponse } from '../wire/protocol/index.js';

/** How one request goes out: an abort signal, a highest version (an API whose newer versions name things differently), a longer timeout. */
export interface SendOptions {
  signal?: AbortSignal;
  maxVersion?: number;
  /** On top of the request's own wait (a JoinGroup waits for the whole group to join). */
  timeoutMs?: number;
}

/**
 * What the remote seam needs of a cluster connection: metadata with each partition's leader,
 * requests to a node, and the coordinators of groups and transactional ids. Kept narrow so the
 * seam's translation does not depend on how connections are pooled.
 */
export interface ClusterLink {
  /** Fresh metadata of `topics` (which the cluster may create when `allowAutoTopicCreation`); the leaders are cached. */
  metadata(topics: string[] | null, allowAutoTopicCreation: boolean): Promise<MetadataResponse>;
  /** The cached leader's node id, or undefined when the partition has none (or is unknown). */
  leaderFor(topic: string, partition: number): number | undefined;
  /** A node to ask what any node can answer. */
  anyNode(): number;
  /** Whether `node` serves `apiKey` in a version both sides know. */
  supports(node: number, apiKey: ApiKey): boolean;
  send<K extends ApiKey>(node: number, apiKey: K, request: EncodeInput<ApiMessageTypes[K]['request']>, options?: SendOptions): Promise<ApiMessageTypes[K]['response']>;
  /** The coordinator node of a group or transactional id (FindCoordinator, cached). */
  coordinator(type: 'group' | 'transaction', key: string): Promise<number>;
  forgetCoordinator(type: 'group' | 'transaction', key: string): void;
  /** The controller's node id, where admin requests go, when the cluster names one it lists. */
  controller?(): number | undefined;
  /** Drops the node's connection after it failed, so the next request opens a fresh one. */
  forgetNode?(node: number): void;
  close(): Promise<void>;
}
