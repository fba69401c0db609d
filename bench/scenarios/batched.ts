/**
 * `batched`: kafkalite with batched sends — `producer.send` with 1000 messages per call — and a
 * consumer reading concurrently, either by `poll` or by `run({ eachBatch })`, up to 1000 records
 * per poll/batch (`maxPollRecords: 1000`, the same batch size the ceiling reads with).
 *
 * Timed: from the first `send` until the consumer has seen all N records (and every send resolved).
 * Producer and consumer options are the defaults otherwise (`lingerMs: 0`, `batchSize: 16384`).
 * Message objects are built per call, as an application would; the value is one shared Buffer.
 */

import type { ConsumerRecord, Message } from 'kafkalite';
import { Tally, signal, type Case, type Scenario } from '../lib/harness.js';
import { TOPIC, VALUE, openFixture } from '../lib/kafkalite.js';

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

export const batched: Scenario = {
  name: 'batched',
  description: 'kafkalite: send 1000 messages per call, consumer polls or runs eachBatch concurrently',
  cases: ({ messages }) => [
    batchedCase('send×1000 awaited → poll(1000)', messages, 'poll', 1),
    batchedCase('send×1000 awaited → run eachBatch(1000)', messages, 'eachBatch', 1),
    batchedCase('send×1000, 4 in flight → poll(1000)', messages, 'poll', 4),
  ],
};
