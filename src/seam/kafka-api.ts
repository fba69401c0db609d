/**
 * The one seam between clients and a broker, shaped like Kafka's own requests (Metadata,
 * Produce, Fetch, ListOffsets, the group and transaction requests). Two implementations stand
 * behind it: the in-process broker (`broker/request-handler.ts`, plain method calls, no
 * serialisation) and a Kafka cluster (`remote/remote-kafka-api.ts`, the same requests over Kafka's
 * wire protocol); the wire listener serves the first to any Kafka client. Producer and Consumer
 * are written once, against this file.
 *
 * It is wire-honest: requests and responses are data and error codes only — no clocks, callbacks
 * or error objects — so each can travel in a Kafka frame. What cannot travel is in
 * {@link CallOptions}, which the remote implementation honours locally or refuses. A request the
 * broker refuses as a whole rejects with a `KafkaliteError` whose code stands for Kafka's error
 * code (the remote implementation makes it from the response's code with the same factories).
 *
 * It sits below `topic/` and `group/`, which take their request and response types from it.
 */

import type { TopicPartition, TopicPartitionOffset } from '../types.js';

/**
 * How a call is made, beside what it asks: kept out of the request because it cannot travel in a
 * frame. An aborted `signal` ends a long poll early — in-process the broker answers at once with
 * what there is; a remote call stops waiting (the response is dropped when it comes), as a Kafka
 * consumer's `wakeup()` does.
 */
export interface CallOptions {
  signal?: AbortSignal;
}

/** What happened to a topic, as metadata watchers are told. */
export type TopicChange = 'created' | 'grown' | 'altered' | 'deleted';

/** ListOffsets' special timestamps, as in Kafka. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface MetadataRequest {
  topics: string[];
  /** Create missing topics with the broker's defaults (when the broker allows it). */
  allowAutoTopicCreation: boolean;
}

export interface TopicMetadata {
  name: string;
  partitionCount: number;
  /** The topic's `maxMessageBytes`, which Kafka clients learn through DescribeConfigs. */
  maxMessageBytes: number;
  /** Kept by the broker itself (`__consumer_offsets`): readable, not writable by clients (Metadata's `is_internal`). */
  internal?: boolean;
}

export interface MetadataResponse {
  /** One entry per requested topic that exists (after auto-creation). */
  topics: TopicMetadata[];
  /**
   * Set when the broker creates unknown topics on use: what such a topic gets (Kafka's broker
   * configs `num.partitions` and `message.max.bytes`), so a client can refuse a call that would
   * not fit before asking for the topic to be created.
   */
  autoCreate?: { partitionCount: number; maxMessageBytes: number };
}

export interface ProducePartitionData {
  topic: string;
  partition: number;
  /**
   * One RecordBatch v2, which the broker takes over (it writes the base offset into it). A batch
   * with a producer id is checked against the partition's producer state: a retry of a batch
   * already appended gets that batch's base offset and is not appended again; a gap in the
   * sequences is `OUT_OF_ORDER_SEQUENCE`, an old epoch `PRODUCER_FENCED`.
   */
  records: Uint8Array;
}

export interface ProduceRequest {
  partitions: ProducePartitionData[];
  /** A transactional producer's id (Kafka's Produce carries it for the broker to check). */
  transactionalId?: string | null;
}

export interface ProduceResponse {
  /** The base offset given to each batch, in request order. */
  baseOffsets: number[];
}

/**
 * Which records a fetch may see (Kafka's `isolation.level`): `read_uncommitted` up to the high
 * watermark, open and aborted transactions included; `read_committed` up to the last stable
 * offset, with the aborted transactions listed so the reader can skip them.
 */
export type IsolationLevel = 'read_uncommitted' | 'read_committed';

export interface FetchPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  /** Bytes of batches to return for this partition, at least one batch when there is one. */
  maxBytes: number;
}

export interface FetchRequest {
  /** How long to wait when no partition has records at its fetch offset. */
  maxWaitMs: number;
  partitions: FetchPartition[];
  /** @default 'read_uncommitted' */
  isolationLevel?: IsolationLevel;
}

/** What a fetch can answer for one partition instead of its records. */
export type FetchError = 'UNKNOWN_TOPIC' | 'UNKNOWN_PARTITION' | 'OFFSET_OUT_OF_RANGE';

export interface FetchPartitionResponse {
  topic: string;
  partition: number;
  /** Kafka's error for this partition (by kafkalite's code); no batches then. */
  error?: FetchError;
  highWatermark: number;
  logStartOffset: number;
  batches: Uint8Array[];
  /** With `read_committed`: where the batches stop, and the aborted transactions among them (oldest first). */
  lastStableOffset?: number;
  abortedTransactions?: { producerId: number; firstOffset: number }[];
}

export interface FetchResponse {
  partitions: FetchPartitionResponse[];
}

export interface ListOffsetsPartition {
  topic: string;
  partition: number;
  /** {@link LATEST_TIMESTAMP}, {@link EARLIEST_TIMESTAMP}, or a time (ms): the first record at or after it. */
  timestamp: number;
}

export interface ListOffsetsResponse {
  /** By time: `offset` -1 when no record is that recent (Kafka's answer); `timestamp` is the record's, else -1. */
  partitions: { topic: string; partition: number; offset: number; timestamp: number }[];
}

/** Kafka's InitProducerId: an id and epoch for an idempotent (or transactional) producer. */
export interface InitProducerIdRequest {
  /** `null` for an idempotent producer outside transactions. */
  transactionalId: string | null;
  transactionTimeoutMs: number;
  /**
   * A producer that already has an id and wants a new epoch of it (after a failed batch left its
   * sequences in doubt, KIP-360): its id and epoch; -1 and -1 for a new producer.
   */
  producerId: number;
  producerEpoch: number;
}

export interface InitProducerIdResponse {
  /** Kafka's error code by its name; no id then. */
  error?: 'PRODUCER_FENCED' | 'CONCURRENT_TRANSACTIONS' | 'INVALID_TXN_STATE';
  producerId: number;
  producerEpoch: number;
}

/** Kafka's transaction error codes, by their names. */
export type TxnError = 'PRODUCER_FENCED' | 'INVALID_PRODUCER_ID_MAPPING' | 'INVALID_TXN_STATE' | 'CONCURRENT_TRANSACTIONS' | 'UNKNOWN_TOPIC_OR_PARTITION';

/** Who is asking, in every transactional request after InitProducerId. */
export interface TxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
}

export interface AddPartitionsToTxnRequest extends TxnRequest {
  partitions: TopicPartition[];
}

export interface TxnOffsetCommitRequest extends TxnRequest {
  groupId: string;
  offsets: TopicPartitionOffset[];
}

export interface TxnResponse {
  error?: TxnError;
  /** Why, for the error's message. */
  message?: string;
}

export interface KafkaApi extends GroupApi {
  metadata(request: MetadataRequest): Promise<MetadataResponse>;

  /**
   * Appends every batch, or none: the request is checked whole (topics, partitions, sizes)
   * before the first append.
   */
  produce(request: ProduceRequest): Promise<ProduceResponse>;

  /** Long-polls: returns at once when any partition has records, else waits up to `maxWaitMs`. */
  fetch(request: FetchRequest, options?: CallOptions): Promise<FetchResponse>;

  /** With `read_committed`, the latest offset is the last stable offset (as Kafka answers). */
  listOffsets(request: { partitions: ListOffsetsPartition[]; isolationLevel?: IsolationLevel }): Promise<ListOffsetsResponse>;

  initProducerId(request: InitProducerIdRequest): Promise<InitProducerIdResponse>;

  /** Kafka's AddPartitionsToTxn: the transaction will write to these partitions (before the first produce to each). */
  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<TxnResponse>;

  /** Kafka's AddOffsetsToTxn: the transaction will commit offsets of this group. */
  addOffsetsToTxn(request: TxnRequest & { groupId: string }): Promise<TxnResponse>;

  /** Kafka's TxnOffsetCommit: offsets the group gets if, and when, the transaction commits. */
  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<TxnResponse>;

  /** Kafka's EndTxn: commits or aborts; resolves once every partition has its marker. */
  endTxn(request: TxnRequest & { commit: boolean }): Promise<TxnResponse>;

  /**
   * Calls `listener` with a topic's name and what happened whenever its metadata changes
   * (created, grown, configs altered, deleted), so clients can drop what they cached. Returns the
   * function that unsubscribes.
   */
  watchMetadata(listener: (topic: string, change: TopicChange) => void): () => void;
}

// ---------------------------------------------------------------------------------------------
// Consumer groups, two protocols as Kafka has them.
//
// The consumer protocol (KIP-848's, what kafkalite's in-process consumers use by default): the
// coordinator computes assignments itself and hands them to members through a long-polling
// heartbeat: a member first gives up (revokes) what it must, and is given new partitions only once
// their previous owners have let go, so no partition is ever held by two members at once.
//
// The classic protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup — what every Kafka client
// speaks on the wire): members offer protocols with opaque metadata, the coordinator picks one all
// members support and a leader; the leader runs the assignor and sends every member's assignment
// bytes with its SyncGroup.
//
// A group uses one protocol at a time (the one its members joined with); committed offsets are the
// group's whatever the protocol.

/** A custom assignor, run by the coordinator (the consumer protocol; in-process only). */
export type AssignorFunction = (input: {
  members: { memberId: string; topics: string[]; owned: TopicPartition[] }[];
  partitionCounts: ReadonlyMap<string, number>;
}) => Map<string, TopicPartition[]>;

export interface ConsumerGroupJoinRequest {
  groupId: string;
  clientId: string;
  topics: string[];
  /** The assignor's name; `custom` when the call options carry the function. */
  assignor: string;
  sessionTimeoutMs: number;
  maxPollIntervalMs: number;
}

export interface ConsumerGroupHeartbeatRequest {
  groupId: string;
  memberId: string;
  /** What the member holds now. */
  owned: TopicPartition[];
  /** The subscription, when it changed. */
  topics?: string[];
  /** When the member last polled (or finished a handler): for `maxPollIntervalMs`. */
  polledAt: number;
  /** The generation the member knows, and whether it knows it is settled in it. */
  generation: number;
  settled: boolean;
  /** The member is releasing what it was told to revoke: do not count that as news again. */
  revoking: boolean;
  /** Answer at once when there is news for the member; else after this long. */
  maxWaitMs: number;
}

export interface ConsumerGroupHeartbeatResponse {
  /** `UNKNOWN_MEMBER_ID`: the member was removed (it timed out); it must join again. */
  error?: 'UNKNOWN_MEMBER_ID';
  generation: number;
  /** Partitions the member must give up (finish, commit, then report without them). */
  revoke: TopicPartition[];
  /** Partitions the member now owns. */
  assign: TopicPartition[];
  /** The member holds exactly its target assignment. */
  settled: boolean;
}

/** Kafka's group error codes the classic protocol answers with (by Kafka's names). */
export type GroupError =
  | 'UNKNOWN_MEMBER_ID'
  | 'ILLEGAL_GENERATION'
  | 'REBALANCE_IN_PROGRESS'
  | 'MEMBER_ID_REQUIRED'
  | 'INCONSISTENT_GROUP_PROTOCOL'
  | 'INVALID_SESSION_TIMEOUT'
  | 'COORDINATOR_NOT_AVAILABLE';

export interface JoinGroupRequest {
  groupId: string;
  /** `''` for a member joining for the first time. */
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  /** How long the coordinator waits for every member to rejoin in a rebalance. */
  rebalanceTimeoutMs: number;
  protocolType: string;
  /** In the member's order of preference. */
  protocols: { name: string; metadata: Uint8Array }[];
  /** Kafka ≥ 2.2 (JoinGroup v4+): a new member first gets its id with `MEMBER_ID_REQUIRED`, then joins with it. */
  requireKnownMemberId: boolean;
}

export interface JoinGroupResponse {
  error?: GroupError;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** For the leader only: every member with its metadata for the chosen protocol. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Uint8Array }[];
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  protocolType: string | null;
  protocolName: string | null;
  /** From the leader: each member's assignment bytes. */
  assignments: { memberId: string; assignment: Uint8Array }[];
}

export interface SyncGroupResponse {
  error?: GroupError;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /**
   * In-process members may wait for news: the answer comes at once when a rebalance starts (or the
   * member is gone), else after this long. Wire clients send 0.
   */
  maxWaitMs: number;
}

export interface HeartbeatResponse {
  error?: GroupError;
  /**
   * Cooperative rebalancing, between its two rounds: a member still holds partitions the last
   * assignment gave to another, and will rejoin once it gave them up (kafkalite's coordinator reads
   * the consumer protocol's bytes to know). A member is not settled until this is over.
   */
  revocationsPending?: boolean;
}

export interface OffsetCommitRequest {
  groupId: string;
  /** With a member id, the commit is refused unless that member may commit (fencing). */
  memberId?: string;
  /** The classic protocol's generation of the committing member (-1: not a member). */
  generationId?: number;
  offsets: TopicPartitionOffset[];
}

export interface GroupApi {
  /**
   * The consumer protocol is kafkalite's own (KIP-848's shape, not its wire form): in-process only.
   * A custom assignor function runs in the coordinator, so it goes as a call option.
   */
  consumerGroupJoin(request: ConsumerGroupJoinRequest, options?: { assignor?: AssignorFunction }): Promise<{ memberId: string }>;
  consumerGroupHeartbeat(request: ConsumerGroupHeartbeatRequest, options?: CallOptions): Promise<ConsumerGroupHeartbeatResponse>;
  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse>;
  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse>;
  heartbeat(request: HeartbeatRequest, options?: CallOptions): Promise<HeartbeatResponse>;
  /** Either protocol. */
  leaveGroup(request: { groupId: string; memberId: string }): Promise<void>;
  offsetCommit(request: OffsetCommitRequest): Promise<void>;
  offsetFetch(request: { groupId: string; partitions: TopicPartition[] }): Promise<(number | undefined)[]>;
}
