import { describe, expect, it } from 'vitest';
import { MemoryStorage, RecordBatchBuilder, batchBaseOffset, batchLastOffset, type ResolvedTopicConfig } from 'kafkalite';
import { setBatchBaseOffset } from '../../../src/codec/record-batch.js';
import { describeStorageContract } from '../contract.js';

describeStorageContract(
  'MemoryStorage',
  async () => {
    const storage = new MemoryStorage();
    // A memory storage outlives its broker: reopening is opening the same instance again.
    return { storage, reopen: async () => storage };
  },
  { retentionGranularity: 'batch' },
);

const config: ResolvedTopicConfig = {
  partitions: 1,
  retentionMs: -1,
  retentionBytes: -1,
  segmentBytes: 1_073_741_824,
  cleanupPolicy: 'delete',
  maxMessageBytes: 1_048_576,
  deleteRetentionMs: 86_400_000,
  minCleanableDirtyRatio: 0.5,
};

function batchAt(baseOffset: number, records = 1, timestamp = baseOffset): Buffer {
  const builder = new RecordBatchBuilder(128);
  for (let i = 0; i < records; i++) builder.append(timestamp, null, `v${baseOffset + i}`);
  const batch = Buffer.from(builder.build());
  setBatchBaseOffset(batch, baseOffset);
  return batch;
}

describe('MemoryStorage specifics', () => {
  it('answers synchronously: append returns no promise and read returns an array', async () => {
    const storage = new MemoryStorage();
    await storage.open();
    await storage.saveTopic({ name: 't', partitions: 1, config });
    const log = storage.log('t', 0);
    expect(log.append(batchAt(0, 2))).toBeUndefined();
    const read = log.read(0, 100);
    expect(Array.isArray(read)).toBe(true);
    expect(typeof log.applyRetention({ retentionBytes: -1, retentionMs: -1, now: 0 })).toBe('number');
    await storage.close();
  });

  it('throws INVALID_ARGUMENT for the log of an unknown topic or partition (as FileStorage)', async () => {
    const storage = new MemoryStorage();
    await storage.open();
    await storage.saveTopic({ name: 't', partitions: 2, config: { ...config, partitions: 2 } });
    expect(() => storage.log('nope', 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => storage.log('t', 2)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await storage.close();
  });

  it('reads correctly after the dropped slots are compacted away (over 1024 drops)', async () => {
    const storage = new MemoryStorage();
    await storage.open();
    await storage.saveTopic({ name: 't', partitions: 1, config });
    const log = storage.log('t', 0);
    const kept: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const batch = batchAt(i * 2, 2, i);
      kept.push(Buffer.from(batch));
      log.append(batch);
    }
    expect(log.logEndOffset).toBe(6000);

    const readAll = async (from: number): Promise<Uint8Array[]> => {
      const out: Uint8Array[] = [];
      let next = from;
      for (;;) {
        const batches = await log.read(next, 4096);
        if (batches.length === 0) return out;
        out.push(...batches);
        next = batchLastOffset(batches[batches.length - 1]!) + 1;
      }
    };
    const expectKept = async (firstBatch: number): Promise<void> => {
      expect(log.logStartOffset).toBe(firstBatch * 2);
      const got = await readAll(0);
      expect(got.length).toBe(3000 - firstBatch);
      got.forEach((b, i) => expect(Buffer.compare(b, kept[firstBatch + i]!)).toBe(0));
      // Reads at and around every kind of offset still find their batch.
      for (const offset of [0, firstBatch * 2 - 1, firstBatch * 2, firstBatch * 2 + 1, 4001, 5998, 5999]) {
        const [first] = await log.read(offset, 1);
        const want = Math.max(firstBatch, Math.floor(offset / 2));
        expect(batchBaseOffset(first!)).toBe(want * 2);
      }
    };

    // By time, 1100 batches: more than 1024 dropped but fewer than half, so no compaction yet.
    expect(log.applyRetention({ retentionBytes: -1, retentionMs: 0, now: 1100 })).toBe(2200);
    await expectKept(1100);
    // 1600 dropped: more than half, so the dropped slots are compacted away.
    expect(log.applyRetention({ retentionBytes: -1, retentionMs: 0, now: 1600 })).toBe(3200);
    await expectKept(1600);
    // Down to the last five, by bytes.
    const five = kept.slice(-5).reduce((n, b) => n + b.length, 0);
    expect(log.applyRetention({ retentionBytes: five, retentionMs: -1, now: 0 })).toBe(5990);
    await expectKept(2995);

    // Appending and retaining go on as before.
    for (let i = 3000; i < 5000; i++) {
      const batch = batchAt(i * 2, 2, i);
      kept.push(Buffer.from(batch));
      log.append(batch);
    }
    expect(log.applyRetention({ retentionBytes: -1, retentionMs: 0, now: 4990 })).toBe(9980);
    const got = await readAll(0);
    expect(got.length).toBe(10);
    got.forEach((b, i) => expect(Buffer.compare(b, kept[4990 + i]!)).toBe(0));
    await storage.close();
  });
});
