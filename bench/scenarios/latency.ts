/**
 * `latency`: end-to-end latency at a fixed offered rate (100,000 msgs/s, and for the event bus
 * also 10,000 and 1,000,000; one message per send/emit), from the message's intended send time to
 * the consumer's handler, with the pacing and the coordinated-omission correction of
 * `lib/latency.ts`. Percentiles come from an hdr-histogram-js histogram per run; the table gives
 * the median over the runs of each percentile. Every run sends one second's worth of messages at
 * its rate (at most `--messages`).
 *
 * At 1,000,000 msgs/s kafkalite with one message per send saturates a core (the EventEmitter about
 * keeps up): the pacer falls behind, messages queue, and latency from the intended send time grows
 * with the backlog over the run; the table's "achieved msgs/s" (messages ÷ median run time) says
 * what the row actually moved, and the "from send" columns what the bus adds once a message is sent.
 *
 * - **EventEmitter [latency ceiling]**: `emit` calls the listener synchronously: what is left is
 *   the pacer's own resolution and the process's pauses (GC). Every `vs ceiling` divides by its p99.
 * - eventemitter3: the same, the other common event bus.
 * - kafkalite in memory: `producer.send` of one message, not awaited, at its due time; the consumer
 *   in `run({ eachMessage })` (or a `poll` loop) records it. With `lingerMs: 0` the sends of one
 *   event-loop turn share a record batch, appended at the end of the turn.
 * - kafkalite, one bus kept for all runs: the same as the eachMessage row, but the broker, producer
 *   and consumer are made once per process (as an application keeps its event bus), not per run.
 * - Redis Streams: XADD per message (not awaited) on one connection, XREADGROUP BLOCK + XACK on another.
 *
 * Rows at 10,000 and 1,000,000 msgs/s: the EventEmitter (the ceiling of their rate) and kafkalite's
 * two consumers. Each row is compared with the ceiling of its own rate.
 */

import { Broker, type Consumer, type Producer } from 'kafkalite';
import { onCleanup, type Case, type Scenario } from '../lib/harness.js';
import { TOPIC, VALUE } from '../lib/kafkalite.js';
import { LatencyRecorder, pacedTrial } from '../lib/latency.js';
import { emitterLatencyCase } from '../lib/peers/emitter.js';
import { redisLatencyCase } from '../lib/peers/redis.js';

/** The rate of the full comparison (every peer), of the figure (p99 < 50 µs) and of the chart. */
export const LATENCY_RATE = 100_000;
/** The event bus below and far above it. */
export const LATENCY_RATES = [10_000, LATENCY_RATE, 1_000_000] as const;

/** 10k, 100k, 1M. */
export function rateLabel(rate: number): string {
  return rate >= 1_000_000 && rate % 1_000_000 === 0 ? `${rate / 1_000_000}M` : `${(rate / 1000).toFixed(0)}k`;
}

function kafkaliteLatencyCase(name: string, rate: number, messages: number, read: 'eachMessage' | 'poll', id?: string): Case {
  return {
    name,
    ...(id === undefined ? {} : { id }),
    messages,
    kind: 'latency',
    rate,
    system: 'kafkalite',
    durability: 'memory',
    async prepare() {
      const broker = await Broker.open();
      await broker.createTopic(TOPIC, { partitions: 1 });
      const producer: Producer = broker.producer();
      const consumer: Consumer = broker.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 1000 });
      await consumer.assign([{ topic: TOPIC, partition: 0 }]);
      const latency = new LatencyRecorder(messages);
      const errors: unknown[] = [];
      if (read === 'eachMessage') {
        await consumer.run({ eachMessage: ({ message }) => latency.record(message.offset) });
      }
      const poll = async (): Promise<void> => {
        while (latency.count < messages) {
          const records = await consumer.poll({ timeoutMs: 100 });
          for (let i = 0; i < records.length; i++) latency.record(records[i]!.offset);
        }
      };
      return pacedTrial(latency, {
        rate,
        send() {
          producer.send({ topic: TOPIC, messages: [{ value: VALUE }] }).catch((e: unknown) => errors.push(e));
        },
        ...(read === 'poll' ? { consume: poll } : {}),
        async close() {
          await broker.close();
          if (errors.length > 0) throw new Error(`${name}: ${String(errors[0])}`);
        },
      });
    },
  };
}

/**
 * The event bus as an application keeps it: one broker, producer and consumer (and one
 * `eachMessage` handler) for every run of the row, made by its first run; each run sends its
 * messages on top of the last run's and reads them by offset. The other kafkalite rows build a
 * fresh broker per run, so their first ~100 ms run code V8 compiled for the previous run's objects
 * and then threw away (see BENCHMARKS.md); this row shows the same bus once it has been running.
 */
function kafkaliteLongLivedCase(name: string, rate: number, messages: number, id: string): Case {
  let bus: { broker: Broker; producer: Producer; latency: LatencyRecorder | undefined; base: number; errors: unknown[] } | undefined;
  return {
    name,
    id,
    messages,
    kind: 'latency',
    rate,
    system: 'kafkalite',
    durability: 'memory',
    async prepare() {
      if (bus === undefined) {
        const broker = await Broker.open();
        await broker.createTopic(TOPIC, { partitions: 1 });
        const consumer: Consumer = broker.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 1000 });
        await consumer.assign([{ topic: TOPIC, partition: 0 }]);
        const b = { broker, producer: broker.producer(), latency: undefined as LatencyRecorder | undefined, base: 0, errors: [] as unknown[] };
        await consumer.run({ eachMessage: ({ message }) => b.latency!.record(message.offset - b.base) });
        bus = b;
        onCleanup(async () => {
          bus = undefined;
          await broker.close();
        });
      }
      const b = bus;
      const latency = new LatencyRecorder(messages);
      b.latency = latency;
      return pacedTrial(latency, {
        rate,
        send() {
          b.producer.send({ topic: TOPIC, messages: [{ value: VALUE }] }).catch((e: unknown) => b.errors.push(e));
        },
        close() {
          b.base += messages;
          if (b.errors.length > 0) throw new Error(`${name}: ${String(b.errors[0])}`);
        },
      });
    },
  };
}

export const latency: Scenario = {
  name: 'latency',
  description:
    `end-to-end latency percentiles at ${LATENCY_RATE.toLocaleString('en-US')} msgs/s offered, one message per send: kafkalite beside EventEmitter, ` +
    'eventemitter3, Redis Streams; kafkalite and EventEmitter also at 10,000 and 1,000,000 msgs/s (saturated)',
  cases: ({ messages }) =>
    LATENCY_RATES.flatMap((rate) => {
      const n = Math.min(messages, rate); // one second of messages per run
      const label = rateLabel(rate);
      const per = `${label} msgs/s, ${n.toLocaleString('en-US')} msgs`;
      if (rate === LATENCY_RATE) {
        return [
          emitterLatencyCase('EventEmitter', `EventEmitter emit → listener [latency ceiling] (${per})`, rate, n, true),
          emitterLatencyCase('eventemitter3', `eventemitter3 emit → listener (${per})`, rate, n, false),
          kafkaliteLatencyCase(`in memory: send×1 → run eachMessage (${per})`, rate, n, 'eachMessage', 'kafkalite-latency'),
          kafkaliteLatencyCase(`in memory: send×1 → poll loop (${per})`, rate, n, 'poll'),
          kafkaliteLongLivedCase(`in memory, one bus kept for all runs: send×1 → run eachMessage (${per})`, rate, n, 'kafkalite-latency-long-lived'),
          redisLatencyCase(`Redis Streams, no persistence: XADD → XREADGROUP BLOCK + XACK (${per})`, rate, n),
        ];
      }
      const id = label.toLowerCase();
      return [
        emitterLatencyCase('EventEmitter', `EventEmitter emit → listener [latency ceiling at ${label}] (${per})`, rate, n, true, `eventemitter-latency-${id}`),
        kafkaliteLatencyCase(`in memory: send×1 → run eachMessage (${per})`, rate, n, 'eachMessage', `kafkalite-latency-${id}`),
        kafkaliteLatencyCase(`in memory: send×1 → poll loop (${per})`, rate, n, 'poll', `kafkalite-latency-poll-${id}`),
      ];
    }),
};
