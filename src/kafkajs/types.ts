/**
 * The shapes of KafkaJS 2.2's public API (`kafkajs/types/index.d.ts`), written for kafkalite's
 * in-process implementation. Names and shapes follow KafkaJS so that code typed against KafkaJS
 * type-checks against these and the other way round.
 */

import type { ConnectionOptions } from 'node:tls';
import type {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  CompressionTypes,
  ConfigResourceTypes,
  ConfigSource,
  ResourcePatternTypes,
  logLevel,
} from './constants.js';
import type { KafkaJSProtocolError } from './errors.js';

type ValueOf<T> = T[keyof T];

// ---------------------------------------------------------------------------------------------
// Client

export type BrokersFunction = () => string[] | Promise<string[]>;

/** Accepted for compatibility; there is no authentication in-process. */
export interface SASLOptions {
  mechanism: string;
  [option: string]: unknown;
}

export interface RetryOptions {
  maxRetryTime?: number;
  initialRetryTime?: number;
  factor?: number;
  multiplier?: number;
  retries?: number;
  restartOnFailure?: (e: Error) => Promise<boolean>;
}

export interface KafkaConfig {
  /** Also the key of the in-process cluster: clients given the same list share one cluster. */
  brokers: string[] | BrokersFunction;
  /** Accepted, no effect in-process. */
  ssl?: ConnectionOptions | boolean;
  /** Accepted, no effect in-process. */
  sasl?: SASLOptions;
  clientId?: string;
  /** Accepted, no effect in-process. */
  connectionTimeout?: number;
  /** Accepted, no effect in-process. */
  authenticationTimeout?: number;
  /** Accepted, no effect in-process. */
  reauthenticationThreshold?: number;
  /** Accepted, no effect in-process. */
  requestTimeout?: number;
  /** Accepted, no effect in-process. */
  enforceRequestTimeout?: boolean;
  /** Used by consumers to retry a failing handler; no request is ever retried in-process. */
  retry?: RetryOptions;
  /** Accepted, no effect in-process. */
  socketFactory?: (args: never) => unknown;
  logLevel?: logLevel;
  logCreator?: logCreator;
}

// ---------------------------------------------------------------------------------------------
// Logging and instrumentation

export interface LoggerEntryContent {
  readonly timestamp: string;
  readonly message: string;
  [key: string]: unknown;
}

export interface LogEntry {
  namespace: string;
  level: logLevel;
  label: string;
  log: LoggerEntryContent;
}

export type logCreator = (logLevel: logLevel) => (entry: LogEntry) => void;

export interface Logger {
  info: (message: string, extra?: object) => void;
  error: (message: string, extra?: object) => void;
  warn: (message: string, extra?: object) => void;
  debug: (message: string, extra?: object) => void;
  namespace: (namespace: string, logLevel?: logLevel) => Logger;
  setLogLevel: (logLevel: logLevel) => void;
}

export interface InstrumentationEvent<T> {
  id: string;
  type: string;
  timestamp: number;
  payload: T;
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- the event name, as in KafkaJS' declaration
export type RemoveInstrumentationEventListener<T> = () => void;

export type ConnectEvent = InstrumentationEvent<null>;
export type DisconnectEvent = InstrumentationEvent<null>;

// ---------------------------------------------------------------------------------------------
// Producer

export interface PartitionMetadata {
  partitionErrorCode: number;
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas?: number[];
}

export interface IHeaders {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined;
}

export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: IHeaders;
  timestamp?: string;
}

export interface PartitionerArgs {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: Message;
}

export type ICustomPartitioner = () => (args: PartitionerArgs) => number;
export type DefaultPartitioner = ICustomPartitioner;
export type LegacyPartitioner = ICustomPartitioner;

export interface ProducerConfig {
  createPartitioner?: ICustomPartitioner;
  /** Accepted, no effect: sends are never retried in-process. */
  retry?: RetryOptions;
  /** Accepted, no effect: metadata is always current in-process. */
  metadataMaxAge?: number;
  /** Send to an unknown topic creates it (when the cluster auto-creates). @default true */
  allowAutoTopicCreation?: boolean;
  /** Sends carry a producer id and per-partition sequences; a retried batch is appended once. */
  idempotent?: boolean;
  /** Needed by `transaction()`; a newer producer with the same id fences this one. */
  transactionalId?: string;
  /** How long a transaction may stay open before the broker aborts it (ms). @default 60000 */
  transactionTimeout?: number;
  /** Accepted, no effect in-process (an idempotent or transactional producer keeps one request in flight). */
  maxInFlightRequests?: number;
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
  acks?: number;
  timeout?: number;
  compression?: CompressionTypes;
}

export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  offset?: string;
  timestamp?: string;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

export interface ProducerBatch {
  acks?: number;
  timeout?: number;
  compression?: CompressionTypes;
  topicMessages?: TopicMessages[];
}

export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface TopicOffsets {
  topic: string;
  partitions: PartitionOffset[];
}

export interface Offsets {
  topics: TopicOffsets[];
}

export interface Sender {
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>;
}

export interface Transaction extends Sender {
  sendOffsets(offsets: Offsets & { consumerGroupId: string }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

export interface ProducerEvents {
  CONNECT: 'producer.connect';
  DISCONNECT: 'producer.disconnect';
  REQUEST: 'producer.network.request';
  REQUEST_TIMEOUT: 'producer.network.request_timeout';
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size';
}

/** Network events: declared for compatibility, never emitted in-process. */
export type RequestEvent = InstrumentationEvent<{
  apiKey: number;
  apiName: string;
  apiVersion: number;
  broker: string;
  clientId: string;
  correlationId: number;
  createdAt: number;
  duration: number;
  pendingDuration: number;
  sentAt: number;
  size: number;
}>;
export type RequestTimeoutEvent = InstrumentationEvent<{
  apiKey: number;
  apiName: string;
  apiVersion: number;
  broker: string;
  clientId: string;
  correlationId: number;
  createdAt: number;
  pendingDuration: number;
  sentAt: number;
}>;
export type RequestQueueSizeEvent = InstrumentationEvent<{ broker: string; clientId: string; queueSize: number }>;

export interface ProducerEventMap {
  'producer.connect': ConnectEvent;
  'producer.disconnect': DisconnectEvent;
  'producer.network.request': RequestEvent;
  'producer.network.request_timeout': RequestTimeoutEvent;
  'producer.network.request_queue_size': RequestQueueSizeEvent;
}

export interface Producer extends Sender {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isIdempotent(): boolean;
  readonly events: ProducerEvents;
  on<E extends ValueOf<ProducerEvents>>(eventName: E, listener: (event: ProducerEventMap[E]) => void): RemoveInstrumentationEventListener<E>;
  transaction(): Promise<Transaction>;
  logger(): Logger;
}

// ---------------------------------------------------------------------------------------------
// Consumer

export interface ConsumerConfig {
  groupId: string;
  /** KafkaJS' assigner factories, in order of preference; run by the group's leader. Default: `[PartitionAssigners.roundRobin]`. */
  partitionAssigners?: PartitionAssigner[];
  /** Accepted, no effect: metadata is always current in-process. */
  metadataMaxAge?: number;
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  /** How often `HEARTBEAT` events are emitted at most; membership itself is kept in the background. */
  heartbeatInterval?: number;
  /** Accepted, no effect (a fetch returns up to 1 MiB per partition). */
  maxBytesPerPartition?: number;
  /** Accepted, no effect in-process. */
  minBytes?: number;
  /** Accepted, no effect in-process. */
  maxBytes?: number;
  /** How long a fetch waits for records. */
  maxWaitTimeInMs?: number;
  retry?: RetryOptions & { restartOnFailure?: (err: Error) => Promise<boolean> };
  allowAutoTopicCreation?: boolean;
  /** Accepted, no effect in-process. */
  maxInFlightRequests?: number;
  /** Read records of open and aborted transactions too (`read_uncommitted`). @default false: `read_committed`, as KafkaJS */
  readUncommitted?: boolean;
  /** Accepted, no effect in-process. */
  rackId?: string;
}

/** KafkaJS' view of the cluster, given to partition assigners: the part of KafkaJS' `Cluster` they read. */
export interface AssignerCluster {
  /** The partitions of a topic; `[]` for a topic the cluster does not know. */
  findTopicPartitionMetadata(topic: string): PartitionMetadata[];
  findLeaderForPartitions(topic: string, partitions: number[]): { [leader: string]: number[] };
  getNodeIds(): number[];
  isConnected(): boolean;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  metadata(): Promise<{
    brokers: Array<{ nodeId: number; host: string; port: number }>;
    topicMetadata: Array<{ topicErrorCode: number; topic: string; partitionMetadata: PartitionMetadata[] }>;
  }>;
  defaultOffset(config: { fromBeginning: boolean }): number;
  fetchTopicsOffset(
    topics: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning?: boolean; fromTimestamp?: number }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

export type Assignment = { [topic: string]: number[] };
export type GroupMember = { memberId: string; memberMetadata: Buffer };
export type GroupMemberAssignment = { memberId: string; memberAssignment: Buffer };
export type GroupState = { name: string; metadata: Buffer };

export interface Assigner {
  name: string;
  version: number;
  assign(group: { members: GroupMember[]; topics: string[] }): Promise<GroupMemberAssignment[]>;
  protocol(subscription: { topics: string[] }): GroupState;
}

/**
 * Declared through a method, so that KafkaJS' own `PartitionAssigner` type (whose `cluster` has
 * more members than an assigner needs) is accepted as well.
 */
export type PartitionAssigner = {
  assigner(config: { cluster: AssignerCluster; groupId: string; logger: Logger }): Assigner;
}['assigner'];

export interface ISerializer<T> {
  encode(value: T): Buffer;
  decode(buffer: Buffer): T | null;
}

export type MemberMetadata = { version: number; topics: string[]; userData: Buffer };
export type MemberAssignment = { version: number; assignment: Assignment; userData: Buffer };

export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  attributes: number;
  offset: string;
  headers: IHeaders;
  size?: never;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

export interface OffsetsByTopicPartition {
  topics: TopicOffsets[];
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
  pause(): () => void;
}

export interface EachBatchPayload {
  batch: Batch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(offsets?: Offsets): Promise<void>;
  uncommittedOffsets(): OffsetsByTopicPartition;
  isRunning(): boolean;
  isStale(): boolean;
}

export type ConsumerEachMessagePayload = EachMessagePayload;
export type ConsumerEachBatchPayload = EachBatchPayload;
export type EachBatchHandler = (payload: EachBatchPayload) => Promise<void>;
export type EachMessageHandler = (payload: EachMessagePayload) => Promise<void>;

export interface ConsumerRunConfig {
  autoCommit?: boolean;
  autoCommitInterval?: number | null;
  autoCommitThreshold?: number | null;
  eachBatchAutoResolve?: boolean;
  partitionsConsumedConcurrently?: number;
  eachBatch?: EachBatchHandler;
  eachMessage?: EachMessageHandler;
}

/** @deprecated Replaced by ConsumerSubscribeTopics */
export type ConsumerSubscribeTopic = { topic: string | RegExp; fromBeginning?: boolean };
export type ConsumerSubscribeTopics = { topics: (string | RegExp)[]; fromBeginning?: boolean };

export type TopicPartitions = { topic: string; partitions: number[] };
export type TopicPartition = { topic: string; partition: number };
export type TopicPartitionOffset = TopicPartition & { offset: string };
export type TopicPartitionOffsetAndMetadata = TopicPartitionOffset & { metadata?: string | null };

export type ConsumerGroupState = 'Unknown' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead' | 'Empty';

export interface MemberDescription {
  clientHost: string;
  clientId: string;
  memberId: string;
  memberAssignment: Buffer;
  memberMetadata: Buffer;
}

export interface GroupDescription {
  groupId: string;
  members: MemberDescription[];
  protocol: string;
  protocolType: string;
  state: ConsumerGroupState;
}

export interface GroupDescriptions {
  groups: GroupDescription[];
}

export interface ConsumerEvents {
  HEARTBEAT: 'consumer.heartbeat';
  COMMIT_OFFSETS: 'consumer.commit_offsets';
  GROUP_JOIN: 'consumer.group_join';
  FETCH_START: 'consumer.fetch_start';
  FETCH: 'consumer.fetch';
  START_BATCH_PROCESS: 'consumer.start_batch_process';
  END_BATCH_PROCESS: 'consumer.end_batch_process';
  CONNECT: 'consumer.connect';
  DISCONNECT: 'consumer.disconnect';
  STOP: 'consumer.stop';
  CRASH: 'consumer.crash';
  REBALANCING: 'consumer.rebalancing';
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics';
  REQUEST: 'consumer.network.request';
  REQUEST_TIMEOUT: 'consumer.network.request_timeout';
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size';
}

export type ConsumerHeartbeatEvent = InstrumentationEvent<{ groupId: string; memberId: string; groupGenerationId: number }>;
export type ConsumerCommitOffsetsEvent = InstrumentationEvent<{
  groupId: string;
  memberId: string;
  groupGenerationId: number;
  topics: TopicOffsets[];
}>;
export interface IMemberAssignment {
  [key: string]: number[];
}
export type ConsumerGroupJoinEvent = InstrumentationEvent<{
  duration: number;
  groupId: string;
  isLeader: boolean;
  leaderId: string;
  groupProtocol: string;
  memberId: string;
  memberAssignment: IMemberAssignment;
}>;
export type ConsumerFetchStartEvent = InstrumentationEvent<{ nodeId: number }>;
export type ConsumerFetchEvent = InstrumentationEvent<{ numberOfBatches: number; duration: number; nodeId: number }>;
export interface IBatchProcessEvent {
  topic: string;
  partition: number;
  highWatermark: string;
  offsetLag: string;
  offsetLagLow: string;
  batchSize: number;
  firstOffset: string;
  lastOffset: string;
}
export type ConsumerStartBatchProcessEvent = InstrumentationEvent<IBatchProcessEvent>;
export type ConsumerEndBatchProcessEvent = InstrumentationEvent<IBatchProcessEvent & { duration: number }>;
export type ConsumerCrashEvent = InstrumentationEvent<{ error: Error; groupId: string; restart: boolean }>;
export type ConsumerRebalancingEvent = InstrumentationEvent<{ groupId: string; memberId: string }>;
export type ConsumerReceivedUnsubcribedTopicsEvent = InstrumentationEvent<{
  groupId: string;
  generationId: number;
  memberId: string;
  assignedTopics: string[];
  topicsSubscribed: string[];
  topicsNotSubscribed: string[];
}>;

export interface ConsumerEventMap {
  'consumer.heartbeat': ConsumerHeartbeatEvent;
  'consumer.commit_offsets': ConsumerCommitOffsetsEvent;
  'consumer.group_join': ConsumerGroupJoinEvent;
  'consumer.fetch_start': ConsumerFetchStartEvent;
  'consumer.fetch': ConsumerFetchEvent;
  'consumer.start_batch_process': ConsumerStartBatchProcessEvent;
  'consumer.end_batch_process': ConsumerEndBatchProcessEvent;
  'consumer.connect': ConnectEvent;
  'consumer.disconnect': DisconnectEvent;
  'consumer.stop': InstrumentationEvent<null>;
  'consumer.crash': ConsumerCrashEvent;
  'consumer.rebalancing': ConsumerRebalancingEvent;
  'consumer.received_unsubscribed_topics': ConsumerReceivedUnsubcribedTopicsEvent;
  'consumer.network.request': RequestEvent;
  'consumer.network.request_timeout': RequestTimeoutEvent;
  'consumer.network.request_queue_size': RequestQueueSizeEvent;
}

export interface Consumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: ConsumerSubscribeTopics | ConsumerSubscribeTopic): Promise<void>;
  stop(): Promise<void>;
  run(config?: ConsumerRunConfig): Promise<void>;
  commitOffsets(topicPartitions: Array<TopicPartitionOffsetAndMetadata>): Promise<void>;
  seek(topicPartitionOffset: TopicPartitionOffset): void;
  describeGroup(): Promise<GroupDescription>;
  pause(topics: Array<{ topic: string; partitions?: number[] }>): void;
  paused(): TopicPartitions[];
  resume(topics: Array<{ topic: string; partitions?: number[] }>): void;
  on<E extends ValueOf<ConsumerEvents>>(eventName: E, listener: (event: ConsumerEventMap[E]) => void): RemoveInstrumentationEventListener<E>;
  logger(): Logger;
  readonly events: ConsumerEvents;
}

// ---------------------------------------------------------------------------------------------
// Admin

export interface AdminConfig {
  /** Accepted, no effect: admin requests are never retried in-process. */
  retry?: RetryOptions;
}

export interface IResourceConfigEntry {
  name: string;
  value: string;
}

export interface ReplicaAssignment {
  partition: number;
  replicas: Array<number>;
}

export interface ITopicConfig {
  topic: string;
  numPartitions?: number;
  /** Accepted (any value), no effect: the in-process cluster keeps one copy. */
  replicationFactor?: number;
  /** Not supported: there are no replicas to assign. */
  replicaAssignment?: ReplicaAssignment[];
  configEntries?: IResourceConfigEntry[];
}

export interface ITopicPartitionConfig {
  topic: string;
  count: number;
  assignments?: Array<Array<number>>;
}

export interface ITopicMetadata {
  name: string;
  partitions: PartitionMetadata[];
}

export type SeekEntry = PartitionOffset;
export type FetchOffsetsPartition = PartitionOffset & { metadata: string | null };

export interface ResourceConfigQuery {
  type: ConfigResourceTypes;
  name: string;
  configNames?: string[];
}

export interface ConfigSynonyms {
  configName: string;
  configValue: string;
  configSource: ConfigSource;
}

export interface ConfigEntries {
  configName: string;
  configValue: string;
  isDefault: boolean;
  configSource: ConfigSource;
  isSensitive: boolean;
  readOnly: boolean;
  configSynonyms: ConfigSynonyms[];
}

export interface DescribeConfigResponse {
  resources: {
    configEntries: ConfigEntries[];
    errorCode: number;
    errorMessage: string;
    resourceName: string;
    resourceType: ConfigResourceTypes;
  }[];
  throttleTime: number;
}

export interface IResourceConfig {
  type: ConfigResourceTypes;
  name: string;
  configEntries: IResourceConfigEntry[];
}

export interface Acl {
  principal: string;
  host: string;
  operation: AclOperationTypes;
  permissionType: AclPermissionTypes;
}

export interface AclResource {
  resourceType: AclResourceTypes;
  resourceName: string;
  resourcePatternType: ResourcePatternTypes;
}

export type AclEntry = Acl & AclResource;
export type DescribeAclResource = AclResource & { acls: Acl[] };

export interface DescribeAclResponse {
  throttleTime: number;
  errorCode: number;
  errorMessage?: string;
  resources: DescribeAclResource[];
}

export interface AclFilter {
  resourceType: AclResourceTypes;
  resourceName?: string;
  resourcePatternType: ResourcePatternTypes;
  principal?: string;
  host?: string;
  operation: AclOperationTypes;
  permissionType: AclPermissionTypes;
}

export interface MatchingAcl {
  errorCode: number;
  errorMessage?: string;
  resourceType: AclResourceTypes;
  resourceName: string;
  resourcePatternType: ResourcePatternTypes;
  principal: string;
  host: string;
  operation: AclOperationTypes;
  permissionType: AclPermissionTypes;
}

export interface DeleteAclFilterResponses {
  errorCode: number;
  errorMessage?: string;
  matchingAcls: MatchingAcl[];
}

export interface DeleteAclResponse {
  throttleTime: number;
  filterResponses: DeleteAclFilterResponses[];
}

export interface PartitionReassignment {
  topic: string;
  partitionAssignment: Array<ReplicaAssignment>;
}

export interface OngoingPartitionReassignment {
  partitionIndex: number;
  replicas: number[];
  addingReplicas?: number[];
  removingReplicas?: number[];
}

export interface OngoingTopicReassignment {
  topic: string;
  partitions: OngoingPartitionReassignment[];
}

export interface ListPartitionReassignmentsResponse {
  topics: OngoingTopicReassignment[];
}

export type GroupOverview = { groupId: string; protocolType: string };

export type DeleteGroupsResult = { groupId: string; errorCode?: number; error?: KafkaJSProtocolError };

export interface AdminEvents {
  CONNECT: 'admin.connect';
  DISCONNECT: 'admin.disconnect';
  REQUEST: 'admin.network.request';
  REQUEST_TIMEOUT: 'admin.network.request_timeout';
  REQUEST_QUEUE_SIZE: 'admin.network.request_queue_size';
}

export interface AdminEventMap {
  'admin.connect': ConnectEvent;
  'admin.disconnect': DisconnectEvent;
  'admin.network.request': RequestEvent;
  'admin.network.request_timeout': RequestTimeoutEvent;
  'admin.network.request_queue_size': RequestQueueSizeEvent;
}

export interface Admin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  createTopics(options: { validateOnly?: boolean; waitForLeaders?: boolean; timeout?: number; topics: ITopicConfig[] }): Promise<boolean>;
  deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void>;
  createPartitions(options: { validateOnly?: boolean; timeout?: number; topicPartitions: ITopicPartitionConfig[] }): Promise<boolean>;
  fetchTopicMetadata(options?: { topics: string[] }): Promise<{ topics: Array<ITopicMetadata> }>;
  fetchOffsets(options: {
    groupId: string;
    topics?: string[];
    resolveOffsets?: boolean;
  }): Promise<Array<{ topic: string; partitions: FetchOffsetsPartition[] }>>;
  fetchTopicOffsets(topic: string): Promise<Array<SeekEntry & { high: string; low: string }>>;
  fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<Array<SeekEntry>>;
  describeCluster(): Promise<{ brokers: Array<{ nodeId: number; host: string; port: number }>; controller: number | null; clusterId: string }>;
  setOffsets(options: { groupId: string; topic: string; partitions: SeekEntry[] }): Promise<void>;
  resetOffsets(options: { groupId: string; topic: string; earliest: boolean }): Promise<void>;
  describeConfigs(configs: { resources: ResourceConfigQuery[]; includeSynonyms: boolean }): Promise<DescribeConfigResponse>;
  alterConfigs(configs: { validateOnly: boolean; resources: IResourceConfig[] }): Promise<unknown>;
  listGroups(): Promise<{ groups: GroupOverview[] }>;
  deleteGroups(groupIds: string[]): Promise<DeleteGroupsResult[]>;
  describeGroups(groupIds: string[]): Promise<GroupDescriptions>;
  describeAcls(options: AclFilter): Promise<DescribeAclResponse>;
  deleteAcls(options: { filters: AclFilter[] }): Promise<DeleteAclResponse>;
  createAcls(options: { acl: AclEntry[] }): Promise<boolean>;
  deleteTopicRecords(options: { topic: string; partitions: SeekEntry[] }): Promise<void>;
  alterPartitionReassignments(request: { topics: PartitionReassignment[]; timeout?: number }): Promise<void>;
  listPartitionReassignments(request: { topics?: TopicPartitions[]; timeout?: number }): Promise<ListPartitionReassignmentsResponse>;
  logger(): Logger;
  on<E extends ValueOf<AdminEvents>>(eventName: E, listener: (event: AdminEventMap[E]) => void): RemoveInstrumentationEventListener<E>;
  readonly events: AdminEvents;
}
