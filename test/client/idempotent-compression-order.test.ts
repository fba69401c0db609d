/**
 * Idempotent and transactional producers whose batches compress asynchronously (as zstd does on
 * Node 20 while its wasm loads): a batch still compressing keeps its place, so no later batch to
 * its partition overtakes it, and its sequence is the one its place gives it. The compressor is
 * wrapped here so that chosen batches finish compressing only when the test says.
 */
import { describe, expect, it, vi } from 'vitest';
import { Broker, type Producer, type RecordMetadata } from 'kafkalite';
import { checkBatch, readBatchHeader } from '../../src/codec/record-batch.js';
import type { PartitionState } from '../../src/topic/partition.js';

const held = vi.hoisted(() => ({
  /** Batches whose plain bytes contain this are held until `release`. */
  marker: undefined as string | undefined,
  waiting: [] as { resolve: () => void; reject: (error: unknown) => void }[],
}));

vi.mock('../../src/codec/compressed-batch.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/codec/compressed-batch.js')>();
  return {
    ...real,
    compressBatch(plain: Buffer, codec: Parameters<typeof real.compressBatch>[1]): Buffer | Promise<Buffer> {
      const out = real.compressBatch(plain, codec);
      if (held.marker === undefined || !plain.includes(held.marker)) return out;
      return new Promise<Buffer>((resolve, reject) => held.waiting.push({ resolve: () => void Promise.resolve(out).then(resolve, reject), reject }));
    },
  };
});

const macrotasks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function stored(broker: Broker, partition: number) {
  const batches = await (broker.topic('t').partition(partition) as unknown as PartitionState).readBatches(0, 1 << 20);
  const data = batches.map((b) => readBatchHeader(b)).filter((h) => (h.attributes & 0x20) === 0);
  const values = (await broker.topic('t').partition(partition).read(0, { maxRecords: 100 })).map((r) => r.value!.toString());
  return { batches, data, values };
}

describe.each(['idempotent', 'transactional'] as const)('%s producer, batches compressing asynchronously', (kind) => {
  const open = async () => {
    const broker = await Broker.open();
    await broker.createTopic('t', { partitions: 2 });
    const producer: Producer =
      kind === 'idempotent' ? broker.producer({ idempotent: true, compression: 'gzip' }) : broker.producer({ transactionalId: 'tx', compression: 'gzip' });
    const txn = kind === 'transactional' ? producer.transaction() : undefined;
    const send = (partition: number, value: string): Promise<RecordMetadata[]> => (txn ?? producer).send({ topic: 't', messages: [{ value, partition }] });
    const end = async () => {
      await txn?.commit();
      await producer.close();
    };
    return { broker, send, end };
  };

  it('a later batch to the partition does not overtake one still compressing; sequences follow call order', async () => {
    held.marker = 'slow';
    const { broker, send, end } = await open();
    try {
      const sends = [send(0, 'slow-0'), send(1, 'p1-0')];
      await macrotasks(5);
      expect(held.waiting).toHaveLength(1);
      sends.push(send(0, 'p0-1'), send(1, 'p1-1'));
      await macrotasks(5);
      sends.push(send(0, 'p0-2'));
      await macrotasks(10);
      // The held batch is not appended, and nothing behind it on partition 0 was.
      expect(broker.topic('t').partition(0).logEndOffset).toBe(0);
      held.waiting.shift()!.resolve();
      const metas = await Promise.all(sends);
      expect(metas.map(([m]) => `${m!.partition}:${m!.baseOffset}`)).toEqual(['0:0', '1:0', '0:1', '1:1', '0:2']);
      await end();
      const p0 = await stored(broker, 0);
      expect(p0.values).toEqual(['slow-0', 'p0-1', 'p0-2']);
      expect(p0.data.map((h) => [h.baseSequence, h.attributes & 0x07, h.attributes & 0x10])).toEqual([
        [0, 1, kind === 'transactional' ? 0x10 : 0],
        [1, 1, kind === 'transactional' ? 0x10 : 0],
        [2, 1, kind === 'transactional' ? 0x10 : 0],
      ]);
      expect(p0.batches.map((b) => checkBatch(b))).toEqual(p0.batches.map(() => undefined));
      expect((await stored(broker, 1)).values).toEqual(['p1-0', 'p1-1']);
    } finally {
      held.marker = undefined;
      for (const w of held.waiting.splice(0)) w.resolve();
      await broker.close();
    }
  });

  it('a batch whose compression fails fails its send and numbers nothing: the next batch to the partition takes its sequence', async () => {
    held.marker = 'doomed';
    const { broker, send, end } = await open();
    try {
      const doomed = send(0, 'doomed');
      await macrotasks(5);
      held.waiting.shift()!.reject(new Error('the codec failed (injected)'));
      await expect(doomed).rejects.toThrow('the codec failed (injected)');
      if (kind === 'transactional') {
        // The transaction can only abort now; its commit says so.
        await expect(end()).rejects.toMatchObject({ code: 'INVALID_TXN_STATE' });
        expect(broker.topic('t').partition(0).logEndOffset).toBe(0);
        return;
      }
      await send(0, 'after');
      await end();
      const p0 = await stored(broker, 0);
      expect(p0.values).toEqual(['after']);
      expect(p0.data.map((h) => [h.producerEpoch, h.baseSequence])).toEqual([[0, 0]]);
    } finally {
      held.marker = undefined;
      for (const w of held.waiting.splice(0)) w.resolve();
      await broker.close();
    }
  });
});
