import { describe, expect, it } from 'vitest';
import { Broker, ManualClock, MemoryStorage, partitionForKey, type Message } from 'kafkalite';
import { expectError, text } from '../helpers.js';

async function setup(partitions = 4, options: Parameters<typeof Broker.open>[0] = {}) {
  const broker = await Broker.open(options);
  const topic = await broker.createTopic('t', { partitions });
  return { broker, topic };
}

const ends = (topic: { partitions: readonly { logEndOffset: number }[] }): number[] => topic.partitions.map((p) => p.logEndOffset);

describe('Producer partitioning', () => {
  it('puts keyed messages where murmur2 says, for string and byte keys', async () => {
    const { broker, topic } = await setup(7);
    const producer = broker.producer();
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const meta = await producer.send({ topic: 't', messages: keys.map((key) => ({ key, value: key })) });
    for (let p = 0; p < 7; p++) {
      const records = await topic.partition(p).read(0, { maxRecords: 1000 });
      for (const r of records) expect(partitionForKey(text(r.key)!, 7)).toBe(p);
    }
    expect(meta.reduce((n, m) => n + m.topic.length, 0)).toBeGreaterThan(0);
    const bytes = new TextEncoder().encode('user-42');
    const [m] = await producer.send({ topic: 't', messages: [{ key: bytes, value: 'b' }] });
    expect(m!.partition).toBe(partitionForKey('user-42', 7));
    await broker.close();
  });

  it('lets an explicit partition win over the key', async () => {
    const { broker } = await setup(4);
    const producer = broker.producer();
    const key = 'k';
    const other = (partitionForKey(key, 4) + 1) % 4;
    expect(await producer.send({ topic: 't', messages: [{ key, value: 'v', partition: other }] })).toEqual([
      { topic: 't', partition: other, baseOffset: 0 },
    ]);
    await broker.close();
  });

  it('spreads keyless messages round-robin one by one', async () => {
    const { broker, topic } = await setup(3);
    const producer = broker.producer({ partitioner: 'round-robin' });
    await producer.send({ topic: 't', messages: Array.from({ length: 9 }, (_, i) => ({ value: `${i}` })) });
    expect(ends(topic)).toEqual([3, 3, 3]);
    await broker.close();
  });

  it('keeps keyless messages on one partition until its batch fills (sticky)', async () => {
    const { broker, topic } = await setup(3);
    const producer = broker.producer({ batchSize: 1000 });
    await producer.send({ topic: 't', messages: Array.from({ length: 5 }, () => ({ value: 'x' })) });
    expect(ends(topic).filter((n) => n > 0)).toEqual([5]);
    await producer.send({ topic: 't', messages: Array.from({ length: 60 }, () => ({ value: 'x'.repeat(100) })) });
    expect(ends(topic).filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(ends(topic).reduce((a, b) => a + b)).toBe(65);
    await broker.close();
  });

  it('asks a custom partitioner about messages without a partition', async () => {
    const { broker, topic } = await setup(4);
    const seen: string[] = [];
    const producer = broker.producer({
      partitioner: ({ topic: name, partitionCount, message }) => {
        seen.push(`${name}/${partitionCount}/${String(message.key)}`);
        return 3;
      },
    });
    await producer.send({ topic: 't', messages: [{ key: 'a', value: '1' }, { value: '2' }, { value: '3', partition: 0 }] });
    expect(seen).toEqual(['t/4/a', 't/4/undefined']);
    expect(ends(topic)).toEqual([1, 0, 0, 2]);
    const bad = broker.producer({ partitioner: () => 9 });
    await expectError(() => bad.send({ topic: 't', messages: [{ value: 'x' }] }), 'INVALID_ARGUMENT', /returned 9/);
    await broker.close();
  });
});

describe('Producer send', () => {
  it('gives one call consecutive offsets in order and one entry per partition', async () => {
    const { broker, topic } = await setup(2);
    const producer = broker.producer();
    await producer.send({ topic: 't', messages: [{ value: 'pre', partition: 1 }] });
    const meta = await producer.send({
      topic: 't',
      messages: [
        { value: 'a', partition: 1 },
        { value: 'b', partition: 0 },
        { value: 'c', partition: 1 },
      ],
    });
    expect(meta).toEqual([
      { topic: 't', partition: 1, baseOffset: 1 },
      { topic: 't', partition: 0, baseOffset: 0 },
    ]);
    expect((await topic.partition(1).read(0)).map((r) => [r.offset, text(r.value)])).toEqual([
      [0, 'pre'],
      [1, 'a'],
      [2, 'c'],
    ]);
    await broker.close();
  });

  it('keeps keys, values, tombstones, headers and timestamps', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { broker, topic } = await setup(1, { clock });
    const producer = broker.producer();
    await producer.send({
      topic: 't',
      messages: [
        { key: 'k', value: 'v', headers: { trace: 'abc', bin: new Uint8Array([1, 2]) } },
        { key: 'gone', value: null },
        { value: new Uint8Array([0, 255]), timestamp: 42 },
      ],
    });
    const [a, b, c] = await topic.partition(0).read(0);
    expect([text(a!.key), text(a!.value), a!.timestamp]).toEqual(['k', 'v', 1_700_000_000_000]);
    expect(text(a!.headers.trace as Buffer)).toBe('abc');
    expect([...a!.headers.bin!]).toEqual([1, 2]);
    expect([text(b!.key), b!.value]).toEqual(['gone', null]);
    expect([c!.key, [...c!.value!], c!.timestamp]).toEqual([null, [0, 255], 42]);
    expect(c!.headers).toEqual({});
    await broker.close();
  });

  it('copies buffers at send: mutating them afterwards changes no record', async () => {
    const { broker, topic } = await setup(1);
    const producer = broker.producer({ lingerMs: 0 });
    const value = new Uint8Array([1, 2, 3]);
    const key = new Uint8Array([9]);
    const sent = producer.send({ topic: 't', messages: [{ key, value, headers: { h: value } }] });
    value.fill(7);
    key.fill(7);
    await sent;
    const [r] = await topic.partition(0).read(0);
    expect([...r!.value!]).toEqual([1, 2, 3]);
    expect([...r!.key!]).toEqual([9]);
    expect([...r!.headers.h!]).toEqual([1, 2, 3]);
    // A reader mutating what it got does not change the log either.
    r!.value!.fill(0);
    const [again] = await topic.partition(0).read(0);
    expect([...again!.value!]).toEqual([1, 2, 3]);
    await broker.close();
  });

  it('stores a small batch without holding a large buffer (regression: 17 KiB per one-record batch)', async () => {
    const storage = new MemoryStorage();
    const broker = await Broker.open({ storage });
    await broker.createTopic('t');
    await broker.producer().send({ topic: 't', messages: [{ value: 'x'.repeat(100) }] });
    const [batch] = await storage.log('t', 0).read(0, 1 << 20);
    expect(batch!.byteLength).toBeLessThan(256);
    expect(batch!.buffer.byteLength).toBeLessThanOrEqual(8192); // at most Node's shared pool slab
    await broker.close();
  });

  it('refuses a whole call when one message is bad, appending none of it', async () => {
    const { broker, topic } = await setup(2);
    const producer = broker.producer();
    const good: Message[] = Array.from({ length: 5 }, (_, i) => ({ value: `${i}` }));
    const cases: [Message, RegExp][] = [
      [{ value: undefined } as unknown as Message, /messages\[5\]\.value must be.*undefined/],
      [{ value: 5 } as unknown as Message, /messages\[5\]\.value.*got 5/],
      [{ key: 5, value: 'x' } as unknown as Message, /messages\[5\]\.key/],
      [{ value: 'x', headers: { h: 1 } } as unknown as Message, /headers\["h"\]/],
      [{ value: 'x', timestamp: -1 }, /timestamp.*-1/],
      [{ value: 'x', partition: 1.5 }, /partition.*1\.5/],
      [null as unknown as Message, /messages\[5\] must be an object/],
    ];
    for (const [bad, message] of cases) {
      await expectError(() => producer.send({ topic: 't', messages: [...good, bad] }), 'INVALID_ARGUMENT', message);
    }
    await expectError(() => producer.send({ topic: 't', messages: [...good, { value: 'x', partition: 2 }] }), 'UNKNOWN_PARTITION', /no partition 2/);
    await expectError(() => producer.send({ topic: 't', messages: [] }), 'INVALID_ARGUMENT', /non-empty array/);
    await expectError(() => producer.send({ topic: 5 as unknown as string, messages: good }), 'INVALID_ARGUMENT', /topic must be a string/);
    await expectError(() => producer.send({ topic: 'bad name', messages: good }), 'INVALID_TOPIC');
    await producer.flush();
    expect(ends(topic)).toEqual([0, 0]);
    await producer.send({ topic: 't', messages: good });
    expect(ends(topic).reduce((a, b) => a + b)).toBe(5);
    await broker.close();
  });

  it('refuses a message over maxMessageBytes and keeps the rest of the call out', async () => {
    const broker = await Broker.open();
    const topic = await broker.createTopic('small', { maxMessageBytes: 200 });
    const producer = broker.producer();
    const err = await expectError(
      () => producer.send({ topic: 'small', messages: [{ value: 'ok' }, { value: 'x'.repeat(300) }] }),
      'MESSAGE_TOO_LARGE',
      /over the topic's maxMessageBytes \(200\)/,
    );
    expect(err.topic).toBe('small');
    await expectError(
      () => producer.send({ topic: 'small', messages: [{ value: 'x', headers: { big: 'y'.repeat(300) } }] }),
      'MESSAGE_TOO_LARGE',
    );
    expect(topic.partition(0).logEndOffset).toBe(0);
    // Many small messages are split into batches that each fit.
    await producer.send({ topic: 'small', messages: Array.from({ length: 50 }, () => ({ value: 'x'.repeat(50) })) });
    expect(topic.partition(0).logEndOffset).toBe(50);
    await broker.close();
  });

  it('batches the sends of one tick into one append', async () => {
    const { broker, topic } = await setup(1);
    const producer = broker.producer();
    const sends = Array.from({ length: 10 }, (_, i) => producer.send({ topic: 't', messages: [{ value: `${i}` }] }));
    expect(topic.partition(0).logEndOffset).toBe(0);
    const metas = await Promise.all(sends);
    expect(metas.map((m) => m[0]!.baseOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await broker.close();
  });

  it('lingers on the clock until lingerMs or a full batch', async () => {
    const clock = new ManualClock();
    const { broker, topic } = await setup(1, { clock });
    const producer = broker.producer({ lingerMs: 50, batchSize: 400 });
    let resolved = false;
    const first = producer.send({ topic: 't', messages: [{ value: 'a' }] }).then((m) => ((resolved = true), m));
    await clock.advance(49);
    expect(resolved).toBe(false);
    expect(topic.partition(0).logEndOffset).toBe(0);
    await clock.advance(1);
    expect(resolved).toBe(true);
    expect((await first)[0]!.baseOffset).toBe(0);
    // A batch that reaches batchSize goes at once.
    const full = producer.send({ topic: 't', messages: Array.from({ length: 10 }, () => ({ value: 'y'.repeat(50) })) });
    await new Promise((r) => setImmediate(r));
    expect(topic.partition(0).logEndOffset).toBeGreaterThan(1);
    await clock.advance(50);
    await full;
    expect(topic.partition(0).logEndOffset).toBe(11);
    await broker.close();
  });

  it('flush appends lingering messages now', async () => {
    const clock = new ManualClock();
    const { broker, topic } = await setup(1, { clock });
    const producer = broker.producer({ lingerMs: 10_000 });
    const sent = producer.send({ topic: 't', messages: [{ value: 'a' }] });
    await producer.flush();
    expect(topic.partition(0).logEndOffset).toBe(1);
    await sent;
    await broker.close();
  });

  it('sendBatch writes to several topics, all or nothing', async () => {
    const broker = await Broker.open();
    await broker.createTopic('a');
    await broker.createTopic('b', { partitions: 2 });
    const producer = broker.producer();
    const meta = await producer.sendBatch({
      topicMessages: [
        { topic: 'a', messages: [{ value: '1' }] },
        { topic: 'b', messages: [{ value: '2', partition: 1 }] },
      ],
    });
    expect(meta).toEqual([
      { topic: 'a', partition: 0, baseOffset: 0 },
      { topic: 'b', partition: 1, baseOffset: 0 },
    ]);
    await expectError(
      () =>
        producer.sendBatch({
          topicMessages: [
            { topic: 'a', messages: [{ value: '1' }] },
            { topic: 'b', messages: [{ value: 2 } as unknown as Message] },
          ],
        }),
      'INVALID_ARGUMENT',
    );
    expect(broker.topic('a').partition(0).logEndOffset).toBe(1);
    await broker.close();
  });

  it('sees partitions added after its first send', async () => {
    const { broker, topic } = await setup(1);
    const producer = broker.producer();
    await producer.send({ topic: 't', messages: [{ key: 'k', value: '1' }] });
    await topic.addPartitions(8);
    const [m] = await producer.send({ topic: 't', messages: [{ key: 'k', value: '2' }] });
    expect(m!.partition).toBe(partitionForKey('k', 8));
    await broker.close();
  });

  it('validates its options', async () => {
    const broker = await Broker.open();
    await expectError(() => broker.producer({ lingerMs: -1 }), 'INVALID_ARGUMENT', /lingerMs.*-1/);
    await expectError(() => broker.producer({ batchSize: 0 }), 'INVALID_ARGUMENT', /batchSize.*0/);
    await expectError(() => broker.producer({ partitioner: 'random' as 'sticky' }), 'INVALID_ARGUMENT', /"random"/);
    await expectError(() => broker.producer({ idempotent: 1 as unknown as boolean }), 'INVALID_ARGUMENT', /idempotent/);
    await expectError(() => broker.producer({ acks: 1 } as never), 'INVALID_ARGUMENT', /unknown producer option "acks"/);
    await broker.close();
  });

  it('closes idempotently after flushing', async () => {
    const { broker, topic } = await setup(1);
    const producer = broker.producer({ lingerMs: 1_000_000 });
    const sent = producer.send({ topic: 't', messages: [{ value: 'a' }] });
    await producer.close();
    await producer.close();
    await sent;
    expect(topic.partition(0).logEndOffset).toBe(1);
    await expectError(() => producer.send({ topic: 't', messages: [{ value: 'b' }] }), 'CLOSED', /producer is closed/);
    await broker.close();
  });
});
