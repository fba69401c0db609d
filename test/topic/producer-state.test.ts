import { describe, expect, it } from 'vitest';
import { RecordBatchBuilder, readBatchHeader } from '../../src/codec/record-batch.js';
import { ProducerStateTable } from '../../src/topic/producer-state.js';
import { Broker, FileStorage, MemoryStorage } from 'kafkalite';
import { expectError } from '../helpers.js';
import { tempDir } from '../storage/fs/fs-helpers.js';

const batch = (producerId: number, producerEpoch: number, baseSequence: number, values: string[]): Buffer => {
  const b = new RecordBatchBuilder();
  for (const v of values) b.append(1000, null, v);
  return b.build({ producerId, producerEpoch, baseSequence });
};

describe('ProducerStateTable', () => {
  it('takes any sequence from a producer it does not know, then only the next one', () => {
    const t = new ProducerStateTable();
    expect(t.check('t', 0, 1, 0, 17, 19)).toEqual({ duplicateOf: undefined });
    t.record(1, 0, 17, 19, 100, 102);
    expect(t.check('t', 0, 1, 0, 20, 20)).toEqual({ duplicateOf: undefined });
    expect(() => t.check('t', 0, 1, 0, 21, 22)).toThrow(/sequence 21 .*expects sequence 20/);
    expect(t.check('t', 0, 1, 0, 17, 19)).toEqual({ duplicateOf: 100 });
  });

  it('remembers the last 5 batches per producer: an older retry is out of order', () => {
    const t = new ProducerStateTable();
    for (let i = 0; i < 7; i++) t.record(3, 2, i * 2, i * 2 + 1, i * 10, i * 10 + 1);
    for (let i = 2; i < 7; i++) expect(t.check('t', 0, 3, 2, i * 2, i * 2 + 1)).toEqual({ duplicateOf: i * 10 });
    expect(() => t.check('t', 0, 3, 2, 2, 3)).toThrow(/OUT_OF_ORDER|expects sequence 14/);
  });

  it('fences an older epoch and wants sequence 0 from a newer one', () => {
    const t = new ProducerStateTable();
    t.record(5, 3, 0, 4, 0, 4);
    try {
      t.check('t', 0, 5, 2, 5, 5);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'PRODUCER_FENCED', topic: 't', partition: 0 });
    }
    expect(() => t.check('t', 0, 5, 4, 5, 5)).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE' }));
    expect(t.check('t', 0, 5, 4, 0, 0)).toEqual({ duplicateOf: undefined });
    t.record(5, 4, 0, 0, 5, 5);
    expect(t.check('t', 0, 5, 4, 1, 1)).toEqual({ duplicateOf: undefined });
  });

  it('wraps sequences past 2^31 - 1 to 0, as Kafka does', () => {
    const t = new ProducerStateTable();
    const max = 0x7fffffff;
    const b = batch(9, 0, max - 1, ['a', 'b', 'c']);
    expect(readBatchHeader(b)).toMatchObject({ producerId: 9, producerEpoch: 0, baseSequence: max - 1 });
    t.replay(b);
    expect(t.check('t', 0, 9, 0, 1, 1)).toEqual({ duplicateOf: undefined });
    expect(t.check('t', 0, 9, 0, max - 1, 0)).toEqual({ duplicateOf: 0 });
  });
});

describe('a partition with idempotent batches', () => {
  async function check(storage: () => MemoryStorage | FileStorage): Promise<void> {
    let broker = await Broker.open({ storage: storage() });
    await broker.createTopic('t', { partitions: 1 });
    const p = () => broker.topic('t').partition(0) as unknown as { append(b: Uint8Array): number | Promise<number> };
    expect(await p().append(batch(7, 0, 0, ['a', 'b']))).toBe(0);
    expect(await p().append(batch(-1, -1, -1, ['plain']))).toBe(2);
    expect(await p().append(batch(7, 0, 2, ['c']))).toBe(3);
    // A retry: the first append's offset, nothing appended.
    expect(await p().append(batch(7, 0, 0, ['a', 'b']))).toBe(0);
    expect(broker.topic('t').partition(0).logEndOffset).toBe(4);
    await broker.close();

    // Reopened: the state is rebuilt from the log before the first idempotent batch is taken.
    broker = await Broker.open({ storage: storage() });
    const held = [p().append(batch(7, 0, 2, ['c'])), p().append(batch(-1, -1, -1, ['x'])), p().append(batch(7, 0, 3, ['d']))];
    expect(await Promise.all(held)).toEqual([3, 4, 5]);
    await expectError(async () => p().append(batch(7, 0, 9, ['gap'])), 'OUT_OF_ORDER_SEQUENCE', /expects sequence 4/);
    await expectError(async () => p().append(batch(7, -1 + 0, 4, ['old epoch'])), 'PRODUCER_FENCED', /epoch -1/);
    expect((await broker.topic('t').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(['a', 'b', 'plain', 'c', 'x', 'd']);
    await broker.close();
  }

  it('acknowledges a retry with its offset and keeps that across a reopen (MemoryStorage)', async () => {
    const memory = new MemoryStorage();
    await check(() => memory);
  });

  it('acknowledges a retry with its offset and keeps that across a reopen (FileStorage: rebuilt by scanning the log)', async () => {
    const dir = tempDir('idempotent');
    await check(() => new FileStorage({ dir }));
  });
});
