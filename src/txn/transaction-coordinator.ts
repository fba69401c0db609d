import type { AddPartitionsToTxnRequest, InitProducerIdRequest, InitProducerIdResponse, TxnOffsetCommitRequest, TxnRequest, TxnResponse } from '../seam/kafka-api.js';
import type { Clock, ClockTimer } from '../clock.js';
import { buildControlBatch } from '../codec/control-batch.js';
import { RecordBatchBuilder } from '../codec/record-batch.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import type { PartitionState } from '../topic/partition.js';
import type { TopicRegistry } from '../topic/topic-registry.js';
import type { TopicPartitionOffset } from '../types.js';
import { TRANSACTION_STATE_TOPIC, type ProducerIdManager } from './producer-ids.js';
import { decodeTransaction, encodeTransaction, encodeTransactionKey, transactionKeyOf, type TransactionRecord } from './transaction-record.js';

/** Kafka's largest producer epoch: past it, a transactional id gets a new producer id. */
const MAX_EPOCH = 32767;
/** One coordinator, never moved: every marker says epoch 0 (Kafka's coordinator epoch). */
const COORDINATOR_EPOCH = 0;

/** One transactional id's state, as kept in `__transaction_state`. */
interface Txn extends TransactionRecord {
  transactionalId: string;
  /** Times out an open transaction. */
  timer?: ClockTimer;
}

/**
 * Kafka's transaction coordinator, for one broker: the state of every transactional id, kept as
 * records in `__transaction_state` (key: the transactional id; value: producer id, epoch,
 * timeout, state, partitions — Kafka's TransactionLogValue v0 layout — plus the offsets the
 * transaction will commit), replayed when first needed.
 *
 * - InitProducerId with a transactional id gives its producer id the next epoch; a transaction
 *   the previous holder left open is aborted (its markers carry the new epoch, which fences the
 *   old producer at every partition it wrote to), and its further calls fail `PRODUCER_FENCED`.
 * - AddPartitionsToTxn / AddOffsetsToTxn open the transaction and name its partitions.
 * - TxnOffsetCommit keeps offsets aside; they reach the group only when the transaction commits.
 * - EndTxn records the decision (PrepareCommit / PrepareAbort) first, then writes a control
 *   batch into every partition, commits the offsets, and records the transaction complete. A
 *   broker that stops in between finishes the decision the next time the state is loaded.
 * - A transaction open longer than its timeout (on the clock) is aborted with an epoch bump.
 *
 * Concurrency: requests for one transactional id are served one after the other, in call order;
 * different ids run independently.
 */
export class TransactionCoordinator {
  #topics: TopicRegistry;
  #groups: GroupCoordinator;
  #producerIds: ProducerIdManager;
  #clock: Clock;
  #txns = new Map<string, Txn>();
  #loaded: Promise<PartitionState> | undefined;
  #queues = new Map<string, Promise<unknown>>();
  #closed = false;

  constructor(topics: TopicRegistry, groups: GroupCoordinator, producerIds: ProducerIdManager, clock: Clock) {
    this.#topics = topics;
    this.#groups = groups;
    this.#producerIds = producerIds;
    this.#clock = clock;
  }

  initProducerId(request: InitProducerIdRequest & { transactionalId: string }): Promise<InitProducerIdResponse> {
    return this.#serialise(request.transactionalId, async (log) => {
      let txn = this.#txns.get(request.transactionalId);
      if (txn !== undefined && (txn.state === 'Ongoing' || txn.state === 'PrepareAbort' || txn.state === 'PrepareCommit')) {
        // The previous holder left a transaction: end it with a new epoch, fencing that holder.
        await this.#end(log, txn, txn.state === 'PrepareCommit', txn.producerEpoch + 1);
      }
      if (txn === undefined || txn.producerEpoch >= MAX_EPOCH - 1) {
        const producerId = await this.#producerIds.next();
        txn = { transactionalId: request.transactionalId, producerId, producerEpoch: 0, timeoutMs: request.transactionTimeoutMs, state: 'Empty', partitions: [], offsets: [], startedAt: -1 };
      } else {
        txn = { ...txn, producerEpoch: txn.producerEpoch + 1, timeoutMs: request.transactionTimeoutMs, state: 'Empty', partitions: [], offsets: [], startedAt: -1, timer: undefined };
      }
      await this.#persist(log, txn);
      return { producerId: txn.producerId, producerEpoch: txn.producerEpoch };
    });
  }

  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<TxnResponse> {
    return this.#serialise(request.transactionalId, async (log) => {
      const txn = this.#txns.get(request.transactionalId);
      const refused = this.#check(txn, request);
      if (refused !== undefined) return refused;
      for (const { topic, partition } of request.partitions) {
        if (this.#topics.get(topic)?.partitions[partition] === undefined) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `unknown partition ${topic}-${partition}` };
      }
      const added = request.partitions.filter((tp) => !txn!.partitions.some((p) => p.topic === tp.topic && p.partition === tp.partition));
      if (added.length === 0 && txn!.state === 'Ongoing') return {};
      await this.#persist(log, this.#open(txn!, { partitions: [...txn!.partitions, ...added] }));
      return {};
    });
  }

  addOffsetsToTxn(request: TxnRequest & { groupId: string }): Promise<TxnResponse> {
    return this.#serialise(request.transactionalId, async (log) => {
      const txn = this.#txns.get(request.transactionalId);
      const refused = this.#check(txn, request);
      if (refused !== undefined) return refused;
      if (txn!.state !== 'Ongoing') await this.#persist(log, this.#open(txn!, {}));
      return {};
    });
  }

  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<TxnResponse> {
    return this.#serialise(request.transactionalId, async (log) => {
      const txn = this.#txns.get(request.transactionalId);
      const refused = this.#check(txn, request);
      if (refused !== undefined) return refused;
      if (txn!.state !== 'Ongoing') return { error: 'INVALID_TXN_STATE', message: 'TxnOffsetCommit needs AddOffsetsToTxn first' };
      const offsets = txn!.offsets.filter((o) => !(o.groupId === request.groupId && request.offsets.some((n) => n.topic === o.topic && n.partition === o.partition)));
      for (const o of request.offsets) offsets.push({ groupId: request.groupId, topic: o.topic, partition: o.partition, offset: o.offset });
      await this.#persist(log, { ...txn!, offsets });
      return {};
    });
  }

  endTxn(request: TxnRequest & { commit: boolean }): Promise<TxnResponse> {
    return this.#serialise(request.transactionalId, async (log) => {
      const txn = this.#txns.get(request.transactionalId);
      const refused = this.#check(txn, request);
      if (refused !== undefined) return refused;
      if (txn!.state === 'Empty' || txn!.state === 'CompleteCommit' || txn!.state === 'CompleteAbort') {
        // Nothing was sent: nothing to mark (Kafka answers a retried EndTxn the same way).
        return {};
      }
      await this.#end(log, txn!, request.commit, txn!.producerEpoch);
      return {};
    });
  }

  /**
   * Why a transactional batch of this producer may not be appended to `topic`-`partition` now, or
   * undefined when it may (Kafka's produce-side check, KIP-890): the transactional id must belong
   * to the producer at this epoch, and its open transaction must hold the partition
   * (AddPartitionsToTxn first). Synchronous: it reads the state the last finished request left,
   * so a produce that follows the answer to AddPartitionsToTxn is let through.
   */
  produceRefusal(request: TxnRequest, topic: string, partition: number): TxnResponse | undefined {
    const txn = this.#txns.get(request.transactionalId);
    const refused = this.#check(txn, request);
    if (refused !== undefined) return refused;
    if (txn!.state !== 'Ongoing' || !txn!.partitions.some((p) => p.topic === topic && p.partition === partition)) {
      return { error: 'INVALID_TXN_STATE', message: `partition ${topic}-${partition} is not in the open transaction of transactional id ${JSON.stringify(request.transactionalId)} (AddPartitionsToTxn first)` };
    }
    return undefined;
  }

  /**
   * Loads the state now, when there is any, finishing decisions a stopped broker left half done:
   * the broker does this at open, before any consumer reads the group offsets a committed
   * transaction still has to write.
   */
  async recover(): Promise<void> {
    if (this.#topics.get(TRANSACTION_STATE_TOPIC) !== undefined) await this.#load();
  }

  close(): void {
    this.#closed = true;
    for (const txn of this.#txns.values()) if (txn.timer !== undefined) this.#clock.clearTimeout(txn.timer);
  }

  /** Fencing and mapping checks every request after InitProducerId passes. */
  #check(txn: Txn | undefined, request: TxnRequest): TxnResponse | undefined {
    if (txn === undefined || txn.producerId !== request.producerId) {
      return { error: 'INVALID_PRODUCER_ID_MAPPING', message: `transactional id ${JSON.stringify(request.transactionalId)} does not belong to producer ${request.producerId}` };
    }
    if (request.producerEpoch !== txn.producerEpoch) {
      return { error: 'PRODUCER_FENCED', message: `producer ${request.producerId} with epoch ${request.producerEpoch} is fenced by epoch ${txn.producerEpoch} of transactional id ${JSON.stringify(request.transactionalId)}` };
    }
    return undefined;
  }

  /** The transaction, open (with its timeout running) and with `changes`. */
  #open(txn: Txn, changes: Partial<Txn>): Txn {
    const open: Txn = { ...txn, ...changes };
    if (txn.state !== 'Ongoing') {
      open.state = 'Ongoing';
      open.startedAt = this.#clock.now();
      open.offsets = [];
      if (changes.partitions === undefined) open.partitions = [];
      const { transactionalId, producerEpoch } = open;
      open.timer = this.#clock.setTimeout(() => this.#expire(transactionalId, producerEpoch), open.timeoutMs);
      open.timer.unref?.();
    }
    return open;
  }

  /** A transaction past its timeout: aborted with the next epoch, so its producer is fenced. */
  #expire(transactionalId: string, epoch: number): Promise<void> {
    return this.#serialise(transactionalId, async (log) => {
      const txn = this.#txns.get(transactionalId);
      if (this.#closed || txn === undefined || txn.state !== 'Ongoing' || txn.producerEpoch !== epoch) return;
      await this.#end(log, txn, false, epoch + 1);
    }).catch(() => undefined);
  }

  /**
   * Ends `txn`: the decision first, then the markers (with `markerEpoch`), then the offsets on
   * commit, then the completed state. The epoch the transactional id has afterwards is
   * `markerEpoch`.
   */
  async #end(log: PartitionState, txn: Txn, commit: boolean, markerEpoch: number): Promise<void> {
    if (txn.timer !== undefined) this.#clock.clearTimeout(txn.timer);
    const prepared: Txn = { ...txn, producerEpoch: markerEpoch, state: commit ? 'PrepareCommit' : 'PrepareAbort', timer: undefined };
    await this.#persist(log, prepared);
    await this.#writeMarkers(prepared, commit);
    if (commit) await this.#commitOffsets(prepared.offsets);
    await this.#persist(log, { ...prepared, state: commit ? 'CompleteCommit' : 'CompleteAbort', partitions: [], offsets: [] });
  }

  async #writeMarkers(txn: Txn, commit: boolean): Promise<void> {
    const now = this.#clock.now();
    await Promise.all(
      txn.partitions.map(async ({ topic, partition }) => {
        const p = this.#topics.get(topic)?.partitions[partition];
        // A partition deleted meanwhile has nothing left to mark.
        if (p === undefined) return;
        await p.append(buildControlBatch(txn.producerId, txn.producerEpoch, commit, COORDINATOR_EPOCH, now));
      }),
    );
  }

  async #commitOffsets(offsets: TransactionRecord['offsets']): Promise<void> {
    const byGroup = new Map<string, TopicPartitionOffset[]>();
    for (const o of offsets) {
      if (this.#topics.get(o.topic)?.partitions[o.partition] === undefined) continue;
      let list = byGroup.get(o.groupId);
      if (list === undefined) byGroup.set(o.groupId, (list = []));
      list.push({ topic: o.topic, partition: o.partition, offset: o.offset });
    }
    for (const [groupId, list] of byGroup) await this.#groups.commitTransactional(groupId, list);
  }

  async #persist(log: PartitionState, txn: Txn): Promise<void> {
    const builder = new RecordBatchBuilder(256);
    builder.append(this.#clock.now(), encodeTransactionKey(txn.transactionalId), encodeTransaction(txn));
    await log.append(builder.build());
    this.#txns.set(txn.transactionalId, txn);
  }

  #serialise<T>(transactionalId: string, work: (log: PartitionState) => Promise<T>): Promise<T> {
    const previous = this.#queues.get(transactionalId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(async () => work(await this.#load()));
    this.#queues.set(transactionalId, next);
    const clear = (): void => {
      if (this.#queues.get(transactionalId) === next) this.#queues.delete(transactionalId);
    };
    next.then(clear, clear);
    return next;
  }

  /** Replays `__transaction_state` once; decisions a stopped broker left half done are finished. */
  #load(): Promise<PartitionState> {
    this.#loaded ??= (async () => {
      const log = await this.#producerIds.stateLog();
      let next = log.logStartOffset;
      for (;;) {
        const records = await log.read(next, { maxRecords: 10_000 });
        if (records.length === 0) break;
        for (const r of records) {
          const transactionalId = transactionKeyOf(r.key);
          if (transactionalId === undefined || r.value === null) continue;
          this.#txns.set(transactionalId, { transactionalId, ...decodeTransaction(r.value) });
        }
        next = records[records.length - 1]!.offset + 1;
      }
      for (const txn of this.#txns.values()) {
        if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') {
          const commit = txn.state === 'PrepareCommit';
          await this.#writeMarkers(txn, commit);
          if (commit) await this.#commitOffsets(txn.offsets);
          await this.#persist(log, { ...txn, state: commit ? 'CompleteCommit' : 'CompleteAbort', partitions: [], offsets: [] });
        } else if (txn.state === 'Ongoing') {
          const { transactionalId, producerEpoch } = txn;
          const left = Math.max(0, txn.startedAt + txn.timeoutMs - this.#clock.now());
          txn.timer = this.#clock.setTimeout(() => this.#expire(transactionalId, producerEpoch), left);
          txn.timer.unref?.();
        }
      }
      return log;
    })();
    this.#loaded.catch(() => (this.#loaded = undefined));
    return this.#loaded;
  }
}
