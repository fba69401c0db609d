/**
 * The in-process clusters: Kafka instances given the same `brokers` meet, different ones do not,
 * and tests reset them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { countdown } from './helpers.js';
import { Broker, ManualClock } from 'kafkalite';
import { Kafka, KafkaJSConnectionError, KafkaJSNonRetriableError, attachBroker, closeAllClusters, getBroker, resetCluster } from 'kafkalite/kafkajs';

afterAll(() => closeAllClusters());

describe('cluster registry', () => {
  it('lets two Kafka instances with the same brokers (in any order) meet', async () => {
    const app = new Kafka({ clientId: 'app', brokers: ['b:9092', 'a:9092'] });
    const test = new Kafka({ clientId: 'test', brokers: ['a:9092', 'b:9092'] });
    const producer = app.producer();
    await producer.connect();
    await producer.send({ topic: 'shared', messages: [{ value: 'hello' }] });
    expect(await test.admin().listTopics()).toEqual(['shared']);
    const consumer = test.consumer({ groupId: 'g' });
    await consumer.subscribe({ topic: 'shared', fromBeginning: true });
    const got = countdown(1);
    await consumer.run({ eachMessage: async () => got.tick() });
    await got.done;
    await consumer.disconnect();
    await producer.disconnect();
    await resetCluster(['a:9092', 'b:9092']);
  });

  it('keeps clusters of different brokers apart', async () => {
    const one = new Kafka({ brokers: ['one:9092'] });
    const two = new Kafka({ brokers: ['two:9092'] });
    await one.admin().createTopics({ topics: [{ topic: 'only-in-one' }] });
    expect(await two.admin().listTopics()).toEqual([]);
    await resetCluster(one);
    await resetCluster(two);
  });

  it('empties a cluster on reset; producers and admins carry on with the new one', async () => {
    const kafka = new Kafka({ brokers: ['reset:9092'] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'before', messages: [{ value: 'x' }] });
    const admin = kafka.admin();
    expect(await admin.listTopics()).toEqual(['before']);
    await resetCluster(kafka);
    expect(await admin.listTopics()).toEqual([]);
    const [result] = await producer.send({ topic: 'after', messages: [{ value: 'y' }] });
    expect(result!.baseOffset).toBe('0');
    expect(await admin.listTopics()).toEqual(['after']);
    await producer.disconnect();
    await resetCluster(kafka);
  });

  it('stops a consumer whose cluster is reset under it, quietly', async () => {
    const kafka = new Kafka({ brokers: ['gone:9092'] });
    const consumer = kafka.consumer({ groupId: 'g' });
    await consumer.subscribe({ topic: 't' });
    await consumer.run({ eachMessage: async () => {} });
    await resetCluster(kafka);
    // The next test's cluster: the old consumer is not in it.
    const admin = kafka.admin();
    expect((await admin.describeGroups(['g'])).groups[0]!.state).toBe('Dead');
    await consumer.disconnect();
    await resetCluster(kafka);
  });

  it('exposes the kafkalite broker, and takes one of yours (with a ManualClock, say)', async () => {
    const kafka = new Kafka({ brokers: ['attached:9092'] });
    const clock = new ManualClock(1_700_000_000_000);
    const mine = await Broker.open({ clock, defaultPartitions: 3 });
    await attachBroker(kafka, mine);
    expect(await getBroker<Broker>(kafka)).toBe(mine);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'clocked', messages: [{ value: 'x' }] });
    expect(mine.topic('clocked').partitions).toHaveLength(3);
    const [record] = await mine.topic('clocked').partitions.find((p) => p.logEndOffset > 0)!.read(0);
    expect(record!.timestamp).toBe(1_700_000_000_000);
    await producer.disconnect();
    await resetCluster(kafka); // detaches, does not close yours
    expect(mine.listTopics()).toEqual(['clocked']);
    await mine.close();
    await expect(attachBroker(kafka, {})).rejects.toBeInstanceOf(KafkaJSNonRetriableError);
  });

  it('resolves a brokers function when a client connects, and checks brokers as KafkaJS does', async () => {
    let calls = 0;
    const kafka = new Kafka({
      brokers: async () => {
        calls++;
        return ['dynamic:9092'];
      },
    });
    expect(calls).toBe(0);
    await kafka.admin().connect();
    expect(calls).toBe(1);
    expect(await getBroker(['dynamic:9092'])).toBe(await getBroker(kafka));
    await resetCluster(kafka);

    await expect(new Kafka({ brokers: [] }).admin().connect()).rejects.toThrow('Failed to connect: brokers array is empty');
    await expect(
      new Kafka({
        brokers: () => {
          throw new Error('no DNS');
        },
      })
        .admin()
        .connect(),
    ).rejects.toBeInstanceOf(KafkaJSConnectionError);
  });

  it('closes every cluster with closeAllClusters', async () => {
    const kafka = new Kafka({ brokers: ['closing:9092'] });
    const broker = await getBroker<Broker>(kafka);
    await closeAllClusters();
    expect(() => broker.listTopics()).toThrow(/closed/);
    expect(await kafka.admin().listTopics()).toEqual([]); // a fresh cluster
  });
});
