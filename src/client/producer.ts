import type { ClockTimer } from '../clock.js';
import { RECORD_BATCH_HEADER_SIZE, RecordBatchBuilder, singleRecordBatchSize } from '../codec/record-batch.js';
import { closed, invalidArgument, invalidTopic, invalidTxnState, messageTooLarge, show, unknownPartition, unknownTopic } from '../errors.js';
import { partitionForKeyBytes } from '../topic/partitioner.js';
import { validateTopicName } from '../topic/topic-config.js';
import { tpKey, type Message, type RecordMetadata, type TopicMessages } from '../types.js';
import type { ClientContext } from './client-context.js';
import { IdempotentSender } from './idempotent-sender.js';
import { Transaction } from './transaction.js';
import type { KafkaApi, ProducePartitionData, TopicMetadata } from './kafka-api.js';
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
  /** The call's messages, checked and copied at the call. */
  topics: TopicMessages[];
  send: PendingSend;
}

const encoder = new TextEncoder();
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
 */
export class Producer {
  #api: KafkaApi;
  #ctx: ClientContext;
  #options: ResolvedProducerOptions;
  #accumulators = new Map<string, TopicAccumulator>();
  #full: PendingBatch[] = [];
  #flushQueued = false;
  #lingerTimer: ClockTimer | undefined;
  #inFlight = new Set<Promise<void>>();
  /** Calls waiting for metadata, and those behind them, in call order. */
  #queue: QueuedCall[] = [];
  #pumping = false;
  #pumped: Promise<void> = Promise.resolve();
  #unwatch: () => void;
  #closing: Promise<void> | undefined;
  /** Closed, flushed: `flush` is refused from now on (sends since `close` began). */
  #closed = false;
  #onClose: (producer: Producer) => void;
  #spread: number;
  /** Sends batches with a producer id and sequences, when `idempotent`. */
  #idempotent: IdempotentSender<PendingBatch> | undefined;
  /** With a `transactionalId`: the open transaction, if any. */
  #transaction: Transaction | undefined;

  /** @internal created by `broker.producer()`. */
  constructor(api: KafkaApi, ctx: ClientContext, options: ProducerOptions | undefined, onClose: (producer: Producer) => void) {
    this.#options = resolveProducerOptions(options);
    this.#api = api;
    this.#ctx = ctx;
    this.#onClose = onClose;
    this.#spread = producers++;
    const { transactionalId, transactionTimeoutMs } = this.#options;
    if (transactionalId !== undefined) this.#idempotent = new IdempotentSender(api, ctx.clock, settle, { transactionalId, transactionTimeoutMs });
    else if (this.#options.idempotent) this.#idempotent = new IdempotentSender(api, ctx.clock, settle);
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
  transaction(): Transaction {
    this.#checkOpen();
    const sender = this.#idempotent;
    if (this.#options.transactionalId === undefined || sender === undefined) throw invalidArgument('transaction() needs a producer created with a transactionalId');
    if (this.#transaction !== undefined) throw invalidTxnState('this producer already has an open transaction: commit or abort it first');
    // Fences an older producer now, not at the first send.
    sender.init().catch(() => undefined);
    const transaction = new Transaction({
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
  send(record: TopicMessages): Promise<RecordMetadata[]> {
    try {
      this.#checkOpen();
      this.#checkTransaction();
      checkTopicMessages(record, 'send');
      checkMessages(record.messages);
      const acc = this.#accumulator(record.topic);
      const send = newSend();
      if (this.#queue.length === 0 && acc.meta !== undefined) {
        this.#write([acc], [record.messages], send);
      } else {
        this.#queue.push({ topics: [{ topic: record.topic, messages: copyMessages(record.messages) }], send });
        this.#pump();
      }
      return send.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends to several topics; checks every message of every topic before queuing any. */
  sendBatch(batch: { topicMessages: TopicMessages[] }): Promise<RecordMetadata[]> {
    try {
      this.#checkOpen();
      this.#checkTransaction();
      if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.topicMessages)) {
        throw invalidArgument(`sendBatch takes { topicMessages: [...] } (got ${show(batch)})`);
      }
      const { topicMessages } = batch;
      topicMessages.forEach((t, i) => {
        checkTopicMessages(t, `sendBatch topicMessages[${i}]`);
        checkMessages(t.messages);
      });
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

  /** Appends everything queued so far (and calls still waiting for their topic) and waits until it is readable. */
  async flush(): Promise<void> {
    // Closing flushes through this too; once closed, flushing is refused like every other call.
    if (this.#closed) throw closed('producer');
    while (this.#pumping) await this.#pumped;
    this.#sendAll();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
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
    if (spilled) {
      // The call filled a batch and went on in another: send its open batches now, with the
      // full ones, so that its records to each partition are appended in one request, side by
      // side — another producer's records cannot land between them.
      for (const acc of accs) {
        for (const b of acc.open) if (b !== undefined && b.sends[b.sends.length - 1] === send) this.#close(acc, b);
      }
    }
    this.#schedule();
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
        queueMicrotask(() => {
          this.#flushQueued = false;
          if (this.#options.lingerMs === 0) this.#sendAll();
          else this.#sendFull();
        });
      }
    }
    if (this.#options.lingerMs > 0 && this.#lingerTimer === undefined && this.#hasOpen()) {
      this.#lingerTimer = this.#ctx.clock.setTimeout(() => {
        this.#lingerTimer = undefined;
        this.#sendAll();
      }, this.#options.lingerMs);
    }
  }

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
      const sent = this.#idempotent.send(batches);
      this.#inFlight.add(sent);
      void sent.finally(() => this.#inFlight.delete(sent));
      return;
    }
    const partitions: ProducePartitionData[] = new Array(batches.length);
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      partitions[i] = { topic: b.topic, partition: b.partition, records: b.builder.build() };
    }
    let request: Promise<void>;
    try {
      request = this.#api.produce({ partitions }).then(
        ({ baseOffsets }) => settle(batches, baseOffsets, undefined),
        (error: unknown) => settle(batches, undefined, error),
      );
    } catch (error) {
      request = Promise.resolve(settle(batches, undefined, error));
    }
    this.#inFlight.add(request);
    void request.finally(() => this.#inFlight.delete(request));
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw closed('producer');
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

function checkTopicMessages(record: TopicMessages, where: string): void {
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
