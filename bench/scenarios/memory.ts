/**
 * `memory`: what retained messages cost. Each run fills a fresh log with N messages of 100 bytes
 * (nothing consumes or deletes them), forces full GCs (until freed Buffers are released) and reports the growth of the process's
 * `heapUsed + external` (V8's heap plus Buffers / ArrayBuffers) over the run, per message — which
 * is also MB (10^6 bytes) per million messages. RSS growth is given beside it for reference.
 *
 * - **array of records, value copied per record [baseline]**: the `ceiling` scenario's second
 *   row kept: `{ offset, key: null, value: Buffer copy, headers: {}, timestamp }` per message.
 * - kafkalite `MemoryStorage`, 1000 messages per send (the log keeps RecordBatch v2 bytes).
 * - kafkalite `MemoryStorage`, one awaited send per message (one record batch each: 61 bytes of
 *   batch header per message).
 *
 *   Both kafkalite rows also read the log's record batches back after the measurement and report
 *   their bytes per message (the message's share of its batch: record framing and the batch
 *   header included) and the ratio retained bytes ÷ batch bytes: what `MemoryStorage` and the
 *   broker keep per record beyond the RecordBatch bytes themselves (a Uint8Array and its backing
 *   store per batch, the log's index arrays).
 * - Redis Streams: the server's `used_memory` growth (INFO memory).
 * - SQLite `:memory:` queue table: `page_count × page_size`.
 */

import { Broker, MemoryStorage, type Message } from 'kafkalite';
import { VALUE_SIZE, collectGarbage, type Case, type Sample, type Scenario } from '../lib/harness.js';
import { TOPIC, VALUE } from '../lib/kafkalite.js';
import { redisMemoryCase } from '../lib/peers/redis.js';
import { sqliteMemoryCase } from '../lib/peers/sqlite.js';

interface LogRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, Buffer>;
  timestamp: number;
}

/**
 * Memory in use after full collections. ArrayBuffer backing stores (kafkalite's record batches,
 * Buffers) are released after the GC that found them dead, on a later turn: collect, wait a little,
 * and again, until `external` stops moving — else the previous run's buffers, still counted, would
 * be freed during this run and hide what it retains.
 */
async function settled(): Promise<{ js: number; rss: number }> {
  let last = Number.NaN;
  for (let i = 0; i < 10; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const m = process.memoryUsage();
    if (Math.abs(m.external - last) < 64 * 1024) return { js: m.heapUsed + m.external, rss: m.rss };
    last = m.external;
  }
  const m = process.memoryUsage();
  return { js: m.heapUsed + m.external, rss: m.rss };
}

interface Filled {
  run(): Promise<void> | void;
  /** Bytes of the record batches the log holds (kafkalite rows), read after the measurement. */
  logBytes?(): number;
  release(): Promise<void> | void;
}

function memoryCase(name: string, messages: number, fill: () => Promise<Filled>, baseline = false, id?: string): Case {
  return {
    name,
    ...(id === undefined ? {} : { id }),
    messages,
    kind: 'memory',
    baseline,
    system: baseline ? 'ceiling' : 'kafkalite',
    durability: 'memory',
    async prepare() {
      const log = await fill();
      const before = await settled();
      return {
        run: () => log.run(),
        async finish(): Promise<Sample> {
          const after = await settled();
          const logBytes = log.logBytes?.();
          await log.release();
          return { retainedBytes: after.js - before.js, rssBytes: after.rss - before.rss, ...(logBytes === undefined ? {} : { logBytes }) };
        },
      };
    },
  };
}

function arrayCase(messages: number): Case {
  return memoryCase(
    'array of records, value copied per record [baseline]',
    messages,
    async () => {
      let log: LogRecord[] = [];
      return {
        run() {
          const timestamp = Date.now();
          for (let offset = 0; offset < messages; offset++) log.push({ offset, key: null, value: Buffer.from(VALUE), headers: {}, timestamp });
        },
        release() {
          if (log.length !== messages) throw new Error(`the array holds ${log.length}`);
          log = [];
        },
      };
    },
    true,
  );
}

function kafkaliteCase(name: string, messages: number, perSend: number, id?: string): Case {
  return memoryCase(
    name,
    messages,
    async () => {
      const storage = new MemoryStorage();
      const broker = await Broker.open({ storage });
      await broker.createTopic(TOPIC, { partitions: 1 });
      const producer = broker.producer();
      const batch: Message[] = Array.from({ length: perSend }, () => ({ value: VALUE }));
      return {
        async run() {
          if (perSend === 1) {
            for (let i = 0; i < messages; i++) await producer.send({ topic: TOPIC, messages: [{ value: VALUE }] });
            return;
          }
          for (let sent = 0; sent < messages; sent += perSend) await producer.send({ topic: TOPIC, messages: batch.slice(0, Math.min(perSend, messages - sent)) });
        },
        logBytes() {
          const batches = storage.log(TOPIC, 0).read(0, Number.MAX_SAFE_INTEGER);
          if (batches instanceof Promise) throw new Error('MemoryStorage.read returned a promise');
          let bytes = 0;
          for (const b of batches) bytes += b.byteLength;
          return bytes;
        },
        async release() {
          const end = broker.topic(TOPIC).partition(0).logEndOffset;
          await broker.close();
          if (end !== messages) throw new Error(`the log ends at ${end}, expected ${messages}`);
        },
      };
    },
    false,
    id,
  );
}

export const memory: Scenario = {
  name: 'memory',
  description: `bytes held per retained ${VALUE_SIZE}-byte message (= MB per million), in memory`,
  cases: ({ messages }) => {
    const single = Math.min(messages, 200_000);
    const redis = Math.min(messages, 200_000);
    const fmt = (n: number): string => n.toLocaleString('en-US');
    return [
      arrayCase(messages),
      kafkaliteCase('kafkalite MemoryStorage, send×1000', messages, 1000, 'kafkalite-memory-retained'),
      kafkaliteCase(`kafkalite MemoryStorage, send×1 awaited (${fmt(single)} msgs)`, single, 1, 'kafkalite-memory-retained-single'),
      redisMemoryCase(`Redis Streams, no persistence: server used_memory (${fmt(redis)} msgs)`, redis),
      sqliteMemoryCase('SQLite :memory: queue table: page_count × page_size', messages),
    ];
  },
};
