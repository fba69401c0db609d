/**
 * The transaction APIs on the wire, request by request with the bare client: the error codes
 * Kafka answers (by request version), transactional Produce against the coordinator's state, and
 * Fetch / ListOffsets with isolation level 1. Whole client programs: clients/transactions.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/wire/protocol/index.js';
import { clientBatch, resign, serve } from './listener-helpers.js';
import type { WireClient } from './wire-client.js';

const TIMEOUT = 60_000;

/** A transactional batch of `producerId`/`epoch` with sequence `sequence`. */
function txnBatch(values: string[], producerId: number, epoch: number, sequence: number): Buffer {
  const b = clientBatch(values, { producerId, attributes: 0x10 });
  b.writeInt16BE(epoch, 51);
  b.writeInt32BE(sequence, 53);
  return resign(b);
}

const produce = (c: WireClient, transactionalId: string | null, topic: string, partition: number, records: Buffer) =>
  c.request(ApiKey.Produce, 9, { acks: -1, timeoutMs: 5000, transactionalId, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] }).then((r) => r.responses[0]!.partitionResponses[0]!);

describe('transaction APIs on the wire', () => {
  it('a transaction by hand: AddPartitionsToTxn, transactional Produce, EndTxn; Fetch read_committed stops at the LSO and lists aborted transactions', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const init = await c.request(ApiKey.InitProducerId, 3, { transactionalId: 'tx', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1 });
    const { producerId, producerEpoch } = init;
    const who = { v3AndBelowTransactionalId: 'tx', v3AndBelowProducerId: producerId, v3AndBelowProducerEpoch: producerEpoch };

    // Not added yet: INVALID_TXN_STATE, nothing stored.
    expect((await produce(c, 'tx', 't', 0, txnBatch(['early'], producerId, producerEpoch, 0))).errorCode).toBe(48);
    const added = await c.request(ApiKey.AddPartitionsToTxn, 1, { ...who, v3AndBelowTopics: [{ name: 't', partitions: [0] }] });
    expect(added.resultsByTopicV3AndBelow).toEqual([{ name: 't', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }] }]);
    expect(await produce(c, 'tx', 't', 0, txnBatch(['a1', 'a2'], producerId, producerEpoch, 0))).toMatchObject({ errorCode: 0, baseOffset: 0 });

    const fetch = (isolationLevel: number) =>
      c
        .request(ApiKey.Fetch, 11, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1 }] }],
          forgottenTopicsData: [],
          rackId: '',
        })
        .then((r) => r.responses[0]!.partitions[0]!);
    // Open: read_committed sees nothing, LSO 0 below the high watermark 2; read_uncommitted sees the batch.
    const size = (p: { records: Uint8Array | null }) => p.records?.length ?? 0;
    const open = await fetch(1);
    expect([open.highWatermark, open.lastStableOffset, open.abortedTransactions, size(open)]).toEqual([2, 0, [], 0]);
    const uncommitted = await fetch(0);
    expect([uncommitted.highWatermark, uncommitted.lastStableOffset, uncommitted.abortedTransactions]).toEqual([2, 0, null]);
    expect(size(uncommitted)).toBeGreaterThan(0);
    const latest = (isolationLevel: number) =>
      c.request(ApiKey.ListOffsets, 5, { replicaId: -1, isolationLevel, topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp: -1, currentLeaderEpoch: -1 }] }] }).then((r) => r.topics[0]!.partitions[0]!.offset);
    expect([await latest(0), await latest(1)]).toEqual([2, 0]);

    expect((await c.request(ApiKey.EndTxn, 1, { transactionalId: 'tx', producerId, producerEpoch, committed: false })).errorCode).toBe(0);
    // Aborted: the marker at 2; read_committed gets the batches and the aborted transaction to drop.
    const aborted = await fetch(1);
    expect(aborted).toMatchObject({ highWatermark: 3, lastStableOffset: 3, abortedTransactions: [{ producerId, firstOffset: 0 }] });
    expect(size(aborted)).toBeGreaterThan(0);
    expect([await latest(0), await latest(1)]).toEqual([3, 3]);

    // After the end the partition is out of the transaction again.
    expect((await produce(c, 'tx', 't', 0, txnBatch(['late'], producerId, producerEpoch, 2))).errorCode).toBe(48);
    expect(broker.topic('t').partition(0).logEndOffset).toBe(3);
  });

  it('answers fencing by version (PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before), INVALID_PRODUCER_ID_MAPPING, and all-or-nothing AddPartitionsToTxn', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const old = await c.request(ApiKey.InitProducerId, 3, { transactionalId: 'tx', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1 });
    const now = await c.request(ApiKey.InitProducerId, 3, { transactionalId: 'tx', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1 });
    expect([now.producerId, now.producerEpoch]).toEqual([old.producerId, old.producerEpoch + 1]);
    const stale = { transactionalId: 'tx', producerId: old.producerId, producerEpoch: old.producerEpoch };
    for (const [version, code] of [
      [1, 47],
      [2, 90],
      [3, 90],
    ] as const) {
      expect((await c.request(ApiKey.EndTxn, version, { ...stale, committed: true })).errorCode).toBe(code);
      expect((await c.request(ApiKey.AddOffsetsToTxn, version, { ...stale, groupId: 'g' })).errorCode).toBe(code);
      const apt = await c.request(ApiKey.AddPartitionsToTxn, version, { v3AndBelowTransactionalId: 'tx', v3AndBelowProducerId: old.producerId, v3AndBelowProducerEpoch: old.producerEpoch, v3AndBelowTopics: [{ name: 't', partitions: [0] }] });
      expect(apt.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(code);
    }
    // A stale epoch in Produce is INVALID_PRODUCER_EPOCH, as from Kafka's partitions.
    expect((await produce(c, 'tx', 't', 0, txnBatch(['z'], old.producerId, old.producerEpoch, 0))).errorCode).toBe(47);
    // Another producer's id for the transactional id.
    expect((await c.request(ApiKey.EndTxn, 3, { transactionalId: 'tx', producerId: now.producerId + 1, producerEpoch: 0, committed: true })).errorCode).toBe(49);
    expect((await c.request(ApiKey.EndTxn, 3, { transactionalId: 'nobody', producerId: now.producerId, producerEpoch: 0, committed: true })).errorCode).toBe(49);

    // Kafka's InitProducerId refusals: an empty transactional id, a timeout outside 1 ms – transaction.max.timeout.ms.
    expect((await c.request(ApiKey.InitProducerId, 3, { transactionalId: '', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1 })).errorCode).toBe(42);
    for (const transactionTimeoutMs of [0, -1, 900_001]) {
      expect((await c.request(ApiKey.InitProducerId, 3, { transactionalId: 'other', transactionTimeoutMs, producerId: -1, producerEpoch: -1 })).errorCode).toBe(50);
    }

    // An unknown partition fails the whole request: UNKNOWN_TOPIC_OR_PARTITION for it, OPERATION_NOT_ATTEMPTED for the others; nothing is added.
    const who = { v3AndBelowTransactionalId: 'tx', v3AndBelowProducerId: now.producerId, v3AndBelowProducerEpoch: now.producerEpoch };
    const partial = await c.request(ApiKey.AddPartitionsToTxn, 3, { ...who, v3AndBelowTopics: [{ name: 't', partitions: [0, 7] }, { name: 'nope', partitions: [0] }] });
    expect(partial.resultsByTopicV3AndBelow.map((t) => [t.name, t.resultsByPartition.map((p) => p.partitionErrorCode)])).toEqual([
      ['t', [55, 3]],
      ['nope', [3]],
    ]);
    expect((await produce(c, 'tx', 't', 0, txnBatch(['z'], now.producerId, now.producerEpoch, 0))).errorCode).toBe(48);
    expect(broker.topic('t').partition(0).logEndOffset).toBe(0);
  });

  it('TxnOffsetCommit needs AddOffsetsToTxn; its offsets reach the group on commit only', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('in', { partitions: 2 });
    const c = await client();
    const { producerId, producerEpoch } = await c.request(ApiKey.InitProducerId, 3, { transactionalId: 'tx', transactionTimeoutMs: TIMEOUT, producerId: -1, producerEpoch: -1 });
    const who = { transactionalId: 'tx', producerId, producerEpoch };
    const commitOffsets = (offsets: [number, number][], topic = 'in') =>
      c
        .request(ApiKey.TxnOffsetCommit, 3, {
          ...who,
          groupId: 'g',
          topics: [{ name: topic, partitions: offsets.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedMetadata: null })) }],
        })
        .then((r) => r.topics[0]!.partitions.map((p) => p.errorCode));
    expect(await commitOffsets([[0, 4]])).toEqual([48]);
    for (const commit of [false, true]) {
      expect((await c.request(ApiKey.AddOffsetsToTxn, 3, { ...who, groupId: 'g' })).errorCode).toBe(0);
      expect(await commitOffsets([[0, commit ? 4 : 9], [1, -5], [9, 1]])).toEqual([0, 42, 3]);
      expect(await commitOffsets([[0, 1]], 'nope')).toEqual([3]);
      expect(await broker.group('g').committed({ topic: 'in', partition: 0 })).toBeUndefined();
      expect((await c.request(ApiKey.EndTxn, 3, { ...who, committed: commit })).errorCode).toBe(0);
    }
    expect(await broker.group('g').committed({ topic: 'in', partition: 0 })).toBe(4);
    // Ending again (a retry after a lost answer) is NONE, as on Kafka.
    expect((await c.request(ApiKey.EndTxn, 3, { ...who, committed: true })).errorCode).toBe(0);
  });
});
