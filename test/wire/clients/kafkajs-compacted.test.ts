/**
 * KafkaJS over the wire reads a compacted FileStorage topic whose first batches are the empty
 * batches the cleaner leaves, followed by a record larger than what is left of the fetch size
 * (a hostile review saw KafkaJS — read_committed by default — fetch offset 0 forever: the
 * response held the empty batch only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage } from '../../../src/index.js';

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
