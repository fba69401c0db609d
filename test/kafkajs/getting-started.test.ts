/**
 * KafkaJS' "Getting started" (kafka.js.org/docs/getting-started), as written there; only the
 * import differs, and `console.log` is observed instead of printed.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { countdown } from './helpers.js';
import { Broker, MemoryStorage } from 'kafkalite';
import { Kafka, attachBroker, closeAllClusters, getBroker, resetCluster } from 'kafkalite/kafkajs';
import { kafkajsDecodeBatch } from '../codec/kafkajs-oracle.js';

const kafka = new Kafka({
  clientId: 'my-app',
  brokers: ['kafka1:9092', 'kafka2:9092'],
});

afterEach(() => resetCluster(['kafka1:9092', 'kafka2:9092']));
afterAll(() => closeAllClusters());

describe('getting started', () => {
  it('produces a message and consumes it from the beginning', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const consumed = countdown(1);
    log.mockImplementation(() => consumed.tick());

    // --- the docs' producer ---
    const producer = kafka.producer();

    await producer.connect();
    await producer.send({
      topic: 'test-topic',
      messages: [{ value: 'Hello KafkaJS user!' }],
    });

    await producer.disconnect();

    // --- the docs' consumer ---
    const consumer = kafka.consumer({ groupId: 'test-group' });

    await consumer.connect();
    await consumer.subscribe({ topic: 'test-topic', fromBeginning: true });

    await consumer.run({
      eachMessage: async ({ message }) => {
        console.log({
          value: message.value!.toString(),
        });
      },
    });

    await consumed.done;
    expect(log).toHaveBeenCalledWith({ value: 'Hello KafkaJS user!' });
    await consumer.disconnect();
    log.mockRestore();
  });

  it('delivers messages sent after run() to a consumer that does not start from the beginning', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'news', messages: [{ value: 'old' }] });

    const consumer = kafka.consumer({ groupId: 'readers' });
    await consumer.connect();
    await consumer.subscribe({ topics: ['news'] });
    const seen: string[] = [];
    const got = countdown(2);
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        seen.push(`${topic}[${partition}]@${message.offset}: ${message.value}`);
        got.tick();
      },
    });

    await producer.send({ topic: 'news', messages: [{ value: 'new 1' }, { value: 'new 2' }] });
    await got.done;
    expect(seen).toEqual(['news[0]@1: new 1', 'news[0]@2: new 2']);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('hands eachMessage the KafkaJS message shape', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const [sent] = await producer.send({
      topic: 'shapes',
      messages: [{ key: 'k', value: Buffer.from('v'), headers: { 'correlation-id': '2bfb68bb', system: Buffer.from('s') }, timestamp: '1700000000000' }],
    });
    expect(sent).toEqual({ topicName: 'shapes', partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' });

    const consumer = kafka.consumer({ groupId: 'shapes' });
    await consumer.subscribe({ topic: 'shapes', fromBeginning: true });
    const got = countdown(1);
    let payload: unknown;
    await consumer.run({
      eachMessage: async (p) => {
        payload = p;
        got.tick();
      },
    });
    await got.done;
    expect(payload).toMatchObject({
      topic: 'shapes',
      partition: 0,
      message: {
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        offset: '0',
        timestamp: '1700000000000',
        attributes: 0,
        headers: { 'correlation-id': Buffer.from('2bfb68bb'), system: Buffer.from('s') },
      },
    });
    const { heartbeat, pause } = payload as { heartbeat: unknown; pause: unknown };
    expect(typeof heartbeat).toBe('function');
    expect(typeof pause).toBe('function');
    await consumer.disconnect();
    await producer.disconnect();
  });

  it("hands out a header key given several values as an array, as KafkaJS' decoder reads the same bytes", async () => {
    const storage = new MemoryStorage();
    const brokers = ['headers:9092'];
    const own = new Kafka({ brokers, logLevel: 0 });
    await attachBroker(own, await Broker.open({ storage }));
    const producer = own.producer();
    await producer.connect();
    await producer.send({ topic: 'tagged', messages: [{ value: 'v', headers: { tag: ['a', Buffer.from('b')], one: 'x', none: [] } }] });
    const consumer = own.consumer({ groupId: 'tagged' });
    await consumer.subscribe({ topic: 'tagged', fromBeginning: true });
    const got = countdown(1);
    let headers: unknown;
    await consumer.run({ eachMessage: async ({ message }) => void ((headers = message.headers), got.tick()) });
    await got.done;
    expect(headers).toEqual({ tag: [Buffer.from('a'), Buffer.from('b')], one: Buffer.from('x') });
    const [batch] = await storage.log('tagged', 0).read(0, 1 << 20);
    expect((await kafkajsDecodeBatch(batch!)).records[0]!.headers).toEqual(headers);
    await consumer.disconnect();
    await producer.disconnect();
    const broker = await getBroker<Broker>(own);
    await resetCluster(own);
    await broker.close();
  });

  it('resumes a group at its committed offset after a restart', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ value: 'a' }, { value: 'b' }] });

    const first = kafka.consumer({ groupId: 'billing' });
    await first.subscribe({ topic: 'orders', fromBeginning: true });
    const firstRound = countdown(2);
    await first.run({ eachMessage: async () => firstRound.tick() });
    await firstRound.done;
    await first.disconnect(); // commits what it processed

    await producer.send({ topic: 'orders', messages: [{ value: 'c' }] });
    const second = kafka.consumer({ groupId: 'billing' });
    await second.subscribe({ topic: 'orders', fromBeginning: true });
    const seen: string[] = [];
    const secondRound = countdown(1);
    await second.run({
      eachMessage: async ({ message }) => {
        seen.push(String(message.value));
        secondRound.tick();
      },
    });
    await secondRound.done;
    expect(seen).toEqual(['c']);
    await second.disconnect();
    await producer.disconnect();
  });

  it('refuses to send before connect, as KafkaJS does', async () => {
    const producer = kafka.producer();
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }] })).rejects.toThrow('The producer is disconnected');
    await producer.connect();
    await producer.disconnect();
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }] })).rejects.toMatchObject({ name: 'KafkaJSError' });
  });
});
