import type { ClockTimer } from '../clock.js';
import { RECORD_BATCH_HEADER_SIZE, RecordBatchBuilder, singleRecordBatchSize } from '../codec/record-batch.js';
import { closed, invalidArgument, messageTooLarge, show, unknownPartition, unknownTopic } from '../errors.js';
import { partitionForKeyBytes } from '../topic/partitioner.js';
import type { Message, RecordMetadata, TopicMessages } from '../types.js';
import type { KafkaApi, ProducePartitionData, TopicMetadata } from './kafka-api.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './producer-options.js';

/** A batch being filled for one partition, and the sends with records in it. */
interface PendingBatch {
  topic: string;
  partition: number;
  builder: RecordBatchBuilder;
  limit: number;
  sends: PendingSend[];
  baseOffset: number;
}

/** One `send` call waiting for its batches. */
interface PendingSend {
  resolve: (meta: RecordMetadata[]) => void;
  reject: (error: unknown) => void;
  /** Per partition written, in order: the batch holding the call's first record there, and its index. */
  firstBatches: PendingBatch[];
  firstIndexes: number[];
  /** The partitions in firstBatches, once there are many. */
  partitions?: Set<number>;
  /** Batches not yet appended. */
  waiting: number;
  failed: boolean;
}

/** Per topic: the open batch of each partition and the keyless spreading state. */
interface TopicAccumulator {
  meta: TopicMetadata;
  open: (PendingBatch | undefined)[];
  sticky: number;
}

const encoder = new TextEncoder();
let producers = 0;

/**
 * Appends messages to topics. Messages are checked and encoded into Kafka record batches when
 * `send` is called (so the caller may reuse its buffers at once), batched per partition, and
 * appended after `lingerMs` (0: at the end of the current tick) or once a batch reaches
 * `batchSize`.
 *
 * Concurrency: sends from one producer to one partition get offsets in call order. A call whose
 * messages fail a check rejects before anything of it is queued.
 */
export class Producer {
  #api: KafkaApi;
  #options: ResolvedProducerOptions;
  #accumulators = new Map<string, TopicAccumulator>();
  #full: PendingBatch[] = [];
  #flushQueued = false;
  #lingerTimer: ClockTimer | undefined;
  #inFlight = new Set<Promise<void>>();
  /** Accepted sends still waiting for their topic's metadata. */
  #preparing = new Set<Promise<unknown>>();
  #unwatch: () => void;
  #closing: Promise<void> | undefined;
  #onClose: (producer: Producer) => void;
  #spread: number;

  /** @internal created by `broker.producer()`. */
  constructor(api: KafkaApi, options: ProducerOptions | undefined, onClose: (producer: Producer) => void) {
    this.#options = resolveProducerOptions(options);
    this.#api = api;
    this.#onClose = onClose;
    this.#spread = producers++;
    // Drop cached metadata when a topic changes; batches already open keep their partition.
    this.#unwatch = api.watchMetadata((topic) => {
      const acc = this.#accumulators.get(topic);
      if (acc !== undefined && !acc.open.some((b) => b !== undefined)) this.#accumulators.delete(topic);
      else if (acc !== undefined) acc.meta = { ...acc.meta, partitionCount: -1 };
    });
  }

  /** Appends `messages` to `topic`; resolves once they are readable, one entry per partition written. */
  send(record: TopicMessages): Promise<RecordMetadata[]> {
    try {
      this.#checkOpen();
      checkTopicMessages(record, 'send');
      const acc = this.#accumulators.get(record.topic);
      if (acc !== undefined && acc.meta.partitionCount > 0) return this.#enqueue(acc, record.messages);
      // The topic must be looked up first. Copy the caller's buffers now, as a cached send
      // would have, and track only the look-up: flush() waits for it, not for the send.
      const messages = snapshot(record.messages);
      const enqueued = this.#accumulator(record.topic).then((a) => ({ sent: this.#enqueue(a, messages) }));
      this.#track(enqueued);
      return enqueued.then(({ sent }) => sent);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends to several topics; checks every message of every topic before queuing any. */
  sendBatch(batch: { topicMessages: TopicMessages[] }): Promise<RecordMetadata[]> {
    try {
      this.#checkOpen();
      const enqueued = this.#enqueueBatch(copyTopicMessages(batch));
      this.#track(enqueued);
      return enqueued.then(async (sends) => (await Promise.all(sends)).flat());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #enqueueBatch(batch: { topicMessages: TopicMessages[] }): Promise<Promise<RecordMetadata[]>[]> {
    const accs: TopicAccumulator[] = [];
    for (const t of batch.topicMessages) accs.push(await this.#accumulator(t.topic));
    const partitions = batch.topicMessages.map((t, i) => this.#partitionAll(accs[i]!, t.messages));
    return batch.topicMessages.map((t, i) => this.#append(accs[i]!, t.messages, partitions[i]!));
  }

  /** Appends everything queued so far (and sends still looking up their topic) and waits until it is readable. */
  async flush(): Promise<void> {
    while (this.#preparing.size > 0) await Promise.allSettled([...this.#preparing]);
    this.#sendAll();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #track(preparing: Promise<unknown>): void {
    this.#preparing.add(preparing);
    const done = (): void => void this.#preparing.delete(preparing);
    preparing.then(done, done);
  }

  /** Flushes, then refuses further sends with `CLOSED`. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        this.#unwatch();
        this.#onClose(this);
      }
    })();
    return this.#closing;
  }

  async #accumulator(topic: string): Promise<TopicAccumulator> {
    const { topics } = await this.#api.metadata({ topics: [topic], allowAutoTopicCreation: true });
    const meta = topics[0];
    if (meta === undefined) throw unknownTopic(topic);
    const existing = this.#accumulators.get(topic);
    if (existing !== undefined) {
      existing.meta = meta;
      return existing;
    }
    const acc: TopicAccumulator = { meta, open: [], sticky: this.#spread % meta.partitionCount };
    this.#accumulators.set(topic, acc);
    return acc;
  }

  #enqueue(acc: TopicAccumulator, messages: Message[]): Promise<RecordMetadata[]> {
    return this.#append(acc, messages, this.#partitionAll(acc, messages));
  }

  /** Checks every message and picks its partition; throws before anything is queued. */
  #partitionAll(acc: TopicAccumulator, messages: Message[]): number[] {
    const { name: topic, partitionCount, maxMessageBytes } = acc.meta;
    const { partitioner } = this.#options;
    const partitions: number[] = new Array(messages.length);
    let roundRobin = acc.sticky;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      checkMessage(m, i);
      let p: number;
      if (m.partition !== undefined) {
        p = m.partition;
        if (p >= partitionCount) throw unknownPartition(topic, p, partitionCount);
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
      if (exceedsRoughly(m, maxMessageBytes)) {
        const size = singleRecordBatchSize(m.key ?? null, m.value, m.headers);
        if (size > maxMessageBytes) throw messageTooLarge(topic, size, maxMessageBytes);
      }
    }
    if (partitioner === 'round-robin') acc.sticky = roundRobin;
    return partitions;
  }

  #append(acc: TopicAccumulator, messages: Message[], partitions: number[]): Promise<RecordMetadata[]> {
    const now = this.#api.clock.now();
    const limit = Math.min(this.#options.batchSize, acc.meta.maxMessageBytes);
    let resolve!: (meta: RecordMetadata[]) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<RecordMetadata[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const send: PendingSend = { resolve, reject, firstBatches: [], firstIndexes: [], waiting: 0, failed: false };
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
        this.#close(acc, batch);
        if (partitions[i]! < 0) p = acc.sticky;
        batch = acc.open[p] ?? this.#openBatch(acc, p, limit, sizeHint(m, messages.length - i));
        batch.builder.append(timestamp, key, m.value, m.headers);
      }
      if (batch.sends[batch.sends.length - 1] !== send) {
        batch.sends.push(send);
        send.waiting++;
      }
      if (!wrote(send, p)) {
        send.partitions?.add(p);
        send.firstBatches.push(batch);
        send.firstIndexes.push(batch.builder.count - 1);
      }
      if (batch.builder.size >= limit) this.#close(acc, batch);
    }
    this.#schedule();
    return promise;
  }

  #openBatch(acc: TopicAccumulator, partition: number, limit: number, hint: number): PendingBatch {
    const batch: PendingBatch = {
      topic: acc.meta.name,
      partition,
      builder: new RecordBatchBuilder(Math.min(hint, limit + 1024)),
      limit,
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
    if (this.#options.partitioner === 'sticky' && acc.sticky === batch.partition) {
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
      this.#lingerTimer = this.#api.clock.setTimeout(() => {
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
      this.#api.clock.clearTimeout(this.#lingerTimer);
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
}

/** Resolves (or rejects) every send whose last batch this was. */
function settle(batches: PendingBatch[], baseOffsets: number[] | undefined, error: unknown): void {
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    if (baseOffsets !== undefined) b.baseOffset = baseOffsets[i]!;
    for (const send of b.sends) {
      if (error !== undefined) {
        if (!send.failed) {
          send.failed = true;
          send.reject(error);
        }
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

/** Checks the messages and copies every byte array in them, so the caller may reuse its buffers at once. */
function snapshot(messages: Message[]): Message[] {
  return messages.map((m, i) => {
    checkMessage(m, i);
    const copy: Message = { ...m };
    if (m.key instanceof Uint8Array) copy.key = m.key.slice();
    if (m.value instanceof Uint8Array) copy.value = m.value.slice();
    if (m.headers !== undefined) {
      copy.headers = {};
      for (const k in m.headers) {
        const v = m.headers[k]!;
        copy.headers[k] = v instanceof Uint8Array ? v.slice() : v;
      }
    }
    return copy;
  });
}

function copyTopicMessages(batch: { topicMessages: TopicMessages[] }): { topicMessages: TopicMessages[] } {
  if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.topicMessages)) {
    throw invalidArgument(`sendBatch takes { topicMessages: [...] } (got ${show(batch)})`);
  }
  return {
    topicMessages: batch.topicMessages.map((t, i) => {
      checkTopicMessages(t, `sendBatch topicMessages[${i}]`);
      return { topic: t.topic, messages: snapshot(t.messages) };
    }),
  };
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
    throw invalidArgument(`messages[${i}].timestamp must be an integer >= 0 (got ${show(m.timestamp)})`);
  }
  if (m.headers !== undefined) {
    if (m.headers === null || typeof m.headers !== 'object' || Array.isArray(m.headers)) {
      throw invalidArgument(`messages[${i}].headers must be an object (got ${show(m.headers)})`);
    }
    for (const k in m.headers) {
      if (!isBytes(m.headers[k])) {
        throw invalidArgument(`messages[${i}].headers[${show(k)}] must be a string or a Uint8Array (got ${show(m.headers[k])})`);
      }
    }
  }
}

/** Whether a send already wrote to partition `p`: a scan while it touched few, a set beyond. */
function wrote(send: PendingSend, p: number): boolean {
  const batches = send.firstBatches;
  if (batches.length <= 16) {
    for (let j = 0; j < batches.length; j++) if (batches[j]!.partition === p) return true;
    return false;
  }
  send.partitions ??= new Set(batches.map((b) => b.partition));
  return send.partitions.has(p);
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
