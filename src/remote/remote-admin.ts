import type { ConsumerRecord } from '../types.js';
import { batchLastOffset, decodeRecordsInto } from '../codec/record-batch.js';
import { closed, invalidArgument, invalidPartitions, show, unknownPartition, unknownTopic, unsupported } from '../errors.js';
import type { ConsumerGroup, GroupLag } from '../group/consumer-group.js';
import type { GroupStateName } from '../group/group-state.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type KafkaApi } from '../seam/kafka-api.js';
import { DEFAULT_FETCH_BYTES, type Partition } from '../topic/partition.js';
import type { Topic } from '../topic/topic.js';
import { KAFKA_CONFIG_NAMES, defaultTopicConfig, resolveTopicConfig, validateTopicName, type TopicConfigChanges } from '../topic/topic-config.js';
import type { ResolvedTopicConfig, TopicConfig, TopicPartition } from '../types.js';
import { KafkaErrorCode } from '../wire/kafka-errors.js';
import { parseTopicConfigValue, topicConfigOf } from '../wire/kafka-configs.js';
import { ApiKey, ZERO_UUID, type MetadataResponse } from '../wire/protocol/index.js';
import type { ClusterLink } from './cluster-link.js';
import { clusterError } from './remote-errors.js';

const ADMIN_TIMEOUT_MS = 30_000;

/**
 * The broker's admin surface on a Kafka cluster: topics (CreateTopics, DeleteTopics,
 * CreatePartitions, DescribeConfigs, DeleteRecords) and groups (OffsetFetch, OffsetCommit,
 * DeleteGroups). `broker.topic(name)` and `listTopics()` are synchronous in kafkalite's API, so
 * they answer from the metadata this catalog last fetched (at connect, after each admin call,
 * and whenever `refresh` runs); what only a request can tell — a partition's offsets, a group's
 * live state — is `UNSUPPORTED` as a synchronous getter, and says where to ask instead.
 *
 * Concurrency: admin calls may interleave; each refreshes the cached metadata when it is done.
 */
export class RemoteCatalog {
  #link: ClusterLink;
  #api: KafkaApi;
  #topics = new Map<string, RemoteTopic>();
  #closed = false;
  #timer: NodeJS.Timeout;

  constructor(link: ClusterLink, api: KafkaApi, metadataMaxAgeMs: number) {
    this.#link = link;
    this.#api = api;
    // Topics made or grown elsewhere show in topic() and listTopics() after at most this long.
    this.#timer = setInterval(() => void this.refresh().catch(() => undefined), metadataMaxAgeMs);
    this.#timer.unref();
  }

  /** Fetches the metadata of every topic (of `names`, when given) into the cache. */
  async refresh(names: string[] | null = null): Promise<void> {
    const response = await this.#link.metadata(names, false);
    this.#adopt(response, names);
  }

  /** Takes what a client's metadata request learnt (topics made elsewhere, grown partitions). */
  learn(response: MetadataResponse, names: string[]): void {
    if (!this.#closed) this.#adopt(response, names);
  }

  #adopt(response: MetadataResponse, names: string[] | null): void {
    const seen = new Set<string>();
    for (const t of response.topics) {
      if (t.name === null || t.errorCode !== KafkaErrorCode.NONE) continue;
      seen.add(t.name);
      const existing = this.#topics.get(t.name);
      if (existing !== undefined && existing.id === (t.topicId || ZERO_UUID)) existing.resize(t.partitions.length);
      else this.#topics.set(t.name, new RemoteTopic(t.name, t.topicId || ZERO_UUID, t.partitions.length, this.#api, this));
    }
    for (const name of names ?? [...this.#topics.keys()]) if (!seen.has(name)) this.#topics.delete(name);
  }

  names(): string[] {
    this.#checkOpen();
    return [...this.#topics.keys()].filter((n) => !n.startsWith('__')).sort();
  }

  require(name: string): Topic {
    this.#checkOpen();
    validateTopicName(name);
    const topic = this.#topics.get(name);
    if (topic === undefined) {
      throw unknownTopic(name, ' in the metadata this broker last fetched from the cluster (at connect, after its own admin calls, when its clients look topics up, and every metadataMaxAgeMs)');
    }
    return topic;
  }

  async create(name: string, config: TopicConfig | undefined, replicationFactor: number): Promise<Topic> {
    this.#checkOpen();
    validateTopicName(name);
    const resolved = resolveTopicConfig(name, config, 1);
    const configs = Object.entries(config ?? {})
      .filter(([key, value]) => key !== 'partitions' && value !== undefined)
      .map(([key, value]) => ({ name: KAFKA_CONFIG_NAMES[key as keyof typeof KAFKA_CONFIG_NAMES], value: String(value) }));
    const node = this.#controller();
    await this.#require(node, ApiKey.CreateTopics, 'createTopic');
    const r = await this.#link.send(node, ApiKey.CreateTopics, {
      topics: [{ name, numPartitions: resolved.partitions, replicationFactor, assignments: [], configs }],
      timeoutMs: ADMIN_TIMEOUT_MS,
      validateOnly: false,
    });
    const result = r.topics[0];
    if (result !== undefined && result.errorCode !== KafkaErrorCode.NONE) throw clusterError(result.errorCode, 'createTopic', { topic: name, message: result.errorMessage });
    await this.#awaitTopic(name, true);
    return this.require(name);
  }

  async delete(name: string): Promise<void> {
    this.#checkOpen();
    validateTopicName(name);
    const node = this.#controller();
    await this.#require(node, ApiKey.DeleteTopics, 'deleteTopic');
    const r = await this.#link.send(node, ApiKey.DeleteTopics, { topicNames: [name], topics: [{ name, topicId: ZERO_UUID }], timeoutMs: ADMIN_TIMEOUT_MS });
    const result = r.responses[0];
    if (result !== undefined && result.errorCode !== KafkaErrorCode.NONE) throw clusterError(result.errorCode, 'deleteTopic', { topic: name, message: result.errorMessage });
    await this.#awaitTopic(name, false);
  }

  async addPartitions(topic: RemoteTopic, total: number): Promise<void> {
    if (!Number.isSafeInteger(total) || total <= topic.partitions.length) {
      throw invalidPartitions(`partitions can only grow: ${topic.name} has ${topic.partitions.length}, asked for ${show(total)}`, topic.name);
    }
    const node = this.#controller();
    await this.#require(node, ApiKey.CreatePartitions, 'addPartitions');
    const r = await this.#link.send(node, ApiKey.CreatePartitions, { topics: [{ name: topic.name, count: total, assignments: null }], timeoutMs: ADMIN_TIMEOUT_MS, validateOnly: false });
    const result = r.results[0];
    if (result !== undefined && result.errorCode !== KafkaErrorCode.NONE) throw clusterError(result.errorCode, 'addPartitions', { topic: topic.name, message: result.errorMessage });
    await this.refresh([topic.name]);
  }

  /** The topic's configs by DescribeConfigs, read into kafkalite's keys (Kafka's defaults where the cluster does not serve it). */
  async describe(topic: string, partitions: number): Promise<ResolvedTopicConfig> {
    const config: ResolvedTopicConfig = { ...defaultTopicConfig, partitions };
    const node = this.#link.anyNode();
    if (!(await this.#link.supports(node, ApiKey.DescribeConfigs))) return config;
    const r = await this.#link.send(node, ApiKey.DescribeConfigs, { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: null }] });
    const result = r.results[0];
    if (result === undefined || result.errorCode !== KafkaErrorCode.NONE) throw clusterError(result?.errorCode ?? KafkaErrorCode.UNKNOWN_SERVER_ERROR, 'a description of configs', { topic, message: result?.errorMessage });
    for (const c of result.configs) {
      const known = topicConfigOf(c.name);
      if (known === undefined || !('key' in known) || c.value === null) continue;
      const value = parseTopicConfigValue(known.key, c.value);
      if (value !== undefined) (config as unknown as Record<string, unknown>)[known.key] = value;
    }
    return config;
  }

  async alterConfig(topic: string, changes: TopicConfigChanges): Promise<void> {
    const node = this.#link.anyNode();
    await this.#require(node, ApiKey.IncrementalAlterConfigs, 'alterConfig');
    const configs = Object.entries(changes).map(([key, value]) => {
      const name = KAFKA_CONFIG_NAMES[key as keyof typeof KAFKA_CONFIG_NAMES];
      if (name === undefined) throw invalidArgument(`unknown topic config ${show(key)}`);
      return { name, configOperation: value === null ? 1 : 0, value: value === null ? null : String(value) };
    });
    const r = await this.#link.send(node, ApiKey.IncrementalAlterConfigs, { resources: [{ resourceType: 2, resourceName: topic, configs }], validateOnly: false });
    const result = r.responses[0];
    if (result !== undefined && result.errorCode !== KafkaErrorCode.NONE) throw clusterError(result.errorCode, 'alterConfig', { topic, message: result.errorMessage });
  }

  async deleteRecords(topic: string, partition: number, offset: number): Promise<void> {
    const node = this.#link.leaderFor(topic, partition);
    if (node === undefined) throw clusterError(KafkaErrorCode.LEADER_NOT_AVAILABLE, 'deleteRecordsBefore', { topic, partition });
    await this.#require(node, ApiKey.DeleteRecords, 'deleteRecordsBefore');
    const r = await this.#link.send(node, ApiKey.DeleteRecords, { topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset }] }], timeoutMs: ADMIN_TIMEOUT_MS });
    const code = r.topics[0]?.partitions[0]?.errorCode ?? KafkaErrorCode.NONE;
    if (code !== KafkaErrorCode.NONE) throw clusterError(code, 'deleteRecordsBefore', { topic, partition, offset });
  }

  group(groupId: string): ConsumerGroup {
    this.#checkOpen();
    if (typeof groupId !== 'string' || groupId.length === 0) throw invalidArgument(`groupId must be a non-empty string (got ${show(groupId)})`);
    return new RemoteGroup(groupId, this.#api, this.#link, this);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  /** Kafka's admin requests go to the controller; a cluster that names none (or one it does not list) takes them anywhere. */
  #controller(): number {
    return this.#link.controller() ?? this.#link.anyNode();
  }

  async #require(node: number, apiKey: ApiKey, what: string): Promise<void> {
    if (!(await this.#link.supports(node, apiKey))) throw unsupported(`${what} on this cluster`, `its brokers do not serve the Kafka API it takes (api key ${apiKey})`);
  }

  /** Waits until metadata shows the topic (or no longer does): Kafka's admin calls return before every broker knows. */
  async #awaitTopic(name: string, exists: boolean): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const response = await this.#link.metadata([name], false);
      const t = response.topics.find((x) => x.name === name);
      const there = t !== undefined && t.errorCode === KafkaErrorCode.NONE && t.partitions.every((p) => p.leaderId >= 0);
      if (there === exists) {
        this.#adopt(response, [name]);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw closed('broker');
  }
}

const offsetsNeedRequest = (what: string): Error =>
  unsupported(`${what} of a partition on a Kafka cluster`, 'it takes a request there: use consumer.highWatermark(tp) after a poll, or group.lag()');

/** A topic on the cluster, as its last metadata showed it. */
class RemoteTopic implements Topic {
  readonly name: string;
  readonly id: string;
  #partitions: RemotePartition[] = [];
  #api: KafkaApi;
  #catalog: RemoteCatalog;

  constructor(name: string, id: string, count: number, api: KafkaApi, catalog: RemoteCatalog) {
    this.name = name;
    this.id = id;
    this.#api = api;
    this.#catalog = catalog;
    this.resize(count);
  }

  resize(count: number): void {
    while (this.#partitions.length < count) this.#partitions.push(new RemotePartition(this.name, this.#partitions.length, this.#api, this.#catalog));
  }

  /** The partition count from metadata; the other configs are kafkalite's defaults (`describeConfig()` on the cluster is what is true). */
  get config(): Readonly<ResolvedTopicConfig> {
    return { ...defaultTopicConfig, partitions: this.#partitions.length };
  }

  get partitions(): readonly Partition[] {
    return this.#partitions;
  }

  partition(id: number): Partition {
    const p = this.#partitions[id];
    if (p === undefined) throw unknownPartition(this.name, id, this.#partitions.length);
    return p;
  }

  addPartitions(total: number): Promise<void> {
    return this.#catalog.addPartitions(this, total);
  }

  alterConfig(changes: TopicConfigChanges): Promise<void> {
    return this.#catalog.alterConfig(this.name, changes);
  }

  compact(): Promise<void> {
    return Promise.reject(unsupported('topic.compact() on a Kafka cluster', "the cluster's log cleaner runs on its own schedule (min.cleanable.dirty.ratio)"));
  }
}

class RemotePartition implements Partition {
  readonly topic: string;
  readonly id: number;
  #api: KafkaApi;
  #catalog: RemoteCatalog;

  constructor(topic: string, id: number, api: KafkaApi, catalog: RemoteCatalog) {
    this.topic = topic;
    this.id = id;
    this.#api = api;
    this.#catalog = catalog;
  }

  get logStartOffset(): number {
    throw offsetsNeedRequest('logStartOffset');
  }

  get logEndOffset(): number {
    throw offsetsNeedRequest('logEndOffset');
  }

  async read(offset: number, options: { maxRecords?: number } = {}): Promise<ConsumerRecord[]> {
    const max = options.maxRecords ?? Infinity;
    const records: ConsumerRecord[] = [];
    let from = offset;
    while (records.length < max) {
      const r = await this.#api.fetch({ maxWaitMs: 0, partitions: [{ topic: this.topic, partition: this.id, fetchOffset: from, maxBytes: DEFAULT_FETCH_BYTES }] });
      const p = r.partitions[0]!;
      if (p.error === 'OFFSET_OUT_OF_RANGE') throw clusterError(KafkaErrorCode.OFFSET_OUT_OF_RANGE, 'a read', { topic: this.topic, partition: this.id, offset: from });
      if (p.batches.length === 0) break;
      let next = from;
      for (const batch of p.batches) {
        decodeRecordsInto(records, batch, 0, this.topic, this.id, from, max - records.length);
        next = Math.max(next, batchLastOffset(batch) + 1);
        if (records.length >= max) break;
      }
      if (next <= from || next >= p.highWatermark) break;
      from = next;
    }
    return records;
  }

  deleteRecordsBefore(offset: number): Promise<void> {
    return this.#catalog.deleteRecords(this.topic, this.id, offset);
  }

  async offsetForTimestamp(timestamp: number): Promise<number | undefined> {
    const r = await this.#api.listOffsets({ partitions: [{ topic: this.topic, partition: this.id, timestamp }] });
    const offset = r.partitions[0]!.offset;
    return offset < 0 ? undefined : offset;
  }
}

const groupStateNeedsRequest = (what: string): Error =>
  unsupported(`group.${what} on a Kafka cluster`, "a group's live state takes a request there (DescribeGroups): use committed() and lag(), or Kafka's tooling");

/** A consumer group on the cluster: its committed offsets and lag; its live state is the cluster's. */
class RemoteGroup implements ConsumerGroup {
  readonly id: string;
  #api: KafkaApi;
  #link: ClusterLink;
  #catalog: RemoteCatalog;

  constructor(id: string, api: KafkaApi, link: ClusterLink, catalog: RemoteCatalog) {
    this.id = id;
    this.#api = api;
    this.#link = link;
    this.#catalog = catalog;
  }

  get state(): GroupStateName {
    throw groupStateNeedsRequest('state');
  }

  get generation(): number {
    throw groupStateNeedsRequest('generation');
  }

  members(): { memberId: string; clientId: string; assignment: TopicPartition[] }[] {
    throw groupStateNeedsRequest('members()');
  }

  async committed(tp: TopicPartition): Promise<number | undefined> {
    return (await this.#api.offsetFetch({ groupId: this.id, partitions: [tp] }))[0];
  }

  async lag(): Promise<GroupLag[]> {
    // Every partition of the topics the catalog knows, and of those the ones the group has an
    // offset for (OffsetFetch without topics would say at once, but not every broker answers it
    // in the spec's form).
    const all = this.#catalog.names().flatMap((topic) => this.#catalog.require(topic).partitions.map((p) => ({ topic, partition: p.id })));
    const committed = await this.#api.offsetFetch({ groupId: this.id, partitions: all });
    const tps = all.flatMap((tp, i) => (committed[i] === undefined ? [] : [{ ...tp, committed: committed[i] }]));
    if (tps.length === 0) return [];
    const [ends, starts] = await Promise.all(
      [LATEST_TIMESTAMP, EARLIEST_TIMESTAMP].map((timestamp) => this.#api.listOffsets({ partitions: tps.map((tp) => ({ topic: tp.topic, partition: tp.partition, timestamp })) })),
    );
    return tps.map((tp, i) => {
      const logEndOffset = ends!.partitions[i]!.offset;
      const lag = tp.committed === undefined ? logEndOffset - starts!.partitions[i]!.offset : Math.max(0, logEndOffset - tp.committed);
      return { topic: tp.topic, partition: tp.partition, committed: tp.committed, logEndOffset, lag };
    });
  }

  async resetOffsets(options: { topic: string; to: 'earliest' | 'latest' | number }): Promise<void> {
    const meta = await this.#api.metadata({ topics: [options.topic], allowAutoTopicCreation: false });
    const count = meta.topics[0]?.partitionCount;
    if (count === undefined) throw unknownTopic(options.topic);
    const partitions = Array.from({ length: count }, (_, partition) => ({ topic: options.topic, partition }));
    let offsets: number[];
    if (typeof options.to === 'number') offsets = partitions.map(() => options.to as number);
    else {
      const timestamp = options.to === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
      offsets = (await this.#api.listOffsets({ partitions: partitions.map((p) => ({ ...p, timestamp })) })).partitions.map((p) => p.offset);
    }
    // Kafka takes a commit from outside the group (generation -1) only while the group is empty.
    await this.#api.offsetCommit({ groupId: this.id, generationId: -1, offsets: partitions.map((p, i) => ({ ...p, offset: offsets[i]! })) });
  }

  async delete(): Promise<void> {
    const node = await this.#link.coordinator('group', this.id);
    if (!(await this.#link.supports(node, ApiKey.DeleteGroups))) throw unsupported('group.delete() on this cluster', 'its brokers do not serve DeleteGroups');
    const r = await this.#link.send(node, ApiKey.DeleteGroups, { groupsNames: [this.id] });
    const code = r.results[0]?.errorCode ?? KafkaErrorCode.NONE;
    if (code !== KafkaErrorCode.NONE) throw clusterError(code, 'group.delete()');
  }
}
