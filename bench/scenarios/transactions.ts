/**
 * `transactions`: what exactly-once costs, in memory. Every row sends the same records in the same
 * calls — `send` with 100 messages each, the calls of a group of records fired without awaiting,
 * then the group awaited — while a consumer polls concurrently (up to 1000 records per poll):
 *
 * - no transactions, plain producer (the scenario's baseline: "vs ceiling" of these rows divides by it);
 * - `idempotent: true`, no transactions (producer id + sequences, one request in flight);
 * - a `transactionalId`, each group of 1000 records one transaction (`commit()` every 1000), read
 *   by a `read_committed` consumer;
 * - the same, committing every 100 records.
 *
 * Timed: from the first `send` until the consumer has seen all N records and every send (and
 * commit) resolved.
 */

import type { ConsumerRecord, Message, Producer } from 'kafkalite';
import { Tally, type Case, type Scenario } from '../lib/harness.js';
import { TOPIC, VALUE, openFixture } from '../lib/kafkalite.js';

const PER_SEND = 100;
const MAX_POLL_RECORDS = 1000;

function messagesFor(count: number): Message[] {
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { value: VALUE };
  return out;
}

type Mode = { kind: 'plain' } | { kind: 'idempotent' } | { kind: 'transactional'; commitEvery: number };

/** Fires the sends of `count` records, 100 per call, without awaiting them. */
function sends(target: Pick<Producer, 'send'>, count: number): Promise<unknown>[] {
  const out: Promise<unknown>[] = [];
  for (let sent = 0; sent < count; sent += PER_SEND) out.push(target.send({ topic: TOPIC, messages: messagesFor(Math.min(PER_SEND, count - sent)) }));
  return out;
}

function transactionsCase(name: string, messages: number, mode: Mode, baseline = false): Case {
  return {
    name,
    messages,
    system: 'kafkalite',
    durability: 'memory',
    baseline,
    async prepare() {
      const fx = await openFixture({
        producer: mode.kind === 'plain' ? {} : mode.kind === 'idempotent' ? { idempotent: true } : { transactionalId: 'bench' },
        consumer: { maxPollRecords: MAX_POLL_RECORDS, isolationLevel: mode.kind === 'transactional' ? 'read_committed' : 'read_uncommitted' },
      });
      const tally = new Tally({ markers: mode.kind === 'transactional' });
      const group = mode.kind === 'transactional' ? mode.commitEvery : 1000;

      const produce = async (): Promise<void> => {
        for (let sent = 0; sent < messages; sent += group) {
          const count = Math.min(group, messages - sent);
          if (mode.kind === 'transactional') {
            const tx = fx.producer.transaction();
            const fired = sends(tx, count);
            await tx.commit();
            await Promise.all(fired);
          } else {
            await Promise.all(sends(fx.producer, count));
          }
        }
      };

      const poll = async (): Promise<void> => {
        while (tally.count < messages) {
          const records: ConsumerRecord[] = await fx.consumer.poll({ timeoutMs: 100 });
          for (let i = 0; i < records.length; i++) tally.add(records[i]!);
        }
      };

      return {
        async run() {
          await Promise.all([produce(), poll()]);
        },
        async finish() {
          tally.verify(messages, name);
          await fx.close();
        },
      };
    },
  };
}

export const transactions: Scenario = {
  name: 'transactions',
  description: 'in memory, send×100: no transactions vs idempotent vs a transaction (read_committed reader) per 1000 / per 100 records',
  cases: ({ messages }) => [
    transactionsCase('no transactions: send×100, 10 in flight → poll(1000) [baseline]', messages, { kind: 'plain' }, true),
    transactionsCase('idempotent, no transactions: send×100, 10 in flight → poll(1000)', messages, { kind: 'idempotent' }),
    transactionsCase('transaction per 1000: send×100 ×10 + commit → read_committed poll(1000)', messages, { kind: 'transactional', commitEvery: 1000 }),
    transactionsCase('transaction per 100: send×100 + commit → read_committed poll(1000)', messages, { kind: 'transactional', commitEvery: 100 }),
  ],
};
