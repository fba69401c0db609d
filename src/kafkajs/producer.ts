/**
 * KafkaJS' producer on kafkalite's: `connect`, `send` / `sendBatch` (one result per partition
 * written, offsets as strings), `disconnect`, instrumentation events. A send resolves once its
 * records are appended and readable, so a consumer sees them at once.
 */

import type { Producer as CoreProducer, PartitionerFunction, RecordMetadata as CoreRecordMetadata, TopicMessages as CoreTopicMessages } from '../index.js';
import { COMPRESSION_CODECS, type CompressionCodec } from '../codec/compression.js';
import type { ClientContext } from './client-context.js';
import type { Cluster } from './cluster.js';
import { CompressionCodecs, CompressionTypes, NODE_ID } from './constants.js';
import { KafkaJSConnectionError, KafkaJSError, KafkaJSNonRetriableError, isCoreError, kafkaJSErrors, protocolError } from './errors.js';
import { Instrumentation, producerEvents } from './instrumentation.js';
import { checkMessages, toCoreMessage, toKafkaJSMessage } from './messages.js';
import { isDefaultPartitioner } from './partitioners.js';
import { LiteTransaction } from './transaction.js';
import type {
  Logger,
  Message,
  PartitionMetadata,
  PartitionerArgs,
  Producer,
  ProducerBatch,
  ProducerConfig,
  ProducerEventMap,
  ProducerEvents,
  ProducerRecord,
  RecordMetadata,
  RemoveInstrumentationEventListener,
  Transaction,
} from './types.js';

type ValueOf<T> = T[keyof T];

let warnedOfDefaultPartitioner = false;

/** KafkaJS 2.x warns once per process that its default partitioner changed; so does this. */
function warnOfDefaultPartitioner(logger: Logger): void {
  if (warnedOfDefaultPartitioner || process.env.KAFKAJS_NO_PARTITIONER_WARNING != null) return;
  warnedOfDefaultPartitioner = true;
  logger.warn(
    'KafkaJS v2.0.0 switched default partitioner. To retain the same partitioning behavior as in previous versions, create the producer with the option "createPartitioner: Partitioners.LegacyPartitioner". See the migration guide at https://kafka.js.org/docs/migration-guide-v2.0.0#producer-new-default-partitioner for details. Silence this warning by setting the environment variable "KAFKAJS_NO_PARTITIONER_WARNING=1"',
  );
}

function metadataFor(partitionCount: number): PartitionMetadata[] {
  return Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: NODE_ID,
    replicas: [NODE_ID],
    isr: [NODE_ID],
    offlineReplicas: [],
  }));
}

function topicExists(cluster: Cluster, topic: string): boolean {
  try {
    cluster.broker.topic(topic);
    return true;
  } catch (error) {
    if (isCoreError(error, 'UNKNOWN_TOPIC')) return false;
    throw error;
  }
}

/** The kafkalite producers of one cluster: the plain (or idempotent) one, and the transactional one once a transaction began. */
interface Bound {
  cluster: Cluster;
  partitioner: 'round-robin' | PartitionerFunction;
  /** One per compression codec used (KafkaJS compresses per send). */
  cores: Map<CompressionCodec, CoreProducer>;
  transactional?: CoreProducer;
}

export class LiteProducer implements Producer {
  readonly events: ProducerEvents = producerEvents;
  #ctx: ClientContext;
  #config: ProducerConfig;
  #logger: Logger;
  #instrumentation: Instrumentation<ProducerEvents>;
  #status: 'disconnected' | 'connected' | 'disconnecting' = 'disconnected';
  #bound: Bound | undefined;
  /** A transaction was begun and has not settled its commit or abort yet: KafkaJS runs one at a time. */
  #transaction: 'READY' | 'TRANSACTING' = 'READY';
  /** A partitioner of the user's (or the legacy one); kafkalite's own is KafkaJS' default. */
  #partitioner: ((args: PartitionerArgs) => number) | undefined;
  #idempotent: boolean;

  constructor(ctx: ClientContext, config: ProducerConfig = {}) {
    this.#ctx = ctx;
    this.#config = config;
    this.#logger = ctx.logger.namespace('Producer');
    this.#instrumentation = new Instrumentation('producer', producerEvents, this.#logger, ctx.now);
    this.#idempotent = config.idempotent ?? false;
    const retries = config.retry?.retries ?? ctx.retry?.retries;
    if (this.#idempotent && retries !== undefined && retries < 1) {
      throw new KafkaJSNonRetriableError('Idempotent producer must allow retries to protect against transient errors');
    }
    if (config.createPartitioner == null) warnOfDefaultPartitioner(ctx.logger);
    if (!isDefaultPartitioner(config.createPartitioner ?? undefined)) this.#partitioner = config.createPartitioner!();
  }

  async connect(): Promise<void> {
    await this.#bind();
    this.#status = 'connected';
    this.#instrumentation.emit(producerEvents.CONNECT);
  }

  async disconnect(): Promise<void> {
    this.#status = 'disconnecting';
    const bound = this.#bound;
    this.#bound = undefined;
    try {
      await Promise.all([...(bound?.cores.values() ?? []), ...(bound?.transactional === undefined ? [] : [bound.transactional])].map((core) => core.close().catch(() => undefined)));
    } finally {
      this.#status = 'disconnected';
      this.#instrumentation.emit(producerEvents.DISCONNECT);
    }
  }

  isIdempotent(): boolean {
    return this.#idempotent;
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const { acks, timeout, compression, topic, messages } = record ?? ({} as ProducerRecord);
    return this.sendBatch({ acks, timeout, compression, topicMessages: [{ topic, messages }] });
  }

  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    const codec = COMPRESSION_CODECS[batch?.compression ?? 0] ?? 'none';
    return this.#sendBatch(batch, this.#idempotent, (bound, request) => this.#core(bound, codec).sendBatch(request));
  }

  /**
   * KafkaJS' send path, for the producer's own sends and a transaction's: KafkaJS' checks, then
   * `write` hands the merged request to a kafkalite producer of the bound cluster.
   */
  async #sendBatch(batch: ProducerBatch, idempotent: boolean, write: (bound: Bound, request: { topicMessages: CoreTopicMessages[] }) => Promise<CoreRecordMetadata[]>): Promise<RecordMetadata[]> {
    const { acks = -1, compression, topicMessages = [] } = batch ?? {};
    if (topicMessages.some((t) => !t?.topic)) throw new KafkaJSNonRetriableError('Invalid topic');
    if (idempotent && acks !== -1) {
      throw new KafkaJSNonRetriableError("Not requiring ack for all messages invalidates the idempotent producer's EoS guarantees");
    }
    for (const { topic, messages } of topicMessages) checkMessages(topic, messages);
    this.#checkConnected();
    if (compression !== undefined && compression !== CompressionTypes.None) CompressionCodecs[compression]?.();

    const merged = new Map<string, Message[]>();
    for (const { topic, messages } of topicMessages) merged.set(topic, [...(merged.get(topic) ?? []), ...messages]);

    return kafkaJSErrors(async () => {
      const bound = await this.#bind();
      const { cluster } = bound;
      const request: CoreTopicMessages[] = [];
      for (const [topic, messages] of merged) {
        if (messages.length === 0) continue;
        const exists = topicExists(cluster, topic);
        if (!exists && this.#config.allowAutoTopicCreation === false) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION');
        const coreMessages = messages.map(toCoreMessage);
        if (this.#partitioner !== undefined && exists) {
          // The topic's partitions are known: ask the partitioner about every message, as KafkaJS does.
          const partitionMetadata = cluster.partitionMetadata(topic);
          messages.forEach((message, i) => (coreMessages[i]!.partition = this.#partitioner!({ topic, partitionMetadata, message })));
        }
        request.push({ topic, messages: coreMessages });
      }
      if (request.length === 0) return [];
      const written = await write(bound, { topicMessages: request });
      return acks === 0 ? [] : this.#results(cluster, written, request);
    });
  }

  /** One entry per partition written, topics in request order, partitions ascending. */
  #results(cluster: Cluster, written: CoreRecordMetadata[], request: { topic: string }[]): RecordMetadata[] {
    const order = new Map(request.map((t, i) => [t.topic, i]));
    return [...written]
      .sort((a, b) => order.get(a.topic)! - order.get(b.topic)! || a.partition - b.partition)
      .map(({ topic, partition, baseOffset }) => ({
        topicName: topic,
        partition,
        errorCode: 0,
        baseOffset: String(baseOffset),
        logAppendTime: '-1',
        logStartOffset: String(cluster.broker.topic(topic).partition(partition).logStartOffset),
      }));
  }

  /**
   * Begins a transaction, as KafkaJS: the first one gets the producer id for the
   * `transactionalId` (which fences an older producer with the same id) before it resolves.
   * Transactions go through a transactional kafkalite producer of their own, so this producer's
   * `send` stays outside them, as KafkaJS' does.
   */
  async transaction(): Promise<Transaction> {
    const transactionalId = this.#config.transactionalId;
    if (!transactionalId) throw new KafkaJSNonRetriableError('Must provide transactional id for transactional producer');
    if (this.#transaction === 'TRANSACTING') {
      throw new KafkaJSNonRetriableError('There is already an ongoing transaction for this producer. Please end the transaction before beginning another.');
    }
    this.#transaction = 'TRANSACTING';
    try {
      const { cluster, txn } = await kafkaJSErrors(async () => {
        const bound = await this.#bind();
        bound.transactional ??= bound.cluster.broker.producer({
          partitioner: bound.partitioner,
          transactionalId,
          transactionTimeoutMs: this.#config.transactionTimeout ?? 60_000,
        });
        const begun = bound.transactional.transaction();
        try {
          await begun.ready();
        } catch (error) {
          // Fenced (or refused) before it began: end it, so the next transaction() meets the same cause, not an open one.
          await begun.abort().catch(() => undefined);
          throw error;
        }
        return { cluster: bound.cluster, txn: begun };
      });
      return new LiteTransaction(
        txn,
        (batch) =>
          this.#sendBatch(batch, true, (bound, request) => {
            // The cluster was reset meanwhile: the transaction's producer went with the old one.
            if (bound.cluster !== cluster) throw new KafkaJSConnectionError('Connection closed: the in-process cluster was reset or closed during the transaction');
            return txn.sendBatch(request);
          }),
        () => (this.#transaction = 'READY'),
      );
    } catch (error) {
      this.#transaction = 'READY';
      throw error;
    }
  }

  on<E extends ValueOf<ProducerEvents>>(eventName: E, listener: (event: ProducerEventMap[E]) => void): RemoveInstrumentationEventListener<E> {
    return this.#instrumentation.on(eventName, listener);
  }

  logger(): Logger {
    return this.#logger;
  }

  #checkConnected(): void {
    if (this.#status === 'disconnecting') {
      throw new KafkaJSNonRetriableError("The producer is disconnecting; therefore, it can't safely accept messages anymore");
    }
    if (this.#status === 'disconnected') throw new KafkaJSError('The producer is disconnected');
  }

  /** The kafkalite producer on the current cluster (a new one after the cluster was reset). */
  async #bind(): Promise<Bound> {
    const cluster = await this.#ctx.cluster();
    if (this.#bound?.cluster !== cluster) {
      const custom = this.#partitioner;
      const partitioner: 'round-robin' | PartitionerFunction =
        custom === undefined
          ? 'round-robin'
          : ({ topic, partitionCount, message }) => custom({ topic, partitionMetadata: metadataFor(partitionCount), message: toKafkaJSMessage(message) });
      const stale = this.#bound;
      this.#bound = { cluster, partitioner, cores: new Map() };
      for (const core of stale?.cores.values() ?? []) void core.close().catch(() => undefined);
      void stale?.transactional?.close().catch(() => undefined);
    }
    return this.#bound;
  }

  /** The bound cluster's kafkalite producer for sends compressed with `codec`, made on first use. */
  #core(bound: Bound, codec: CompressionCodec): CoreProducer {
    let core = bound.cores.get(codec);
    if (core === undefined) {
      core = bound.cluster.broker.producer({ partitioner: bound.partitioner, idempotent: this.#idempotent, compression: codec });
      bound.cores.set(codec, core);
    }
    return core;
  }
}
