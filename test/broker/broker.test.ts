import { describe, expect, it } from 'vitest';
import { Broker, ManualClock, MemoryStorage } from 'kafkalite';
import { expectError, text } from '../helpers.js';

describe('Broker topics', () => {
  it('creates, lists, finds and deletes topics', async () => {
    const broker = await Broker.open();
    const orders = await broker.createTopic('orders', { partitions: 3 });
    await broker.createTopic('audit');
    await broker.createTopic('__internal');
    expect(orders.name).toBe('orders');
    expect(orders.partitions).toHaveLength(3);
    expect(orders.partitions.map((p) => [p.topic, p.id])).toEqual([
      ['orders', 0],
      ['orders', 1],
      ['orders', 2],
    ]);
    expect(broker.listTopics()).toEqual(['audit', 'orders']);
    expect(broker.topic('orders')).toBe(orders);
    await broker.deleteTopic('orders');
    expect(broker.listTopics()).toEqual(['audit']);
    await expectError(() => broker.topic('orders'), 'UNKNOWN_TOPIC', /"orders"/);
    await expectError(() => broker.deleteTopic('orders'), 'UNKNOWN_TOPIC');
    await broker.close();
  });

  it('resolves the config with Kafka defaults', async () => {
    const broker = await Broker.open({ defaultPartitions: 2 });
    const t = await broker.createTopic('t', { retentionMs: 1000 });
    expect(t.config).toEqual({
      partitions: 2,
      retentionMs: 1000,
      retentionBytes: -1,
      segmentBytes: 1_073_741_824,
      cleanupPolicy: 'delete',
      maxMessageBytes: 1_048_576,
      deleteRetentionMs: 86_400_000,
      minCleanableDirtyRatio: 0.5,
    });
    expect(Object.isFrozen(t.config)).toBe(true);
    await broker.close();
  });

  it('refuses bad names, counts and configs, and changes nothing', async () => {
    const broker = await Broker.open();
    for (const bad of ['', '.', '..', 'a b', 'ü', 'x'.repeat(250), 'a/b']) {
      await expectError(() => broker.createTopic(bad), 'INVALID_TOPIC', /invalid topic name/);
    }
    await expectError(() => broker.createTopic(42 as unknown as string), 'INVALID_TOPIC', /42/);
    await broker.createTopic('x'.repeat(249));
    await broker.createTopic('a.b_c-D9');
    for (const partitions of [0, -1, 1.5, Number.NaN, '3', 100_001]) {
      await expectError(() => broker.createTopic('p', { partitions: partitions as number }), 'INVALID_PARTITIONS', /partitions must be/);
    }
    await expectError(() => broker.createTopic('c', { retentionMs: -5 }), 'INVALID_CONFIG', /retentionMs.*-5/);
    await expectError(() => broker.createTopic('c', { retentionBytes: 1.5 }), 'INVALID_CONFIG', /retentionBytes.*1\.5/);
    await expectError(() => broker.createTopic('c', { segmentBytes: 10 }), 'INVALID_CONFIG', /segmentBytes.*10/);
    await expectError(() => broker.createTopic('c', { cleanupPolicy: 'shred' as 'delete' }), 'INVALID_CONFIG', /"shred"/);
    await expectError(() => broker.createTopic('c', { maxMessageBytes: 0 }), 'INVALID_CONFIG', /maxMessageBytes.*0/);
    await expectError(() => broker.createTopic('c', { retention: 5 } as never), 'INVALID_CONFIG', /unknown topic config "retention"/);
    expect(broker.listTopics()).toEqual(['a.b_c-D9', 'x'.repeat(249)]);
    await broker.createTopic('c');
    await expectError(() => broker.createTopic('c'), 'TOPIC_EXISTS', /"c" already exists/);
    await broker.close();
  });

  it('yields one topic when the same name is created twice at once', async () => {
    const broker = await Broker.open();
    const results = await Promise.allSettled([broker.createTopic('dup'), broker.createTopic('dup')]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    await broker.close();
  });

  it('grows partitions only', async () => {
    const broker = await Broker.open();
    const t = await broker.createTopic('grow', { partitions: 2 });
    await t.addPartitions(5);
    expect(t.partitions).toHaveLength(5);
    expect(t.config.partitions).toBe(5);
    expect(t.partition(4).id).toBe(4);
    await expectError(() => t.addPartitions(5), 'INVALID_PARTITIONS', /larger total \(got 5\)/);
    await expectError(() => t.addPartitions(3), 'INVALID_PARTITIONS');
    await expectError(() => t.addPartitions(0), 'INVALID_PARTITIONS');
    expect(t.partitions).toHaveLength(5);
    await expectError(() => t.partition(5), 'UNKNOWN_PARTITION', /no partition 5/);
    await expectError(() => t.partition(-1), 'UNKNOWN_PARTITION');
    await broker.close();
  });

  it('reports log start and end offsets and reads directly', async () => {
    const broker = await Broker.open();
    const t = await broker.createTopic('r');
    const p = t.partition(0);
    expect([p.logStartOffset, p.logEndOffset]).toEqual([0, 0]);
    const producer = broker.producer();
    await producer.send({ topic: 'r', messages: ['a', 'b', 'c', 'd'].map((value) => ({ value })) });
    expect(p.logEndOffset).toBe(4);
    const all = await p.read(0);
    expect(all.map((r) => [r.offset, text(r.value)])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
    ]);
    expect((await p.read(2, { maxRecords: 1 })).map((r) => r.offset)).toEqual([2]);
    expect(await p.read(4)).toEqual([]);
    await expectError(() => p.read(-1), 'INVALID_ARGUMENT', /offset must be/);
    await broker.close();
  });

  it('auto-creates topics on send unless told not to', async () => {
    const auto = await Broker.open({ defaultPartitions: 3 });
    await auto.producer().send({ topic: 'fresh', messages: [{ value: 'x' }] });
    expect(auto.topic('fresh').partitions).toHaveLength(3);
    await auto.close();

    const strict = await Broker.open({ autoCreateTopics: false });
    await expectError(() => strict.producer().send({ topic: 'fresh', messages: [{ value: 'x' }] }), 'UNKNOWN_TOPIC', /"fresh"/);
    expect(strict.listTopics()).toEqual([]);
    await strict.close();
  });

  it('validates its options', async () => {
    await expectError(() => Broker.open({ defaultPartitions: 0 }), 'INVALID_PARTITIONS', /got 0/);
    await expectError(() => Broker.open({ autoCreateTopics: 'yes' as unknown as boolean }), 'INVALID_ARGUMENT', /"yes"/);
    await expectError(() => Broker.open({ storage: {} as never }), 'INVALID_ARGUMENT', /Storage interface/);
    await expectError(() => Broker.open({ clock: { now: () => 0 } as never }), 'INVALID_ARGUMENT', /Clock interface/);
    await expectError(() => Broker.open({ colour: 'red' } as never), 'INVALID_ARGUMENT', /unknown broker option "colour"/);
  });

  it('closes idempotently and refuses everything afterwards with CLOSED', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t');
    const producer = broker.producer();
    const consumer = broker.consumer();
    await broker.close();
    await broker.close();
    await expectError(() => broker.createTopic('u'), 'CLOSED');
    await expectError(() => broker.topic('t'), 'CLOSED');
    await expectError(() => broker.listTopics(), 'CLOSED');
    await expectError(() => broker.deleteTopic('t'), 'CLOSED');
    await expectError(() => broker.producer(), 'CLOSED');
    await expectError(() => broker.consumer(), 'CLOSED');
    await expectError(() => producer.send({ topic: 't', messages: [{ value: 'x' }] }), 'CLOSED');
    await expectError(() => consumer.poll(), 'CLOSED');
  });

  it('flushes producers on close', async () => {
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const broker = await Broker.open({ storage, clock });
    await broker.createTopic('t');
    const producer = broker.producer({ lingerMs: 60_000 });
    const sent = producer.send({ topic: 't', messages: [{ value: 'lingering' }] });
    await broker.close();
    await expect(sent).resolves.toEqual([{ topic: 't', partition: 0, baseOffset: 0 }]);
    const again = await Broker.open({ storage, clock });
    expect(text((await again.topic('t').partition(0).read(0))[0]!.value)).toBe('lingering');
    await again.close();
  });

  it('lets one storage be held by one broker at a time, and reopens with its data', async () => {
    const storage = new MemoryStorage();
    const first = await Broker.open({ storage });
    await first.createTopic('kept', { partitions: 2, retentionMs: 5000 });
    await first.producer().send({ topic: 'kept', messages: [{ value: 'v', partition: 1 }] });
    await expectError(() => Broker.open({ storage }), 'STORAGE_LOCKED');
    await first.close();
    const second = await Broker.open({ storage });
    expect(second.topic('kept').config.retentionMs).toBe(5000);
    expect(second.topic('kept').partition(1).logEndOffset).toBe(1);
    await second.close();
  });

  it('applies time retention on the clock', async () => {
    const clock = new ManualClock(1_000_000);
    const broker = await Broker.open({ clock, retentionCheckIntervalMs: 1000 });
    await broker.createTopic('short', { retentionMs: 10_000 });
    const producer = broker.producer();
    await producer.send({ topic: 'short', messages: [{ value: 'old' }] });
    await clock.advance(6000);
    await producer.send({ topic: 'short', messages: [{ value: 'new' }] });
    const p = broker.topic('short').partition(0);
    await clock.advance(5000);
    expect(p.logStartOffset).toBe(1);
    expect((await p.read(0)).map((r) => text(r.value))).toEqual(['new']);
    await clock.advance(10_000);
    expect([p.logStartOffset, p.logEndOffset]).toEqual([2, 2]);
    await broker.close();
  });

  it('applies size retention as records arrive', async () => {
    const broker = await Broker.open();
    await broker.createTopic('small', { retentionBytes: 1000 });
    const producer = broker.producer();
    for (let i = 0; i < 100; i++) await producer.send({ topic: 'small', messages: [{ value: 'x'.repeat(100) }] });
    const p = broker.topic('small').partition(0);
    expect(p.logEndOffset).toBe(100);
    expect(p.logStartOffset).toBeGreaterThan(80);
    expect((await p.read(0, { maxRecords: 1000 }))[0]!.offset).toBe(p.logStartOffset);
    await broker.close();
  });
});
