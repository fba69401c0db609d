/**
 * KafkaJS' transactions (kafka.js.org/docs/transactions) on kafkalite/kafkajs: the documented
 * programs run unchanged, read_committed consumers (KafkaJS' default) never see aborted records,
 * a consume-transform-produce loop with `sendOffsets` that aborts on errors outputs each input
 * once, a zombie is fenced with KafkaJS' INVALID_PRODUCER_EPOCH, and ended transactions refuse
 * calls as KafkaJS' do.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokers, countdown } from './helpers.js';
import { Kafka, KafkaJSNonRetriableError, KafkaJSProtocolError, closeAllClusters, resetCluster, type Consumer, type Producer } from 'kafkalite/kafkajs';

let kafka: Kafka;
const clients: (Producer | Consumer)[] = [];

beforeEach(() => {
  kafka = new Kafka({ clientId: 'transactional-client', brokers: brokers() });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.disconnect();
  await resetCluster(kafka);
});

afterAll(() => closeAllClusters());

async function producer(config: Parameters<Kafka['producer']>[0]): Promise<Producer> {
  const p = kafka.producer(config);
  clients.push(p);
  await p.connect();
  return p;
}

/** Reads `topic` from the beginning in a group of its own until `sentinel` arrives; the values seen before it, in order. */
async function readUntil(topic: string, sentinel: string, config: { readUncommitted?: boolean } = {}): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `reader-${Math.random()}`, maxWaitTimeInMs: 50, ...config });
  clients.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  const done = countdown(1);
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = message.value!.toString();
      if (value === sentinel) done.tick();
      else seen.push(value);
    },
  });
  await done.done;
  await consumer.stop();
  return seen;
}

const values = (...vs: string[]) => vs.map((value) => ({ value }));

describe('the documented transactional programs', () => {
  it('send + commit, and abort on error (docs/Transactions.md, unchanged)', async () => {
    const topic = 'docs-topic';
    const p = await producer({ transactionalId: 'my-transactional-producer', maxInFlightRequests: 1, idempotent: true });

    // As documented: commit.
    let messages = values('committed-1', 'committed-2');
    let transaction = await p.transaction();
    try {
      await transaction.send({ topic, messages });
      await transaction.commit();
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the documented program, as written
    } catch (e) {
      await transaction.abort();
    }

    // As documented, with an error thrown between send and commit: abort.
    messages = values('aborted-1');
    transaction = await p.transaction();
    try {
      await transaction.send({ topic, messages });
      throw new Error('transform failed');
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the documented program, as written
    } catch (e) {
      await transaction.abort();
    }

    transaction = await p.transaction();
    await transaction.send({ topic, messages: values('end') });
    await transaction.commit();

    expect(await readUntil(topic, 'end')).toEqual(['committed-1', 'committed-2']);
    expect(await readUntil(topic, 'end', { readUncommitted: true })).toEqual(['committed-1', 'committed-2', 'aborted-1']);
  });

  it('sendBatch over several topics commits or aborts them together', async () => {
    const p = await producer({ transactionalId: 'batch' });
    const aborted = await p.transaction();
    await aborted.sendBatch({ topicMessages: [{ topic: 'x', messages: values('x-aborted') }, { topic: 'y', messages: values('y-aborted') }] });
    await aborted.abort();
    const committed = await p.transaction();
    const results = await committed.sendBatch({ topicMessages: [{ topic: 'x', messages: values('x-1', 'end') }, { topic: 'y', messages: values('y-1', 'end') }] });
    expect(results.map((r) => r.topicName)).toEqual(['x', 'y']);
    await committed.commit();
    expect(await readUntil('x', 'end')).toEqual(['x-1']);
    expect(await readUntil('y', 'end')).toEqual(['y-1']);
  });
});

describe('read_committed consumers (KafkaJS default: readUncommitted false)', () => {
  it('never see aborted records, and wait at an open transaction', async () => {
    const topic = 'iso';
    const p = await producer({ transactionalId: 'iso' });
    const plain = await producer({});
    for (let i = 0; i < 20; i++) {
      const t = await p.transaction();
      await t.send({ topic, messages: values(`v${i}`) });
      if (i % 3 === 0) await t.abort();
      else await t.commit();
    }
    // An open transaction holds back what comes after it, also plain sends.
    const open = await p.transaction();
    await open.send({ topic, messages: values('late') });
    await plain.send({ topic, messages: values('plain') });

    const consumer = kafka.consumer({ groupId: 'iso-reader', maxWaitTimeInMs: 50 });
    clients.push(consumer);
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    const committedCount = 20 - 7;
    const first = countdown(committedCount);
    const rest = countdown(committedCount + 2);
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
        first.tick();
        rest.tick();
      },
    });
    await first.done;
    // Give the consumer a few more fetches: nothing past the open transaction may show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `v${i}`));
    await open.commit();
    await rest.done;
    expect(seen.slice(committedCount)).toEqual(['late', 'plain']);
  });
});

describe('consume-transform-produce with sendOffsets', () => {
  it('outputs each input once, in order, although handlers fail and abort, and a restart resumes at the committed offsets', async () => {
    const input = 'ctp-in';
    const output = 'ctp-out';
    const groupId = 'ctp';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 2 }, { topic: output, numPartitions: 1 }] });
    await admin.disconnect();
    const source = await producer({});
    const count = 60;
    for (let i = 0; i < count; i++) await source.send({ topic: input, messages: [{ key: `k${i % 4}`, value: String(i) }] });

    const failedOnce = new Set<string>();
    /** The loop as one writes it with KafkaJS; `stopAfter` stops it early (a restart). */
    async function pipeline(stopAfter: number): Promise<void> {
      const p = await producer({ transactionalId: `ctp-${input}`, maxInFlightRequests: 1, idempotent: true });
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, retry: { retries: 10, initialRetryTime: 10 } });
      clients.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: input, fromBeginning: true });
      const processed = countdown(stopAfter);
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const transaction = await p.transaction();
          try {
            await transaction.send({ topic: output, messages: [{ key: message.key, value: `out-${message.value!.toString()}` }] });
            // Every fifth input fails once after its output was sent: the transaction aborts and KafkaJS redelivers it.
            const id = `${partition}:${message.offset}`;
            if (Number(message.value!.toString()) % 5 === 0 && !failedOnce.has(id)) {
              failedOnce.add(id);
              throw new Error(`transform of ${id} failed`);
            }
            await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition, offset: (Number(message.offset) + 1).toString() }] }] });
            await transaction.commit();
            processed.tick();
          } catch (e) {
            await transaction.abort();
            throw e;
          }
        },
      });
      await processed.done;
      await consumer.stop();
    }

    await pipeline(count / 3);
    const admin2 = kafka.admin();
    await admin2.connect();
    const afterFirst = await admin2.fetchOffsets({ groupId, topics: [input] });
    const moved = afterFirst[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    expect(moved).toBeGreaterThanOrEqual(count / 3);
    // The restart processes what the group has not committed yet.
    await pipeline(count - moved);
    const offsets = await admin2.fetchOffsets({ groupId, topics: [input] });
    await admin2.disconnect();
    expect(offsets[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0)).toBe(count);
    expect(failedOnce.size).toBe(count / 5);

    await source.send({ topic: output, messages: values('end') });
    const out = await readUntil(output, 'end');
    expect([...out].sort()).toEqual(Array.from({ length: count }, (_, i) => `out-${i}`).sort());
    // In input order per key (each key's inputs are in one partition, in increasing order).
    for (let k = 0; k < 4; k++) {
      const ofKey = out.map((v) => Number(v.slice(4))).filter((n) => n % 4 === k);
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }
    // The aborted outputs are in the log, seen only by read_uncommitted readers.
    expect((await readUntil(output, 'end', { readUncommitted: true })).length).toBe(count + count / 5);
  });
});

describe('fencing', () => {
  it('a newer producer with the same transactionalId fences the zombie: INVALID_PRODUCER_EPOCH, its open transaction aborted', async () => {
    const topic = 'fenced';
    const zombie = await producer({ transactionalId: 'app-fenced-0' });
    const old = await zombie.transaction();
    await old.send({ topic, messages: values('zombie-1') });

    const successor = await producer({ transactionalId: 'app-fenced-0' });
    const current = await successor.transaction();

    const fenced = { name: 'KafkaJSProtocolError', type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false };
    const sendError = await old.send({ topic, messages: values('zombie-2') }).catch((e: unknown) => e);
    expect(sendError).toBeInstanceOf(KafkaJSProtocolError);
    expect(sendError).toMatchObject(fenced);
    await expect(old.commit()).rejects.toMatchObject(fenced);
    expect(old.isActive()).toBe(false);
    await expect(zombie.transaction()).rejects.toMatchObject(fenced);
    // And again: the refused transaction was ended, so the cause stays the fencing (not an open transaction).
    await expect(zombie.transaction()).rejects.toMatchObject(fenced);

    await current.send({ topic, messages: values('successor-1', 'end') });
    await current.commit();
    expect(await readUntil(topic, 'end')).toEqual(['successor-1']);
  });

  it('fences sendOffsets and abort of the zombie too', async () => {
    const zombie = await producer({ transactionalId: 'app-fenced-1' });
    const old = await zombie.transaction();
    await old.send({ topic: 'f1', messages: values('a') });
    await producer({ transactionalId: 'app-fenced-1' }).then((p) => p.transaction());
    await expect(old.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'f1', partitions: [{ partition: 0, offset: '1' }] }] })).rejects.toMatchObject({
      type: 'INVALID_PRODUCER_EPOCH',
    });
    await expect(old.abort()).rejects.toMatchObject({ type: 'INVALID_PRODUCER_EPOCH' });
  });
});

describe('transaction lifecycle, as KafkaJS', () => {
  it('isActive until commit or abort; every call after that rejects', async () => {
    const p = await producer({ transactionalId: 'life' });
    for (const end of ['commit', 'abort'] as const) {
      const t = await p.transaction();
      expect(t.isActive()).toBe(true);
      await t.send({ topic: 'life', messages: values('x') });
      const ending = t[end]();
      expect(t.isActive()).toBe(false);
      await ending;
      expect(t.isActive()).toBe(false);
      const refusals = [
        t.send({ topic: 'life', messages: values('y') }),
        t.sendBatch({ topicMessages: [{ topic: 'life', messages: values('y') }] }),
        t.sendOffsets({ consumerGroupId: 'g', topics: [] }),
        t.commit(),
        t.abort(),
      ];
      for (const refusal of refusals) {
        const error = await refusal.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(KafkaJSNonRetriableError);
        expect((error as Error).message).toBe('Cannot continue to use transaction once ended');
      }
    }
  });

  it('one transaction at a time; the producer is not transactional outside them', async () => {
    const p = await producer({ transactionalId: 'one' });
    const t = await p.transaction();
    await expect(p.transaction()).rejects.toThrow('There is already an ongoing transaction for this producer. Please end the transaction before beginning another.');
    await t.abort();
    const next = await p.transaction();
    expect(next.isActive()).toBe(true);
    await next.commit();
    // producer.send stays outside transactions (KafkaJS' own producer does the same).
    const [sent] = await p.send({ topic: 'one', messages: values('plain', 'end') });
    expect(sent).toMatchObject({ topicName: 'one', errorCode: 0 });
    expect(await readUntil('one', 'end')).toEqual(['plain']);
    const bare = await producer({});
    await expect(bare.transaction()).rejects.toThrow('Must provide transactional id for transactional producer');
  });

  it('validates as KafkaJS: acks -1 inside a transaction, sendOffsets needs a group and topics', async () => {
    const p = await producer({ transactionalId: 'checks' });
    const t = await p.transaction();
    await expect(t.send({ topic: 'c', acks: 1, messages: values('x') })).rejects.toThrow(/invalidates the idempotent producer/);
    await expect(t.send({ topic: '', messages: values('x') })).rejects.toThrow('Invalid topic');
    await expect(t.sendOffsets({ consumerGroupId: '', topics: [] })).rejects.toThrow('Missing consumerGroupId');
    await expect(t.sendOffsets({ consumerGroupId: 'g', topics: undefined as never })).rejects.toThrow('Missing offset topics');
    expect(t.isActive()).toBe(true);
    await t.abort();
  });

  it('sends and sendOffsets fired without awaiting are in the transaction that commit ends', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'u-in' }] });
    const p = await producer({ transactionalId: 'unawaited' });
    const t = await p.transaction();
    const sends = Array.from({ length: 30 }, (_, i) => t.send({ topic: 'u', messages: values(`m${i}`) }));
    const offsets = t.sendOffsets({ consumerGroupId: 'ug', topics: [{ topic: 'u-in', partitions: [{ partition: 0, offset: '7' }] }] });
    const committed = t.commit();
    await Promise.all([...sends, offsets, committed]);
    const t2 = await p.transaction();
    await t2.send({ topic: 'u', messages: values('end') });
    await t2.commit();
    expect(await readUntil('u', 'end')).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
    const [fetched] = await admin.fetchOffsets({ groupId: 'ug', topics: ['u-in'] });
    await admin.disconnect();
    expect(fetched!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '7' })]);
  });
});
