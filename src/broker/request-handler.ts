import type { Clock } from '../clock.js';
import type { MaybePromise } from '../storage/storage.js';
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  type FetchPartitionResponse,
  type FetchRequest,
  type AssignorFunction,
  type CallOptions,
  type FetchResponse,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  type ConsumerGroupJoinRequest,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  type AddPartitionsToTxnRequest,
  type IsolationLevel,
  type TxnOffsetCommitRequest,
  type TxnRequest,
  type TxnResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
  type KafkaApi,
  type ListOffsetsPartition,
  type ListOffsetsResponse,
  type MetadataRequest,
  type MetadataResponse,
  type OffsetCommitRequest,
  type ProduceRequest,
  type ProduceResponse,
  type TopicChange,
  type TopicMetadata,
} from '../seam/kafka-api.js';
import { closed, invalidArgument, messageTooLarge, show, unknownPartition } from '../errors.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import type { PartitionState } from '../topic/partition.js';
import type { TopicPartition } from '../types.js';
import type { TopicRegistry } from '../topic/topic-registry.js';
import { defaultTopicConfig, isCompacted, refuseKeyless } from '../topic/topic-config.js';
import { ProducerIdManager } from '../txn/producer-ids.js';
import { TransactionCoordinator } from '../txn/transaction-coordinator.js';

/** Kafka's largest producer epoch: past it, a producer gets a new id. */
const MAX_EPOCH = 32767;

export interface RequestHandlerOptions {
  autoCreateTopics: boolean;
  defaultPartitions: number;
}

/**
 * The broker side of the {@link KafkaApi} seam (Kafka's `KafkaApis`): it answers each request
 * from the topic registry.
 *
 * Concurrency: requests may interleave freely; a produce request is checked whole before its
 * first append, and appends to one partition are serialised by the partition.
 */
export class RequestHandler implements KafkaApi {
  readonly clock: Clock;
  #topics: TopicRegistry;
  #groups: GroupCoordinator;
  #options: RequestHandlerOptions;
  #producerIds: ProducerIdManager;
  #transactions: TransactionCoordinator;
  #closed = false;

  constructor(topics: TopicRegistry, groups: GroupCoordinator, clock: Clock, options: RequestHandlerOptions) {
    this.#topics = topics;
    this.#groups = groups;
    this.clock = clock;
    this.#options = options;
    this.#producerIds = new ProducerIdManager(topics, () => clock.now());
    this.#transactions = new TransactionCoordinator(topics, groups, this.#producerIds, clock);
  }

  /** Finishes what the last run left half done (transactions decided but not yet marked). */
  recover(): Promise<void> {
    return this.#transactions.recover();
  }

  close(): void {
    this.#closed = true;
    this.#transactions.close();
  }

  async metadata(request: MetadataRequest): Promise<MetadataResponse> {
    this.#checkOpen();
    const topics: TopicMetadata[] = [];
    for (const name of request.topics) {
      let topic = this.#topics.get(name);
      if (topic === undefined && request.allowAutoTopicCreation && this.#options.autoCreateTopics) {
        topic = await this.#topics.ensure(name, this.#options.defaultPartitions);
      }
      if (topic !== undefined) {
        const meta: TopicMetadata = { name, partitionCount: topic.partitions.length, maxMessageBytes: topic.config.maxMessageBytes };
        if (this.#topics.isInternal(name)) meta.internal = true;
        topics.push(meta);
      }
    }
    if (!this.#options.autoCreateTopics) return { topics };
    return { topics, autoCreate: { partitionCount: this.#options.defaultPartitions, maxMessageBytes: defaultTopicConfig.maxMessageBytes } };
  }

  produce(request: ProduceRequest): Promise<ProduceResponse> {
    try {
      this.#checkOpen();
      const { partitions } = request;
      const targets: PartitionState[] = new Array(partitions.length);
      for (let i = 0; i < partitions.length; i++) {
        const { topic, partition, records } = partitions[i]!;
        const t = this.#topics.require(topic);
        this.#topics.checkNotInternal(topic, 'producing to it');
        const p = t.partitions[partition];
        if (p === undefined) throw unknownPartition(topic, partition, t.partitions.length);
        if (records.length > t.config.maxMessageBytes) throw messageTooLarge(topic, records.length, t.config.maxMessageBytes);
        if (isCompacted(t.config)) refuseKeyless(records, topic, partition);
        targets[i] = p;
      }
      const baseOffsets: number[] = new Array(partitions.length);
      let waits: Promise<unknown>[] | undefined;
      for (let i = 0; i < partitions.length; i++) {
        const r = targets[i]!.append(partitions[i]!.records);
        if (typeof r === 'number') {
          baseOffsets[i] = r;
        } else {
          const at = i;
          (waits ??= []).push(r.then((offset) => (baseOffsets[at] = offset)));
        }
      }
      if (waits === undefined) return Promise.resolve({ baseOffsets });
      return Promise.all(waits).then(() => ({ baseOffsets }));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  fetch(request: FetchRequest, options?: CallOptions): Promise<FetchResponse> {
    try {
      this.#checkOpen();
      // Reads from memory finish at once: the hot path (a consumer woken by an append) then
      // costs no promise beyond the one returned.
      const first = this.#read(request);
      const signal = options?.signal;
      return first instanceof Promise ? first.then((r) => this.#waitIfEmpty(request, r, signal)) : this.#waitIfEmpty(request, first, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Returns `first` if it is worth returning, else waits for an append (or the deadline) and reads again. */
  #waitIfEmpty(request: FetchRequest, first: FetchResponse, signal: AbortSignal | undefined): Promise<FetchResponse> {
    if (request.maxWaitMs <= 0 || worthReturning(first) || signal?.aborted) return Promise.resolve(first);
    const partitions: PartitionState[] = [];
    for (const { topic, partition, fetchOffset } of request.partitions) {
      const p = this.#topics.get(topic)?.partitions[partition];
      if (p === undefined) continue;
      // An append that landed while the first read was in flight: read again at once.
      const end = request.isolationLevel === 'read_committed' ? (p.lastStableOffsetNow ?? p.logEndOffset) : p.logEndOffset;
      if (end > fetchOffset && fetchOffset >= p.logStartOffset) return Promise.resolve(this.#read(request));
      partitions.push(p);
    }
    return this.#topics.appendWaits.wait(partitions, request.maxWaitMs, signal).then((woken) => (!woken || this.#closed ? first : this.#read(request)));
  }

  /** Reads every partition of the request; at once when the logs answer at once. */
  #read(request: FetchRequest): MaybePromise<FetchResponse> {
    const out: FetchPartitionResponse[] = [];
    let pending: Promise<unknown>[] | undefined;
    for (const { topic, partition, fetchOffset, maxBytes } of request.partitions) {
      const t = this.#topics.get(topic);
      const p = t?.partitions[partition];
      if (p === undefined) {
        const error = t === undefined ? 'UNKNOWN_TOPIC' : 'UNKNOWN_PARTITION';
        out.push({ topic, partition, error, highWatermark: -1, logStartOffset: -1, batches: [] });
        continue;
      }
      const highWatermark = p.logEndOffset;
      const logStartOffset = p.logStartOffset;
      if (fetchOffset < logStartOffset || fetchOffset > highWatermark) {
        out.push({ topic, partition, error: 'OFFSET_OUT_OF_RANGE', highWatermark, logStartOffset, batches: [] });
        continue;
      }
      if (request.isolationLevel === 'read_committed') {
        const entry: FetchPartitionResponse = { topic, partition, highWatermark, logStartOffset, batches: [] };
        out.push(entry);
        (pending ??= []).push(
          p.readCommitted(fetchOffset, maxBytes).then(({ batches, lastStableOffset, abortedTransactions }) => {
            entry.batches = batches;
            entry.lastStableOffset = lastStableOffset;
            entry.abortedTransactions = abortedTransactions;
          }),
        );
        continue;
      }
      const entry: FetchPartitionResponse = { topic, partition, highWatermark, logStartOffset, batches: [] };
      out.push(entry);
      if (fetchOffset === highWatermark) continue;
      const batches = p.readBatches(fetchOffset, maxBytes);
      if (batches instanceof Promise) (pending ??= []).push(batches.then((b) => (entry.batches = b)));
      else entry.batches = batches;
    }
    const response: FetchResponse = { partitions: out };
    return pending === undefined ? response : Promise.all(pending).then(() => response);
  }

  async listOffsets(request: { partitions: ListOffsetsPartition[]; isolationLevel?: IsolationLevel }): Promise<ListOffsetsResponse> {
    this.#checkOpen();
    const targets = request.partitions.map(({ topic, partition, timestamp }) => {
      if (timestamp !== LATEST_TIMESTAMP && timestamp !== EARLIEST_TIMESTAMP && !(Number.isSafeInteger(timestamp) && timestamp >= 0)) {
        throw invalidArgument(`listOffsets takes a time >= 0, or the latest (-1) or earliest (-2) marker (got ${show(timestamp)})`, { topic, partition });
      }
      return this.#topics.require(topic).partition(partition);
    });
    const out: ListOffsetsResponse['partitions'] = [];
    for (let i = 0; i < targets.length; i++) {
      const { topic, partition, timestamp } = request.partitions[i]!;
      const p = targets[i]!;
      if (timestamp === LATEST_TIMESTAMP) {
        const offset = request.isolationLevel === 'read_committed' ? await p.lastStableOffset() : p.logEndOffset;
        out.push({ topic, partition, offset, timestamp: -1 });
      }
      else if (timestamp === EARLIEST_TIMESTAMP) out.push({ topic, partition, offset: p.logStartOffset, timestamp: -1 });
      else {
        const found = await p.findByTimestamp(timestamp);
        out.push({ topic, partition, offset: found?.offset ?? -1, timestamp: found?.timestamp ?? -1 });
      }
    }
    return { partitions: out };
  }

  async initProducerId(request: InitProducerIdRequest): Promise<InitProducerIdResponse> {
    this.#checkOpen();
    const { transactionalId, producerId, producerEpoch } = request;
    if (transactionalId !== null) return this.#transactions.initProducerId({ ...request, transactionalId });
    // A producer asking for a new epoch of its id (KIP-360) gets it: the partitions then expect
    // sequence 0 from it and fence its older epoch.
    if (producerId >= 0 && producerEpoch >= 0 && producerEpoch < MAX_EPOCH) return { producerId, producerEpoch: producerEpoch + 1 };
    return { producerId: await this.#producerIds.next(), producerEpoch: 0 };
  }

  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<TxnResponse> {
    this.#checkOpen();
    return this.#transactions.addPartitionsToTxn(request);
  }

  addOffsetsToTxn(request: TxnRequest & { groupId: string }): Promise<TxnResponse> {
    this.#checkOpen();
    return this.#transactions.addOffsetsToTxn(request);
  }

  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<TxnResponse> {
    this.#checkOpen();
    return this.#transactions.txnOffsetCommit(request);
  }

  endTxn(request: TxnRequest & { commit: boolean }): Promise<TxnResponse> {
    this.#checkOpen();
    return this.#transactions.endTxn(request);
  }

  /**
   * Why a transactional batch may not go to the partition now (not in the producer's open
   * transaction, another epoch, another producer's id), or undefined: for the wire's Produce,
   * whose batches reach `produce` as bytes. Synchronous, so Produce keeps its append order.
   */
  transactionalProduceRefusal(request: TxnRequest, topic: string, partition: number): TxnResponse | undefined {
    return this.#transactions.produceRefusal(request, topic, partition);
  }

  consumerGroupJoin(request: ConsumerGroupJoinRequest, options?: { assignor?: AssignorFunction }): Promise<{ memberId: string }> {
    this.#checkOpen();
    return this.#groups.consumerGroupJoin(request, options);
  }

  consumerGroupHeartbeat(request: ConsumerGroupHeartbeatRequest, options?: CallOptions): Promise<ConsumerGroupHeartbeatResponse> {
    this.#checkOpen();
    return this.#groups.consumerGroupHeartbeat(request, options);
  }

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    this.#checkOpen();
    return this.#groups.joinGroup(request);
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    this.#checkOpen();
    return this.#groups.syncGroup(request);
  }

  heartbeat(request: HeartbeatRequest, options?: CallOptions): Promise<HeartbeatResponse> {
    this.#checkOpen();
    return this.#groups.heartbeat(request, options);
  }

  leaveGroup(request: { groupId: string; memberId: string }): Promise<void> {
    return this.#groups.leaveGroup(request);
  }

  offsetCommit(request: OffsetCommitRequest): Promise<void> {
    this.#checkOpen();
    return this.#groups.offsetCommit(request);
  }

  offsetFetch(request: { groupId: string; partitions: TopicPartition[] }): Promise<(number | undefined)[]> {
    this.#checkOpen();
    return this.#groups.offsetFetch(request);
  }

  watchMetadata(listener: (topic: string, change: TopicChange) => void): () => void {
    return this.#topics.onChange(listener);
  }

  #checkOpen(): void {
    if (this.#closed) throw closed('broker');
  }
}

/** Records, or a position to reset: no reason to wait. (A deleted topic is no reason: others may still have records.) */
function worthReturning(response: FetchResponse): boolean {
  for (const p of response.partitions) if (p.batches.length > 0 || p.error === 'OFFSET_OUT_OF_RANGE') return true;
  return false;
}
