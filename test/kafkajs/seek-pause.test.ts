/**
 * KafkaJS' docs on seeking and pausing (kafka.js.org/docs/consuming#seek, #pause-resume): the
 * programs as written there, only the import differs.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokers, countdown, signal, watcher } from './helpers.js';
import { Kafka, closeAllClusters, resetCluster, type Consumer, type Producer } from 'kafkalite/kafkajs';

let kafka: Kafka;
let producer: Producer;
let consumer: Consumer;

beforeEach(async () => {
  kafka = new Kafka({ clientId: 'seek-pause', brokers: brokers() });
  producer = kafka.producer();
  await producer.connect();
  consumer = kafka.consumer({ groupId: 'example-group' });
});

afterEach(async () => {
  await consumer.disconnect();
  await producer.disconnect();
  await resetCluster(kafka);
});

afterAll(() => closeAllClusters());

const send = (topic: string, n: number, partition?: number): Promise<unknown> =>
  producer.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ value: `${topic}-${i}`, partition })) });

describe('seek', () => {
  it("seeks right after an un-awaited run(), as the docs' example does", async () => {
    await send('example', 10);
    const offsets: string[] = [];
    const got = countdown(7);

    await consumer.connect();
    await consumer.subscribe({ topics: ['example'] });

    // you don't need to await consumer#run
    void consumer.run({
      eachMessage: async ({ message }) => {
        offsets.push(message.offset);
        got.tick();
      },
    });
    consumer.seek({ topic: 'example', partition: 0, offset: '3' });

    await got.done;
    expect(offsets).toEqual(['3', '4', '5', '6', '7', '8', '9']);
  });

  it('rewinds from inside eachMessage: the records after the seek point are delivered again', async () => {
    await send('replay', 4);
    const offsets: string[] = [];
    const got = countdown(7);
    let rewound = false;
    await consumer.subscribe({ topic: 'replay', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        offsets.push(message.offset);
        got.tick();
        if (message.offset === '2' && !rewound) {
          rewound = true;
          consumer.seek({ topic, partition, offset: '0' });
        }
      },
    });
    await got.done;
    expect(offsets).toEqual(['0', '1', '2', '0', '1', '2', '3']);
  });

  it("seeks to the earliest ('-2') and latest ('-1') offsets", async () => {
    await send('ends', 3);
    const offsets: string[] = [];
    const { changed, until } = watcher();
    await consumer.subscribe({ topic: 'ends', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        offsets.push(message.offset);
        changed();
      },
    });
    await until(() => offsets.length === 3);
    consumer.seek({ topic: 'ends', partition: 0, offset: '-2' });
    await until(() => offsets.length === 6);
    expect(offsets).toEqual(['0', '1', '2', '0', '1', '2']);
    consumer.seek({ topic: 'ends', partition: 0, offset: '-1' });
    await send('ends', 1);
    await until(() => offsets.length === 7);
    expect(offsets.at(-1)).toBe('3');
  });

  it('commits the seek offset when autoCommit is on', async () => {
    await send('commit-seek', 5);
    const done = countdown(5);
    await consumer.subscribe({ topic: 'commit-seek', fromBeginning: true });
    await consumer.run({ eachMessage: async () => done.tick() });
    await done.done;
    const committed = signal<unknown>();
    consumer.on(consumer.events.FETCH_START, async () => {
      const offsets = await kafka.admin().fetchOffsets({ groupId: 'example-group', topics: ['commit-seek'] });
      if (offsets[0]!.partitions[0]!.offset === '2') committed.resolve(offsets[0]!.partitions[0]);
    });
    consumer.seek({ topic: 'commit-seek', partition: 0, offset: '2' });
    expect(await committed.promise).toEqual({ partition: 0, offset: '2', metadata: null });
  });

  it('validates the offset as KafkaJS does', async () => {
    await consumer.subscribe({ topic: 'valid' });
    await consumer.run({ eachMessage: async () => {} });
    expect(() => consumer.seek({ topic: 'valid', partition: 0, offset: '-3' })).toThrow('Offset must not be a negative number');
    expect(() => consumer.seek({ topic: 'valid', partition: 0, offset: 'x' })).toThrow('Invalid offset, expected a long received x');
    expect(() => consumer.seek({ topic: '', partition: 0, offset: '1' })).toThrow('Invalid topic');
  });
});

describe('pause and resume', () => {
  class TooManyRequestsError extends Error {
    retryAfter: number;
    constructor(retryAfter: number) {
      super('too many requests');
      this.retryAfter = retryAfter;
    }
  }

  it("pauses the topic on a dependency's back-pressure and resumes it later (the docs' example)", async () => {
    await send('jobs', 3);
    const handled: string[] = [];
    const done = countdown(3);
    let calls = 0;
    const pausedDuringBackoff = signal<unknown>();
    const sendToDependency = async (message: { offset: string }): Promise<void> => {
      if (calls++ === 0) {
        throw new TooManyRequestsError(0.02);
      }
      handled.push(message.offset);
      done.tick();
    };

    await consumer.connect();
    await consumer.subscribe({ topics: ['jobs'], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        try {
          await sendToDependency(message);
        } catch (e) {
          if (e instanceof TooManyRequestsError) {
            consumer.pause([{ topic }]);
            pausedDuringBackoff.resolve(consumer.paused());
            setTimeout(() => consumer.resume([{ topic }]), e.retryAfter * 1000);
          }
          throw e;
        }
      },
    });

    expect(await pausedDuringBackoff.promise).toEqual([{ topic: 'jobs', partitions: [0] }]);
    await done.done;
    expect(handled).toEqual(['0', '1', '2']);
    expect(consumer.paused()).toEqual([]);
  });

  it('pauses only the partition in hand with the pause() of eachMessage', async () => {
    const admin = kafka.admin();
    await admin.createTopics({ topics: [{ topic: 'two', numPartitions: 2 }] });
    await send('two', 2, 0);
    await send('two', 2, 1);
    const seen: string[] = [];
    const rest = countdown(3);
    const partitionOne = countdown(2);
    const resumeLater = signal<() => void>();
    await consumer.subscribe({ topic: 'two', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message, pause }) => {
        seen.push(`${partition}@${message.offset}`);
        if (partition === 0 && message.offset === '0' && seen.filter((s) => s === '0@0').length === 1) {
          resumeLater.resolve(pause());
          return;
        }
        if (partition === 1) partitionOne.tick();
        rest.tick();
      },
    });
    const resume = await resumeLater.promise;
    await partitionOne.done;
    expect(seen.filter((s) => s.startsWith('0@'))).toEqual(['0@0']); // partition 0 waits...
    expect(consumer.paused()).toEqual([{ topic: 'two', partitions: [0] }]);
    resume();
    await rest.done; // ...and goes on from the next message once resumed
    expect(seen.filter((s) => s.startsWith('0@'))).toEqual(['0@0', '0@1']);
  });

  it('pausing a topic pauses its partitions, and resume may take some of them back', async () => {
    const admin = kafka.admin();
    await admin.createTopics({ topics: [{ topic: 'three', numPartitions: 3 }] });
    await consumer.subscribe({ topic: 'three' });
    await consumer.run({ eachMessage: async () => {} });
    consumer.pause([{ topic: 'three' }]);
    expect(consumer.paused()).toEqual([{ topic: 'three', partitions: [0, 1, 2] }]);
    consumer.resume([{ topic: 'three', partitions: [1] }]);
    expect(consumer.paused()).toEqual([{ topic: 'three', partitions: [0, 2] }]);
    consumer.resume([{ topic: 'three' }]);
    expect(consumer.paused()).toEqual([]);
  });
});
