/**
 * KafkaJS' admin client on the in-process cluster: topics and their configs, partitions, records,
 * offsets of topics and groups, groups, cluster description. Validation and errors follow KafkaJS
 * (its messages, Kafka's protocol errors); nothing is retried, since nothing here can fail for a
 * network reason.
 */

import type { TopicConfig } from '../index.js';
import type { ClientContext } from './client-context.js';
import type { Cluster } from './cluster.js';
import { ConfigResourceTypes, EARLIEST_OFFSET, LATEST_OFFSET, NODE_ID } from './constants.js';
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
import { describeTopicConfigs, parseConfigEntries, replacingChanges } from './topic-configs.js';
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

/** A createTopics entry as kafkalite's topic config; throws Kafka's INVALID_CONFIG / INVALID_PARTITIONS. */
function topicConfig({ numPartitions, replicationFactor, replicaAssignment, configEntries }: ITopicConfig): TopicConfig {
  const config: TopicConfig = parseConfigEntries(configEntries ?? []);
  const partitions = replicaAssignment !== undefined && replicaAssignment.length > 0 ? replicaAssignment.length : (numPartitions ?? -1);
  if (partitions !== -1) {
    if (!Number.isInteger(partitions) || partitions < 1) throw protocolError('INVALID_PARTITIONS', new Error(`numPartitions must be an integer >= 1 (got ${JSON.stringify(partitions)})`));
    config.partitions = partitions;
  }
  if (replicationFactor !== undefined && replicationFactor !== -1 && !(Number.isInteger(replicationFactor) && replicationFactor >= 1)) {
    throw protocolError('INVALID_REPLICATION_FACTOR');
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

/** One resource's answer in AlterConfigs. */
interface AlteredResource {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/**
 * Concurrency: every method may be called at any time, awaited or not; each reads the cluster's
 * state when it runs.
 */
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
          if (!Number.isInteger(count) || count <= topic.partitions.length) {
            throw protocolError('INVALID_PARTITIONS', new Error(`topic ${JSON.stringify(name)} has ${topic.partitions.length} partitions; count must be a larger integer (got ${JSON.stringify(count)})`));
          }
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
   * ListOffsets by time, `partition.offsetForTimestamp`), else the high watermark, as KafkaJS
   * answers; without a timestamp, the high watermark. Kafka's sentinels `-1` (latest) and `-2`
   * (earliest) mean the high and low watermarks.
   */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<SeekEntry[]> {
    checkTopic(topic);
    const cluster = await this.#cluster();
    return kafkaJSErrors(() =>
      Promise.all(
        cluster.broker.topic(topic).partitions.map(async (p) => {
          let offset: number;
          if (timestamp == null || Number(timestamp) === LATEST_OFFSET) offset = p.logEndOffset;
          else if (Number(timestamp) === EARLIEST_OFFSET) offset = p.logStartOffset;
          else offset = (await p.offsetForTimestamp(Number(timestamp))) ?? p.logEndOffset;
          return { partition: p.id, offset: String(offset) };
        }),
      ),
    );
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

  /** Topic configs by Kafka's names (see topic-configs.ts); brokers have none in-process. */
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
        const configEntries: ConfigEntries[] = type === ConfigResourceTypes.TOPIC ? describeTopicConfigs(cluster.broker.topic(name), configNames) : [];
        return { configEntries, errorCode: 0, errorMessage: '', resourceName: name, resourceType: type };
      }),
    }));
  }

  /**
   * Kafka's AlterConfigs (not the incremental one): a topic's configs become the entries given,
   * and every config not given goes back to its default. Each topic changes whole or not at all;
   * as KafkaJS, the call rejects with the first topic's error (`INVALID_CONFIG`,
   * `UNKNOWN_TOPIC_OR_PARTITION`) after the others were applied. `validateOnly` checks without
   * changing anything. Brokers have no configs in-process.
   */
  async alterConfigs(configs: { validateOnly: boolean; resources: IResourceConfig[] }): Promise<{ resources: AlteredResource[] }> {
    const { resources, validateOnly = false } = configs ?? ({} as { resources: IResourceConfig[]; validateOnly: boolean });
    if (!resources || !Array.isArray(resources)) throw new KafkaJSNonRetriableError(`Invalid resources array ${String(resources)}`);
    if (resources.length === 0) throw new KafkaJSNonRetriableError('Resources array cannot be empty');
    const types = Object.values(ConfigResourceTypes) as number[];
    const invalidType = resources.find((r) => !types.includes(r?.type));
    if (invalidType) throw new KafkaJSNonRetriableError(`Invalid resource type ${invalidType.type}: ${JSON.stringify(invalidType)}`);
    const invalidName = resources.find((r) => !r.name || typeof r.name !== 'string');
    if (invalidName) throw new KafkaJSNonRetriableError(`Invalid resource name ${String(invalidName.name)}: ${JSON.stringify(invalidName)}`);
    const invalidConfigs = resources.find((r) => !Array.isArray(r.configEntries));
    if (invalidConfigs) throw new KafkaJSNonRetriableError(`Invalid resource configEntries ${String(invalidConfigs.configEntries)}: ${JSON.stringify(invalidConfigs)}`);
    const invalidValue = resources.find((r) => r.configEntries.some((e) => typeof e?.name !== 'string' || typeof e?.value !== 'string'));
    if (invalidValue) throw new KafkaJSNonRetriableError(`Invalid resource config value: ${JSON.stringify(invalidValue)}`);
    const notTopic = resources.find((r) => r.type !== ConfigResourceTypes.TOPIC);
    if (notTopic) {
      throw notSupported(`admin.alterConfigs of a resource of type ${notTopic.type} (${JSON.stringify(notTopic.name)})`, 'the in-process cluster has topic configs only, no broker configs');
    }
    const cluster = await this.#cluster();
    let failure: unknown;
    const altered: AlteredResource[] = [];
    for (const { type, name, configEntries } of resources) {
      try {
        const topic = cluster.broker.topic(name);
        const changes = replacingChanges(configEntries);
        if (!validateOnly) await topic.alterConfig(changes);
      } catch (error) {
        failure ??= error;
        continue;
      }
      altered.push({ errorCode: 0, errorMessage: null, resourceType: type, resourceName: name });
    }
    if (failure !== undefined) throw toKafkaJSError(failure);
    return { resources: altered };
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
   * Kafka's DeleteGroups: an empty group (no members) is deleted with its committed offsets; a
   * group with members is `NON_EMPTY_GROUP`, one Kafka does not know (neither members nor offsets)
   * `GROUP_ID_NOT_FOUND`. As KafkaJS: resolves `[{ groupId, errorCode: 0 }]` when every group was
   * deleted, else rejects with `KafkaJSDeleteGroupsError` listing the failed groups — after the
   * others were deleted.
   */
  async deleteGroups(groupIds: string[]): Promise<DeleteGroupsResult[]> {
    if (!groupIds || !Array.isArray(groupIds)) throw new KafkaJSNonRetriableError(`Invalid groupIds array ${String(groupIds)}`);
    if (groupIds.some((g) => typeof g !== 'string')) throw new KafkaJSNonRetriableError(`Invalid groupId name: ${JSON.stringify(true)}`);
    if (groupIds.length === 0) return [];
    const cluster = await this.#cluster();
    const errors: DeleteGroupsErrorEntry[] = [];
    const deleted: DeleteGroupsResult[] = [];
    for (const groupId of groupIds) {
      const { state } = await describeGroup(cluster, groupId);
      let type: 'GROUP_ID_NOT_FOUND' | 'NON_EMPTY_GROUP' | undefined = state === 'Dead' ? 'GROUP_ID_NOT_FOUND' : undefined;
      if (type === undefined) {
        try {
          await cluster.broker.group(groupId).delete();
        } catch (error) {
          if (!isCoreError(error, 'GROUP_NOT_EMPTY')) throw toKafkaJSError(error);
          type = 'NON_EMPTY_GROUP'; // members (checked and refused in one step by the coordinator)
        }
      }
      if (type === undefined) deleted.push({ groupId, errorCode: 0 });
      else errors.push({ groupId, errorCode: protocolErrorInfo(type).code, error: protocolError(type) });
    }
    if (errors.length > 0) throw new KafkaJSDeleteGroupsError('Error in DeleteGroups', errors);
    return deleted;
  }

  /**
   * Kafka's DeleteRecords (`partition.deleteRecordsBefore`): each partition's log start moves up
   * to its offset (`-1`: the high watermark), so earlier records are gone for every reader. An
   * offset below the log start deletes nothing (KafkaJS warns); one past the high watermark, or
   * negative, is Kafka's `OFFSET_OUT_OF_RANGE` for that partition, and a partition the topic does
   * not have has no leader: those reject the call with `KafkaJSDeleteTopicRecordsError` (the
   * others' records are deleted, as Kafka answers per partition).
   */
  async deleteTopicRecords(options: { topic: string; partitions: SeekEntry[] }): Promise<void> {
    const { topic, partitions } = options ?? ({} as { topic: string; partitions: SeekEntry[] });
    if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError(`Invalid topic "${String(topic)}"`);
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions');
    const cluster = await this.#cluster();
    const t = await kafkaJSErrors(() => cluster.broker.topic(topic));
    const missing: DeleteTopicRecordsErrorPartition[] = [];
    for (const { partition, offset } of partitions) {
      const p = t.partitions[partition];
      if (p === undefined) {
        missing.push({ partition, offset, error: new KafkaJSBrokerNotFound('Could not find the leader for the partition', { retriable: false }) });
      } else if (Number(offset) < p.logStartOffset && Number(offset) !== LATEST_OFFSET) {
        this.#logger.warn(
          'The requested offset is before the earliest offset maintained on the partition - no records will be deleted from this partition',
          { topic, partition, offset },
        );
      }
    }
    if (missing.length > 0) throw new KafkaJSDeleteTopicRecordsError({ topic, partitions: missing });
    const errors: DeleteTopicRecordsErrorPartition[] = [];
    for (const { partition, offset } of partitions) {
      const p = t.partitions[partition]!;
      const n = Number(offset);
      const target = n === LATEST_OFFSET ? p.logEndOffset : n;
      if (!Number.isSafeInteger(target) || target < 0 || target > p.logEndOffset) {
        errors.push({ partition, offset, error: protocolError('OFFSET_OUT_OF_RANGE') });
        continue;
      }
      try {
        await p.deleteRecordsBefore(target);
      } catch (error) {
        if (isCoreError(error, 'OFFSET_OUT_OF_RANGE')) errors.push({ partition, offset, error: protocolError('OFFSET_OUT_OF_RANGE', error) });
        else throw toKafkaJSError(error);
      }
    }
    if (errors.length > 0) throw new KafkaJSDeleteTopicRecordsError({ topic, partitions: errors });
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
