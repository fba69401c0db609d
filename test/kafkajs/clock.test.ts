/**
 * A ManualClock given to the cluster (a broker of yours, attached) drives KafkaJS consumers too:
 * retry backoff, restarts after a crash, event timestamps — nothing waits on the system clock.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, ManualClock } from 'kafkalite';
import { brokers, signal } from './helpers.js';
import { Kafka, attachBroker, closeAllClusters, logLevel, resetCluster, type LogEntry } from 'kafkalite/kafkajs';

afterAll(() => closeAllClusters());

/** A Kafka on a broker with a ManualClock, whose log entries (DEBUG included) go to `onLog`. */
async function clocked(onLog: (entry: LogEntry) => void = () => {}) {
  const clock = new ManualClock(1_000_000);
  const saved = process.env.KAFKAJS_LOG_LEVEL;
  process.env.KAFKAJS_LOG_LEVEL = 'DEBUG'; // the test helpers silence KafkaJS logs; this test reads them
  const kafka = new Kafka({ brokers: brokers(), logLevel: logLevel.DEBUG, logCreator: () => onLog });
  process.env.KAFKAJS_LOG_LEVEL = saved;
  const broker = await Broker.open({ clock });
  await attachBroker(kafka, broker);
  const producer = kafka.producer();
  await producer.connect();
  const close = async (): Promise<void> => {
    await producer.disconnect();
    await resetCluster(kafka);
    await broker.close();
  };
  return { clock, kafka, producer, close };
}

describe('a ManualClock drives KafkaJS consumers', () => {
  it('retries a failing handler only once the clock moved by retry.initialRetryTime', async () => {
    const sleeping = signal<number>();
    const { clock, kafka, producer, close } = await clocked(({ log }) => {
      if (log.message === 'Error while consuming, trying again...') sleeping.resolve(log.retryTime as number);
    });
    await producer.send({ topic: 'flaky', messages: [{ value: 'x' }] });
    const consumer = kafka.consumer({ groupId: 'g', retry: { initialRetryTime: 60_000, maxRetryTime: 120_000, retries: 3 } });
    await consumer.subscribe({ topic: 'flaky', fromBeginning: true });
    let attempts = 0;
    const retried = signal();
    await consumer.run({
      eachMessage: async () => {
        if (++attempts === 1) throw new Error('dependency unavailable');
        retried.resolve();
      },
    });
    expect(await sleeping.promise).toBe(60_000); // the runner waits a minute, on the cluster's clock
    await clock.advance(59_999);
    expect(attempts).toBe(1);
    await clock.advance(1);
    await retried.promise;
    expect(attempts).toBe(2);
    await consumer.disconnect();
    await close();
  });

  it('restarts a crashed consumer only once the clock moved by the retry time', async () => {
    const { clock, kafka, producer, close } = await clocked();
    await producer.send({ topic: 'broken', messages: [{ value: 'x' }] });
    const consumer = kafka.consumer({ groupId: 'g', retry: { initialRetryTime: 60_000, maxRetryTime: 120_000, retries: 0 } });
    await consumer.subscribe({ topic: 'broken', fromBeginning: true });
    const crashed = signal<boolean>();
    consumer.on(consumer.events.CRASH, ({ payload }) => crashed.resolve(payload.restart));
    let joins = 0;
    const rejoined = signal();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (++joins === 2) rejoined.resolve();
    });
    let attempts = 0;
    const recovered = signal();
    await consumer.run({
      eachMessage: async () => {
        if (++attempts === 1) throw new Error('still broken');
        recovered.resolve();
      },
    });
    expect(await crashed.promise).toBe(true);
    await clock.advance(59_999);
    expect(joins).toBe(1);
    await clock.advance(1);
    await rejoined.promise;
    await recovered.promise;
    await consumer.disconnect();
    await close();
  });

  it("stamps instrumentation events with the cluster's clock", async () => {
    const { clock, kafka, close } = await clocked();
    const consumer = kafka.consumer({ groupId: 'g' });
    const stamps: number[] = [];
    consumer.on(consumer.events.GROUP_JOIN, ({ timestamp }) => void stamps.push(timestamp));
    await consumer.subscribe({ topic: 'stamped' });
    await consumer.run({ eachMessage: async () => {} });
    expect(stamps).toEqual([clock.now()]);
    await consumer.disconnect();
    await close();
  });
});
