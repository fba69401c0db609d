/**
 * KafkaJS' "Consuming messages" (kafka.js.org/docs/consuming): eachMessage, eachBatch with
 * resolveOffset / heartbeat / isRunning / isStale, concurrency, commits, RegExp subscriptions,
 * groups, and what a failing handler does. The handler code is the docs'; only the import differs.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokers, countdown, signal } from './helpers.js';
import type { Broker } from 'kafkalite';
import { Kafka, closeAllClusters, getBroker, resetCluster, type EachBatchPayload, type Producer } from 'kafkalite/kafkajs';

let kafka: Kafka;
let producer: Producer;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(async () => {
  kafka = new Kafka({ clientId: 'consuming', brokers: brokers() });
  producer = kafka.producer();
  await producer.connect();
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await producer.disconnect();
  await resetCluster(kafka);
});

afterAll(() => closeAllClusters());

function consumer(groupId: string, config: Omit<Parameters<Kafka['consumer']>[0], 'groupId'> = {}): ReturnType<Kafka['consumer']> {
  const c = kafka.consumer({ groupId, ...config });
  cleanup.push(() => c.disconnect());
  return c;
}

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

const values = (n: number, prefix = 'm'): { value: string }[] => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }));

describe('eachBatch', () => {
  it("runs the docs' eachBatch loop: resolveOffset and heartbeat per message", async () => {
    await producer.send({ topic: 'batches', messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { n: String(i) } })) });
    const seen: unknown[] = [];
    const got = countdown(5);
    const c = consumer('batch-group');
    await c.connect();
    await c.subscribe({ topic: 'batches', fromBeginning: true });
    await c.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break;
          seen.push({
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            message: { offset: message.offset, key: message.key!.toString(), value: message.value!.toString(), headers: message.headers },
          });
          resolveOffset(message.offset);
          await heartbeat();
          got.tick();
        }
      },
    });
    await got.done;
    expect(seen[4]).toEqual({
      topic: 'batches',
      partition: 0,
      highWatermark: '5',
      message: { offset: '4', key: 'k4', value: 'v4', headers: { n: Buffer.from('4') } },
    });
    await c.disconnect();
    const admin = kafka.admin();
    expect(await admin.fetchOffsets({ groupId: 'batch-group', topics: ['batches'] })).toEqual([
      { topic: 'batches', partitions: [{ partition: 0, offset: '5', metadata: null }] },
    ]);
  });

  it('gives a batch its offsets and lag', async () => {
    await producer.send({ topic: 'lag', messages: values(4) });
    const c = consumer('lag-group');
    await c.subscribe({ topic: 'lag', fromBeginning: true });
    const batches = signal<EachBatchPayload['batch']>();
    await c.run({ eachBatch: async ({ batch }) => batches.resolve(batch) });
    const batch = await batches.promise;
    expect(batch.isEmpty()).toBe(false);
    expect(batch.firstOffset()).toBe('0');
    expect(batch.lastOffset()).toBe('3');
    expect(batch.highWatermark).toBe('4');
    expect(batch.offsetLag()).toBe('0');
    expect(batch.offsetLagLow()).toBe('3');
  });

  it('with eachBatchAutoResolve false, delivers again what was not resolved', async () => {
    await producer.send({ topic: 'partial', messages: values(4) });
    const c = consumer('partial-group');
    await c.subscribe({ topic: 'partial', fromBeginning: true });
    const firstOffsets: string[] = [];
    const twice = countdown(2);
    await c.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        firstOffsets.push(batch.firstOffset()!);
        // Only the first two messages are processed each time.
        for (const message of batch.messages.slice(0, 2)) resolveOffset(message.offset);
        twice.tick();
      },
    });
    await twice.done;
    expect(firstOffsets.slice(0, 2)).toEqual(['0', '2']);
  });

  it('lets eachBatch commit with commitOffsetsIfNecessary and report uncommittedOffsets', async () => {
    await producer.send({ topic: 'manual', messages: values(3) });
    const c = consumer('manual-group');
    await c.subscribe({ topic: 'manual', fromBeginning: true });
    const done = signal<unknown>();
    await c.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, uncommittedOffsets, commitOffsetsIfNecessary }) => {
        for (const m of batch.messages) resolveOffset(m.offset);
        const before = uncommittedOffsets();
        await commitOffsetsIfNecessary(before);
        done.resolve({ before, after: uncommittedOffsets() });
      },
    });
    expect(await done.promise).toEqual({
      before: { topics: [{ topic: 'manual', partitions: [{ partition: 0, offset: '3' }] }] },
      after: { topics: [] },
    });
    const admin = kafka.admin();
    expect((await admin.fetchOffsets({ groupId: 'manual-group', topics: ['manual'] }))[0]!.partitions[0]!.offset).toBe('3');
  });
});

describe('eachMessage options', () => {
  it('processes partitions concurrently with partitionsConsumedConcurrently', async () => {
    await createTopic('wide', 3);
    for (let p = 0; p < 3; p++) await producer.send({ topic: 'wide', messages: [{ value: `p${p}`, partition: p }] });
    const c = consumer('wide-group');
    await c.subscribe({ topic: 'wide', fromBeginning: true });
    const entered = countdown(3);
    const release = signal();
    let inFlight = 0;
    let most = 0;
    await c.run({
      partitionsConsumedConcurrently: 3,
      eachMessage: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        entered.tick();
        await release.promise;
        inFlight--;
      },
    });
    await entered.done; // all three handlers are running at once
    release.resolve();
    expect(most).toBe(3);
  });

  it('commits by hand with autoCommit false and consumer.commitOffsets', async () => {
    await producer.send({ topic: 'by-hand', messages: values(3) });
    const c = consumer('by-hand-group');
    const committed = countdown(1);
    c.on(c.events.COMMIT_OFFSETS, () => committed.tick());
    await c.subscribe({ topic: 'by-hand', fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (message.offset === '1') {
          await c.commitOffsets([{ topic, partition, offset: (Number(message.offset) + 1).toString() }]);
        }
      },
    });
    await committed.done;
    const admin = kafka.admin();
    expect((await admin.fetchOffsets({ groupId: 'by-hand-group', topics: ['by-hand'] }))[0]!.partitions[0]!.offset).toBe('2');
  });

  it('commits every autoCommitThreshold messages', async () => {
    await producer.send({ topic: 'threshold', messages: values(4) });
    const c = consumer('threshold-group');
    const commits: string[] = [];
    const two = countdown(2);
    c.on(c.events.COMMIT_OFFSETS, ({ payload }) => {
      commits.push(payload.topics[0]!.partitions[0]!.offset);
      two.tick();
    });
    await c.subscribe({ topic: 'threshold', fromBeginning: true });
    await c.run({ autoCommitThreshold: 2, eachMessage: async () => {} });
    await two.done;
    expect(commits).toEqual(['2', '4']);
  });
});

describe('subscriptions', () => {
  it('subscribes to topics named and matched by a RegExp', async () => {
    for (const topic of ['topic-A', 'topic-eu-1', 'topic-US-2', 'topic-asia-3']) await producer.send({ topic, messages: [{ value: topic }] });
    const c = consumer('regex-group');
    await c.subscribe({ topics: ['topic-A', /topic-(eu|us)-.*/i], fromBeginning: true });
    const seen: string[] = [];
    const got = countdown(3);
    await c.run({
      eachMessage: async ({ topic }) => {
        seen.push(topic);
        got.tick();
      },
    });
    await got.done;
    expect(seen.sort()).toEqual(['topic-A', 'topic-US-2', 'topic-eu-1']);
  });

  it('keeps fromBeginning per subscription', async () => {
    await producer.send({ topic: 'history', messages: [{ value: 'old history' }] });
    await producer.send({ topic: 'live', messages: [{ value: 'old live' }] });
    const c = consumer('mixed-group');
    await c.subscribe({ topic: 'history', fromBeginning: true });
    await c.subscribe({ topic: 'live', fromBeginning: false });
    const seen: string[] = [];
    const got = countdown(2);
    await c.run({
      eachMessage: async ({ message }) => {
        seen.push(String(message.value));
        got.tick();
      },
    });
    await producer.send({ topic: 'live', messages: [{ value: 'new live' }] });
    await got.done;
    expect(seen.sort()).toEqual(['new live', 'old history']);
  });

  it('refuses subscribe while running, and seek/pause/commitOffsets before run', async () => {
    const c = consumer('rules-group');
    expect(() => c.seek({ topic: 't', partition: 0, offset: '0' })).toThrow('consumer#run must be called first');
    expect(() => c.pause([{ topic: 't' }])).toThrow('consumer#run must be called first');
    await expect(c.commitOffsets([{ topic: 't', partition: 0, offset: '1' }])).rejects.toThrow('consumer#run must be called first');
    await c.subscribe({ topic: 't' });
    await c.run({ eachMessage: async () => {} });
    await expect(c.subscribe({ topic: 'u' })).rejects.toThrow('Cannot subscribe to topic while consumer is running');
    expect(() => kafka.consumer({ groupId: '' })).toThrow('Consumer groupId must be a non-empty string.');
  });
});

describe('offsets out of range', () => {
  it("restarts a group whose committed offset fell out of the log per fromBeginning, as KafkaJS' reset does", async () => {
    const admin = kafka.admin();
    await admin.createTopics({ topics: [{ topic: 'short', configEntries: [{ name: 'retention.bytes', value: '1' }] }] });
    await admin.setOffsets({ groupId: 'late-group', topic: 'short', partitions: [{ partition: 0, offset: '0' }] });
    for (const value of ['a', 'b', 'c']) await producer.send({ topic: 'short', messages: [{ value }] }); // one batch each
    expect((await admin.fetchTopicOffsets('short'))[0]).toMatchObject({ low: '2', high: '3' });

    const c = consumer('late-group');
    await c.subscribe({ topic: 'short', fromBeginning: true });
    const first = signal<string>();
    await c.run({ eachMessage: async ({ message }) => first.resolve(message.offset) });
    expect(await first.promise).toBe('2'); // the earliest offset still kept
  });
});

describe('groups', () => {
  it('splits partitions between the members of a group, and rebalances when one leaves', async () => {
    await createTopic('shared', 4);
    const joins: string[] = [];
    const a = consumer('split');
    const b = consumer('split');
    for (const c of [a, b]) {
      c.on(c.events.GROUP_JOIN, ({ payload }) => joins.push(`${payload.memberId}:${JSON.stringify(payload.memberAssignment)}`));
      await c.subscribe({ topic: 'shared', fromBeginning: true });
    }
    const byA = new Set<number>();
    const byB = new Set<number>();
    const first = countdown(8);
    await a.run({ eachMessage: async ({ partition }) => void (byA.add(partition), first.tick()) });
    await b.run({ eachMessage: async ({ partition }) => void (byB.add(partition), first.tick()) });
    for (let round = 0; round < 2; round++) {
      await producer.send({ topic: 'shared', messages: [0, 1, 2, 3].map((partition) => ({ value: 'x', partition })) });
    }
    await first.done;
    expect([...byA].sort()).toHaveLength(2);
    expect([...byB].sort()).toHaveLength(2);
    expect([...byA, ...byB].sort()).toEqual([0, 1, 2, 3]);

    const { groups } = await kafka.admin().describeGroups(['split']);
    expect(groups[0]).toMatchObject({ groupId: 'split', state: 'Stable', protocol: 'RoundRobinAssigner', protocolType: 'consumer' });
    expect(groups[0]!.members.map((m) => m.clientId)).toEqual(['consuming', 'consuming']);

    const rejoined = signal();
    a.on(a.events.GROUP_JOIN, ({ payload }) => {
      if (Object.values(payload.memberAssignment).flat().length === 4) rejoined.resolve();
    });
    await b.disconnect();
    await rejoined.promise; // a took over every partition
    const all = countdown(4);
    const after = new Set<number>();
    await a.stop();
    await a.run({ eachMessage: async ({ partition }) => void (after.add(partition), all.tick()) });
    await producer.send({ topic: 'shared', messages: [0, 1, 2, 3].map((partition) => ({ value: 'y', partition })) });
    await all.done;
    expect([...after].sort()).toEqual([0, 1, 2, 3]);
    expect(joins.length).toBeGreaterThanOrEqual(2);
  });

  it("fences commits as Kafka's classic protocol does: by generation, not by partition", async () => {
    await createTopic('fenced', 2);
    const a = consumer('fence-group');
    const b = consumer('fence-group');
    const owned = new Map<ReturnType<Kafka['consumer']>, number[]>();
    for (const c of [a, b]) {
      c.on(c.events.GROUP_JOIN, ({ payload }) => owned.set(c, payload.memberAssignment.fenced ?? []));
      await c.subscribe({ topic: 'fenced' });
    }
    await a.run({ eachMessage: async () => {} });
    await b.run({ eachMessage: async () => {} });
    const rejoined = signal();
    a.on(a.events.GROUP_JOIN, () => rejoined.resolve());
    if (owned.get(a)!.length === 2) await rejoined.promise; // a still holds both: its rejoin is on the way
    const [theirs] = owned.get(b)!;
    await a.commitOffsets([{ topic: 'fenced', partition: theirs!, offset: '0' }]); // a partition a does not hold
    const broker = await getBroker<Broker>(kafka);
    expect(await broker.group('fence-group').committed({ topic: 'fenced', partition: theirs! })).toBe(0);
  });

  it('emits the instrumentation events of a run', async () => {
    await producer.send({ topic: 'events', messages: values(2) });
    const c = consumer('events-group');
    const types: string[] = [];
    for (const event of [c.events.CONNECT, c.events.GROUP_JOIN, c.events.FETCH, c.events.START_BATCH_PROCESS, c.events.END_BATCH_PROCESS, c.events.COMMIT_OFFSETS, c.events.STOP, c.events.DISCONNECT]) {
      c.on(event, ({ type }) => {
        if (!types.includes(type)) types.push(type);
      });
    }
    const batch = signal<unknown>();
    c.on(c.events.END_BATCH_PROCESS, ({ payload }) => batch.resolve(payload));
    await c.connect();
    await c.subscribe({ topic: 'events', fromBeginning: true });
    await c.run({ eachMessage: async () => {} });
    expect(await batch.promise).toMatchObject({ topic: 'events', partition: 0, batchSize: 2, firstOffset: '0', lastOffset: '1', highWatermark: '2', offsetLag: '0' });
    await c.disconnect();
    expect(types).toEqual([
      'consumer.connect',
      'consumer.group_join',
      'consumer.fetch',
      'consumer.start_batch_process',
      'consumer.end_batch_process',
      'consumer.commit_offsets',
      'consumer.stop',
      'consumer.disconnect',
    ]);
    expect(() => c.on('consumer.nope' as never, () => {})).toThrow(/Event name should be one of consumer.events.HEARTBEAT/);
  });
});

describe('a failing handler', () => {
  it('is retried: the failing message is delivered again, and nothing before it', async () => {
    await producer.send({ topic: 'flaky', messages: values(3) });
    const c = consumer('flaky-group', { retry: { initialRetryTime: 1, retries: 5 } });
    await c.subscribe({ topic: 'flaky', fromBeginning: true });
    const offsets: string[] = [];
    const done = countdown(1);
    let failures = 0;
    await c.run({
      eachMessage: async ({ message }) => {
        offsets.push(message.offset);
        if (message.offset === '1' && failures++ < 2) throw new Error('dependency unavailable');
        if (message.offset === '2') done.tick();
      },
    });
    await done.done;
    expect(offsets).toEqual(['0', '1', '1', '1', '2']);
  });

  it('crashes the consumer once the retries are spent, and restarts it', async () => {
    await producer.send({ topic: 'broken', messages: values(1) });
    const c = consumer('broken-group', { retry: { initialRetryTime: 1, retries: 1 } });
    await c.subscribe({ topic: 'broken', fromBeginning: true });
    const crashes: { name: string; restart: boolean; cause: string }[] = [];
    const crashed = countdown(1);
    const events: string[] = [];
    c.on(c.events.STOP, () => events.push('stop'));
    c.on(c.events.CRASH, ({ payload }) => {
      events.push('crash');
      crashes.push({ name: payload.error.name, restart: payload.restart, cause: (payload.error.cause as Error).message });
      crashed.tick();
    });
    const rejoined = countdown(2);
    c.on(c.events.GROUP_JOIN, () => rejoined.tick());
    let attempts = 0;
    const recovered = signal();
    await c.run({
      eachMessage: async () => {
        if (attempts++ < 2) throw new Error('still broken');
        recovered.resolve();
      },
    });
    await crashed.done;
    expect(crashes).toEqual([{ name: 'KafkaJSNumberOfRetriesExceeded', restart: true, cause: 'still broken' }]);
    await rejoined.done; // restarted: joined again
    await recovered.promise; // and consumed the message at last
    expect(events).toEqual(['stop', 'crash']);
  });

  it('does not restart after a TypeError, nor when restartOnFailure says no', async () => {
    await producer.send({ topic: 'typo', messages: values(1) });
    const crashes: boolean[] = [];
    for (const [groupId, restartOnFailure, error] of [
      ['typo-group', undefined, new TypeError('x is not a function')],
      ['no-restart-group', async () => false, new Error('boom')],
    ] as const) {
      const c = consumer(groupId, { retry: { initialRetryTime: 1, retries: 0, restartOnFailure } });
      await c.subscribe({ topic: 'typo', fromBeginning: true });
      const crashed = signal();
      c.on(c.events.CRASH, ({ payload }) => {
        crashes.push(payload.restart);
        crashed.resolve();
      });
      await c.run({
        eachMessage: async () => {
          throw error;
        },
      });
      await crashed.promise;
    }
    expect(crashes).toEqual([false, false]);
  });

  it('lets the consumer stop itself from inside a handler', async () => {
    await producer.send({ topic: 'self-stop', messages: values(3) });
    const c = consumer('self-stop-group');
    await c.subscribe({ topic: 'self-stop', fromBeginning: true });
    const stopped = signal();
    c.on(c.events.STOP, () => stopped.resolve());
    const seen: string[] = [];
    await c.run({
      eachMessage: async ({ message }) => {
        seen.push(message.offset);
        if (message.offset === '1') await c.stop();
      },
    });
    await stopped.promise;
    expect(seen).toEqual(['0', '1']);
    const broker = await getBroker<Broker>(kafka);
    expect(await broker.group('self-stop-group').committed({ topic: 'self-stop', partition: 0 })).toBe(2);
  });
});
