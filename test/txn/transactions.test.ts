import { describe, expect, it } from 'vitest';
import { Broker, FileStorage, ManualClock, MemoryStorage, type Consumer } from 'kafkalite';
import { expectError } from '../helpers.js';
import { tempDir } from '../storage/fs/fs-helpers.js';
import { checkBatch, readBatchHeader } from '../../src/codec/record-batch.js';
import { controlBatchType } from '../../src/codec/control-batch.js';
import type { PartitionState } from '../../src/topic/partition.js';

const values = (records: { value: Buffer | null }[]) => records.map((r) => r.value!.toString());

/** Polls until the consumer is caught up (with read_committed: up to the last stable offset). */
async function drain(consumer: Consumer): Promise<string[]> {
  let done = false;
  const caughtUp = consumer.caughtUp().then(() => (done = true));
  const out: string[] = [];
  while (!done) out.push(...values(await consumer.poll({ timeoutMs: 20 })));
  await caughtUp;
  return out;
}

async function readers(broker: Broker, topic: string) {
  const committed = broker.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
  const uncommitted = broker.consumer({ autoOffsetReset: 'earliest' });
  const partitions = broker.topic(topic).partitions.map((p) => ({ topic, partition: p.id }));
  await committed.assign(partitions);
  await uncommitted.assign(partitions);
  return { committed, uncommitted };
}

describe('transactions', () => {
  it('commit makes sends visible to read_committed readers at once; abort never; control batches are written as Kafka writes them and never delivered', async () => {
    const broker = await Broker.open();
    await broker.createTopic('out', { partitions: 1 });
    const producer = broker.producer({ transactionalId: 'tx-1' });
    await expectError(() => producer.send({ topic: 'out', messages: [{ value: 'outside' }] }), 'INVALID_TXN_STATE', /only inside a transaction/);
    const { committed, uncommitted } = await readers(broker, 'out');

    const t1 = producer.transaction();
    expect(() => producer.transaction()).toThrow(/already has an open transaction/);
    await t1.send({ topic: 'out', messages: [{ value: 'a1' }, { value: 'a2' }] });
    // Open: read_uncommitted sees it, read_committed stops at the last stable offset.
    expect(await drain(uncommitted)).toEqual(['a1', 'a2']);
    expect(await drain(committed)).toEqual([]);
    await t1.abort();
    expect(t1.isActive()).toBe(false);
    await expectError(() => t1.send({ topic: 'out', messages: [{ value: 'late' }] }), 'INVALID_TXN_STATE');

    const t2 = producer.transaction();
    void t2.send({ topic: 'out', messages: [{ value: 'b1' }] });
    void t2.send({ topic: 'out', messages: [{ value: 'b2' }] });
    await t2.commit();
    expect(await drain(committed)).toEqual(['b1', 'b2']);
    expect(await drain(uncommitted)).toEqual(['b1', 'b2']);

    // The log: [a1 a2] ABORT [b1 b2] COMMIT (sends fired in one tick share a batch), markers with
    // control + transactional bits and the producer's id.
    const p = broker.topic('out').partition(0) as unknown as PartitionState;
    const batches = await p.readBatches(0, 1 << 20);
    const kinds = batches.map((b) => controlBatchType(b) ?? 'data');
    expect(kinds).toEqual(['data', 'abort', 'data', 'commit']);
    const marker = readBatchHeader(batches[1]!);
    expect(marker.attributes & 0x30).toBe(0x30);
    expect([marker.producerId, marker.baseSequence]).toEqual([readBatchHeader(batches[0]!).producerId, -1]);
    expect(readBatchHeader(batches[0]!).attributes & 0x30).toBe(0x10);
    expect(await p.lastStableOffset()).toBe(p.logEndOffset);
    await broker.close();
  });

  it('a newer producer with the same transactionalId aborts the open transaction and fences the old one (PRODUCER_FENCED on its calls)', async () => {
    const broker = await Broker.open();
    await broker.createTopic('out', { partitions: 2 });
    const zombie = broker.producer({ transactionalId: 'pipeline' });
    const zt = zombie.transaction();
    await zt.send({ topic: 'out', messages: [{ value: 'zombie-1', partition: 0 }] });
    const fresh = broker.producer({ transactionalId: 'pipeline' });
    const ft = fresh.transaction();
    await ft.send({ topic: 'out', messages: [{ value: 'fresh', partition: 0 }] });
    // The zombie's sends and commit fail: fenced at the partition it wrote to, and at the coordinator.
    await expectError(() => zt.send({ topic: 'out', messages: [{ value: 'zombie-2', partition: 0 }] }), 'PRODUCER_FENCED');
    await expectError(() => zt.commit(), 'PRODUCER_FENCED');
    await ft.commit();
    const { committed } = await readers(broker, 'out');
    expect(await drain(committed)).toEqual(['fresh']);
    await broker.close();
  });

  it('sendOffsets commits the group offsets with the transaction, not before and not on abort', async () => {
    const broker = await Broker.open();
    await broker.createTopic('in', { partitions: 1 });
    await broker.createTopic('out', { partitions: 1 });
    const producer = broker.producer({ transactionalId: 'ctp' });
    const t = producer.transaction();
    await t.send({ topic: 'out', messages: [{ value: 'x' }] });
    await t.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '7' }] }] });
    const committed = () => broker.group('g').committed({ topic: 'in', partition: 0 });
    expect(await committed()).toBeUndefined();
    await t.abort();
    expect(await committed()).toBeUndefined();
    const t2 = producer.transaction();
    await t2.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: 7 }] }] });
    await t2.commit();
    expect(await committed()).toBe(7);
    await broker.close();
  });

  it("commits a transaction's offsets while the group has members (as Kafka takes a TxnOffsetCommit without member id)", async () => {
    const broker = await Broker.open();
    await broker.createTopic('in', { partitions: 1 });
    const member = broker.consumer({ groupId: 'g', groupProtocol: 'classic', autoCommit: false });
    await member.subscribe(['in']);
    while (member.assignment().length === 0) await member.poll({ timeoutMs: 20 });
    expect(broker.group('g').members()).toHaveLength(1);
    const t = broker.producer({ transactionalId: 'member-ctp' }).transaction();
    await t.send({ topic: 'in', messages: [{ value: 'x' }] });
    await t.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: 5 }] }] });
    await t.commit();
    expect(await broker.group('g').committed({ topic: 'in', partition: 0 })).toBe(5);
    await member.close();
    await broker.close();
  });

  it('a transaction open past its timeout is aborted on the clock, and its producer fenced', async () => {
    const clock = new ManualClock();
    const broker = await Broker.open({ clock });
    await broker.createTopic('out', { partitions: 1 });
    const producer = broker.producer({ transactionalId: 'slow', transactionTimeoutMs: 1000 });
    const t = producer.transaction();
    await t.send({ topic: 'out', messages: [{ value: 'hung' }] });
    const p = broker.topic('out').partition(0) as unknown as PartitionState;
    expect(await p.lastStableOffset()).toBe(0);
    await clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    expect(await p.lastStableOffset()).toBe(2);
    await expectError(() => t.commit(), 'PRODUCER_FENCED');
    const read = await p.readCommitted(0, 1 << 20);
    expect(read.lastStableOffset).toBe(2);
    expect(read.abortedTransactions).toEqual([{ producerId: readBatchHeader(read.batches[0]!).producerId, firstOffset: 0, lastOffset: 1 }]);
    expect(controlBatchType(read.batches[1]!)).toBe('abort');
    await broker.close();
  });

  it('read_committed survives a reopen: state, LSO and aborted transactions are rebuilt from the log (FileStorage and MemoryStorage)', async () => {
    const memory = new MemoryStorage();
    const dir = tempDir('txn-reopen');
    for (const storage of [() => new FileStorage({ dir }), () => memory]) {
      let broker = await Broker.open({ storage: storage() });
      await broker.createTopic('out', { partitions: 1 });
      const producer = broker.producer({ transactionalId: 'r' });
      const a = producer.transaction();
      await a.send({ topic: 'out', messages: [{ value: 'aborted' }] });
      await a.abort();
      const b = producer.transaction();
      await b.send({ topic: 'out', messages: [{ value: 'kept' }] });
      await b.commit();
      const c = producer.transaction();
      await c.send({ topic: 'out', messages: [{ value: 'open at close' }] });
      await broker.close();
      broker = await Broker.open({ storage: storage() });
      const { committed, uncommitted } = await readers(broker, 'out');
      expect(await drain(committed)).toEqual(['kept']);
      expect(await drain(uncommitted)).toEqual(['aborted', 'kept', 'open at close']);
      // A new producer of the id aborts what was left open.
      const again = broker.producer({ transactionalId: 'r' });
      const d = again.transaction();
      await d.send({ topic: 'out', messages: [{ value: 'after' }] });
      await d.commit();
      expect(await drain(committed)).toEqual(['after']);
      await broker.close();
    }
  });
});

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const CODEC_IDS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

describe.each(CODECS)('transactions with compression %s', (codec) => {
  it('committed records are read by read_committed consumers, aborted ones skipped, from compressed transactional batches (also after a reopen of FileStorage)', async () => {
    const dir = tempDir(`txn-${codec}`);
    let broker = await Broker.open({ storage: new FileStorage({ dir }) });
    await broker.createTopic('out', { partitions: 2 });
    const producer = broker.producer({ transactionalId: `zip-${codec}`, compression: codec, batchSize: 400 });
    const filler = ' lorem ipsum'.repeat(6);
    const run = async (name: string, count: number, commit: boolean) => {
      const t = producer.transaction();
      const sends = [];
      for (let i = 0; i < count; i++) {
        // Un-awaited, across both partitions, some across ticks.
        sends.push(t.send({ topic: 'out', messages: [{ value: `${name}-p${i % 2}-${i}${filler}`, partition: i % 2 }] }));
        if (i % 13 === 0) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(sends);
      await (commit ? t.commit() : t.abort());
      return Array.from({ length: count }, (_, i) => `${name}-p${i % 2}-${i}${filler}`);
    };
    const c1 = await run('c1', 40, true);
    const a1 = await run('a1', 30, false);
    const c2 = await run('c2', 10, true);
    const perPartition = (seen: string[], p: number) => seen.filter((v) => v.includes(`-p${p}-`));
    const check = async (b: Broker) => {
      const { committed, uncommitted } = await readers(b, 'out');
      const readCommitted = await drain(committed);
      const readUncommitted = await drain(uncommitted);
      for (const p of [0, 1]) {
        expect(perPartition(readCommitted, p)).toEqual(perPartition([...c1, ...c2], p));
        expect(perPartition(readUncommitted, p)).toEqual(perPartition([...c1, ...a1, ...c2], p));
      }
      await committed.close();
      await uncommitted.close();
    };
    await check(broker);

    // Stored as sent: data batches in the codec with the transactional bit, the producer id and
    // sequences from 0; the markers plain; every CRC good.
    for (const partition of [0, 1]) {
      const batches = await (broker.topic('out').partition(partition) as unknown as PartitionState).readBatches(0, 1 << 20);
      let sequence = 0;
      let producerId: number | undefined;
      const kinds: string[] = [];
      for (const batch of batches) {
        expect(checkBatch(batch)).toBeUndefined();
        const header = readBatchHeader(batch);
        const kind = controlBatchType(batch);
        producerId ??= header.producerId;
        expect(header.producerId).toBe(producerId);
        if (kind !== undefined) {
          expect(header.attributes & 0x37).toBe(0x30);
          if (kinds[kinds.length - 1] !== kind) kinds.push(kind);
          continue;
        }
        if (kinds[kinds.length - 1] !== 'data') kinds.push('data');
        expect(header.attributes & 0x37).toBe(0x10 | CODEC_IDS[codec]);
        expect(header.baseSequence).toBe(sequence);
        expect(Buffer.from(batch).includes(filler)).toBe(false);
        sequence += header.recordCount;
      }
      expect(producerId).toBeGreaterThanOrEqual(0);
      expect(kinds).toEqual(['data', 'commit', 'data', 'abort', 'data', 'commit']);
    }
    await producer.close();
    await broker.close();
    broker = await Broker.open({ storage: new FileStorage({ dir }) });
    await check(broker);
    await broker.close();
  });
});
