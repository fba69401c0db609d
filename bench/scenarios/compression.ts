/**
 * `compression`: the producer's `compression` per codec, on FileStorage (`fsync: 'never'`, so the
 * codec's cost is not hidden behind the disk), with 100-byte JSON-like records (ids, names, enums
 * and amounts that vary per record, as events do). Two rows per codec, each against `'none'` in the
 * same run:
 *
 * - throughput: send×1000 (8 in flight) until every send resolved, then one consumer polls every
 *   record back (decompression included); msgs/s.
 * - bytes on disk: the segment files' size per message after the same sends ("bytes/msg"), and
 *   that size over the same records' uncompressed batches ("retained ÷ batch bytes": the
 *   compression ratio).
 *
 * snappy, lz4 and zstd need their optional packages; a row whose package is missing is reported
 * as not run.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Broker, FileStorage, RecordBatchBuilder, type Message } from 'kafkalite';
import { Unavailable, type Case, type Scenario } from '../lib/harness.js';
import { freshBenchDir } from '../lib/raw-disk.js';

const TOPIC = 'bench';
const PER_SEND = 1000;
const IN_FLIGHT = 8;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
type Codec = (typeof CODECS)[number];

const EVENTS = ['order.placed', 'order.paid', 'order.shipped', 'order.cancelled'];

/** Record `i`: about 100 bytes of JSON. */
function value(i: number): string {
  const v = `{"id":${100000 + i},"user":"user-${String(i % 997).padStart(4, '0')}","event":"${EVENTS[i % 4]}","cents":${(i * 7919) % 100000},"ts":${1700000000000 + i * 13}}`;
  return v.padEnd(100, ' ');
}

function messages(from: number, count: number): Message[] {
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { value: value(from + i) };
  return out;
}

/** Bytes of the same records in uncompressed batches of PER_SEND. */
function plainBytes(total: number): number {
  let bytes = 0;
  for (let sent = 0; sent < total; sent += PER_SEND) {
    const b = new RecordBatchBuilder();
    for (let i = sent; i < Math.min(total, sent + PER_SEND); i++) b.append(0, null, value(i));
    bytes += b.build().length;
  }
  return bytes;
}

function diskBytes(dir: string): number {
  const folder = join(dir, `${TOPIC}-0`);
  return readdirSync(folder)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + statSync(join(folder, f)).size, 0);
}

async function setUp(codec: Codec): Promise<{ broker: Broker; dir: string; send: (total: number) => Promise<void> }> {
  const dir = freshBenchDir();
  const broker = await Broker.open({ storage: new FileStorage({ dir, fsync: 'never' }) });
  await broker.createTopic(TOPIC, { partitions: 1, retentionMs: -1 });
  const producer = broker.producer({ compression: codec, lingerMs: 0 });
  try {
    await producer.send({ topic: 'probe', messages: [{ value: 'probe' }] }); // a missing package fails here, untimed
  } catch (error) {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
    throw new Unavailable(error instanceof Error ? error.message : String(error));
  }
  return {
    broker,
    dir,
    async send(total) {
      const window: Promise<unknown>[] = [];
      for (let sent = 0; sent < total; sent += PER_SEND) {
        window.push(producer.send({ topic: TOPIC, messages: messages(sent, Math.min(PER_SEND, total - sent)) }));
        if (window.length >= IN_FLIGHT) await window.shift();
      }
      await Promise.all(window);
    },
  };
}

function throughputCase(codec: Codec, total: number): Case {
  return {
    name: `'${codec}': send×1000 (${IN_FLIGHT} in flight), then poll all back${codec === 'none' ? ' [baseline]' : ''}`,
    messages: total,
    baseline: codec === 'none',
    system: 'kafkalite',
    durability: 'process crash (OS flushes)',
    async prepare() {
      const { broker, dir, send } = await setUp(codec);
      const consumer = broker.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 5000 });
      await consumer.assign([{ topic: TOPIC, partition: 0 }]);
      let seen = 0;
      return {
        async run() {
          await send(total);
          while (seen < total) for (const r of await consumer.poll({ timeoutMs: 1000 })) seen += r.value === null ? 0 : 1;
        },
        async finish() {
          await broker.close();
          rmSync(dir, { recursive: true, force: true });
          if (seen !== total) throw new Error(`consumed ${seen} of ${total}`);
        },
      };
    },
  };
}

function bytesCase(codec: Codec, total: number): Case {
  return {
    name: `'${codec}': bytes on disk per message${codec === 'none' ? ' [baseline]' : ''}`,
    messages: total,
    baseline: codec === 'none',
    kind: 'memory',
    system: 'kafkalite',
    durability: 'process crash (OS flushes)',
    async prepare() {
      const { broker, dir, send } = await setUp(codec);
      return {
        async run() {
          await send(total);
        },
        async finish() {
          await broker.close();
          const retainedBytes = diskBytes(dir);
          rmSync(dir, { recursive: true, force: true });
          return { retainedBytes, logBytes: plainBytes(total) };
        },
      };
    },
  };
}

export const compression: Scenario = {
  name: 'compression',
  description: "producer compression per codec (FileStorage, fsync 'never', 100 B JSON-like records): msgs/s and bytes on disk, against 'none'",
  cases({ messages }) {
    const total = Math.min(messages, 200_000);
    return [...CODECS.map((c) => throughputCase(c, total)), ...CODECS.map((c) => bytesCase(c, total))];
  },
};
