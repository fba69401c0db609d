/**
 * KafkaJS over the wire on compacted FileStorage topics: it reads a topic whose first batches are
 * the empty batches the cleaner leaves, followed by a record larger than what is left of the fetch
 * size (a hostile review saw KafkaJS — read_committed by default — fetch offset 0 forever: the
 * response held the empty batch only); and batches KafkaJS compressed, thinned by the cleaner and
 * recompressed, read back by KafkaJS as kafkalite reads them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage, readBatchHeader } from '../../../src/index.js';
import { KAFKAJS_CODEC_IDS, registerKafkaJsCodecs } from '../../codec/kafkajs-codecs.js';

describe('KafkaJS on a compacted FileStorage topic', () => {
  it.each([false, true])('reads past the empty batches of a cleaned run to a record larger than the rest of the fetch (readUncommitted %s)', async (readUncommitted) => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-compacted-wire-'));
    const broker = await Broker.open({ logger: 'silent', storage: new FileStorage({ dir, fsync: 'never' }) });
    try {
      const topic = await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact', segmentBytes: 4 * 1024 * 1024 });
      const p = broker.producer();
      for (let i = 0; i < 10; i++) await p.send({ topic: 'c', messages: [{ key: 'counter', value: String(i) }] });
      await p.send({ topic: 'c', messages: [{ key: 'counter', value: Buffer.alloc(1_048_450, 97) }] });
      for (let i = 0; i < 4; i++) await p.send({ topic: 'c', messages: [{ key: `big${i}`, value: Buffer.alloc(1_000_000, 98) }] });
      await topic.compact();
      expect((await topic.partition(0).read(0, { maxRecords: 1 }))[0]!.offset).toBe(10);
      const listener = await broker.listen({ port: 0 });
      const kafka = new Kafka({ brokers: [listener.address], logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: 'g', readUncommitted });
      await consumer.connect();
      await consumer.subscribe({ topic: 'c', fromBeginning: true });
      const got: string[] = [];
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push(`${message.offset}:${message.key?.toString()}`);
          if (got.length === 5) done();
        },
      });
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      await consumer.disconnect();
      await listener.close();
      expect(got).toEqual(['10:counter', '11:big0', '12:big1', '13:big2', '14:big3']);
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});

describe('KafkaJS on compacted topics of compressed batches', () => {
  it('reads what kafkalite reads after batches KafkaJS compressed (every codec) were thinned and recompressed by the cleaner', async () => {
    await registerKafkaJsCodecs();
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-compacted-compressed-wire-'));
    const storage = new FileStorage({ dir, fsync: 'never' });
    const broker = await Broker.open({ logger: 'silent', storage });
    const codecs = Object.keys(KAFKAJS_CODEC_IDS) as (keyof typeof KAFKAJS_CODEC_IDS)[];
    try {
      const listener = await broker.listen({ port: 0 });
      const kafka = new Kafka({ brokers: [listener.address], logLevel: logLevel.NOTHING });
      const producer = kafka.producer();
      await producer.connect();
      const expected = new Map<string, string[]>();
      for (const codec of codecs) {
        const topic = await broker.createTopic(`c-${codec}`, { partitions: 1, cleanupPolicy: 'compact', segmentBytes: 14 });
        const send = (compression: number, messages: [string, string | null][]) => producer.send({ topic: topic.name, compression, messages: messages.map(([key, value]) => ({ key, value })) });
        const id = KAFKAJS_CODEC_IDS[codec];
        await send(id, [['a', 'a1'], ['b', 'b1'], ['c', 'c1'], ['d', 'd1']]); // 0-3
        await send(CompressionTypes.None, [['a', 'a2']]); // 4
        await send(id, [['b', 'b2'], ['c', null]]); // 5-6
        await send(CompressionTypes.None, [['z', 'z1']]); // 7: the active segment
        await topic.compact();
        const rows = (await topic.partition(0).read(0, { maxRecords: 100 })).map((r) => `${r.offset}:${r.key!.toString()}=${r.value?.toString() ?? 'null'}`);
        expect(rows).toEqual(['3:d=d1', '4:a=a2', '5:b=b2', '6:c=null', '7:z=z1']);
        const [first] = await storage.log(topic.name, 0).read(0, 1 << 20);
        expect(readBatchHeader(first!)).toMatchObject({ baseOffset: 0, lastOffsetDelta: 3, recordCount: 1 });
        expect(readBatchHeader(first!).attributes & 0x07).toBe(id);
        expected.set(topic.name, rows);
      }
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId: 'g' });
      await consumer.connect();
      await consumer.subscribe({ topics: [...expected.keys()], fromBeginning: true });
      const got = new Map<string, string[]>([...expected.keys()].map((t) => [t, []]));
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          got.get(topic)!.push(`${message.offset}:${message.key?.toString()}=${message.value?.toString() ?? 'null'}`);
          if ([...got.values()].every((rows) => rows.length >= 5)) done();
        },
      });
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      await consumer.disconnect();
      await listener.close();
      expect(got).toEqual(expected);
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
