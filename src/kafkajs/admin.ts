/**
 * KafkaJS' admin client on the in-process cluster: topics, partitions, offsets of topics and
 * groups, groups, cluster description. Validation and errors follow KafkaJS (its messages, Kafka's
 * protocol errors); nothing is retried, since nothing here can fail for a network reason.
 */

import type { Partition, TopicConfig } from '../index.js';
import type { ClientContext } from './client-context.js';
import type { Cluster } from './cluster.js';
import { ConfigResourceTypes, ConfigSource, EARLIEST_OFFSET, LATEST_OFFSET, NODE_ID } from './constants.js';
import {
  KafkaJSAggregateError,
  KafkaJSBrokerNotFound,
  KafkaJSCreateTopicError,
  KafkaJSDeleteGroupsError,
  KafkaJSDeleteTopicRecordsError,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  isCoreError,
  kafkaJSErrors,
  notSupported,
  protocolError,
  protocolErrorInfo,
  toKafkaJSError,
  type DeleteGroupsErrorEntry,
  type DeleteTopicRecordsErrorPartition,
  type ProtocolErrorInfo,
} from './errors.js';
import { describeGroup, listGroupIds } from './groups.js';
import { adminEvents, Instrumentation } from './instrumentation.js';
import type {
  AclEntry,
  AclFilter,
  Admin,
  AdminConfig,
  AdminEventMap,
  AdminEvents,
  ConfigEntries,
  DeleteAclResponse,
  DeleteGroupsResult,
  DescribeAclResponse,
  DescribeConfigResponse,
  FetchOffsetsPartition,
  GroupDescriptions,
  GroupOverview,
  IResourceConfig,
  ITopicConfig,
  ITopicMetadata,
  ITopicPartitionConfig,
  ListPartitionReassignmentsResponse,
  Logger,
  PartitionReassignment,
  RemoveInstrumentationEventListener,
  ResourceConfigQuery,
  SeekEntry,
  TopicPartitions,
} from './types.js';

type ValueOf<T> = T[keyof T];

/** Topic configs kafkalite applies, by Kafka name, with Kafka's defaults. */
const appliedConfigs: Record<string, { field: keyof TopicConfig; default: string }> = {
  'cleanup.policy': { field: 'cleanupPolicy', default: 'delete' },
  'max.message.bytes': { field: 'maxMessageBytes', default: '1048576' },
  'retention.bytes': { field: 'retentionBytes', default: '-1' },
  'retention.ms': { field: 'retentionMs', default: '604800000' },
  'segment.bytes': { field: 'segmentBytes', default: '1073741824' },
};

/** Kafka topic configs that mean nothing in-process: accepted, and ignored. */
const ignoredConfigs = new Set([
  'compression.type',
  'delete.retention.ms',
  'file.delete.delay.ms',
  'flush.messages',
  'flush.ms',
  'follower.replication.throttled.replicas',
  'index.interval.bytes',
  'leader.replication.throttled.replicas',
  'local.retention.bytes',
  'local.retention.ms',
  'max.compaction.lag.ms',
  'message.downconversion.enable',
  'message.format.version',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.difference.max.ms',
  'message.timestamp.type',
  'min.cleanable.dirty.ratio',
  'min.compaction.lag.ms',
  'min.insync.replicas',
  'preallocate',
  'remote.storage.enable',
  'segment.index.bytes',
  'segment.jitter.ms',
  'segment.ms',
  'unclean.leader.election.enable',
]);

/** A createTopics entry as kafkalite's topic config; throws Kafka's INVALID_CONFIG / INVALID_PARTITIONS. */
function topicConfig({ numPartitions, replicationFactor, replicaAssignment, configEntries }: ITopicConfig): TopicConfig {
  const config: TopicConfig = {};
  const partitions = replicaAssignment !== undefined && replicaAssignment.length > 0 ? replicaAssignment.length : (numPartitions ?? -1);
  if (partitions !== -1) {
    if (!Number.isInteger(partitions) || partitions < 1) throw protocolError('INVALID_PARTITIONS');
    config.partitions = partitions;
  }
  if (replicationFactor !== undefined && replicationFactor !== -1 && !(Number.isInteger(replicationFactor) && replicationFactor >= 1)) {
    throw protocolError('INVALID_REPLICATION_FACTOR');
  }
  for (const { name, value } of configEntries ?? []) {
    const applied = appliedConfigs[name];
    if (applied === undefined) {
      if (ignoredConfigs.has(name)) continue;
      throw protocolError('INVALID_CONFIG');
    }
    if (applied.field === 'cleanupPolicy') {
      const policies = value.split(',').map((p) => p.trim());
      if (policies.length === 0 || policies.some((p) => p !== 'delete' && p !== 'compact')) throw protocolError('INVALID_CONFIG');
      config.cleanupPolicy = policies.includes('compact') ? 'compact' : 'delete';
    } else {
      const n = Number(value);
      if (value.trim() === '' || !Number.isSafeInteger(n)) throw protocolError('INVALID_CONFIG');
      (config as Record<string, number>)[applied.field] = n;
    }
  }
  return config;
}

/** Kafka's topic-name rules, for `validateOnly`. */
const validTopicName = (name: string): boolean => name.length > 0 && name.length <= 249 && name !== '.' && name !== '..' && /^[a-zA-Z0-9._-]+$/.test(name);

/** The protocol error behind a failure, for per-topic errors. */
function infoOf(error: unknown): ProtocolErrorInfo {
  const mapped = toKafkaJSError(error);
  if (mapped instanceof KafkaJSProtocolError) return { type: mapped.type, code: mapped.code, retriable: mapped.retriable, message: mapped.message };
  return { type: 'UNKNOWN_SERVER_ERROR', code: -1, retriable: false, message: mapped instanceof Error ? mapped.message : String(mapped) };
}

function checkTopicNames(topics: unknown, what = 'topics'): asserts topics is { topic: string }[] {
  if (!topics || !Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid ${what} array ${String(topics)}`);
  if (topics.some((t: { topic?: unknown }) => typeof t?.topic !== 'string')) {
    throw new KafkaJSNonRetriableError(`Invalid ${what} array, the topic names have to be a valid string`);
  }
  if (new Set(topics.map((t: { topic: string }) => t.topic)).size < topics.length) {
    throw new KafkaJSNonRetriableError(`Invalid ${what} array, it cannot have multiple entries for the same topic`);
  }
}

function checkTopic(topic: unknown): asserts topic is string {
  if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`);
}

/** The first offset whose record has a timestamp at or after `timestamp`, else the log end. */
async function offsetForTimestamp(partition: Partition, timestamp: number): Promise<number> {
  let next = partition.logStartOffset;
  for (;;) {
    const records = await partition.read(next, { maxRecords: 1000 });
    if (records.length === 0) return partition.logEndOffset;
    const hit = records.find((r) => r.timestamp >= timestamp);
    if (hit !== undefined) return hit.offset;
    next = records[records.length - 1]!.offset + 1;
  }
}

export class LiteAdmin implements Admin {
  readonly events: AdminEvents = adminEvents;
  #ctx: ClientContext;
  #logger: Logger;
  #instrumentation: Instrumentation<AdminEvents>;

  constructor(ctx: ClientContext, _config: AdminConfig = {}) {
    this.#ctx = ctx;
    this.#logger = ctx.logger.namespace('Admin');
    this.#instrumentation = new Instrumentation('admin', adminEvents, this.#logger, ctx.now);
  }

  async connect(): Promise<void> {
    await this.#ctx.cluster();
    this.#instrumentation.emit(adminEvents.CONNECT);
  }

  async disconnect(): Promise<void> {
    this.#instrumentation.emit(adminEvents.DISCONNECT);
  }

  /** Topic names; like kafkalite, internal ones (`__consumer_offsets`) are not listed. */
  async listTopics(): Promise<string[]> {
    return (await this.#cluster()).broker.listTopics();
  }

  /** True when every topic was created; false when the only failures were topics that exist (the others are created). */
  async createTopics(options: { validateOnly?: boolean; waitForLeaders?: boolean; timeout?: number; topics: ITopicConfig[] }): Promise<boolean> {
    const { topics, validateOnly = false } = options ?? ({} as { topics: ITopicConfig[] });
    checkTopicNames(topics);
    for (const { topic, configEntries } of topics) {
      if (configEntries == null) continue;
      if (!Array.isArray(configEntries)) throw new KafkaJSNonRetriableError(`Invalid configEntries for topic "${topic}", must be an array`);
      configEntries.forEach((entry: unknown, index) => {
        if (typeof entry !== 'object' || entry == null) {
          throw new KafkaJSNonRetriableError(`Invalid configEntries for topic "${topic}". Entry ${index} must be an object`);
        }
        for (const property of ['name', 'value'] as const) {
          if (typeof (entry as Record<string, unknown>)[property] !== 'string') {
            throw new KafkaJSNonRetriableError(`Invalid configEntries for topic "${topic}". Entry ${index} must have a valid "${property}" property`);
          }
        }
      });
    }
    const cluster = await this.#cluster();
    const errors: KafkaJSCreateTopicError[] = [];
    for (const entry of topics) {
      try {
        const config = topicConfig(entry);
        if (validateOnly) {
          if (!validTopicName(entry.topic)) throw protocolError('INVALID_TOPIC_EXCEPTION');
          if (cluster.broker.listTopics().includes(entry.topic)) throw protocolError('TOPIC_ALREADY_EXISTS');
        } else {
          await cluster.broker.createTopic(entry.topic, config);
        }
      } catch (error) {
        errors.push(new KafkaJSCreateTopicError(infoOf(error), entry.topic, { cause: error }));
      }
    }
    if (errors.length === 0) return true;
    if (errors.every((e) => e.type === 'TOPIC_ALREADY_EXISTS')) return false;
    throw new KafkaJSAggregateError('Topic creation errors', errors);
  }

  async deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void> {
    const { topics } = options ?? ({} as { topics: string[] });
    if (!topics || !Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${String(topics)}`);
    if (topics.some((t) => typeof t !== 'string')) throw new KafkaJSNonRetriableError('Invalid topics array, the names must be a valid string');
    const cluster = await this.#cluster();
    let failure: unknown;
    for (const topic of topics) {
      try {
        await cluster.broker.deleteTopic(topic);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw toKafkaJSError(failure);
  }

  async createPartitions(options: { validateOnly?: boolean; timeout?: number; topicPartitions: ITopicPartitionConfig[] }): Promise<boolean> {
    const { topicPartitions, validateOnly = false } = options ?? ({} as { topicPartitions: ITopicPartitionConfig[] });
    if (!topicPartitions || !Array.isArray(topicPartitions)) {
      throw new KafkaJSNonRetriableError(`Invalid topic partitions array ${String(topicPartitions)}`);
    }
    if (topicPartitions.length === 0) throw new KafkaJSNonRetriableError('Empty topic partitions array');
    checkTopicNames(topicPartitions, 'topic partitions');
    const cluster = await this.#cluster();
    await kafkaJSErrors(async () => {
      for (const { topic: name, count } of topicPartitions) {
        const topic = cluster.broker.topic(name);
        if (validateOnly) {
          if (!Number.isInteger(count) || count <= topic.partitions.length) throw protocolError('INVALID_PARTITIONS');
        } else {
          await topic.addPartitions(count);
        }
      }
    });
    return true;
  }

  async fetchTopicMetadata(options?: { topics: string[] }): Promise<{ topics: ITopicMetadata[] }> {
    const requested = options?.topics ?? [];
    requested.forEach((t) => checkTopic(t));
    const cluster = await this.#cluster();
    const names = requested.length > 0 ? requested : cluster.broker.listTopics();
    return kafkaJSErrors(() => ({ topics: names.map((name) => ({ name, partitions: cluster.partitionMetadata(name) })) }));
  }

  async fetchTopicOffsets(topic: string): Promise<Array<SeekEntry & { high: string; low: string }>> {
    checkTopic(topic);
    const cluster = await this.#cluster();
    return kafkaJSErrors(() =>
      cluster.broker.topic(topic).partitions.map((p) => ({
        partition: p.id,
        offset: String(p.logEndOffset),
        high: String(p.logEndOffset),
        low: String(p.logStartOffset),
      })),
    );
  }

  /**
   * Per partition, the first offset whose record's timestamp is at or after `timestamp` (Kafka's
   * ListOffsets by time), else the high watermark; without a timestamp, the high watermark.
   * kafkalite has no time index: the partition's records are read from the start.
   */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<SeekEntry[]> {
    checkTopic(topic);
    const cluster = await this.#cluster();
    return kafkaJSErrors(async () => {
      const out: SeekEntry[] = [];
      for (const p of cluster.broker.topic(topic).partitions) {
        const offset = timestamp == null ? p.logEndOffset : await offsetForTimestamp(p, timestamp);
        out.push({ partition: p.id, offset: String(offset) });
      }
      return out;
    });
  }

  /** Committed offsets (`'-1'` for none); without `topics`, every topic the group has offsets for. */
  async fetchOffsets(options: {
    groupId: string;
    topics?: string[];
    resolveOffsets?: boolean;
  }): Promise<Array<{ topic: string; partitions: FetchOffsetsPartition[] }>> {
    const { groupId, resolveOffsets = false } = options ?? ({} as { groupId: string });
    let { topics } = options ?? {};
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${String(groupId)}`);
    topics ??= [];
    if (!Array.isArray(topics)) throw new KafkaJSNonRetriableError('Expected topics array to be set');
    const cluster = await this.#cluster();
    const group = cluster.broker.group(groupId);
    const result = await kafkaJSErrors(async () => {
      if (topics.length === 0) {
        const byTopic = new Map<string, FetchOffsetsPartition[]>();
        for (const l of await group.lag()) {
          if (l.committed === undefined) continue;
          byTopic.set(l.topic, [...(byTopic.get(l.topic) ?? []), { partition: l.partition, offset: String(l.committed), metadata: null }]);
        }
        return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
      }
      const out: { topic: string; partitions: FetchOffsetsPartition[] }[] = [];
      for (const topic of topics) {
        const partitions: FetchOffsetsPartition[] = [];
        for (const p of cluster.broker.topic(topic).partitions) {
          const committed = await group.committed({ topic, partition: p.id });
          partitions.push({ partition: p.id, offset: String(committed ?? LATEST_OFFSET), metadata: null });
        }
        out.push({ topic, partitions });
      }
      return out;
    });
    if (!resolveOffsets) return result;
    // As KafkaJS: -1 (nothing committed) becomes the high watermark, -2 the low one, and the group is set to them.
    for (const { topic, partitions } of result) {
      const offsets = new Map((await this.fetchTopicOffsets(topic)).map((o) => [o.partition, o]));
      for (const p of partitions) {
        if (Number(p.offset) === LATEST_OFFSET) p.offset = offsets.get(p.partition)!.high;
        if (Number(p.offset) === EARLIEST_OFFSET) p.offset = offsets.get(p.partition)!.low;
      }
      await this.setOffsets({ groupId, topic, partitions: partitions.map(({ partition, offset }) => ({ partition, offset })) });
    }
    return result;
  }

  /** Commits offsets for a group that has no running member (`'-2'` earliest, `'-1'` latest). */
  async setOffsets(options: { groupId: string; topic: string; partitions: SeekEntry[] }): Promise<void> {
    const { groupId, topic, partitions } = options ?? ({} as { groupId: string; topic: string; partitions: SeekEntry[] });
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${String(groupId)}`);
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`);
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions');
    const cluster = await this.#cluster();
    const state = cluster.broker.group(groupId).state;
    if (state !== 'Empty' && state !== 'Dead') {
      throw new KafkaJSNonRetriableError(`The consumer group must have no running instances, current state: ${state}`);
    }
    await kafkaJSErrors(async () => {
      const t = cluster.broker.topic(topic);
      const offsets = partitions.map(({ partition, offset }) => {
        const n = Number(offset);
        if (!Number.isSafeInteger(n)) throw new KafkaJSNonRetriableError(`Invalid offset, expected a long received ${String(offset)}`);
        const p = t.partition(partition);
        const resolved = n === EARLIEST_OFFSET ? p.logStartOffset : n === LATEST_OFFSET ? p.logEndOffset : n;
        if (resolved < 0) throw new KafkaJSNonRetriableError('Offset must not be a negative number');
        return { topic, partition, offset: resolved };
      });
      // A consumer outside the group (no member id) commits, as KafkaJS' admin does with a fresh one.
      const committer = cluster.broker.consumer({ groupId, autoCommit: false, clientId: 'kafkajs-admin' });
      try {
        await committer.commit(offsets);
      } finally {
        await committer.close();
      }
    });
  }

  /** Sets the group's offsets of every partition of `topic` to its log start (`earliest`) or end. */
  async resetOffsets(options: { groupId: string; topic: string; earliest: boolean }): Promise<void> {
    const { groupId, topic, earliest = false } = options ?? ({} as { groupId: string; topic: string; earliest: boolean });
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${String(groupId)}`);
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`);
    const cluster = await this.#cluster();
    const group = cluster.broker.group(groupId);
    try {
      await group.resetOffsets({ topic, to: earliest ? 'earliest' : 'latest' });
    } catch (error) {
      if (isCoreError(error, 'GROUP_NOT_EMPTY')) {
        throw new KafkaJSNonRetriableError(`The consumer group must have no running instances, current state: ${group.state}`);
      }
      throw toKafkaJSError(error);
    }
  }

  /** Topic configs kafkalite keeps (`cleanup.policy`, `max.message.bytes`, `retention.*`, `segment.bytes`); brokers have none. */
  async describeConfigs(configs: { resources: ResourceConfigQuery[]; includeSynonyms: boolean }): Promise<DescribeConfigResponse> {
    const { resources } = configs ?? ({} as { resources: ResourceConfigQuery[] });
    if (!resources || !Array.isArray(resources)) throw new KafkaJSNonRetriableError(`Invalid resources array ${String(resources)}`);
    if (resources.length === 0) throw new KafkaJSNonRetriableError('Resources array cannot be empty');
    const types = Object.values(ConfigResourceTypes) as number[];
    for (const r of resources) {
      if (!types.includes(r.type)) throw new KafkaJSNonRetriableError(`Invalid resource type ${r.type}: ${JSON.stringify(r)}`);
      if (!r.name || typeof r.name !== 'string') throw new KafkaJSNonRetriableError(`Invalid resource name ${String(r.name)}: ${JSON.stringify(r)}`);
      if (r.configNames != null && !Array.isArray(r.configNames)) {
        throw new KafkaJSNonRetriableError(`Invalid resource configNames ${String(r.configNames)}: ${JSON.stringify(r)}`);
      }
    }
    const cluster = await this.#cluster();
    return kafkaJSErrors(() => ({
      throttleTime: 0,
      resources: resources.map(({ type, name, configNames }) => {
        let configEntries: ConfigEntries[] = [];
        if (type === ConfigResourceTypes.TOPIC) {
          const config = cluster.broker.topic(name).config;
          configEntries = Object.entries(appliedConfigs).map(([configName, { field, default: fallback }]) => {
            const configValue = String(config[field]);
            const isDefault = configValue === fallback;
            return {
              configName,
              configValue,
              isDefault,
              configSource: isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.TOPIC_CONFIG,
              isSensitive: false,
              readOnly: false,
              configSynonyms: [],
            };
          });
          if (configNames != null && configNames.length > 0) configEntries = configEntries.filter((e) => configNames.includes(e.configName));
        }
        return { configEntries, errorCode: 0, errorMessage: '', resourceName: name, resourceType: type };
      }),
    }));
  }

  async alterConfigs(configs: { validateOnly: boolean; resources: IResourceConfig[] }): Promise<unknown> {
    const { resources } = configs ?? ({} as { resources: IResourceConfig[] });
    if (!resources || !Array.isArray(resources)) throw new KafkaJSNonRetriableError(`Invalid resources array ${String(resources)}`);
    if (resources.length === 0) throw new KafkaJSNonRetriableError('Resources array cannot be empty');
    throw notSupported('admin.alterConfigs', "kafkalite cannot change a topic's config after it is created");
  }

  async listGroups(): Promise<{ groups: GroupOverview[] }> {
    const cluster = await this.#cluster();
    return { groups: (await listGroupIds(cluster)).map((groupId) => ({ groupId, protocolType: 'consumer' })) };
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescriptions> {
    const cluster = await this.#cluster();
    return { groups: await Promise.all((groupIds ?? []).map((id) => describeGroup(cluster, id))) };
  }

  /**
   * Kafka's answers for a group with members (`NON_EMPTY_GROUP`) or unknown (`GROUP_ID_NOT_FOUND`)
   * are given; deleting an empty group's committed offsets is not supported yet.
   */
  async deleteGroups(groupIds: string[]): Promise<DeleteGroupsResult[]> {
    if (!groupIds || !Array.isArray(groupIds)) throw new KafkaJSNonRetriableError(`Invalid groupIds array ${String(groupIds)}`);
    if (groupIds.some((g) => typeof g !== 'string')) throw new KafkaJSNonRetriableError(`Invalid groupId name: ${JSON.stringify(true)}`);
    if (groupIds.length === 0) return [];
    const cluster = await this.#cluster();
    const errors: DeleteGroupsErrorEntry[] = [];
    const deletable: string[] = [];
    for (const groupId of groupIds) {
      const { state, members } = await describeGroup(cluster, groupId);
      const type = state === 'Dead' ? 'GROUP_ID_NOT_FOUND' : members.length > 0 ? 'NON_EMPTY_GROUP' : undefined;
      if (type === undefined) deletable.push(groupId);
      else errors.push({ groupId, errorCode: protocolErrorInfo(type).code, error: protocolError(type) });
    }
    if (deletable.length > 0) {
      throw notSupported(
        `admin.deleteGroups (of ${deletable.map((g) => JSON.stringify(g)).join(', ')})`,
        "kafkalite's public API cannot delete a group's committed offsets",
      );
    }
    throw new KafkaJSDeleteGroupsError('Error in DeleteGroups', errors);
  }

  /**
   * Succeeds when there is nothing to delete (every offset at or below the log start); moving a
   * log start offset up is not supported yet.
   */
  async deleteTopicRecords(options: { topic: string; partitions: SeekEntry[] }): Promise<void> {
    const { topic, partitions } = options ?? ({} as { topic: string; partitions: SeekEntry[] });
    if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError(`Invalid topic "${String(topic)}"`);
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions');
    const cluster = await this.#cluster();
    const t = await kafkaJSErrors(() => cluster.broker.topic(topic));
    const errors: DeleteTopicRecordsErrorPartition[] = [];
    const toDelete: number[] = [];
    for (const { partition, offset } of partitions) {
      const p = t.partitions[partition];
      if (p === undefined) {
        errors.push({ partition, offset, error: new KafkaJSBrokerNotFound('Could not find the leader for the partition', { retriable: false }) });
        continue;
      }
      const target = Number(offset) === LATEST_OFFSET ? p.logEndOffset : Number(offset);
      if (!Number.isSafeInteger(target) || target > p.logEndOffset || target < 0) {
        errors.push({ partition, offset, error: protocolError('OFFSET_OUT_OF_RANGE') });
      } else if (target < p.logStartOffset) {
        this.#logger.warn(
          'The requested offset is before the earliest offset maintained on the partition - no records will be deleted from this partition',
          { topic, partition, offset },
        );
      } else if (target > p.logStartOffset) {
        toDelete.push(partition);
      }
    }
    if (errors.length > 0) throw new KafkaJSDeleteTopicRecordsError({ topic, partitions: errors });
    if (toDelete.length > 0) {
      throw notSupported('admin.deleteTopicRecords', "kafkalite's public API cannot move a partition's log start offset (delete records before an offset)");
    }
  }

  async describeCluster(): Promise<{ brokers: Array<{ nodeId: number; host: string; port: number }>; controller: number | null; clusterId: string }> {
    const cluster = await this.#cluster();
    return { brokers: cluster.nodes(), controller: NODE_ID, clusterId: cluster.clusterId };
  }

  /** There is no authorization in-process: no ACL exists. */
  async describeAcls(_options: AclFilter): Promise<DescribeAclResponse> {
    return { throttleTime: 0, errorCode: 0, resources: [] };
  }

  async deleteAcls(options: { filters: AclFilter[] }): Promise<DeleteAclResponse> {
    return { throttleTime: 0, filterResponses: (options?.filters ?? []).map(() => ({ errorCode: 0, matchingAcls: [] })) };
  }

  async createAcls(options: { acl: AclEntry[] }): Promise<boolean> {
    const acl = options?.acl;
    if (!acl || !Array.isArray(acl)) throw new KafkaJSNonRetriableError(`Invalid ACL array ${String(acl)}`);
    if (acl.length === 0) throw new KafkaJSNonRetriableError('Empty ACL array');
    throw notSupported('admin.createAcls', 'the in-process cluster has no authorization, so an ACL could not be enforced');
  }

  async alterPartitionReassignments(_request: { topics: PartitionReassignment[]; timeout?: number }): Promise<void> {
    throw notSupported('admin.alterPartitionReassignments', 'the in-process cluster keeps a single replica of each partition');
  }

  /** No reassignment is ever in progress in-process. */
  async listPartitionReassignments(_request: { topics?: TopicPartitions[]; timeout?: number }): Promise<ListPartitionReassignmentsResponse> {
    return { topics: [] };
  }

  logger(): Logger {
    return this.#logger;
  }

  on<E extends ValueOf<AdminEvents>>(eventName: E, listener: (event: AdminEventMap[E]) => void): RemoveInstrumentationEventListener<E> {
    return this.#instrumentation.on(eventName, listener);
  }

  #cluster(): Promise<Cluster> {
    return this.#ctx.cluster();
  }
}
