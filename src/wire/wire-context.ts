import type { RequestHandler } from '../broker/request-handler.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import type { ProblemLog } from '../logger.js';
import type { TopicRegistry } from '../topic/topic-registry.js';
import type { ApiVersionsResponseApiVersion } from './protocol/index.js';
import type { ResolvedListenOptions } from './listen-options.js';

/**
 * What a broker hands its listeners: the request seam (metadata, produce, fetch, list offsets,
 * offset commit and fetch), the topic registry and the group coordinator for the admin APIs the
 * seam does not have, and state shared by every listener of the broker.
 */
export interface WireBroker {
  readonly api: RequestHandler;
  readonly topics: TopicRegistry;
  readonly groups: GroupCoordinator;
  readonly options: { readonly autoCreateTopics: boolean; readonly defaultPartitions: number; readonly retentionCheckIntervalMs: number };
  readonly log: ProblemLog;
  /** Kafka's cluster id (22 base64url characters), the same for every listener of the broker. */
  readonly clusterId: string;
}

/** What every API handler gets: the broker, this listener's options and address, and the advertised API versions. */
export interface WireContext extends WireBroker {
  readonly listen: ResolvedListenOptions;
  /** The port clients are told to connect to (the bound one when `port: 0` was asked). */
  readonly port: number;
  /** The API versions the listener advertises in ApiVersions, sorted by api key. */
  readonly advertised: readonly ApiVersionsResponseApiVersion[];
}

/** Kafka's broker id: kafkalite is a one-node cluster. */
export const NODE_ID = 0;
