/**
 * `batched`: kafkalite with batched sends — `producer.send` with 1000 messages per call — and a
 * consumer reading concurrently, either by `poll` or by `run({ eachBatch })`, up to 1000 records
 * per poll/batch (`maxPollRecords: 1000`, the same batch size the ceiling reads with).
 *
 * Timed: from the first `send` until the consumer has seen all N records (and every send resolved).
 * Producer and consumer options are the defaults otherwise (`lingerMs: 0`, `batchSize: 16384`).
 * Message objects are built per call, as an application would; the value is one shared Buffer.
 */

import { Broker, type ConsumerRecord, type Message } from 'kafkalite';
import { Tally, signal, type Case, type Scenario } from '../lib/harness.js';
import { TOPIC, VALUE, openFixture } from '../lib/kafkalite.js';
import { redisPipelinedCase } from '../lib/peers/redis.js';
import { sqliteQueueCase } from '../lib/peers/sqlite.js';

const PER_SEND = 1000;
const MAX_POLL_RECORDS = 1000;

function messagesFor(count: number): Message[] {
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { value: VALUE };
  return out;
}

function batchedCase(name: string, messages: number, read: 'poll' | 'eachBatch', inFlight: number): Case {
  return {
    name,
    messages,
    system: 'kafkalite',
    durability: 'memory',
    async prepare() {
      const fx = await openFixture({ consumer: { maxPollRecords: MAX_POLL_RECORDS } });
      const tally = new Tally();
      const all = signal();
      if (read === 'eachBatch') {
        await fx.consumer.run({
          eachBatch: ({ batch }) => {
            const records = batch.messages;
            for (let i = 0; i < records.length; i++) tally.add(records[i]!);
            if (tally.count >= messages) all.resolve();
          },
        });
      }

      const produce = async (): Promise<void> => {
        const window: Promise<unknown>[] = [];
        for (let sent = 0; sent < messages; sent += PER_SEND) {
          const send = fx.producer.send({ topic: TOPIC, messages: messagesFor(Math.min(PER_SEND, messages - sent)) });
          window.push(send);
          if (window.length >= inFlight) await window.shift();
        }
        await Promise.all(window);
      };

      const poll = async (): Promise<void> => {
        while (tally.count < messages) {
          const records: ConsumerRecord[] = await fx.consumer.poll({ timeoutMs: 100 });
          for (let i = 0; i < records.length; i++) tally.add(records[i]!);
        }
      };

      return {
        async run() {
          await Promise.all([produce(), read === 'poll' ? poll() : all.promise]);
        },
        async finish() {
          tally.verify(messages, name);
          await fx.close();
        },
      };
    },
  };
}

/**
 * The row the peers are compared with: what Redis Streams' XREADGROUP + XACK and the SQLite
 * queue's SELECT + DELETE do, in kafkalite's terms — a consumer *group* member (`subscribe`), in
 * `run({ eachBatch })`, committing the batch's offset after handling it (an acknowledgement per
 * batch of up to 1000), with the producer sending 1000 per call, 4 calls in flight.
 */
function groupCase(name: string, messages: number): Case {
  return {
    name,
    id: 'kafkalite-memory-group',
    messages,
    system: 'kafkalite',
    durability: 'memory',
    async prepare() {
      const broker = await Broker.open();
      await broker.createTopic(TOPIC, { partitions: 1 });
      const producer = broker.producer();
      const consumer = broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest', maxPollRecords: MAX_POLL_RECORDS, autoCommit: false });
      await consumer.subscribe(TOPIC);
      const tally = new Tally();
      const all = signal();
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const records = batch.messages;
          for (let i = 0; i < records.length; i++) tally.add(records[i]!);
          const last = records[records.length - 1];
          if (last !== undefined) await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
          if (tally.count >= messages) all.resolve();
        },
      });
      return {
        async run() {
          const window: Promise<unknown>[] = [];
          for (let sent = 0; sent < messages; sent += PER_SEND) {
            window.push(producer.send({ topic: TOPIC, messages: messagesFor(Math.min(PER_SEND, messages - sent)) }));
            if (window.length >= 4) await window.shift();
          }
          await Promise.all([...window, all.promise]);
        },
        async finish() {
          tally.verify(messages, name);
          const committed = await consumer.committed({ topic: TOPIC, partition: 0 });
          if (committed !== messages) throw new Error(`${name}: committed ${committed}, expected ${messages}`);
          await broker.close();
        },
      };
    },
  };
}

export const batched: Scenario = {
  name: 'batched',
  description: 'in memory, 1000 messages per send/pipeline/transaction: kafkalite beside Redis Streams and a SQLite queue table',
  cases: ({ messages }) => {
    const redis = Math.min(messages, 200_000);
    return [
      batchedCase('send×1000 awaited → poll(1000)', messages, 'poll', 1),
      batchedCase('send×1000 awaited → run eachBatch(1000)', messages, 'eachBatch', 1),
      batchedCase('send×1000, 4 in flight → poll(1000)', messages, 'poll', 4),
      groupCase('send×1000, 4 in flight → group member eachBatch + commit per batch', messages),
      redisPipelinedCase({
        name: `Redis Streams, no persistence: XADD pipelined ×1000, 4 in flight → XREADGROUP 1000 + XACK (${redis.toLocaleString('en-US')} msgs, 3 runs)`,
        id: 'redis-memory',
        messages: redis,
        persistence: 'no',
        groups: 1,
        maxRuns: 3,
      }),
      sqliteQueueCase({
        name: 'SQLite :memory: queue: INSERT tx×1000 → SELECT 1000 + DELETE',
        id: 'sqlite-memory',
        mode: 'memory',
        messages,
        perTx: PER_SEND,
      }),
    ];
  },
};
