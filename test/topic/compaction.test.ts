/** Log compaction as users see it, on both storages: configs, refusals, triggers, retention, readers, committed offsets. */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage, ManualClock, MemoryStorage, type PartitionLog, type Storage } from 'kafkalite';
import { expectError } from '../helpers.js';
import { tempDir } from '../storage/fs/fs-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Kind = 'memory' | 'file';

function storageOf(kind: Kind): { storage: () => Storage; dir: string | undefined } {
  if (kind === 'memory') {
    const storage = new MemoryStorage();
    return { storage: () => storage, dir: undefined };
  }
  const dir = tempDir('compaction');
  dirs.push(dir);
  return { storage: () => new FileStorage({ dir, fsync: 'never' }), dir };
}

async function values(broker: Broker, topic: string): Promise<string[]> {
  return (await broker.topic(topic).partition(0).read(0, { maxRecords: 10_000 })).map((r) => `${r.offset}:${r.key?.toString()}=${r.value?.toString() ?? 'null'}`);
}

describe.each(['memory', 'file'] as const)('compaction (%s storage)', (kind) => {
  it('refuses a record without a key in a compacted topic, appending nothing of the send, and keeps serving', async () => {
    const { storage } = storageOf(kind);
    const broker = await Broker.open({ storage: storage() });
    await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact,delete' });
    const producer = broker.producer();
    await expectError(() => producer.send({ topic: 'c', messages: [{ key: 'a', value: '1' }, { value: 'no key' }] }), 'INVALID_ARGUMENT', /without a key/);
    expect(broker.topic('c').partition(0).logEndOffset).toBe(0);
    await producer.send({ topic: 'c', messages: [{ key: 'a', value: '1' }] });
    expect(await values(broker, 'c')).toEqual(['0:a=1']);
    await broker.close();
  });

  it('compact() needs a compacted topic; configs are checked; offsets, logStartOffset, logEndOffset and lag stay', async () => {
    const { storage } = storageOf(kind);
    const broker = await Broker.open({ storage: storage() });
    const plain = await broker.createTopic('plain', { partitions: 1 });
    await expectError(() => plain.compact(), 'INVALID_ARGUMENT', /not compacted/);
    await expectError(() => broker.createTopic('bad', { cleanupPolicy: 'delete,compact' as 'compact' }), 'INVALID_CONFIG', /cleanupPolicy/);
    await expectError(() => broker.createTopic('bad', { deleteRetentionMs: -1 }), 'INVALID_CONFIG', /deleteRetentionMs/);
    await expectError(() => broker.createTopic('bad', { minCleanableDirtyRatio: 1.5 }), 'INVALID_CONFIG', /minCleanableDirtyRatio/);
    const t = await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact', segmentBytes: 200 });
    const producer = broker.producer();
    for (let i = 0; i < 20; i++) await producer.send({ topic: 'c', messages: [{ key: `k${i % 2}`, value: `${i}` }] });
    const consumer = broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommit: false });
    await consumer.assign([{ topic: 'c', partition: 0 }]);
    await consumer.commit([{ topic: 'c', partition: 0, offset: 3 }]);
    await t.compact();
    const kept = await values(broker, 'c');
    expect(kept.length).toBeLessThan(20);
    expect(kept.slice(-2)).toEqual(['18:k0=18', '19:k1=19']);
    const p = t.partition(0);
    expect([p.logStartOffset, p.logEndOffset]).toEqual([0, 20]);
    // The consumer reads across the gaps from its committed offset, every record at its own offset.
    const polled = await consumer.poll();
    expect(polled.map((r) => `${r.offset}:${r.key?.toString()}=${r.value?.toString()}`)).toEqual(kept.filter((v) => Number(v.split(':')[0]) >= 3));
    await consumer.close();
    await broker.close();
  });

  it("'compact' keeps old records from time retention; 'compact,delete' applies both", async () => {
    const { storage } = storageOf(kind);
    const clock = new ManualClock(1_700_000_000_000);
    const broker = await Broker.open({ storage: storage(), clock, retentionCheckIntervalMs: 1000 });
    await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact', retentionMs: 10, segmentBytes: 100 });
    await broker.createTopic('cd', { partitions: 1, cleanupPolicy: 'compact,delete', retentionMs: 10, segmentBytes: 100 });
    const producer = broker.producer();
    for (let i = 0; i < 6; i++) await producer.send({ topic: 'c', messages: [{ key: `k${i}`, value: 'x' }] });
    for (let i = 0; i < 6; i++) await producer.send({ topic: 'cd', messages: [{ key: `k${i}`, value: 'x' }] });
    await clock.advance(5000);
    expect((await values(broker, 'c')).length).toBe(6); // distinct keys: compaction keeps them, retention does not apply
    expect(broker.topic('cd').partition(0).logStartOffset).toBeGreaterThan(0);
    await broker.close();
  });

  it('the clock triggers a pass once the dirty ratio reaches minCleanableDirtyRatio, not before', async () => {
    const { storage } = storageOf(kind);
    const clock = new ManualClock(1_700_000_000_000);
    const broker = await Broker.open({ storage: storage(), clock, retentionCheckIntervalMs: 1000 });
    await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact', segmentBytes: 300, minCleanableDirtyRatio: 0.5 });
    const producer = broker.producer();
    const send = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) await producer.send({ topic: 'c', messages: [{ key: 'same', value: `${i}` }] });
    };
    await send(0, 30);
    await clock.advance(1000);
    const cleaned = (await values(broker, 'c')).length;
    expect(cleaned).toBeLessThan(30 / 2);
    // A little more: dirty bytes now far below half of what is cleanable — no pass.
    await send(30, 32);
    await clock.advance(1000);
    expect((await values(broker, 'c')).length).toBe(cleaned + 2);
    // Much more: a pass again.
    await send(32, 80);
    await clock.advance(1000);
    expect((await values(broker, 'c')).length).toBeLessThan(cleaned + 50);
    await broker.close();
  });

  it('__consumer_offsets is compacted: committed offsets survive the pass and a reopen, and the log shrinks', async () => {
    const { storage, dir } = storageOf(kind);
    const clock = new ManualClock(1_700_000_000_000);
    const broker = await Broker.open({ storage: storage(), clock, retentionCheckIntervalMs: 1000 });
    await broker.createTopic('t', { partitions: 4 });
    expect(broker.topic('__consumer_offsets').config).toMatchObject({ cleanupPolicy: 'compact', segmentBytes: 1 << 20 });
    const consumer = broker.consumer({ groupId: 'g', autoCommit: false });
    await consumer.assign([0, 1, 2, 3].map((partition) => ({ topic: 't', partition })));
    const offsets = broker.topic('__consumer_offsets').partition(0);
    for (let i = 0; i < 6000; i++) await consumer.commit([0, 1, 2, 3].map((partition) => ({ topic: 't', partition, offset: i + partition })));
    const records = async (): Promise<number> => (await offsets.read(0, { maxRecords: 100_000 })).length;
    expect(await records()).toBe(24_000);
    await consumer.commit([{ topic: 't', partition: 0, offset: 1 }]);
    await clock.advance(1000); // the periodic check cleans it
    expect(await records()).toBeLessThan(24_000 / 2);
    await consumer.close();
    await broker.close();
    if (dir !== undefined) {
      const bytes = readdirSync(join(dir, '__consumer_offsets-0'))
        .filter((f) => f.endsWith('.log'))
        .reduce((n, f) => n + statSync(join(dir, '__consumer_offsets-0', f)).size, 0);
      expect(bytes).toBeLessThan(1.5 * (1 << 20));
    }
    const again = await Broker.open({ storage: storage(), clock });
    const group = again.group('g');
    expect(await group.committed({ topic: 't', partition: 0 })).toBe(1);
    for (const p of [1, 2, 3]) expect(await group.committed({ topic: 't', partition: p })).toBe(5999 + p);
    await again.close();
  });
});

describe('a storage without a cleaner', () => {
  /** MemoryStorage with the optional `clean` hidden from the broker. */
  class NoCleanStorage extends MemoryStorage {
    override log(topic: string, partition: number): PartitionLog {
      const log = super.log(topic, partition);
      return new Proxy(log, {
        get: (target, key) => {
          if (key === 'clean') return undefined;
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    }
  }

  it('says clearly that a compacted topic is not compacted: compact() is UNSUPPORTED, the periodic check warns', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const clock = new ManualClock(1_700_000_000_000);
    const broker = await Broker.open({ storage: new NoCleanStorage(), clock, logger, retentionCheckIntervalMs: 1000 });
    const t = await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact' });
    await broker.producer().send({ topic: 'c', messages: [{ key: 'a', value: '1' }] });
    await expectError(() => t.compact(), 'UNSUPPORTED', /PartitionLog\.clean.*c-0 is not compacted/);
    await clock.advance(1000);
    expect(warnings.some((w) => /c-0 is not compacted/.test(w))).toBe(true);
    expect((await t.partition(0).read(0)).length).toBe(1);
    await broker.close();
  });
});
