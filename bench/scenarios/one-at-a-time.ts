/**
 * `one-at-a-time`: `producer.send({ topic, messages: [oneMessage] })` once per message, with a
 * consumer in `run({ eachMessage })` mode counting records (`maxPollRecords: 1000`).
 *
 * - pipelined: sends issued in chunks of 1000 without awaiting each, then `await Promise.all(chunk)`;
 *   with the default `lingerMs: 0` the sends of one chunk share record batches.
 * - awaited: every send awaited before the next, so every message is its own record batch, its
 *   own append and its own consumer wake-up.
 *
 * Timed: from the first `send` until the handler has seen all N (and every send resolved).
 */

import { Tally, signal, type Case, type Scenario } from '../lib/harness.js';
import { TOPIC, VALUE, openFixture } from '../lib/kafkalite.js';
import { emitterThroughputCase } from '../lib/peers/emitter.js';
import { redisAwaitedCase } from '../lib/peers/redis.js';
import { sqliteQueueCase } from '../lib/peers/sqlite.js';

const CHUNK = 1000;

function oneAtATimeCase(name: string, messages: number, mode: 'pipelined' | 'awaited'): Case {
  return {
    name,
    messages,
    system: 'kafkalite',
    durability: 'memory',
    async prepare() {
      const fx = await openFixture({ consumer: { maxPollRecords: 1000 } });
      const tally = new Tally();
      const all = signal();
      await fx.consumer.run({
        eachMessage: ({ message }) => {
          tally.add(message);
          if (tally.count === messages) all.resolve();
        },
      });
      const { producer } = fx;

      const produce = async (): Promise<void> => {
        if (mode === 'awaited') {
          for (let i = 0; i < messages; i++) await producer.send({ topic: TOPIC, messages: [{ value: VALUE }] });
          return;
        }
        for (let sent = 0; sent < messages; ) {
          const end = Math.min(messages, sent + CHUNK);
          const chunk: Promise<unknown>[] = new Array(end - sent);
          for (let i = 0; sent < end; sent++, i++) chunk[i] = producer.send({ topic: TOPIC, messages: [{ value: VALUE }] });
          await Promise.all(chunk);
        }
      };

      return {
        async run() {
          await Promise.all([produce(), all.promise]);
        },
        async finish() {
          tally.verify(messages, name);
          await fx.close();
        },
      };
    },
  };
}

export const oneAtATime: Scenario = {
  name: 'one-at-a-time',
  description: 'in memory, one message per call: kafkalite beside EventEmitter, eventemitter3, Redis Streams and a SQLite queue',
  cases: ({ messages }) => {
    const redis = Math.min(messages, 20_000);
    const sqlite = Math.min(messages, 200_000);
    return [
      oneAtATimeCase('send×1 pipelined (chunks of 1000) → eachMessage', messages, 'pipelined'),
      oneAtATimeCase('send×1 each awaited → eachMessage', messages, 'awaited'),
      emitterThroughputCase('EventEmitter', messages),
      emitterThroughputCase('eventemitter3', messages),
      redisAwaitedCase(`Redis Streams, no persistence: XADD awaited each → XREADGROUP BLOCK + XACK (${redis.toLocaleString('en-US')} msgs, 3 runs)`, redis, 3),
      sqliteQueueCase({
        name: `SQLite :memory: queue: INSERT ×1 per tx → SELECT + DELETE (${sqlite.toLocaleString('en-US')} msgs)`,
        mode: 'memory',
        messages: sqlite,
        perTx: 1,
      }),
    ];
  },
};
