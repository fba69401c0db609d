import type { Clock } from '../clock.js';
import { compressBatch } from '../codec/compressed-batch.js';
import type { CompressionCodec } from '../codec/compression.js';
import { incrementSequence, setBatchProducer, type RecordBatchBuilder } from '../codec/record-batch.js';
import { invalidTxnState, KafkaliteError, producerFenced } from '../errors.js';
import { tpKey } from '../types.js';
import type { KafkaApi, ProducePartitionData, TxnResponse } from '../seam/kafka-api.js';
import type { TopicPartitionOffset } from '../types.js';

/** What the sender needs of a producer's batch: where it goes and its records. */
export interface OutgoingBatch {
  topic: string;
  partition: number;
  builder: RecordBatchBuilder;
}

/** Batches per partition in one request: no more than the partition remembers, so a retry is always recognised. */
export const MAX_BATCHES_PER_PARTITION = 5;
/** Attempts of one request that fails with a retriable error, and the pause before each retry. */
export const MAX_ATTEMPTS = 10;
export const RETRY_BACKOFF_MS = 100;

/** Called once per batch handed to {@link IdempotentSender.send}: its base offset, or why it failed. */
export type Settle<B> = (batches: B[], baseOffsets: number[] | undefined, error: unknown) => void;

export interface IdempotentSenderOptions {
  /** Transactional: the producer's `transactionalId` and `transactionTimeoutMs`. */
  transactional?: { transactionalId: string; transactionTimeoutMs: number };
  /** The producer's codec: each batch is compressed once, when it is handed over. @default 'none' */
  compression?: CompressionCodec;
}

/** A batch handed over and not settled yet: the `send` call's callback, and its bytes once compressed. */
interface Waiting<B> {
  batch: B;
  done: () => void;
  /**
   * With compression: the batch compressed, its producer fields still -1 (written when it is sent);
   * a promise while the codec loads (zstd's wasm on Node 20). Undefined: built when sent.
   */
  records?: Buffer | Promise<Buffer>;
}

/**
 * The sending half of an idempotent producer (Kafka's `Sender` with `enable.idempotence`): it
 * gets a producer id and epoch through InitProducerId, numbers each partition's batches with
 * consecutive sequences, and retries a request that failed with a retriable error with the very
 * same bytes — so a batch whose append succeeded but whose acknowledgement was lost is
 * recognised by the partition and appended once.
 *
 * With a codec, a batch is compressed once, when it is handed over (while earlier requests are
 * out); its producer id, epoch and base sequence go into the header when it is sent, outside the
 * compressed records, and the CRC-32C is computed over them then — Kafka's way. A retry sends
 * those bytes again. Batches whose codec is still loading keep their place: a request waits for
 * the compression of every batch it takes, so no later batch overtakes them.
 *
 * One request is in flight at a time, holding at most {@link MAX_BATCHES_PER_PARTITION} batches
 * per partition: a retry is then always of the only unacknowledged batches, and the partition
 * still remembers them. A request that fails for good (or runs out of attempts) leaves the
 * partitions' view of the sequences in doubt: the sender asks for a new epoch (KIP-360), and the
 * batches after it start again at sequence 0.
 *
 * Concurrency: `send` may be called at any time; batches go out in the order they were handed
 * over, per partition and overall.
 */
export class IdempotentSender<B extends OutgoingBatch> {
  #api: KafkaApi;
  #clock: Clock;
  #settle: Settle<B>;
  #producerId = -1;
  #epoch = -1;
  /** No id yet, or the current epoch's sequences are in doubt: ask InitProducerId first. */
  #needsEpoch = true;
  /** Next sequence per partition (`tpKey`), in the current epoch. */
  #sequences = new Map<string, number>();
  /** Batches handed over, not yet sent, in order; with the callbacks of the `send` calls that wait for them. */
  #waiting: Waiting<B>[] = [];
  #compression: CompressionCodec;
  #busy = false;
  #transactionalId: string | null;
  #transactionTimeoutMs: number;
  /** Transactional: the InitProducerId under way (or done), shared by every call that needs the id. */
  #initializing: Promise<void> | undefined;
  /** Transactional: partitions added to the open transaction (`tpKey`). */
  #added = new Set<string>();
  /** Transactional: the transaction added partitions or offsets (else ending it asks nothing). */
  #begun = false;
  /** Transactional: why a send of the open transaction failed; it can then only abort. */
  #failed: unknown;
  /** Transactional: a newer producer took over; every call fails from now on. */
  #fenced: unknown;

  constructor(api: KafkaApi, clock: Clock, settle: Settle<B>, options: IdempotentSenderOptions = {}) {
    this.#api = api;
    this.#clock = clock;
    this.#settle = settle;
    this.#transactionalId = options.transactional?.transactionalId ?? null;
    this.#transactionTimeoutMs = options.transactional?.transactionTimeoutMs ?? 60_000;
    this.#compression = options.compression ?? 'none';
  }

  /**
   * Transactional: gets the producer id and epoch for the transactional id (once), which fences
   * any older producer of it and ends the transaction that one left open.
   */
  init(): Promise<void> {
    this.#initializing ??= (async () => {
      const r = await this.#api.initProducerId({
        transactionalId: this.#transactionalId,
        transactionTimeoutMs: this.#transactionTimeoutMs,
        producerId: -1,
        producerEpoch: -1,
      });
      if (r.error !== undefined) throw invalidTxnState(`InitProducerId for transactional id ${JSON.stringify(this.#transactionalId)} was refused: ${r.error}`);
      this.#producerId = r.producerId;
      this.#epoch = r.producerEpoch;
      this.#needsEpoch = false;
    })();
    this.#initializing.catch(() => (this.#initializing = undefined));
    return this.#initializing;
  }

  /** Transactional: {@link init}, then rejects `PRODUCER_FENCED` if a newer producer took the id over. */
  async ready(): Promise<void> {
    await this.init();
    this.#checkFenced();
  }

  /** Transactional: the group's offsets, committed if and when the transaction commits. */
  async sendOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    await this.init();
    this.#checkFenced();
    const who = { transactionalId: this.#transactionalId!, producerId: this.#producerId, producerEpoch: this.#epoch };
    this.#begun = true;
    this.#answer(await this.#api.addOffsetsToTxn({ ...who, groupId }));
    this.#answer(await this.#api.txnOffsetCommit({ ...who, groupId, offsets }));
  }

  /**
   * Transactional: ends the open transaction once every batch handed over is settled. A commit
   * after a failed send aborts instead and rejects with why the send failed.
   */
  async end(commit: boolean): Promise<void> {
    this.#checkFenced();
    const failed = this.#failed;
    const begun = this.#begun;
    this.#failed = undefined;
    this.#begun = false;
    this.#added.clear();
    if (begun) {
      await this.init();
      this.#answer(await this.#api.endTxn({ transactionalId: this.#transactionalId!, producerId: this.#producerId, producerEpoch: this.#epoch, commit: commit && failed === undefined }));
    }
    if (commit && failed !== undefined) throw invalidTxnState('the transaction was aborted: one of its sends failed', failed);
  }

  #answer(r: TxnResponse): void {
    if (r.error === undefined) return;
    const message = r.message ?? r.error;
    if (r.error === 'PRODUCER_FENCED' || r.error === 'INVALID_PRODUCER_ID_MAPPING') {
      this.#fenced = producerFenced(`transactional id ${JSON.stringify(this.#transactionalId)}: producer ${this.#producerId}`, this.#epoch, this.#epoch + 1);
      (this.#fenced as Error).message += ` (${message})`;
      throw this.#fenced;
    }
    throw invalidTxnState(message);
  }

  #checkFenced(): void {
    if (this.#fenced !== undefined) throw this.#fenced;
  }

  /** Queues batches to send (compressing them, with a codec); resolves once every one of them is settled. */
  send(batches: B[]): Promise<void> {
    let left = batches.length;
    const settled = new Promise<void>((resolve) => {
      const done = (): void => {
        if (--left === 0) resolve();
      };
      for (const batch of batches) this.#waiting.push({ batch, done, records: this.#compress(batch) });
    });
    this.#pump();
    return settled;
  }

  /** The batch compressed with the producer's codec, producer fields -1; undefined without a codec. */
  #compress(batch: B): Buffer | Promise<Buffer> | undefined {
    if (this.#compression === 'none') return undefined;
    let records: Buffer | Promise<Buffer>;
    try {
      records = compressBatch(batch.builder.build(), this.#compression);
    } catch (error) {
      records = Promise.reject(error);
    }
    // Failed compression fails the request that takes the batch (in #compressed), not the process.
    if (records instanceof Promise) records.catch(() => undefined);
    return records;
  }

  /** Waits for the taken batches whose codec is still loading; rejects if one failed to compress. */
  async #compressed(taken: Waiting<B>[]): Promise<void> {
    for (const w of taken) if (w.records instanceof Promise) w.records = await w.records;
  }

  #pump(): void {
    if (this.#busy || this.#waiting.length === 0) return;
    this.#busy = true;
    void this.#run().finally(() => {
      this.#busy = false;
      this.#pump();
    });
  }

  async #run(): Promise<void> {
    if (this.#transactionalId !== null) {
      await this.#runTransactional();
      return;
    }
    if (this.#needsEpoch) {
      try {
        const r = await this.#api.initProducerId({ transactionalId: null, transactionTimeoutMs: 60_000, producerId: this.#producerId, producerEpoch: this.#epoch });
        if (r.error !== undefined) throw invalidTxnState(`InitProducerId was refused: ${r.error}`);
        this.#producerId = r.producerId;
        this.#epoch = r.producerEpoch;
        this.#needsEpoch = false;
        this.#sequences.clear();
      } catch (error) {
        const failed = this.#waiting;
        this.#waiting = [];
        this.#finish(failed, undefined, error);
        return;
      }
    }
    const taken = this.#take();
    if (taken.some((w) => w.records instanceof Promise)) {
      try {
        await this.#compressed(taken);
      } catch (error) {
        // Nothing was numbered or sent: the sequences and the epoch stay as they are.
        this.#finish(taken, undefined, error);
        return;
      }
    }
    const epoch = this.#epoch;
    try {
      this.#finish(taken, await this.#produce(this.#build(taken, false)), undefined);
    } catch (error) {
      // Whether some of these batches were appended is unknown: start a new epoch.
      // (InitProducerId with the current id and epoch answers the next epoch of the same id.)
      if (epoch === this.#epoch) this.#needsEpoch = true;
      this.#finish(taken, undefined, error);
    }
  }

  /**
   * Builds the taken batches with the producer's id, epoch and the next sequences (a compressed
   * batch gets them written into its header). Every taken batch is compressed by now.
   */
  #build(taken: Waiting<B>[], transactional: boolean): ProducePartitionData[] {
    return taken.map(({ batch, records }) => {
      const producer = { producerId: this.#producerId, producerEpoch: this.#epoch, baseSequence: this.#nextSequence(batch), transactional };
      return {
        topic: batch.topic,
        partition: batch.partition,
        records: records === undefined ? batch.builder.build(producer) : setBatchProducer(records as Buffer, producer),
      };
    });
  }

  /** Sends the same bytes again while the failure is retriable, up to {@link MAX_ATTEMPTS}; the base offsets. */
  async #produce(partitions: ProducePartitionData[]): Promise<number[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.#api.produce({ partitions, transactionalId: this.#transactionalId })).baseOffsets;
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !(error instanceof KafkaliteError) || !error.retriable) throw error;
        await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, RETRY_BACKOFF_MS));
      }
    }
  }

  /** A transactional request: the id first, then its new partitions added to the transaction; no retries of lost requests with a new epoch. */
  async #runTransactional(): Promise<void> {
    const taken = this.#take();
    try {
      this.#checkFenced();
      if (taken.some((w) => w.records instanceof Promise)) await this.#compressed(taken);
      await this.init();
      const added: { topic: string; partition: number }[] = [];
      for (const { batch } of taken) {
        const key = tpKey(batch.topic, batch.partition);
        if (this.#added.has(key)) continue;
        this.#added.add(key);
        added.push({ topic: batch.topic, partition: batch.partition });
      }
      if (added.length > 0) {
        this.#begun = true;
        this.#answer(await this.#api.addPartitionsToTxn({ transactionalId: this.#transactionalId!, producerId: this.#producerId, producerEpoch: this.#epoch, partitions: added }));
      }
      this.#finish(taken, await this.#produce(this.#build(taken, true)), undefined);
    } catch (error) {
      if (error instanceof KafkaliteError && error.code === 'PRODUCER_FENCED') this.#fenced ??= error;
      this.#failed ??= error;
      this.#finish(taken, undefined, error);
    }
  }

  /** The next request's batches: from the front, in order, at most {@link MAX_BATCHES_PER_PARTITION} per partition. */
  #take(): Waiting<B>[] {
    const counts = new Map<string, number>();
    const taken: Waiting<B>[] = [];
    const kept: Waiting<B>[] = [];
    const blocked = new Set<string>();
    for (const w of this.#waiting) {
      const key = tpKey(w.batch.topic, w.batch.partition);
      const n = counts.get(key) ?? 0;
      if (n >= MAX_BATCHES_PER_PARTITION || blocked.has(key)) {
        blocked.add(key);
        kept.push(w);
        continue;
      }
      counts.set(key, n + 1);
      taken.push(w);
    }
    this.#waiting = kept;
    return taken;
  }

  #nextSequence(batch: B): number {
    const key = tpKey(batch.topic, batch.partition);
    const sequence = this.#sequences.get(key) ?? 0;
    this.#sequences.set(key, incrementSequence(sequence, batch.builder.count));
    return sequence;
  }

  #finish(taken: Waiting<B>[], baseOffsets: number[] | undefined, error: unknown): void {
    this.#settle(
      taken.map((w) => w.batch),
      baseOffsets,
      error,
    );
    for (const w of taken) w.done();
  }
}
