/**
 * The Kafka backend: kafkalite's own Producer, Consumer, Topic and ConsumerGroup on a Kafka
 * cluster through `Broker.connect`, against two Kafka-protocol servers — `kafkalite serve` (a
 * child process) and librdkafka's mock cluster (three brokers) — and, on the mock, a leader
 * failover while an `acks: -1` producer runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker, KafkaliteError, ManualClock, partitionForKey, type Consumer } from '../../src/index.js';
import { main as eventBus } from '../../examples/event-bus.js';
import { SERVER_KINDS, readAll, startServer, type TestServer } from './servers.js';

const T = 90_000;

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<KafkaliteError> {
  let error: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(KafkaliteError);
  expect((error as KafkaliteError).code).toBe(code);
  return error as KafkaliteError;
}

describe.each(SERVER_KINDS)('Broker.connect against %s', (kind) => {
  let server: TestServer;
  let broker: Broker;

  beforeEach(async () => {
    server = await startServer(kind);
  }, T);

  afterEach(async () => {
    await broker?.close();
    await server.close();
  }, T);

  it(
    "sends keyed records to the partitions Kafka's partitioner picks, un-awaited, and a consumer reads every one in order per key",
    async () => {
      await server.createTopic('orders', 3);
      broker = await Broker.connect({ brokers: server.brokers, logger: 'silent' });
      expect(broker.listTopics()).toContain('orders');
      expect(broker.topic('orders').partitions).toHaveLength(3);
      const producer = broker.producer();
      const sends = Array.from({ length: 60 }, (_, i) => producer.send({ topic: 'orders', messages: [{ key: `k${i % 7}`, value: String(i) }] }));
      const acks = await Promise.all(sends);
      for (let i = 0; i < acks.length; i++) expect(acks[i]![0]!.partition).toBe(partitionForKey(`k${i % 7}`, 3));
      const records = await readAll(broker, 'orders', 3);
      expect(records).toHaveLength(60);
      for (const r of records) {
        const i = Number(r.value);
        expect(r.key).toBe(`k${i % 7}`);
        expect(r.partition).toBe(partitionForKey(r.key, 3));
        expect(acks[i]![0]!.baseOffset).toBe(r.offset);
      }
      for (let k = 0; k < 7; k++) {
        const values = records.filter((r) => r.key === `k${k}`).map((r) => Number(r.value));
        expect(values).toEqual([...values].sort((a, b) => a - b));
      }
    },
    T,
  );

  it(
    'a group of three splits the partitions (Kafka classic protocol), commits on close, and a new member resumes at the committed offsets',
    async () => {
      await server.createTopic('work', 3);
      broker = await Broker.connect({ brokers: server.brokers, logger: 'silent' });
      const seen: string[] = [];
      const members: Consumer[] = [0, 1, 2].map(() => broker.consumer({ groupId: 'workers', autoOffsetReset: 'earliest', sessionTimeoutMs: 6000 }));
      // Subscribed together, un-awaited: each resolves once it holds its share.
      await Promise.all(members.map((c) => c.subscribe('work')));
      await Promise.all(members.map((c) => c.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) })));
      const shares = members.map((c) => c.assignment());
      expect(shares.flat().map((tp) => tp.partition).sort()).toEqual([0, 1, 2]);
      for (const share of shares) expect(share).toHaveLength(1);

      const producer = broker.producer();
      await producer.send({ topic: 'work', messages: Array.from({ length: 30 }, (_, i) => ({ key: `j${i}`, value: `v${i}` })) });
      await Promise.all(members.map((c) => c.caughtUp()));
      expect([...seen].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`).sort());
      await Promise.all(members.map((c) => c.close()));

      const group = broker.group('workers');
      const lag = await group.lag();
      expect(lag.map((l) => l.partition).sort()).toEqual([0, 1, 2]);
      expect(lag.reduce((n, l) => n + l.committed!, 0)).toBe(30);
      expect(lag.every((l) => l.lag === 0)).toBe(true);
      expect(await group.committed({ topic: 'work', partition: lag[0]!.partition })).toBe(lag[0]!.committed);

      await producer.send({ topic: 'work', messages: [{ key: 'late', value: 'after' }] });
      const next = broker.consumer({ groupId: 'workers', autoOffsetReset: 'earliest', sessionTimeoutMs: 6000 });
      await next.subscribe('work');
      const got: string[] = [];
      for (let tries = 0; tries < 20 && got.length === 0; tries++) got.push(...(await next.poll({ timeoutMs: 500 })).map((r) => r.value!.toString()));
      expect(got).toEqual(['after']);
      await next.close();
    },
    T,
  );

  it(
    'an idempotent producer: 200 un-awaited sends are each acknowledged once, at contiguous offsets, none appended twice',
    async () => {
      await server.createTopic('ids', 2);
      broker = await Broker.connect({ brokers: server.brokers, logger: 'silent' });
      const producer = broker.producer({ idempotent: true });
      const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => producer.send({ topic: 'ids', messages: [{ key: `k${i % 5}`, value: String(i) }] })));
      for (const partition of [0, 1]) {
        const offsets = acks.map((a) => a[0]!).filter((m) => m.partition === partition).map((m) => m.baseOffset).sort((a, b) => a - b);
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
      const records = await readAll(broker, 'ids', 2);
      expect(records.map((r) => Number(r.value)).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    },
    T,
  );

  it(
    'sends fired without awaiting while the broker closes each settle, and every acknowledged one is in the log',
    async () => {
      await server.createTopic('closing', 1);
      broker = await Broker.connect({ brokers: server.brokers, logger: 'silent' });
      const producer = broker.producer({ lingerMs: 2 });
      const sends = Array.from({ length: 50 }, (_, i) => producer.send({ topic: 'closing', messages: [{ value: String(i) }] }));
      const closing = broker.close();
      const late = producer.send({ topic: 'closing', messages: [{ value: 'late' }] });
      const settled = await Promise.allSettled([...sends, late]);
      await closing;
      const acked = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [i === 50 ? 'late' : String(i)] : []));
      for (const s of settled) if (s.status === 'rejected') expect((s.reason as KafkaliteError).code).toBe('CLOSED');
      broker = await Broker.connect({ brokers: server.brokers, logger: 'silent' });
      const stored = (await readAll(broker, 'closing', 1)).map((r) => r.value);
      for (const v of acked) expect(stored).toContain(v);
    },
    T,
  );

  it(
    'runs the event-bus example unchanged, selected by its brokers option',
    async () => {
      // On the mock the topics must exist first (it serves no CreateTopics); kafkalite serve
      // gets them from the example's own createTopic.
      if (server.mock !== undefined) {
        await server.createTopic('orders.placed', 3);
        await server.createTopic('payments.taken', 3);
      }
      const lines: string[] = [];
      const result = await eventBus((line) => lines.push(line), server.brokers);
      expect(result).toEqual({ charged: 1250 + 999 + 300 + 4200, payments: 4 });
      expect(lines.filter((l) => l.startsWith('billing: charged'))).toHaveLength(4);
    },
    T,
  );

  it(
    'refuses what a cluster cannot do with UNSUPPORTED, saying why, and goes on serving',
    async () => {
      await server.createTopic('limits', 1);
      const clockRefusal = await expectCode(Broker.connect({ brokers: server.brokers, clock: new ManualClock() } as never), 'UNSUPPORTED');
      expect(clockRefusal.message).toMatch(/clock/);
      await expectCode(Broker.connect({ brokers: server.brokers, storage: {} } as never), 'UNSUPPORTED');
      broker = await Broker.connect({ brokers: server.brokers, logger: 'silent' });
      const partition = broker.topic('limits').partition(0);
      const offsets = await expectCode(() => partition.logEndOffset, 'UNSUPPORTED');
      expect(offsets.message).toMatch(/highWatermark|lag/);
      await expectCode(broker.topic('limits').compact(), 'UNSUPPORTED');
      await expectCode(broker.listen({ port: 0 }), 'UNSUPPORTED');
      await expectCode(() => broker.listGroups(), 'UNSUPPORTED');
      await expectCode(() => broker.group('g').state, 'UNSUPPORTED');
      const consumer = broker.consumer({ groupId: 'g', groupProtocol: 'consumer' });
      await expectCode(consumer.subscribe('limits'), 'UNSUPPORTED');
      await consumer.close();
      await expectCode(() => broker.topic('nope'), 'UNKNOWN_TOPIC');
      const stray = broker.consumer();
      await expectCode(stray.assign([{ topic: 'limits', partition: 5 }]), 'UNKNOWN_PARTITION');
      await stray.close();
      // still serving
      const [meta] = await broker.producer().send({ topic: 'limits', messages: [{ value: 'ok' }] });
      expect(meta!.baseOffset).toBe(0);
      expect((await partition.read(0)).map((r) => r.value!.toString())).toEqual(['ok']);
    },
    T,
  );
});

describe('Broker.connect against kafkalite serve: transactions', () => {
  // librdkafka 2.0's mock writes no commit or abort markers (docs/cluster.md): kafkalite serve only.
  it(
    'commits and aborts with read_committed readers, sends offsets to a group, and a newer producer fences the older',
    async () => {
      const server = await startServer('kafkalite serve');
      let broker: Broker | undefined;
      try {
        await server.createTopic('tx', 2);
        broker = await Broker.connect({ brokers: server.brokers, logger: 'silent' });
        const producer = broker.producer({ transactionalId: 'billing-1' });
        const committed = producer.transaction();
        await committed.send({ topic: 'tx', messages: [{ key: 'a', value: 'c1' }, { key: 'b', value: 'c2' }] });
        await committed.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'tx', partitions: [{ partition: 0, offset: 5 }] }] });
        await committed.commit();
        const aborted = producer.transaction();
        await aborted.send({ topic: 'tx', messages: [{ key: 'a', value: 'gone' }] });
        await aborted.abort();

        const reader = broker.consumer({ autoOffsetReset: 'earliest', isolationLevel: 'read_committed' });
        await reader.assign([0, 1].map((partition) => ({ topic: 'tx', partition })));
        const values: string[] = [];
        await reader.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
        await reader.caughtUp();
        expect(values.sort()).toEqual(['c1', 'c2']);
        await reader.close();
        expect(await broker.group('billing').committed({ topic: 'tx', partition: 0 })).toBe(5);

        const newer = broker.producer({ transactionalId: 'billing-1' });
        const current = newer.transaction();
        await current.send({ topic: 'tx', messages: [{ value: 'newer' }] });
        await expectCode(producer.transaction().send({ topic: 'tx', messages: [{ value: 'older' }] }), 'PRODUCER_FENCED');
        await current.commit();
      } finally {
        await broker?.close();
        await server.close();
      }
    },
    T,
  );
});

describe('Broker.connect on the mock cluster: leader failover', () => {
  it(
    'loses no acknowledged record while leaders move, a partition is leaderless and brokers go down under an acks=-1 producer',
    async () => {
      const server = await startServer('librdkafka mock cluster');
      const mock = server.mock!;
      let broker: Broker | undefined;
      try {
        await mock.createTopic('payments', 3, 3);
        broker = await Broker.connect({ brokers: server.brokers, logger: 'silent', retryBackoffMs: 50, requestTimeoutMs: 5000 });
        const producer = broker.producer({ idempotent: true });
        const acked: string[] = [];
        const failed: unknown[] = [];
        let stop = false;
        const sender = (async () => {
          for (let i = 0; !stop; i++) {
            // Ten in flight at a time, un-awaited within the round.
            const round = Array.from({ length: 10 }, (_, k) => `${i}-${k}`);
            const results = await Promise.allSettled(round.map((v) => producer.send({ topic: 'payments', messages: [{ key: v, value: v }] })));
            results.forEach((r, k) => (r.status === 'fulfilled' ? acked.push(round[k]!) : failed.push(r.reason)));
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        const pause = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));
        await pause(300);
        // Leadership moves, then the old leader goes down; later back up, and another move.
        await mock.setLeader('payments', 0, 2);
        await mock.setLeader('payments', 1, 3);
        await mock.setLeader('payments', 2, 3);
        await mock.brokerDown(1);
        await pause(800);
        await mock.setLeader('payments', 2, 2);
        await mock.brokerDown(3);
        await pause(800);
        await mock.brokerUp(1);
        await mock.brokerUp(3);
        await mock.setLeader('payments', 0, 1);
        // An election under way: no leader at all for a while.
        await mock.setLeader('payments', 1, -1);
        await pause(400);
        await mock.setLeader('payments', 1, 2);
        await pause(500);
        stop = true;
        await sender;
        expect(failed).toEqual([]);
        expect(acked.length).toBeGreaterThan(50);
        const stored = await readAll(broker, 'payments', 3);
        const values = stored.map((r) => r.value);
        const missing = acked.filter((v) => !values.includes(v));
        expect(missing).toEqual([]);
        // Idempotence: retried batches were not appended twice.
        expect(new Set(values).size).toBe(values.length);
      } finally {
        await broker?.close();
        await server.close();
      }
    },
    T,
  );

  it(
    'a consumer follows its partition to the new leader when the old one goes down, and goes on delivering',
    async () => {
      const server = await startServer('librdkafka mock cluster');
      const mock = server.mock!;
      let broker: Broker | undefined;
      try {
        await mock.createTopic('moves', 1, 3);
        await mock.setLeader('moves', 0, 1);
        broker = await Broker.connect({ brokers: server.brokers, logger: 'silent', retryBackoffMs: 50, requestTimeoutMs: 3000 });
        const producer = broker.producer();
        const consumer = broker.consumer({ autoOffsetReset: 'earliest' });
        const seen: string[] = [];
        const errors: KafkaliteError[] = [];
        consumer.on('error', (e: unknown) => void errors.push(e as KafkaliteError));
        await consumer.assign([{ topic: 'moves', partition: 0 }]);
        await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
        await producer.send({ topic: 'moves', messages: [{ value: 'before' }] });
        await consumer.caughtUp();
        await mock.setLeader('moves', 0, 2);
        await mock.brokerDown(1);
        await producer.send({ topic: 'moves', messages: [{ value: 'after' }] });
        // Only the consumer's own fetches can tell it the leader moved (caughtUp would ask ListOffsets).
        for (let waited = 0; seen.length < 2 && waited < 20_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
        expect(seen).toEqual(['before', 'after']);
        for (const e of errors) expect(e.retriable).toBe(true);
        await consumer.close();
      } finally {
        await broker?.close();
        await server.close();
      }
    },
    T,
  );

  it('Broker.connect to an address where nothing listens is NETWORK_ERROR naming it', async () => {
    const error = await expectCode(Broker.connect({ brokers: ['127.0.0.1:1'], connectTimeoutMs: 2000 }), 'NETWORK_ERROR');
    expect(error.message).toContain('127.0.0.1:1');
  });
});
