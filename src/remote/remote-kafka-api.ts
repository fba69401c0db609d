import { batchSize, RECORD_BATCH_HEADER_SIZE } from '../codec/record-batch.js';
import { closed, unknownPartition, unknownTopic, unsupported } from '../errors.js';
import type {
  AddPartitionsToTxnRequest,
  AssignorFunction,
  CallOptions,
  ConsumerGroupHeartbeatResponse,
  FetchPartitionResponse,
  FetchRequest,
  FetchResponse,
  GroupError,
  HeartbeatRequest,
  HeartbeatResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  KafkaApi,
  ListOffsetsPartition,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  OffsetCommitRequest,
  ProduceRequest,
  ProduceResponse,
  SyncGroupRequest,
  SyncGroupResponse,
  TopicChange,
  TopicMetadata,
  TxnError,
  TxnOffsetCommitRequest,
  TxnRequest,
  TxnResponse,
  IsolationLevel,
} from '../seam/kafka-api.js';
import type { TopicPartition } from '../types.js';
import { KafkaErrorCode } from '../wire/kafka-errors.js';
import { ApiKey, type MetadataResponse as KafkaMetadata } from '../wire/protocol/index.js';
import type { ClusterLink } from './cluster-link.js';
import { clusterError, isMovedCode, isRetriableCode, kafkaErrorName } from './remote-errors.js';

/** What Kafka's brokers take by default (`message.max.bytes`): a producer's check before it asks. */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** Names every partition of a Fetch (Fetch v13 and later name topics by id only). */
const MAX_FETCH_VERSION = 12;
/**
 * ListOffsets v4 and later add only leader-epoch fencing, which these clients do not use (they send
 * -1); librdkafka's mock broker (2.0) garbles those versions' answers for several partitions.
 */
const MAX_LIST_OFFSETS_VERSION = 3;
/** Kafka's `fetch.max.bytes`. */
const FETCH_MAX_BYTES = 52_428_800;

export interface RemoteApiOptions {
  /** How long a produce, commit or group call keeps retrying what the cluster calls retriable (Kafka's `delivery.timeout.ms`, shorter). */
  retryTimeoutMs: number;
  /** Pause between retries (Kafka's `retry.backoff.ms`). */
  retryBackoffMs: number;
  /** How long the leader waits for the in-sync replicas of a produce (Produce's `timeout_ms`). */
  produceTimeoutMs: number;
  /** How often the metadata of topics clients watch is refreshed, to tell them of new partitions (Kafka's `metadata.max.age.ms`). */
  metadataMaxAgeMs: number;
}

interface NodeFetch {
  signature: string;
  promise: Promise<Map<string, FetchPartitionResponse>>;
}

/**
 * The {@link KafkaApi} seam on a Kafka cluster: each request becomes the Kafka request it is
 * shaped after, sent to the partition's leader or the group's coordinator over a
 * {@link ClusterLink}, so Producer and Consumer run unchanged. Produce uses `acks: -1` (all
 * in-sync replicas); a produce or group call that meets a leader or coordinator that moved looks
 * it up again and retries, within `retryTimeoutMs`.
 *
 * What a cluster does not offer refuses with `UNSUPPORTED`: kafkalite's own consumer protocol
 * (remote consumers use Kafka's classic group protocol) and custom assignor functions.
 *
 * Concurrency: calls may interleave freely. A fetch spanning several leaders returns as soon as
 * one of them answers with records; the others stay in flight and serve the next fetch of the
 * same positions (Kafka's consumer does the same with its per-node fetches).
 */
export class RemoteKafkaApi implements KafkaApi {
  #link: ClusterLink;
  #options: RemoteApiOptions;
  #maxMessageBytes = new Map<string, number>();
  #fetches = new Map<number, NodeFetch>();
  /** Last high watermark and log start seen per partition, for the partitions a fetch returns before their leader answered. */
  #known = new Map<string, { highWatermark: number; logStartOffset: number }>();
  #watchers = new Set<(topic: string, change: TopicChange) => void>();
  #watchTimer: NodeJS.Timeout | undefined;
  #partitionCounts = new Map<string, number>();
  #closed = false;

  /** Told of every topic metadata a client asked for, so the broker's catalog knows the topics its clients use. */
  #onMetadata: ((response: KafkaMetadata, topics: string[]) => void) | undefined;

  constructor(link: ClusterLink, options: RemoteApiOptions, onMetadata?: (response: KafkaMetadata, topics: string[]) => void) {
    this.#link = link;
    this.#options = options;
    this.#onMetadata = onMetadata;
  }

  close(): void {
    this.#closed = true;
    if (this.#watchTimer !== undefined) clearInterval(this.#watchTimer);
    this.#watchers.clear();
  }

  // ---- metadata ------------------------------------------------------------------------------

  async metadata(request: MetadataRequest): Promise<MetadataResponse> {
    this.#checkOpen();
    if (request.topics.length === 0) return { topics: [] };
    const topics: TopicMetadata[] = [];
    let pending = request.topics;
    const deadline = Date.now() + this.#options.retryTimeoutMs;
    for (;;) {
      const asked = pending;
      const response = await this.#withRetries([], () => this.#link.metadata(asked, request.allowAutoTopicCreation));
      this.#onMetadata?.(response, pending);
      const again: string[] = [];
      for (const t of response.topics) {
        if (t.name === null || !pending.includes(t.name)) continue;
        // A topic just auto-created has no leaders yet: Kafka answers LEADER_NOT_AVAILABLE.
        if (t.errorCode === KafkaErrorCode.LEADER_NOT_AVAILABLE) again.push(t.name);
        if (t.errorCode !== KafkaErrorCode.NONE) continue;
        this.#partitionCounts.set(t.name, t.partitions.length);
        topics.push({ name: t.name, partitionCount: t.partitions.length, maxMessageBytes: await this.#maxMessageBytesOf(t.name), ...(t.isInternal ? { internal: true } : {}) });
      }
      if (again.length === 0 || Date.now() > deadline) return { topics };
      pending = again;
      await sleep(this.#options.retryBackoffMs);
    }
  }

  /** The topic's `max.message.bytes`, by DescribeConfigs where the cluster serves it (once per topic). */
  async #maxMessageBytesOf(topic: string): Promise<number> {
    const known = this.#maxMessageBytes.get(topic);
    if (known !== undefined) return known;
    let value = DEFAULT_MAX_MESSAGE_BYTES;
    const node = this.#link.anyNode();
    if (await this.#link.supports(node, ApiKey.DescribeConfigs)) {
      const r = await this.#link.send(node, ApiKey.DescribeConfigs, { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['max.message.bytes'] }] });
      const entry = r.results[0]?.configs.find((c) => c.name === 'max.message.bytes');
      const parsed = Number(entry?.value);
      if (r.results[0]?.errorCode === KafkaErrorCode.NONE && Number.isSafeInteger(parsed) && parsed > 0) value = parsed;
    }
    this.#maxMessageBytes.set(topic, value);
    return value;
  }

  watchMetadata(listener: (topic: string, change: TopicChange) => void): () => void {
    this.#watchers.add(listener);
    this.#watchTimer ??= setInterval(() => void this.#refreshWatched().catch(() => undefined), this.#options.metadataMaxAgeMs);
    this.#watchTimer.unref();
    return () => {
      this.#watchers.delete(listener);
      if (this.#watchers.size === 0 && this.#watchTimer !== undefined) {
        clearInterval(this.#watchTimer);
        this.#watchTimer = undefined;
      }
    };
  }

  /** Kafka clients learn of new partitions and deleted topics by refreshing metadata now and then: so do these. */
  async #refreshWatched(): Promise<void> {
    const names = [...this.#partitionCounts.keys()];
    if (names.length === 0 || this.#closed) return;
    const response = await this.#link.metadata(names, false);
    const seen = new Set<string>();
    for (const t of response.topics) {
      if (t.name === null) continue;
      const before = this.#partitionCounts.get(t.name);
      if (t.errorCode === KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION) continue;
      seen.add(t.name);
      if (before !== undefined && t.partitions.length > before) {
        this.#partitionCounts.set(t.name, t.partitions.length);
        for (const w of this.#watchers) w(t.name, 'grown');
      }
    }
    for (const name of names) {
      if (seen.has(name)) continue;
      this.#partitionCounts.delete(name);
      this.#maxMessageBytes.delete(name);
      for (const w of this.#watchers) w(name, 'deleted');
    }
  }

  // ---- produce -------------------------------------------------------------------------------

  async produce(request: ProduceRequest): Promise<ProduceResponse> {
    this.#checkOpen();
    const baseOffsets: number[] = new Array<number>(request.partitions.length).fill(-1);
    let pending = request.partitions.map((_, i) => i);
    const deadline = Date.now() + this.#options.retryTimeoutMs;
    let lastError: unknown;
    for (;; await sleep(this.#options.retryBackoffMs)) {
      let byLeader: Map<number, number[]>;
      try {
        byLeader = await this.#byLeader(pending.map((i) => request.partitions[i]!), pending);
      } catch (error) {
        // No leader for a partition yet (an election under way): wait for one.
        if (!isRetriable(error) || Date.now() > deadline || this.#closed) throw error;
        lastError = error;
        await this.#refresh(pending.map((i) => request.partitions[i]!.topic)).catch(() => undefined);
        continue;
      }
      const retry: number[] = [];
      await Promise.all(
        [...byLeader].map(async ([node, indexes]) => {
          const topicData = groupByTopic(indexes, (i) => request.partitions[i]!, (i) => ({ index: request.partitions[i]!.partition, records: request.partitions[i]!.records }));
          let response;
          try {
            response = await this.#link.send(node, ApiKey.Produce, { transactionalId: request.transactionalId ?? null, acks: -1, timeoutMs: this.#options.produceTimeoutMs, topicData });
          } catch (error) {
            // The connection failed or timed out: the batches may or may not be in the log. A
            // retry appends them again unless they carry a producer id (idempotent producers),
            // as with Kafka's producer when idempotence is off.
            if (!isRetriable(error)) throw error;
            lastError = error;
            retry.push(...indexes);
            return;
          }
          for (const i of indexes) {
            const p = request.partitions[i]!;
            const r = response.responses.find((t) => t.name === p.topic)?.partitionResponses.find((x) => x.index === p.partition);
            if (r === undefined) throw clusterError(KafkaErrorCode.UNKNOWN_SERVER_ERROR, 'a produce', { topic: p.topic, partition: p.partition, message: 'no answer for the partition' });
            if (r.errorCode === KafkaErrorCode.NONE || r.errorCode === KafkaErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
              baseOffsets[i] = r.baseOffset;
              continue;
            }
            const error = clusterError(r.errorCode, 'a produce', { topic: p.topic, partition: p.partition, message: r.errorMessage });
            if (!isRetriableCode(r.errorCode)) throw error;
            lastError = error;
            retry.push(i);
          }
        }),
      );
      if (retry.length === 0) return { baseOffsets };
      if (Date.now() > deadline || this.#closed) throw lastError;
      pending = retry;
      await this.#refresh(pending.map((i) => request.partitions[i]!.topic)).catch(() => undefined);
    }
  }

  // ---- fetch ---------------------------------------------------------------------------------

  async fetch(request: FetchRequest, options?: CallOptions): Promise<FetchResponse> {
    this.#checkOpen();
    const byLeader = await this.#byLeader(request.partitions, request.partitions.map((_, i) => i), false);
    const answers = new Map<string, FetchPartitionResponse>();
    const rounds = [...byLeader].map(([node, indexes]) => ({ node, fetch: this.#nodeFetch(node, indexes.map((i) => request.partitions[i]!), request) }));
    const leaderless = request.partitions.some((p) => this.#link.leaderFor(p.topic, p.partition) === undefined);
    if (leaderless) void this.#refresh(request.partitions.map((p) => p.topic)).catch(() => undefined);
    let failure: unknown;
    await new Promise<void>((resolve) => {
      let left = rounds.length;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        options?.signal?.removeEventListener('abort', finish);
        resolve();
      };
      if (left === 0) {
        // No leader known for any partition: wait a little, as the leader moves.
        setTimeout(finish, Math.min(request.maxWaitMs, this.#options.retryBackoffMs));
        return;
      }
      options?.signal?.addEventListener('abort', finish, { once: true });
      for (const { node, fetch } of rounds) {
        fetch.promise.then(
          (results) => {
            if (done) return; // kept in #fetches for the next call with the same positions
            if (this.#fetches.get(node) === fetch) this.#fetches.delete(node);
            let any = false;
            for (const [key, r] of results) {
              answers.set(key, r);
              if (r.batches.length > 0 || r.error !== undefined) any = true;
            }
            if (any || --left === 0) finish();
          },
          (error: unknown) => {
            if (this.#fetches.get(node) === fetch) this.#fetches.delete(node);
            failure ??= error;
            if (!done && --left === 0) finish();
          },
        );
      }
    });
    if (failure !== undefined) {
      // A leader unreachable (down, or its connection lost): look the leaders up again, and if
      // nothing came at all, say so after a pause — a consumer reports it and comes back, rather
      // than reconnecting in a tight loop.
      void this.#refresh(request.partitions.map((p) => p.topic)).catch(() => undefined);
      if (answers.size === 0 && !options?.signal?.aborted) {
        await sleep(Math.min(this.#options.retryBackoffMs, request.maxWaitMs), options?.signal);
        throw failure;
      }
    }
    const partitions = request.partitions.map((p) => {
      const key = `${p.topic}\0${p.partition}`;
      const known = this.#known.get(key);
      return answers.get(key) ?? { topic: p.topic, partition: p.partition, highWatermark: known?.highWatermark ?? p.fetchOffset, logStartOffset: known?.logStartOffset ?? 0, batches: [] };
    });
    return { partitions };
  }

  /** The fetch in flight to `node` for exactly these positions, or a new one. */
  #nodeFetch(node: number, partitions: FetchRequest['partitions'], request: FetchRequest): NodeFetch {
    const signature = `${request.isolationLevel ?? ''}|${partitions.map((p) => `${p.topic}\0${p.partition}\0${p.fetchOffset}`).join('|')}`;
    const inFlight = this.#fetches.get(node);
    if (inFlight !== undefined && inFlight.signature === signature) return inFlight;
    const fetch: NodeFetch = { signature, promise: this.#sendFetch(node, partitions, request.maxWaitMs, request.isolationLevel) };
    fetch.promise.catch(() => undefined);
    this.#fetches.set(node, fetch);
    return fetch;
  }

  async #sendFetch(node: number, partitions: FetchRequest['partitions'], maxWaitMs: number, isolationLevel: IsolationLevel | undefined): Promise<Map<string, FetchPartitionResponse>> {
    const topics = groupByTopic(
      partitions.map((_, i) => i),
      (i) => partitions[i]!,
      (i) => ({ partition: partitions[i]!.partition, currentLeaderEpoch: -1, fetchOffset: partitions[i]!.fetchOffset, logStartOffset: -1, partitionMaxBytes: partitions[i]!.maxBytes }),
    ).map((t) => ({ topic: t.name, partitions: t.partitionData }));
    const response = await this.#link.send(
      node,
      ApiKey.Fetch,
      { replicaId: -1, maxWaitMs, minBytes: 1, maxBytes: FETCH_MAX_BYTES, isolationLevel: isolationLevel === 'read_committed' ? 1 : 0, sessionId: 0, sessionEpoch: -1, topics },
      { maxVersion: MAX_FETCH_VERSION },
    );
    const out = new Map<string, FetchPartitionResponse>();
    const moved: string[] = [];
    for (const t of response.responses) {
      for (const r of t.partitions) {
        const key = `${t.topic}\0${r.partitionIndex}`;
        if (r.errorCode === KafkaErrorCode.OFFSET_OUT_OF_RANGE) {
          out.set(key, { topic: t.topic, partition: r.partitionIndex, error: 'OFFSET_OUT_OF_RANGE', highWatermark: r.highWatermark, logStartOffset: r.logStartOffset, batches: [] });
          continue;
        }
        if (r.errorCode !== KafkaErrorCode.NONE) {
          // A leader that moved, a partition not there yet: nothing to read here now. Anything
          // else (not authorized, say) is the consumer's to hear of.
          if (isMovedCode(r.errorCode) || isRetriableCode(r.errorCode)) moved.push(t.topic);
          else throw clusterError(r.errorCode, 'a fetch', { topic: t.topic, partition: r.partitionIndex });
          continue;
        }
        this.#known.set(key, { highWatermark: r.highWatermark, logStartOffset: r.logStartOffset });
        const entry: FetchPartitionResponse = { topic: t.topic, partition: r.partitionIndex, highWatermark: r.highWatermark, logStartOffset: r.logStartOffset, batches: splitBatches(r.records) };
        if (isolationLevel === 'read_committed') {
          entry.lastStableOffset = r.lastStableOffset;
          entry.abortedTransactions = (r.abortedTransactions ?? []).map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })).sort((a, b) => a.firstOffset - b.firstOffset);
        }
        out.set(key, entry);
      }
    }
    if (moved.length > 0) await this.#refresh(moved).catch(() => undefined);
    return out;
  }

  // ---- list offsets --------------------------------------------------------------------------

  async listOffsets(request: { partitions: ListOffsetsPartition[]; isolationLevel?: IsolationLevel }): Promise<ListOffsetsResponse> {
    this.#checkOpen();
    const out: ListOffsetsResponse['partitions'] = new Array(request.partitions.length);
    await this.#withRetries(request.partitions.map((p) => p.topic), async () => {
      const todo = request.partitions.map((_, i) => i).filter((i) => out[i] === undefined);
      const byLeader = await this.#byLeader(todo.map((i) => request.partitions[i]!), todo);
      let retry: unknown;
      await Promise.all(
        [...byLeader].map(async ([node, indexes]) => {
          const topics = groupByTopic(indexes, (i) => request.partitions[i]!, (i) => ({ partitionIndex: request.partitions[i]!.partition, currentLeaderEpoch: -1, timestamp: request.partitions[i]!.timestamp, maxNumOffsets: 1 })).map((t) => ({
            name: t.name,
            partitions: t.partitionData,
          }));
          const response = await this.#link.send(node, ApiKey.ListOffsets, { replicaId: -1, isolationLevel: request.isolationLevel === 'read_committed' ? 1 : 0, topics }, { maxVersion: MAX_LIST_OFFSETS_VERSION });
          for (const i of indexes) {
            const p = request.partitions[i]!;
            const r = response.topics.find((t) => t.name === p.topic)?.partitions.find((x) => x.partitionIndex === p.partition);
            const code = r?.errorCode ?? KafkaErrorCode.UNKNOWN_SERVER_ERROR;
            if (r !== undefined && code === KafkaErrorCode.NONE) {
              const offset = r.oldStyleOffsets.length > 0 && r.offset === -1 ? r.oldStyleOffsets[0]! : r.offset;
              out[i] = { topic: p.topic, partition: p.partition, offset, timestamp: r.timestamp };
              continue;
            }
            const error = clusterError(code, 'a list of offsets', { topic: p.topic, partition: p.partition });
            if (!isRetriableCode(code)) throw error;
            retry = error;
          }
        }),
      );
      if (retry !== undefined) throw retry;
    });
    return { partitions: out };
  }

  // ---- transactions and producer ids -----------------------------------------------------------

  async initProducerId(request: InitProducerIdRequest): Promise<InitProducerIdResponse> {
    this.#checkOpen();
    return this.#withRetries([], async () => {
      const node = request.transactionalId === null ? this.#link.anyNode() : await this.#link.coordinator('transaction', request.transactionalId);
      const r = await this.#link.send(node, ApiKey.InitProducerId, request);
      if (r.errorCode === KafkaErrorCode.NONE) return { producerId: r.producerId, producerEpoch: r.producerEpoch };
      const name = txnErrorName(r.errorCode);
      if (name === 'PRODUCER_FENCED' || name === 'CONCURRENT_TRANSACTIONS' || name === 'INVALID_TXN_STATE') return { error: name, producerId: -1, producerEpoch: -1 };
      return this.#coordinatorError(r.errorCode, 'transaction', request.transactionalId, 'InitProducerId');
    });
  }

  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<TxnResponse> {
    const topics = groupByTopic(request.partitions.map((_, i) => i), (i) => request.partitions[i]!, (i) => request.partitions[i]!.partition).map((t) => ({ name: t.name, partitions: t.partitionData }));
    return this.#txnCall('AddPartitionsToTxn', request.transactionalId, async (node) => {
      const r = await this.#link.send(node, ApiKey.AddPartitionsToTxn, {
        v3AndBelowTransactionalId: request.transactionalId,
        v3AndBelowProducerId: request.producerId,
        v3AndBelowProducerEpoch: request.producerEpoch,
        v3AndBelowTopics: topics,
      }, { maxVersion: 3 });
      let code = r.errorCode;
      for (const t of r.resultsByTopicV3AndBelow) for (const p of t.resultsByPartition) if (p.partitionErrorCode !== KafkaErrorCode.NONE && p.partitionErrorCode !== KafkaErrorCode.OPERATION_NOT_ATTEMPTED) code = p.partitionErrorCode;
      return code;
    });
  }

  addOffsetsToTxn(request: TxnRequest & { groupId: string }): Promise<TxnResponse> {
    return this.#txnCall('AddOffsetsToTxn', request.transactionalId, async (node) => (await this.#link.send(node, ApiKey.AddOffsetsToTxn, request)).errorCode);
  }

  endTxn(request: TxnRequest & { commit: boolean }): Promise<TxnResponse> {
    const { commit, ...rest } = request;
    return this.#txnCall('EndTxn', request.transactionalId, async (node) => (await this.#link.send(node, ApiKey.EndTxn, { ...rest, committed: commit })).errorCode);
  }

  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<TxnResponse> {
    const topics = groupByTopic(request.offsets.map((_, i) => i), (i) => request.offsets[i]!, (i) => ({ partitionIndex: request.offsets[i]!.partition, committedOffset: request.offsets[i]!.offset, committedLeaderEpoch: -1, committedMetadata: null })).map((t) => ({
      name: t.name,
      partitions: t.partitionData,
    }));
    return this.#txnCall(
      'TxnOffsetCommit',
      request.groupId,
      async (node) => {
        const r = await this.#link.send(node, ApiKey.TxnOffsetCommit, {
          transactionalId: request.transactionalId,
          groupId: request.groupId,
          producerId: request.producerId,
          producerEpoch: request.producerEpoch,
          generationId: -1,
          memberId: '',
          groupInstanceId: null,
          topics,
        });
        for (const t of r.topics) for (const p of t.partitions) if (p.errorCode !== KafkaErrorCode.NONE) return p.errorCode;
        return KafkaErrorCode.NONE;
      },
      'group',
    );
  }

  /** A transactional call to the coordinator of `key`, retried while the coordinator moves or is busy. */
  #txnCall(what: string, key: string, call: (node: number) => Promise<number>, type: 'group' | 'transaction' = 'transaction'): Promise<TxnResponse> {
    this.#checkOpen();
    return this.#withRetries([], async () => {
      const node = await this.#link.coordinator(type, key);
      const code = await call(node);
      if (code === KafkaErrorCode.NONE) return {};
      const name = txnErrorName(code);
      if (name !== undefined && name !== 'CONCURRENT_TRANSACTIONS') return { error: name, message: `${what} was refused with ${kafkaErrorName(code)}` };
      return this.#coordinatorError(code, type, key, what);
    });
  }

  // ---- groups (Kafka's classic protocol) -----------------------------------------------------

  consumerGroupJoin(_request: unknown, _options?: { assignor?: AssignorFunction }): Promise<{ memberId: string }> {
    return Promise.reject(consumerProtocolRefused());
  }

  consumerGroupHeartbeat(): Promise<ConsumerGroupHeartbeatResponse> {
    return Promise.reject(consumerProtocolRefused());
  }

  async joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    const r = await this.#groupCall(request.groupId, 'JoinGroup', (node) =>
      this.#link.send(node, ApiKey.JoinGroup, {
        groupId: request.groupId,
        sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        protocolType: request.protocolType,
        protocols: request.protocols,
        reason: null,
      }),
    );
    return {
      ...(groupErrorName(r.errorCode) === undefined ? {} : { error: groupErrorName(r.errorCode) }),
      generationId: r.generationId,
      protocolType: r.protocolType,
      protocolName: r.protocolName,
      leader: r.leader,
      memberId: r.memberId,
      members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    };
  }

  async syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    const r = await this.#groupCall(request.groupId, 'SyncGroup', (node) => this.#link.send(node, ApiKey.SyncGroup, { ...request, groupInstanceId: null }));
    return { ...(groupErrorName(r.errorCode) === undefined ? {} : { error: groupErrorName(r.errorCode) }), protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment };
  }

  /**
   * A cluster answers a Heartbeat at once; the in-process coordinator may hold it until there is
   * news. So the wait happens here, before asking: the answer then tells what the group is at
   * the end of the interval, as a Kafka client's heartbeat thread learns it.
   */
  async heartbeat(request: HeartbeatRequest, options?: CallOptions): Promise<HeartbeatResponse> {
    if (request.maxWaitMs > 0) await sleep(request.maxWaitMs, options?.signal);
    this.#checkOpen();
    const r = await this.#groupCall(request.groupId, 'Heartbeat', (node) =>
      this.#link.send(node, ApiKey.Heartbeat, { groupId: request.groupId, generationId: request.generationId, memberId: request.memberId, groupInstanceId: null }),
    );
    const error = groupErrorName(r.errorCode);
    return error === undefined ? {} : { error };
  }

  async leaveGroup(request: { groupId: string; memberId: string }): Promise<void> {
    await this.#groupCall(request.groupId, 'LeaveGroup', (node) =>
      this.#link.send(node, ApiKey.LeaveGroup, { groupId: request.groupId, memberId: request.memberId, members: [{ memberId: request.memberId, groupInstanceId: null, reason: null }] }),
    );
  }

  async offsetCommit(request: OffsetCommitRequest): Promise<void> {
    const topics = groupByTopic(request.offsets.map((_, i) => i), (i) => request.offsets[i]!, (i) => ({ partitionIndex: request.offsets[i]!.partition, committedOffset: request.offsets[i]!.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null })).map((t) => ({
      name: t.name,
      partitions: t.partitionData,
    }));
    const r = await this.#groupCall(request.groupId, 'OffsetCommit', async (node) => {
      const response = await this.#link.send(node, ApiKey.OffsetCommit, {
        groupId: request.groupId,
        generationIdOrMemberEpoch: request.generationId ?? -1,
        memberId: request.memberId ?? '',
        groupInstanceId: null,
        retentionTimeMs: -1,
        topics,
      });
      // A coordinator error is the same for every partition: retry the whole commit.
      const first = response.topics[0]?.partitions[0]?.errorCode ?? KafkaErrorCode.NONE;
      return { errorCode: isCoordinatorCode(first) ? first : KafkaErrorCode.NONE, topics: response.topics };
    });
    for (const t of r.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== KafkaErrorCode.NONE) throw clusterError(p.errorCode, `the commit of group ${JSON.stringify(request.groupId)}`, { topic: t.name, partition: p.partitionIndex });
      }
    }
  }

  async offsetFetch(request: { groupId: string; partitions: TopicPartition[] }): Promise<(number | undefined)[]> {
    if (request.partitions.length === 0) return [];
    const topics = groupByTopic(request.partitions.map((_, i) => i), (i) => request.partitions[i]!, (i) => request.partitions[i]!.partition).map((t) => ({ name: t.name, partitionIndexes: t.partitionData }));
    const r = await this.#groupCall(request.groupId, 'OffsetFetch', (node) =>
      this.#link.send(node, ApiKey.OffsetFetch, { groupId: request.groupId, topics, groups: [{ groupId: request.groupId, memberId: null, memberEpoch: -1, topics }], requireStable: false }),
    );
    const found = r.groups.length > 0 ? r.groups[0]!.topics : r.topics;
    return request.partitions.map((tp) => {
      const p = found.find((t) => t.name === tp.topic)?.partitions.find((x) => x.partitionIndex === tp.partition);
      if (p !== undefined && p.errorCode !== KafkaErrorCode.NONE) throw clusterError(p.errorCode, `the committed offsets of group ${JSON.stringify(request.groupId)}`, tp);
      return p === undefined || p.committedOffset < 0 ? undefined : p.committedOffset;
    });
  }

  /** A call to the group's coordinator, again (after finding it anew) while it moves, loads or is not there yet. */
  #groupCall<R extends { errorCode: number }>(groupId: string, what: string, call: (node: number) => Promise<R>): Promise<R> {
    this.#checkOpen();
    return this.#withRetries([], async () => {
      const node = await this.#link.coordinator('group', groupId);
      const r = await call(node);
      if (isCoordinatorCode(r.errorCode)) return this.#coordinatorError(r.errorCode, 'group', groupId, what);
      // Kafka's group errors are the member's to handle (rejoin, fetch a new member id): data.
      if (r.errorCode !== KafkaErrorCode.NONE && groupErrorName(r.errorCode) === undefined) {
        throw clusterError(r.errorCode, `${what} of group ${JSON.stringify(groupId)}`);
      }
      return r;
    });
  }

  #coordinatorError(code: number, type: 'group' | 'transaction', key: string | null, what: string): never {
    if (key !== null && isCoordinatorCode(code)) this.#link.forgetCoordinator(type, key);
    throw clusterError(code, what);
  }

  // ---- plumbing ------------------------------------------------------------------------------

  /** Runs `attempt` again after a pause while it fails retriably, up to `retryTimeoutMs`; refreshes the metadata of `topics` between. */
  async #withRetries<R>(topics: string[], attempt: () => Promise<R>): Promise<R> {
    const deadline = Date.now() + this.#options.retryTimeoutMs;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!isRetriable(error) || Date.now() > deadline || this.#closed) throw error;
      }
      await sleep(this.#options.retryBackoffMs);
      if (topics.length > 0) await this.#refresh(topics).catch(() => undefined);
    }
  }

  /** Groups request indexes by the leader of their partition; without a leader, after fresh metadata (or left out, when `wait` is false). */
  async #byLeader(partitions: { topic: string; partition: number }[], indexes: number[], wait = true): Promise<Map<number, number[]>> {
    const byLeader = new Map<number, number[]>();
    let refreshed = false;
    for (let k = 0; k < partitions.length; k++) {
      const { topic, partition } = partitions[k]!;
      let leader = this.#link.leaderFor(topic, partition);
      if (leader === undefined && wait && !refreshed) {
        await this.#refresh(partitions.map((p) => p.topic));
        refreshed = true;
        leader = this.#link.leaderFor(topic, partition);
      }
      if (leader === undefined) {
        if (!wait) continue;
        const count = this.#link.partitionCount(topic);
        if (count !== undefined && partition >= count) throw unknownPartition(topic, partition, count);
        if (count === undefined && refreshed) throw unknownTopic(topic);
        throw clusterError(KafkaErrorCode.LEADER_NOT_AVAILABLE, 'a request', { topic, partition, message: 'no leader is known for the partition' });
      }
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push(indexes[k]!);
    }
    return byLeader;
  }

  #refreshing: Promise<KafkaMetadata> | undefined;

  /** Fresh metadata for `topics` (one request at a time; calls meanwhile share it). */
  #refresh(topics: string[]): Promise<KafkaMetadata> {
    this.#refreshing ??= this.#link.metadata([...new Set(topics)], false).finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  #checkOpen(): void {
    if (this.#closed) throw closed('broker');
  }
}

const consumerProtocolRefused = (): Error =>
  unsupported(
    "groupProtocol 'consumer' on a Kafka cluster",
    "it is kafkalite's in-process group protocol; consumers of a broker opened with Broker.connect use Kafka's classic protocol (the default there), with the assignors 'range', 'roundrobin' and 'cooperative-sticky' or a PartitionAssignor",
  );

function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

function isCoordinatorCode(code: number): boolean {
  return code === KafkaErrorCode.NOT_COORDINATOR || code === KafkaErrorCode.COORDINATOR_NOT_AVAILABLE || code === KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
}

const GROUP_ERRORS: Partial<Record<number, GroupError>> = {
  [KafkaErrorCode.UNKNOWN_MEMBER_ID]: 'UNKNOWN_MEMBER_ID',
  [KafkaErrorCode.ILLEGAL_GENERATION]: 'ILLEGAL_GENERATION',
  [KafkaErrorCode.REBALANCE_IN_PROGRESS]: 'REBALANCE_IN_PROGRESS',
  [KafkaErrorCode.MEMBER_ID_REQUIRED]: 'MEMBER_ID_REQUIRED',
  [KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL]: 'INCONSISTENT_GROUP_PROTOCOL',
  [KafkaErrorCode.INVALID_SESSION_TIMEOUT]: 'INVALID_SESSION_TIMEOUT',
  [KafkaErrorCode.FENCED_INSTANCE_ID]: 'UNKNOWN_MEMBER_ID',
};

function groupErrorName(code: number): GroupError | undefined {
  return GROUP_ERRORS[code];
}

const TXN_ERRORS: Partial<Record<number, TxnError | 'CONCURRENT_TRANSACTIONS' | 'INVALID_TXN_STATE'>> = {
  [KafkaErrorCode.PRODUCER_FENCED]: 'PRODUCER_FENCED',
  [KafkaErrorCode.INVALID_PRODUCER_EPOCH]: 'PRODUCER_FENCED',
  [KafkaErrorCode.INVALID_PRODUCER_ID_MAPPING]: 'INVALID_PRODUCER_ID_MAPPING',
  [KafkaErrorCode.INVALID_TXN_STATE]: 'INVALID_TXN_STATE',
  [KafkaErrorCode.CONCURRENT_TRANSACTIONS]: 'CONCURRENT_TRANSACTIONS',
  [KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: 'UNKNOWN_TOPIC_OR_PARTITION',
};

function txnErrorName(code: number): TxnError | undefined {
  return TXN_ERRORS[code];
}

/** Request entries grouped by topic, in first-seen order: Kafka's requests nest partitions under topics. */
function groupByTopic<T>(indexes: number[], of: (i: number) => { topic: string }, make: (i: number) => T): { name: string; partitionData: T[] }[] {
  const out = new Map<string, T[]>();
  for (const i of indexes) {
    const topic = of(i).topic;
    let list = out.get(topic);
    if (list === undefined) out.set(topic, (list = []));
    list.push(make(i));
  }
  return [...out].map(([name, partitionData]) => ({ name, partitionData }));
}

/** The whole batches in a Fetch's records (a broker may end them with a partial one, which is left for the next fetch). */
function splitBatches(records: Uint8Array | null): Uint8Array[] {
  if (records === null) return [];
  const out: Uint8Array[] = [];
  let at = 0;
  while (records.length - at >= RECORD_BATCH_HEADER_SIZE) {
    const size = batchSize(records, at);
    if (size <= 0 || at + size > records.length) break;
    out.push(records.subarray(at, at + size));
    at += size;
  }
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
