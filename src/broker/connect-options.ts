import { invalidArgument, show, unsupported } from '../errors.js';
import { resolveLogger, type Logger } from '../logger.js';
import type { RemoteApiOptions } from '../remote/remote-kafka-api.js';
import { resolveRemoteOptions, type RemoteOptions, type ResolvedRemoteOptions } from '../remote/remote-options.js';

export interface ConnectOptions extends Omit<RemoteOptions, 'clock'> {
  /** Bootstrap brokers, `'host:port'` each (Kafka's `bootstrap.servers`), tried in turn. */
  brokers: string[];
  /**
   * How long a produce, commit or group call goes on retrying what the cluster calls retriable
   * (a leader that moved, a coordinator loading), as Kafka's `delivery.timeout.ms`.
   * @default 30000
   */
  retryTimeoutMs?: number;
  /** Pause between those retries, as Kafka's `retry.backoff.ms`. @default 100 */
  retryBackoffMs?: number;
  /** How often clients learn of new partitions and deleted topics, as Kafka's `metadata.max.age.ms`. @default 300000 */
  metadataMaxAgeMs?: number;
  /** Replicas of each topic `createTopic` makes; -1 takes the cluster's `default.replication.factor`. @default -1 */
  replicationFactor?: number;
  /** As `Broker.open`'s: where failures no caller can see are reported. @default warnings and errors to stderr */
  logger?: Logger | 'silent';
}

export interface ResolvedConnectOptions {
  brokers: string[];
  remote: ResolvedRemoteOptions;
  api: RemoteApiOptions;
  replicationFactor: number;
  logger: Logger;
}

/** What `Broker.open` takes and a cluster cannot honour: refused with the reason, not ignored. */
const IN_PROCESS_ONLY: Record<string, string> = {
  clock: 'a Kafka cluster keeps its own time (timestamps, session timeouts and retention are the brokers\'); a ManualClock drives only an in-process broker',
  storage: 'the cluster keeps its logs on its brokers; storage options apply to Broker.open',
  autoCreateTopics: "whether topics are created on use is the cluster's auto.create.topics.enable",
  defaultPartitions: "a topic created on use gets the cluster's num.partitions",
  retentionCheckIntervalMs: "the cluster's log.retention.check.interval.ms applies",
};

export function resolveConnectOptions(options: unknown): ResolvedConnectOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgument(`Broker.connect options must be an object (got ${show(options)})`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const why = IN_PROCESS_ONLY[key];
    if (why !== undefined) throw unsupported(`Broker.connect option ${show(key)}`, why);
  }
  const own = ['brokers', 'retryTimeoutMs', 'retryBackoffMs', 'metadataMaxAgeMs', 'replicationFactor', 'logger'];
  const remote = resolveRemoteOptions(o, 'Broker.connect', own);
  const brokers = o.brokers;
  if (!Array.isArray(brokers) || brokers.length === 0 || brokers.some((b) => typeof b !== 'string')) {
    const bad = Array.isArray(brokers) ? brokers.find((b) => typeof b !== 'string') : undefined;
    throw invalidArgument(`brokers must be a non-empty array of 'host:port' strings (got ${bad === undefined ? show(brokers) : `${show(bad)} in it`})`);
  }
  const int = (key: string, fallback: number, min: number): number => {
    const value = o[key] ?? fallback;
    if (!Number.isSafeInteger(value) || (value as number) < min) throw invalidArgument(`${key} must be an integer >= ${min} (got ${show(value)})`);
    return value as number;
  };
  const replicationFactor = int('replicationFactor', -1, -1);
  if (replicationFactor === 0) throw invalidArgument('replicationFactor must be -1 (the cluster\'s default) or at least 1 (got 0)');
  return {
    brokers: brokers as string[],
    remote,
    api: {
      retryTimeoutMs: int('retryTimeoutMs', 30_000, 0),
      retryBackoffMs: int('retryBackoffMs', 100, 1),
      metadataMaxAgeMs: int('metadataMaxAgeMs', 300_000, 1),
      produceTimeoutMs: remote.requestTimeoutMs,
    },
    replicationFactor,
    logger: resolveLogger(o.logger as Logger | 'silent' | undefined),
  };
}
