/**
 * Transactions over the wire with clients nobody here wrote: the real KafkaJS package
 * (transactional producer: InitProducerId, AddPartitionsToTxn, transactional Produce,
 * AddOffsetsToTxn + TxnOffsetCommit, EndTxn; read-committed consumer: Fetch isolation level 1 with
 * the aborted transactions list), and kcat (librdkafka) with `isolation.level=read_committed`.
 */
import { describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import type { PartitionState } from '../../../src/topic/partition.js';
import { ApiKey } from '../../../src/wire/protocol/index.js';
import { serve } from '../listener-helpers.js';
import { kcat, requireKcat } from './tools.js';
import { registerKafkaJsCodecs } from '../../codec/kafkajs-codecs.js';

function kafka(address: string): Kafka {
  return new Kafka({ brokers: [address], clientId: 'kafkajs-txn', logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

function transactional(k: Kafka, transactionalId: string) {
  return k.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
}

/** Runs a KafkaJS consumer from the beginning until it has `count` values (or `ms` passed); the values per partition. */
async function consume(k: Kafka, topic: string, readUncommitted: boolean, count: number, ms = 15_000): Promise<string[][]> {
  const consumer: Consumer = k.consumer({ groupId: `reader-${readUncommitted}-${Math.random()}`, readUncommitted, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[][] = [];
  let total = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        (seen[partition] ??= []).push(message.value!.toString());
        if (++total >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

describe('transactions with KafkaJS over TCP', () => {
  it('commits and aborts: a read-committed KafkaJS consumer sees only committed records, a read-uncommitted one all; offsets sent in a committed transaction reach the group', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('out', { partitions: 2 });
    await broker.createTopic('in');
    const k = kafka(listener.address);
    const producer = transactional(k, 'pipeline');
    await producer.connect();

    const t1 = await producer.transaction();
    await t1.send({ topic: 'out', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] });
    await t1.sendOffsets({ consumerGroupId: 'src', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '5' }] }] });
    await t1.commit();

    const t2 = await producer.transaction();
    await t2.send({ topic: 'out', messages: [{ value: 'x', partition: 0 }, { value: 'y', partition: 1 }] });
    await t2.sendOffsets({ consumerGroupId: 'src', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '9' }] }] });
    await t2.abort();

    const t3 = await producer.transaction();
    await t3.send({ topic: 'out', messages: [{ value: 'c', partition: 0 }] });
    await t3.commit();
    await producer.disconnect();

    // The aborted transaction's offsets never reached the group.
    expect(await broker.group('src').committed({ topic: 'in', partition: 0 })).toBe(5);
    // The log holds every record and a marker after each transaction: a, x, c and three markers in partition 0.
    expect(broker.topic('out').partition(0).logEndOffset).toBe(6);

    expect(await consume(k, 'out', false, 3)).toEqual([['a', 'c'], ['b']]);
    expect(await consume(k, 'out', true, 5)).toEqual([
      ['a', 'x', 'c'],
      ['b', 'y'],
    ]);

    // The same records through the in-process read_committed consumer: one state, two doors.
    const inProcess = broker.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
    await inProcess.assign([{ topic: 'out', partition: 0 }]);
    const values: string[] = [];
    for (let i = 0; i < 20 && values.length < 2; i++) for (const r of await inProcess.poll({ timeoutMs: 100 })) values.push(r.value!.toString());
    await inProcess.close();
    expect(values).toEqual(['a', 'c']);
  });

  it('a read-committed consumer waits at an open transaction and gets its records once it commits', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const k = kafka(listener.address);
    const producer = transactional(k, 'slow');
    await producer.connect();
    await broker.producer().send({ topic: 't', messages: [{ value: 'before' }] });
    const open = await producer.transaction();
    await open.send({ topic: 't', messages: [{ value: 'inside' }] });
    await broker.producer().send({ topic: 't', messages: [{ value: 'after' }] });
    // Everything past the open transaction's first offset waits: only 'before' is readable.
    expect(await consume(k, 't', false, 2, 2_000)).toEqual([['before']]);
    await open.commit();
    await producer.disconnect();
    expect(await consume(k, 't', false, 3)).toEqual([['before', 'inside', 'after']]);
  });

  it('fences a zombie: a second producer with the same transactionalId makes the first one fail and aborts its open transaction', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const k = kafka(listener.address);
    const zombie = transactional(k, 'fenced');
    await zombie.connect();
    const left = await zombie.transaction();
    await left.send({ topic: 't', messages: [{ value: 'zombie' }] });

    const successor = transactional(k, 'fenced');
    await successor.connect();
    const txn = await successor.transaction();
    await txn.send({ topic: 't', messages: [{ value: 'successor' }] });
    await txn.commit();
    await successor.disconnect();

    const error = await left.commit().then(
      () => undefined,
      (e: unknown) => e as { type?: string; name?: string },
    );
    expect(error, 'the zombie commit must fail').toBeDefined();
    // KafkaJS speaks EndTxn v0–1, which hears INVALID_PRODUCER_EPOCH where newer clients hear PRODUCER_FENCED (Kafka's rule).
    expect(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']).toContain(error!.type);
    await zombie.disconnect();
    expect(await consume(k, 't', false, 1)).toEqual([['successor']]);
  });

  it('a Produce to a partition the transaction has not added is INVALID_TXN_STATE', async () => {
    const { broker, listener, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const k = kafka(listener.address);
    const producer = transactional(k, 'strict');
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 't', messages: [{ value: 'p0', partition: 0 }] });
    // Replay KafkaJS' own Produce to partition 1, which its transaction never added.
    const stored = (await (broker.topic('t').partition(0) as PartitionState).readBatches(0, 1 << 20))[0]!;
    const c = await client();
    const batch = Buffer.from(stored);
    batch.writeBigInt64BE(0n, 0);
    const r = await c.request(ApiKey.Produce, 7, { acks: -1, timeoutMs: 5000, transactionalId: 'strict', topicData: [{ name: 't', partitionData: [{ index: 1, records: batch }] }] });
    expect(r.responses[0]!.partitionResponses[0]!.errorCode).toBe(48);
    expect(broker.topic('t').partition(1).logEndOffset).toBe(0);
    await txn.abort();
    await producer.disconnect();
  });
});

describe('transactions from both doors at once', () => {
  it('KafkaJS and in-process transactional producers, un-awaited and interleaved on the same partitions, commit and abort at random: read-committed readers on both sides see exactly the committed records, in order per producer', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('mix', { partitions: 2 });
    const k = kafka(listener.address);
    const seed = Date.now() % 100_000;
    let state = seed;
    const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
    const committed: string[] = [];

    const wire = async (id: string) => {
      const producer = transactional(k, id);
      await producer.connect();
      for (let n = 0; n < 6; n++) {
        const txn = await producer.transaction();
        const values = [0, 1, 2].map((i) => `${id}-${n}-${i}`);
        await Promise.all(values.map((value, i) => txn.send({ topic: 'mix', messages: [{ key: id, value, partition: i % 2 }] })));
        if (random() < 0.6) {
          await txn.commit();
          committed.push(...values);
        } else await txn.abort();
      }
      await producer.disconnect();
    };
    const inProcess = async (id: string) => {
      const producer = broker.producer({ transactionalId: id });
      for (let n = 0; n < 6; n++) {
        const txn = producer.transaction();
        const values = [0, 1, 2].map((i) => `${id}-${n}-${i}`);
        // Un-awaited sends, settled across a macrotask.
        const sends = values.map((value, i) => txn.send({ topic: 'mix', messages: [{ key: id, value, partition: i % 2 }] }));
        await new Promise((resolve) => setTimeout(resolve, random() * 5));
        await Promise.all(sends);
        if (random() < 0.6) {
          await txn.commit();
          committed.push(...values);
        } else await txn.abort();
      }
      await producer.close();
    };
    await Promise.all([wire('w1'), wire('w2'), inProcess('p1')]);

    const byWire = (await consume(k, 'mix', false, committed.length)).flat();
    const reader = broker.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
    await reader.assign([0, 1].map((partition) => ({ topic: 'mix', partition })));
    const byProcess: string[] = [];
    for (let i = 0; i < 50 && byProcess.length < committed.length; i++) for (const r of await reader.poll({ timeoutMs: 100 })) byProcess.push(r.value!.toString());
    await reader.close();
    for (const seen of [byWire, byProcess]) {
      expect([...seen].sort(), `seed ${seed}`).toEqual([...committed].sort());
      // Per producer and partition, in send order.
      for (const id of ['w1', 'w2', 'p1']) {
        for (const partition of [0, 1]) {
          const mine = seen.filter((v) => v.startsWith(`${id}-`) && Number(v.split('-')[2]) % 2 === partition);
          expect(mine, `seed ${seed}`).toEqual(committed.filter((v) => mine.includes(v)));
        }
      }
    }
  });

  it('a KafkaJS producer and an in-process producer with the same transactionalId fence each other', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const wire = transactional(kafka(listener.address), 'shared');
    await wire.connect();
    const w1 = await wire.transaction();
    await w1.send({ topic: 't', messages: [{ value: 'wire-zombie' }] });
    // The in-process producer takes over: the wire one's open transaction is aborted, and it is fenced.
    const local = broker.producer({ transactionalId: 'shared' });
    const l1 = local.transaction();
    await l1.send({ topic: 't', messages: [{ value: 'local' }] });
    await l1.commit();
    await expect(w1.commit()).rejects.toMatchObject({ type: 'INVALID_PRODUCER_EPOCH' });
    await wire.disconnect();
    // And back: a new KafkaJS producer fences the in-process one.
    const again = transactional(kafka(listener.address), 'shared');
    await again.connect();
    const l2 = local.transaction();
    await l2.send({ topic: 't', messages: [{ value: 'local-zombie' }] });
    const w2 = await again.transaction();
    await w2.send({ topic: 't', messages: [{ value: 'wire' }] });
    await w2.commit();
    await again.disconnect();
    await expect(l2.commit()).rejects.toMatchObject({ code: 'PRODUCER_FENCED' });
    await local.close().catch(() => undefined);
    expect(await consume(kafka(listener.address), 't', false, 2)).toEqual([['local', 'wire']]);
  });
});

describe('compressed transactions read by KafkaJS over TCP', () => {
  it("KafkaJS' read-committed consumer reads the committed records of compressed transactional batches an in-process producer wrote (every codec), and skips the aborted ones", async () => {
    await registerKafkaJsCodecs();
    const { broker, listener } = await serve();
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
    const filler = ' lorem ipsum'.repeat(6);
    const expected = new Map<string, { committed: string[]; all: string[] }>();
    for (const codec of codecs) {
      const topic = `zip-${codec}`;
      await broker.createTopic(topic, { partitions: 2 });
      const producer = broker.producer({ transactionalId: `zip-${codec}`, compression: codec, batchSize: 400 });
      const committed: string[] = [];
      const all: string[] = [];
      for (const [name, commit] of [
        ['c1', true],
        ['a1', false],
        ['c2', true],
      ] as const) {
        const txn = producer.transaction();
        const values = Array.from({ length: 12 }, (_, i) => `${name}-${i}`);
        // Un-awaited sends over both partitions, several batches each.
        await Promise.all(values.map((value, i) => txn.send({ topic, messages: [{ key: value, value: value + filler, partition: i % 2 }] })));
        await (commit ? txn.commit() : txn.abort());
        all.push(...values);
        if (commit) committed.push(...values);
      }
      await producer.close();
      const batches = await (broker.topic(topic).partition(0) as PartitionState).readBatches(0, 1 << 20);
      // Its data batches carry the transactional bit and the codec (attributes, low byte).
      expect(batches.some((b) => b[22]! === (0x10 | (codecs.indexOf(codec) + 1)))).toBe(true);
      expected.set(topic, { committed, all });
    }

    const k = kafka(listener.address);
    const read = async (readUncommitted: boolean, count: number) => {
      const consumer = k.consumer({ groupId: `zip-reader-${readUncommitted}`, readUncommitted, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topics: [...expected.keys()], fromBeginning: true });
      const seen = new Map<string, string[]>();
      let total = 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        void consumer.run({
          eachMessage: async ({ topic, partition, message }) => {
            const value = message.value!.toString();
            expect(value.endsWith(filler)).toBe(true);
            const key = `${topic}/${partition}`;
            seen.set(key, [...(seen.get(key) ?? []), value.slice(0, -filler.length)]);
            if (++total >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      await consumer.disconnect();
      return seen;
    };
    const inPartition = (values: string[], partition: number) => values.filter((v) => Number(v.split('-')[1]) % 2 === partition);
    const committedCount = [...expected.values()].reduce((n, e) => n + e.committed.length, 0);
    const allCount = [...expected.values()].reduce((n, e) => n + e.all.length, 0);
    const committedSeen = await read(false, committedCount);
    const allSeen = await read(true, allCount);
    for (const [topic, { committed, all }] of expected) {
      for (const partition of [0, 1]) {
        expect(committedSeen.get(`${topic}/${partition}`) ?? [], topic).toEqual(inPartition(committed, partition));
        expect(allSeen.get(`${topic}/${partition}`) ?? [], topic).toEqual(inPartition(all, partition));
      }
    }
  }, 60_000);
});

describe('transactions with kcat (librdkafka)', () => {
  it('isolation.level=read_committed consumes past an aborted transaction; read_uncommitted sees its records', async () => {
    requireKcat();
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const producer = transactional(kafka(listener.address), 'kcat-src');
    await producer.connect();
    for (const [values, commit] of [
      [['c1', 'c2'], true],
      [['a1', 'a2', 'a3'], false],
      [['c3'], true],
    ] as const) {
      const txn = await producer.transaction();
      await txn.send({ topic: 't', messages: values.map((value) => ({ value })) });
      await (commit ? txn.commit() : txn.abort());
    }
    await producer.disconnect();
    const read = async (level: string) => {
      const r = await kcat(['-b', listener.address, '-C', '-t', 't', '-p', '0', '-o', 'beginning', '-e', '-X', `isolation.level=${level}`, '-f', '%o:%s\\n']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim().split('\n');
    };
    expect(await read('read_committed')).toEqual(['0:c1', '1:c2', '7:c3']);
    expect(await read('read_uncommitted')).toEqual(['0:c1', '1:c2', '3:a1', '4:a2', '5:a3', '7:c3']);
  });
});
