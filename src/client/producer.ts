import type { ClockTimer } from '../clock.js';
import { compressBatch } from '../codec/compressed-batch.js';
import { requireCodec } from '../codec/compression.js';
import { RECORD_BATCH_HEADER_SIZE, RecordBatchBuilder, singleRecordBatchSize } from '../codec/record-batch.js';
import { closed, invalidArgument, invalidTopic, invalidTxnState, messageTooLarge, show, unknownPartition, unknownTopic } from '../errors.js';
import { partitionForKeyBytes } from '../topic/partitioner.js';
import { validateTopicName } from '../topic/topic-config.js';
import { tpKey, type Message, type RecordMetadata, type TopicMessages } from '../types.js';
import type { ClientContext } from './client-context.js';
import { IdempotentSender } from './idempotent-sender.js';
import { Transaction } from './transaction.js';
import type { KafkaApi, ProducePartitionData, TopicMetadata } from '../seam/kafka-api.js';
import { serializeMessages } from './message-serializer.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './producer-options.js';

/** A batch being filled for one partition, and the sends with records in it. */
interface PendingBatch {
  topic: string;
  partition: number;
  builder: RecordBatchBuilder;
  sends: PendingSend[];
  baseOffset: number;
}

/** One `send` (or `sendBatch`) call waiting for its batches. */
interface PendingSend {
  promise: Promise<RecordMetadata[]>;
  resolve: (meta: RecordMetadata[]) => void;
  reject: (error: unknown) => void;
  /** Per partition written, in order: the batch holding the call's first record there, and its index. */
  firstBatches: PendingBatch[];
  firstIndexes: number[];
  /** `tpKey`s of the partitions in firstBatches, once there are many. */
  partitions?: Set<string>;
  /** Batches not yet appended. */
  waiting: number;
  failed: boolean;
}

/** Per topic: what the producer knows of it, the open batch of each partition, the keyless spreading state. */
interface TopicAccumulator {
  name: string;
  /** Undefined until looked up, and again after the topic changed (created, grown, deleted). */
  meta: TopicMetadata | undefined;
  open: (PendingBatch | undefined)[];
  sticky: number;
}

/** A call that must wait: for its topics' metadata, or behind another call that does. */
interface QueuedCall {
  /** The call's messages, checked and copied at the call (or once `serialized`). */
  topics: TopicMessages[];
  send: PendingSend;
  /** A serializer answered with a promise: settles once `topics` holds the call's bytes, checked. */
  serialized?: Promise<void>;
}

const encoder = new TextEncoder();
const RESOLVED = Promise.resolve();
let producers = 0;

/**
 * Appends messages to topics. Messages are checked and encoded into Kafka record batches when
 * `send` is called (so the caller may reuse its buffers at once), batched per partition, and
 * appended after `lingerMs` (0: at the end of the current tick) or once a batch reaches
 * `batchSize`.
 *
 * Concurrency: calls are taken in call order, whether awaited or not. Sends from one producer to
 * one partition get offsets in call order, and the records one call sends to one partition get
 * consecutive offsets. A call to a topic not looked up yet — and every call after it, until
 * that lookup is done — waits in a queue with copies of its bytes; calls behind it keep their
 * order. A call whose messages fail a check rejects and changes nothing (nor does it create its
 * topic).
 *
 * With `serializers`, keys and values are serialized first, at the call. A call whose serializers
 * answer with a promise waits in the queue like a call waiting for metadata, so later calls still
 * keep their order behind it.
 */
export class Producer<K = string | Uint8Array, V = string | Uint8Array> {
  #api: KafkaApi;
  #ctx: ClientContext;
  #options: ResolvedProducerOptions;
  #accumulators = new Map<string, TopicAccumulator>();
  #full: PendingBatch[] = [];
  #flushQueued = false;
  #lingerTimer: ClockTimer | undefined;
  /** Produce requests not answered yet, and `flush` calls waiting for them to be none. */
  #inFlight = 0;
  #drained: (() => void)[] = [];
  /** Calls waiting for metadata, and those behind them, in call order. */
  #queue: QueuedCall[] = [];
  #pumping = false;
  #pumped: Promise<void> = Promise.resolve();
  #unwatch: () => void;
  #closing: Promise<void> | undefined;
  /** Closed, flushed: `flush` is refused from now on (sends since `close` began). */
  #closed = false;
  #onClose: (producer: Producer<K, V>) => void;
  /** Batches waiting for a codec that is still loading: later requests go out behind them. */
  #compressing: Promise<void> | undefined;
  /** The compression codec's packages loaded (checked at the first call). */
  #codecReady = false;
  #spread: number;
  /** Sends batches with a producer id and sequences, when `idempotent`; it compresses them itself, in order. */
  #idempotent: IdempotentSender<PendingBatch> | undefined;
  /** With a `transactionalId`: the open transaction, if any. */
  #transaction: Transaction<K, V> | undefined;

  /** @internal created by `broker.producer()`. */
  constructor(api: KafkaApi, ctx: ClientContext, options: ProducerOptions<K, V> | undefined, onClose: (producer: Producer<K, V>) => void) {
    this.#options = resolveProducerOptions(options as ProducerOptions<unknown, unknown> | undefined);
    this.#api = api;
    this.#ctx = ctx;
    this.#onClose = onClose;
    this.#spread = producers++;
    const { transactionalId, transactionTimeoutMs, compression } = this.#options;
    // The sender compresses each batch once, when handed over, and writes the sequences into the header when it sends it.
    if (transactionalId !== undefined) this.#idempotent = new IdempotentSender(api, ctx.clock, settle, { transactional: { transactionalId, transactionTimeoutMs }, compression });
    else if (this.#options.idempotent) this.#idempotent = new IdempotentSender(api, ctx.clock, settle, { compression });
    // A topic changed: look it up again before the next call to it. Open batches keep their partition.
    this.#unwatch = api.watchMetadata((topic) => {
      const acc = this.#accumulators.get(topic);
      if (acc !== undefined) acc.meta = undefined;
    });
  }

  /**
   * Begins a transaction (needs a `transactionalId`): its sends commit or abort together. The
   * first transaction also fences any older producer with the same `transactionalId`.
   * `INVALID_TXN_STATE` while another transaction of this producer is open.
   */
  transaction(): Transaction<K, V> {
    this.#checkOpen();
    const sender = this.#idempotent;
    if (this.#options.transactionalId === undefined || sender === undefined) throw invalidArgument('transaction() needs a producer created with a transactionalId');
    if (this.#transaction !== undefined) throw invalidTxnState('this producer already has an open transaction: commit or abort it first');
    // Fences an older producer now, not at the first send.
    sender.init().catch(() => undefined);
    const transaction = new Transaction<K, V>({
      ready: () => sender.ready(),
      send: (record) => this.send(record),
      sendBatch: (batch) => this.sendBatch(batch),
      flush: () => this.flush(),
      sendOffsets: (groupId, offsets) => sender.sendOffsets(groupId, offsets),
      end: (commit) => sender.end(commit),
      closed: (t) => {
        if (this.#transaction === t) this.#transaction = undefined;
      },
    });
    this.#transaction = transaction;
    return transaction;
  }

  /** Appends `messages` to `topic`; resolves once they are readable, one entry per partition written. */
  send(record: TopicMessages<K, V>): Promise<RecordMetadata[]> {
    try {
      this.#checkOpen();
      this.#checkCodec();
      this.#checkTransaction();
      checkTopicMessages(record, 'send');
      const acc = this.#accumulator(record.topic);
      const messages = this.#serialize(record);
      if (messages instanceof Promise) return this.#queueSerialized([record.topic], [messages]);
      checkMessages(messages);
      const send = newSend();
      if (this.#queue.length === 0 && acc.meta !== undefined) {
        this.#writeOne(acc, messages, send);
      } else {
        this.#queue.push({ topics: [{ topic: record.topic, messages: copyMessages(messages) }], send });
        this.#pump();
      }
      return send.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends to several topics; checks every message of every topic before queuing any. */
  sendBatch(batch: { topicMessages: TopicMessages<K, V>[] }): Promise<RecordMetadata[]> {
    try {
      this.#checkOpen();
      this.#checkCodec();
      this.#checkTransaction();
      if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.topicMessages)) {
        throw invalidArgument(`sendBatch takes { topicMessages: [...] } (got ${show(batch)})`);
      }
      batch.topicMessages.forEach((t, i) => checkTopicMessages(t, `sendBatch topicMessages[${i}]`));
      const lists = batch.topicMessages.map((t) => this.#serialize(t));
      if (lists.some((l) => l instanceof Promise)) {
        return this.#queueSerialized(
          batch.topicMessages.map((t) => t.topic),
          lists,
        );
      }
      const topicMessages = batch.topicMessages.map((t, i) => ({ topic: t.topic, messages: lists[i] as Message[] }));
      topicMessages.forEach((t) => checkMessages(t.messages));
      if (topicMessages.length === 0) return Promise.resolve([]);
      const accs = topicMessages.map((t) => this.#accumulator(t.topic));
      const send = newSend();
      if (this.#queue.length === 0 && accs.every((a) => a.meta !== undefined)) {
        this.#write(
          accs,
          topicMessages.map((t) => t.messages),
          send,
        );
      } else {
        this.#queue.push({ topics: topicMessages.map((t) => ({ topic: t.topic, messages: copyMessages(t.messages) })), send });
        this.#pump();
      }
      return send.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The call's messages as bytes: as given without serializers, else serialized (maybe later). */
  #serialize(record: TopicMessages<K, V>): Message[] | Promise<Message[]> {
    const serializers = this.#options.serializers;
    if (serializers === undefined) return record.messages as Message[];
    return serializeMessages(record.topic, record.messages, serializers);
  }

  /**
   * Queues a call some of whose serializers answered with a promise: it keeps its place in call
   * order, and is written (or refused, changing nothing) once every serializer has answered.
   */
  #queueSerialized(topics: string[], lists: (Message[] | Promise<Message[]>)[]): Promise<RecordMetadata[]> {
    for (const topic of topics) this.#accumulator(topic); // a bad topic name is refused at the call
    const call: QueuedCall = { topics: [], send: newSend() };
    call.serialized = Promise.all(lists).then((serialized) => {
      serialized.forEach(checkMessages);
      call.topics = serialized.map((messages, i) => ({ topic: topics[i]!, messages: copyMessages(messages) }));
    });
    call.serialized.catch(() => undefined); // handled in #drain, possibly after other calls' lookups
    this.#queue.push(call);
    this.#pump();
    return call.send.promise;
  }

  /** Appends everything queued so far (and calls still waiting for their topic) and waits until it is readable. */
  async flush(): Promise<void> {
    // Closing flushes through this too; once closed, flushing is refused like every other call.
    if (this.#closed) throw closed('producer');
    while (this.#pumping) await this.#pumped;
    this.#sendAll();
    while (this.#inFlight > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
  }

  /** Flushes, then refuses further sends with `CLOSED`. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        this.#closed = true;
        this.#unwatch();
        this.#onClose(this);
      }
    })();
    return this.#closing;
  }

  #accumulator(topic: string): TopicAccumulator {
    let acc = this.#accumulators.get(topic);
    if (acc === undefined) {
      validateTopicName(topic);
      acc = { name: topic, meta: undefined, open: [], sticky: -1 };
      this.#accumulators.set(topic, acc);
    }
    return acc;
  }

  /** Works through the queue in call order, looking topics up as needed. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#pumped = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const call = this.#queue[0]!;
        try {
          if (call.serialized !== undefined) await call.serialized;
          const accs = call.topics.map((t) => this.#accumulator(t.topic));
          // A topic may change again while it is looked up (grown, deleted): until all are known.
          while (accs.some((a) => a.meta === undefined)) await this.#lookUp(call, accs);
          this.#write(
            accs,
            call.topics.map((t) => t.messages),
            call.send,
          );
        } catch (error) {
          fail(call.send, error);
        } finally {
          this.#queue.shift();
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Fetches the metadata of the call's unknown topics. A topic that does not exist is created
   * (when the broker auto-creates) only if the call fits it: a refused call creates nothing.
   */
  async #lookUp(call: QueuedCall, accs: TopicAccumulator[]): Promise<void> {
    const unknown = [...new Set(accs.filter((a) => a.meta === undefined))];
    const found = await this.#api.metadata({ topics: unknown.map((a) => a.name), allowAutoTopicCreation: false });
    this.#adopt(found.topics);
    const missing = unknown.filter((a) => a.meta === undefined);
    if (missing.length === 0) return;
    const autoCreate = found.autoCreate;
    if (autoCreate === undefined) throw unknownTopic(missing[0]!.name);
    // The whole call must fit — the topics that exist and those it would create (partitioned as
    // it would be there, custom partitioner included) — before any is created.
    for (const t of call.topics) {
      const acc = this.#accumulator(t.topic);
      if (acc.meta !== undefined) checkFits(acc.meta, t.messages);
      else this.#partitionAll({ ...acc, meta: { name: t.topic, ...autoCreate, creating: true } }, t.messages);
    }
    const created = await this.#api.metadata({ topics: missing.map((a) => a.name), allowAutoTopicCreation: true });
    this.#adopt(created.topics);
    const still = missing.find((a) => a.meta === undefined);
    if (still !== undefined) throw unknownTopic(still.name);
  }

  #adopt(topics: TopicMetadata[]): void {
    for (const meta of topics) {
      const acc = this.#accumulator(meta.name);
      acc.meta = meta;
      if (acc.sticky < 0 || acc.sticky >= meta.partitionCount) acc.sticky = this.#spread % meta.partitionCount;
    }
  }

  /**
   * Checks and partitions every message of the call, then appends them to the open batches:
   * nothing is queued unless everything passed. Every topic's metadata is known.
   */
  #write(accs: TopicAccumulator[], lists: Message[][], send: PendingSend): void {
    const partitions = accs.map((acc, i) => this.#partitionAll(acc, lists[i]!));
    let spilled = false;
    for (let i = 0; i < accs.length; i++) spilled = this.#append(accs[i]!, lists[i]!, partitions[i]!, send) || spilled;
    if (spilled) for (const acc of accs) this.#closeOpenOf(acc, send);
    this.#schedule();
  }

  /** {@link #write} for one topic: `send`'s usual case, without the per-call arrays. */
  #writeOne(acc: TopicAccumulator, messages: Message[], send: PendingSend): void {
    if (this.#append(acc, messages, this.#partitionAll(acc, messages), send)) this.#closeOpenOf(acc, send);
    this.#schedule();
  }

  /**
   * The call filled a batch and went on in another: send its open batches now, with the full
   * ones, so that its records to each partition are appended in one request, side by side —
   * another producer's records cannot land between them.
   */
  #closeOpenOf(acc: TopicAccumulator, send: PendingSend): void {
    for (const b of acc.open) if (b !== undefined && b.sends[b.sends.length - 1] === send) this.#close(acc, b);
  }

  /** Checks every message and picks its partition; throws before anything is queued. */
  #partitionAll(acc: TopicAccumulator & { meta: CheckedMetadata | undefined }, messages: Message[]): number[] {
    const meta = acc.meta!;
    const { name: topic, partitionCount } = meta;
    const { partitioner } = this.#options;
    const partitions: number[] = new Array(messages.length);
    let roundRobin = acc.sticky;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      let p: number;
      if (m.partition !== undefined) {
        p = m.partition;
      } else if (typeof partitioner === 'function') {
        p = partitioner({ topic, partitionCount, message: m });
        if (!Number.isInteger(p) || p < 0 || p >= partitionCount) {
          throw invalidArgument(`the partitioner returned ${show(p)} for messages[${i}] of topic ${show(topic)}, which has ${partitionCount} partitions`);
        }
      } else if (m.key != null) {
        p = partitionForKeyBytes(typeof m.key === 'string' ? encoder.encode(m.key) : m.key, partitionCount);
      } else if (partitioner === 'round-robin') {
        p = roundRobin;
        roundRobin = (roundRobin + 1) % partitionCount;
      } else {
        p = -1; // sticky: decided while appending, as batches fill
      }
      partitions[i] = p;
    }
    checkFits(meta, messages);
    if (partitioner === 'round-robin') acc.sticky = roundRobin;
    return partitions;
  }

  /** Appends one topic's messages of a call to the open batches; true if a batch filled up on the way. */
  #append(acc: TopicAccumulator, messages: Message[], partitions: number[], send: PendingSend): boolean {
    const now = this.#ctx.clock.now();
    const limit = Math.min(this.#options.batchSize, acc.meta!.maxMessageBytes);
    let spilled = false;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      let p = partitions[i]!;
      if (p < 0) p = acc.sticky;
      let batch = acc.open[p];
      if (batch === undefined) batch = this.#openBatch(acc, p, limit, sizeHint(m, messages.length - i));
      const key = m.key ?? null;
      const timestamp = m.timestamp ?? now;
      batch.builder.append(timestamp, key, m.value, m.headers);
      if (batch.builder.size > limit && batch.builder.count > 1) {
        // Over the batch limit: close the batch without this record and start another.
        batch.builder.undoLast();
        spilled ||= batch.sends[batch.sends.length - 1] === send;
        this.#close(acc, batch);
        if (partitions[i]! < 0) p = acc.sticky;
        batch = acc.open[p] ?? this.#openBatch(acc, p, limit, sizeHint(m, messages.length - i));
        batch.builder.append(timestamp, key, m.value, m.headers);
      }
      if (batch.sends[batch.sends.length - 1] !== send) {
        batch.sends.push(send);
        send.waiting++;
      }
      if (!wrote(send, acc.name, p)) {
        send.partitions?.add(tpKey(acc.name, p));
        send.firstBatches.push(batch);
        send.firstIndexes.push(batch.builder.count - 1);
      }
      if (batch.builder.size >= limit) {
        spilled ||= i < messages.length - 1;
        this.#close(acc, batch);
      }
    }
    return spilled;
  }

  #openBatch(acc: TopicAccumulator, partition: number, limit: number, hint: number): PendingBatch {
    const batch: PendingBatch = {
      topic: acc.name,
      partition,
      builder: new RecordBatchBuilder(Math.min(hint, limit + 1024)),
      sends: [],
      baseOffset: -1,
    };
    acc.open[partition] = batch;
    return batch;
  }

  /** Moves a batch from open to full; a sticky producer moves on to the next partition. */
  #close(acc: TopicAccumulator, batch: PendingBatch): void {
    acc.open[batch.partition] = undefined;
    this.#full.push(batch);
    if (this.#options.partitioner === 'sticky' && acc.sticky === batch.partition && acc.meta !== undefined) {
      acc.sticky = (acc.sticky + 1) % acc.meta.partitionCount;
    }
  }

  #schedule(): void {
    if (this.#full.length > 0 || this.#options.lingerMs === 0) {
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        // A resolved promise's reaction, not queueMicrotask: no async resource is made per turn.
        void RESOLVED.then(this.#endOfTurn);
      }
    }
    if (this.#options.lingerMs > 0 && this.#lingerTimer === undefined && this.#hasOpen()) {
      this.#lingerTimer = this.#ctx.clock.setTimeout(() => {
        this.#lingerTimer = undefined;
        this.#sendAll();
      }, this.#options.lingerMs);
    }
  }

  readonly #endOfTurn = (): void => {
    this.#flushQueued = false;
    if (this.#options.lingerMs === 0) this.#sendAll();
    else this.#sendFull();
  };

  #hasOpen(): boolean {
    for (const acc of this.#accumulators.values()) for (const b of acc.open) if (b !== undefined) return true;
    return false;
  }

  /** Closes every open batch and sends everything. */
  #sendAll(): void {
    if (this.#lingerTimer !== undefined) {
      this.#ctx.clock.clearTimeout(this.#lingerTimer);
      this.#lingerTimer = undefined;
    }
    for (const acc of this.#accumulators.values()) {
      for (const b of acc.open) if (b !== undefined) this.#close(acc, b);
    }
    this.#sendFull();
  }

  #sendFull(): void {
    if (this.#full.length === 0) return;
    const batches = this.#full;
    this.#full = [];
    if (this.#idempotent !== undefined) {
      this.#inFlight++;
      void this.#idempotent.send(batches).then(
        () => this.#landed(),
        () => this.#landed(),
      );
      return;
    }
    const partitions: ProducePartitionData[] = new Array(batches.length);
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      partitions[i] = { topic: b.topic, partition: b.partition, records: b.builder.build() };
    }
    this.#inFlight++;
    try {
      const compressing = this.#options.compression === 'none' ? undefined : this.#compress(partitions);
      if (compressing === undefined) this.#produce(partitions, batches);
      else void compressing.then(() => this.#produce(partitions, batches), (error: unknown) => this.#answered(batches, undefined, error));
    } catch (error) {
      this.#answered(batches, undefined, error);
    }
  }

  #answered(batches: PendingBatch[], baseOffsets: number[] | undefined, error: unknown): void {
    try {
      settle(batches, baseOffsets, error);
    } finally {
      this.#landed();
    }
  }

  /** A produce request was answered: `flush` calls wait for none to be left. */
  #landed(): void {
    if (--this.#inFlight === 0 && this.#drained.length > 0) for (const resolve of this.#drained.splice(0)) resolve();
  }

  #produce(partitions: ProducePartitionData[], batches: PendingBatch[]): void {
    try {
      void this.#api.produce({ partitions }).then(
        ({ baseOffsets }) => this.#answered(batches, baseOffsets, undefined),
        (error: unknown) => this.#answered(batches, undefined, error),
      );
    } catch (error) {
      this.#answered(batches, undefined, error);
    }
  }

  /**
   * Compresses the request's batches with the producer's codec, in place. Undefined when done at
   * once; a promise while a codec loads — and for every request behind it, so that requests still
   * reach the broker in order.
   */
  #compress(partitions: ProducePartitionData[]): Promise<void> | undefined {
    const codec = this.#options.compression;
    let pending: Promise<void>[] | undefined;
    for (const p of partitions) {
      const compressed = compressBatch(p.records as Buffer, codec);
      if (compressed instanceof Promise) (pending ??= []).push(compressed.then((b) => void (p.records = b)));
      else p.records = compressed;
    }
    const previous = this.#compressing;
    if (pending === undefined && previous === undefined) return undefined;
    const done = Promise.all([previous?.catch(() => undefined), ...(pending ?? [])]).then(() => undefined);
    this.#compressing = done;
    void done.then(
      () => this.#release(done),
      () => this.#release(done),
    );
    return done;
  }

  #release(compressing: Promise<void>): void {
    if (this.#compressing === compressing) this.#compressing = undefined;
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw closed('producer');
  }

  /** The codec's package is there, before the call does anything (a refused call creates no topic). */
  #checkCodec(): void {
    if (this.#codecReady) return;
    requireCodec(this.#options.compression);
    this.#codecReady = true;
  }

  #checkTransaction(): void {
    if (this.#options.transactionalId !== undefined && this.#transaction === undefined) {
      throw invalidTxnState(`producer with transactionalId ${show(this.#options.transactionalId)} sends only inside a transaction: producer.transaction().send(...)`);
    }
  }
}

function newSend(): PendingSend {
  let resolve!: (meta: RecordMetadata[]) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<RecordMetadata[]>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, firstBatches: [], firstIndexes: [], waiting: 0, failed: false };
}

function fail(send: PendingSend, error: unknown): void {
  if (send.failed) return;
  send.failed = true;
  send.reject(error);
}

/** Resolves (or rejects) every send whose last batch this was. */
function settle(batches: PendingBatch[], baseOffsets: number[] | undefined, error: unknown): void {
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    if (baseOffsets !== undefined) b.baseOffset = baseOffsets[i]!;
    for (const send of b.sends) {
      if (error !== undefined) {
        fail(send, error);
        continue;
      }
      if (--send.waiting === 0 && !send.failed) {
        const meta: RecordMetadata[] = new Array(send.firstBatches.length);
        for (let j = 0; j < meta.length; j++) {
          const first = send.firstBatches[j]!;
          meta[j] = { topic: first.topic, partition: first.partition, baseOffset: first.baseOffset + send.firstIndexes[j]! };
        }
        send.resolve(meta);
      }
    }
  }
}

function checkTopicMessages(record: TopicMessages<unknown, unknown>, where: string): void {
  if (record === null || typeof record !== 'object') throw invalidArgument(`${where} takes { topic, messages } (got ${show(record)})`);
  if (typeof record.topic !== 'string') throw invalidArgument(`${where}: topic must be a string (got ${show(record.topic)})`);
  if (!Array.isArray(record.messages) || record.messages.length === 0) {
    throw invalidArgument(`${where}: messages for topic ${show(record.topic)} must be a non-empty array (got ${show(record.messages)})`, {
      topic: record.topic,
    });
  }
}

/** Copies every byte array of the (checked) messages, so the caller may reuse its buffers at once. */
function copyMessages(messages: Message[]): Message[] {
  return messages.map((m) => {
    const copy: Message = { ...m };
    if (m.key instanceof Uint8Array) copy.key = Buffer.from(m.key);
    if (m.value instanceof Uint8Array) copy.value = Buffer.from(m.value);
    if (m.headers !== undefined) {
      const headers: NonNullable<Message['headers']> = {};
      for (const k in m.headers) {
        const v = m.headers[k]!;
        headers[k] = Array.isArray(v) ? v.map(copyBytes) : copyBytes(v);
      }
      copy.headers = headers;
    }
    return copy;
  });
}

/** A private copy (`Buffer.from` of a view copies; a Buffer's own `slice` would not). */
function copyBytes(v: string | Uint8Array): string | Uint8Array {
  return typeof v === 'string' ? v : Buffer.from(v);
}

/** Metadata, or what a topic the call would create gets (its checks then say so). */
type CheckedMetadata = TopicMetadata & { creating?: boolean };

/** Explicit partitions exist and every message fits the topic's `maxMessageBytes`. */
function checkFits(meta: CheckedMetadata, messages: Message[]): void {
  const { name: topic, partitionCount, maxMessageBytes } = meta;
  if (meta.internal === true) throw invalidTopic(topic, 'it is an internal topic, kept by the broker itself: producing to it is refused');
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.partition !== undefined && m.partition >= partitionCount) throw unknownPartition(topic, m.partition, partitionCount, meta.creating);
    if (exceedsRoughly(m, maxMessageBytes)) {
      const size = singleRecordBatchSize(m.key ?? null, m.value, m.headers);
      if (size > maxMessageBytes) throw messageTooLarge(topic, size, maxMessageBytes);
    }
  }
}

function checkMessages(messages: Message[]): void {
  for (let i = 0; i < messages.length; i++) checkMessage(messages[i]!, i);
}

function isBytes(v: unknown): v is string | Uint8Array {
  return typeof v === 'string' || v instanceof Uint8Array;
}

function checkMessage(m: Message, i: number): void {
  if (m === null || typeof m !== 'object') throw invalidArgument(`messages[${i}] must be an object (got ${show(m)})`);
  if (m.value !== null && !isBytes(m.value)) {
    throw invalidArgument(`messages[${i}].value must be a string, a Uint8Array or null (got ${show(m.value)})`);
  }
  if (m.key != null && !isBytes(m.key)) {
    throw invalidArgument(`messages[${i}].key must be a string, a Uint8Array or null (got ${show(m.key)})`);
  }
  if (m.partition !== undefined && (!Number.isInteger(m.partition) || m.partition < 0)) {
    throw invalidArgument(`messages[${i}].partition must be an integer >= 0 (got ${show(m.partition)})`);
  }
  if (m.timestamp !== undefined && (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0)) {
    throw invalidArgument(`messages[${i}].timestamp must be an integer from 0 to ${Number.MAX_SAFE_INTEGER} (got ${show(m.timestamp)})`);
  }
  if (m.headers !== undefined) {
    if (m.headers === null || typeof m.headers !== 'object' || Array.isArray(m.headers)) {
      throw invalidArgument(`messages[${i}].headers must be an object (got ${show(m.headers)})`);
    }
    for (const k in m.headers) {
      const v = m.headers[k];
      if (Array.isArray(v)) {
        const bad = v.findIndex((x) => !isBytes(x));
        if (bad >= 0) throw invalidArgument(`messages[${i}].headers[${show(k)}][${bad}] must be a string or a Uint8Array (got ${show(v[bad])})`);
      } else if (!isBytes(v)) {
        throw invalidArgument(`messages[${i}].headers[${show(k)}] must be a string, a Uint8Array or an array of them (got ${show(v)})`);
      }
    }
  }
}

/** Whether a send already wrote to partition `p` of `topic`: a scan while it touched few, a set beyond. */
function wrote(send: PendingSend, topic: string, p: number): boolean {
  const batches = send.firstBatches;
  if (batches.length <= 16) {
    for (let j = 0; j < batches.length; j++) if (batches[j]!.partition === p && batches[j]!.topic === topic) return true;
    return false;
  }
  send.partitions ??= new Set(batches.map((b) => tpKey(b.topic, b.partition)));
  return send.partitions.has(tpKey(topic, p));
}

/** Bytes to reserve for a batch that starts with `m` and may take `remaining` messages like it. */
function sizeHint(m: Message, remaining: number): number {
  return RECORD_BATCH_HEADER_SIZE + remaining * (24 + roughBytes(m.key ?? null) + roughBytes(m.value));
}

/** A cheap upper bound first; only a message that might not fit is measured exactly. */
function exceedsRoughly(m: Message, max: number): boolean {
  if (m.headers !== undefined) return true;
  const rough = RECORD_BATCH_HEADER_SIZE + 32 + roughBytes(m.key ?? null) + roughBytes(m.value);
  return rough > max;
}

function roughBytes(b: string | Uint8Array | null): number {
  if (b === null) return 0;
  return typeof b === 'string' ? b.length * 3 : b.length;
}
