/**
 * `fan-out`: every record to several independent readers. kafkalite: one producer (send×1000,
 * 4 in flight) and G consumer groups of one member each (`subscribe`, `run({ eachBatch })`,
 * default autoCommit), each group receiving every record. msgs/s counts deliveries (messages × G).
 * Beside it: EventEmitter / eventemitter3 with G listeners, and Redis Streams with G consumer groups
 * (XREADGROUP + XACK, one connection each).
 */

import { Broker, type Message } from 'kafkalite';
import { Tally, signal, type Case, type Scenario } from '../lib/harness.js';
import { TOPIC, VALUE } from '../lib/kafkalite.js';
import { emitterThroughputCase } from '../lib/peers/emitter.js';
import { redisPipelinedCase } from '../lib/peers/redis.js';

const PER_SEND = 1000;

function messagesFor(count: number): Message[] {
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { value: VALUE };
  return out;
}

function fanOutCase(groups: number, messages: number): Case {
  const name = `${groups} groups × 1 member, send×1000 4 in flight → run eachBatch (${messages.toLocaleString('en-US')} msgs × ${groups})`;
  return {
    name,
    id: `kafkalite-fan-out-${groups}`,
    messages: messages * groups,
    system: 'kafkalite',
    durability: 'memory',
    async prepare() {
      const broker = await Broker.open();
      await broker.createTopic(TOPIC, { partitions: 1 });
      const producer = broker.producer();
      const tallies = Array.from({ length: groups }, () => new Tally());
      const done = Array.from({ length: groups }, () => signal());
      for (let g = 0; g < groups; g++) {
        const consumer = broker.consumer({ groupId: `g${g}`, autoOffsetReset: 'earliest', maxPollRecords: 1000 });
        await consumer.subscribe(TOPIC);
        const tally = tallies[g]!;
        await consumer.run({
          eachBatch: ({ batch }) => {
            const records = batch.messages;
            for (let i = 0; i < records.length; i++) tally.add(records[i]!);
            if (tally.count >= messages) done[g]!.resolve();
          },
        });
      }
      return {
        async run() {
          const window: Promise<unknown>[] = [];
          for (let sent = 0; sent < messages; sent += PER_SEND) {
            window.push(producer.send({ topic: TOPIC, messages: messagesFor(Math.min(PER_SEND, messages - sent)) }));
            if (window.length >= 4) await window.shift();
          }
          await Promise.all([...window, ...done.map((d) => d.promise)]);
        },
        async finish() {
          tallies.forEach((t, g) => t.verify(messages, `${name}, group ${g}`));
          await broker.close();
        },
      };
    },
  };
}

export const fanOut: Scenario = {
  name: 'fan-out',
  description: 'every record to G independent readers (consumer groups / listeners); msgs/s counts deliveries',
  cases: ({ messages }) => {
    const sixteen = Math.min(messages, 250_000);
    const redis = Math.min(messages, 100_000);
    return [
      fanOutCase(4, messages),
      fanOutCase(16, sixteen),
      emitterThroughputCase('EventEmitter', messages, 4),
      emitterThroughputCase('eventemitter3', messages, 4),
      redisPipelinedCase({
        name: `Redis Streams, no persistence: XADD pipelined ×1000 → 4 groups XREADGROUP + XACK (${redis.toLocaleString('en-US')} msgs × 4, 3 runs)`,
        messages: redis,
        persistence: 'no',
        groups: 4,
        maxRuns: 3,
      }),
    ];
  },
};
