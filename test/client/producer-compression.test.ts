/**
 * The producer's `compression`: batches are compressed with Kafka's codecs, stored so (in memory
 * and in FileStorage's segment files), and every reader decodes them.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage, readBatchHeader, serde } from 'kafkalite';
import { expectError } from '../helpers.js';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const ids = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

describe.each(CODECS)('compression %s', (codec) => {
  it('is stored per batch on disk with its attribute bits, and poll, for await and partition.read decode it (also after reopening)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kafkalite-compression-'));
    try {
      let broker = await Broker.open({ storage: new FileStorage({ dir }) });
      await broker.createTopic('t', { partitions: 1 });
      const producer = broker.producer({ compression: codec, serializers: { value: serde.json<{ i: number; text: string }>() } });
      // Un-awaited sends, in one tick and across ticks: one batch and several, in order.
      const sends = Array.from({ length: 200 }, (_, i) => producer.send({ topic: 't', messages: [{ key: `k${i % 3}`, value: { i, text: 'lorem ipsum '.repeat(5) } }] }));
      await new Promise((r) => setImmediate(r));
      sends.push(producer.send({ topic: 't', messages: [{ value: { i: 200, text: 'last' } }] }));
      const metas = await Promise.all(sends);
      expect(metas.map((m) => m[0]!.baseOffset)).toEqual(Array.from({ length: 201 }, (_, i) => i));

      const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { value: serde.json<{ i: number; text: string }>() } });
      await consumer.assign([{ topic: 't', partition: 0 }]);
      const polled = [];
      while (polled.length < 201) polled.push(...(await consumer.poll({ timeoutMs: 100 })));
      expect(polled.map((r) => r.value!.i)).toEqual(Array.from({ length: 201 }, (_, i) => i));
      expect(polled[0]!.key!.toString()).toBe('k0');
      const read = await broker.topic('t').partition(0).read(150, { maxRecords: 10 });
      expect(read.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => 150 + i));
      await broker.close();

      // On disk: every batch carries the codec, and its records are not there in plain text.
      const folder = join(dir, 't-0');
      const log = await readFile(join(folder, (await readdir(folder)).find((f) => f.endsWith('.log'))!));
      let batches = 0;
      for (let at = 0; at < log.length; batches++) {
        const header = readBatchHeader(log, at);
        expect(header.attributes & 0x07).toBe(ids[codec]);
        at += 12 + header.batchLength;
      }
      expect(batches).toBeGreaterThanOrEqual(2);
      expect(log.includes(Buffer.from('lorem ipsum lorem ipsum'))).toBe(false);

      broker = await Broker.open({ storage: new FileStorage({ dir }) });
      const again = broker.consumer({ autoOffsetReset: 'earliest' });
      await again.assign([{ topic: 't', partition: 0 }]);
      let n = 0;
      for await (const r of again) {
        expect(JSON.parse(r.value!.toString()).i).toBe(n);
        if (++n === 201) break;
      }
      await broker.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('compression option', () => {
  it("defaults to 'none' (batches stay plain) and refuses an unknown codec naming it", async () => {
    const broker = await Broker.open();
    await broker.producer().send({ topic: 't', messages: [{ value: 'plain' }] });
    const consumer = broker.consumer({ autoOffsetReset: 'earliest' });
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect((await consumer.poll()).map((r) => r.value!.toString())).toEqual(['plain']);
    expect(() => broker.producer({ compression: 'brotli' as 'gzip' })).toThrow(/compression must be 'none', 'gzip', 'snappy', 'lz4' or 'zstd' \(got "brotli"\)/);
    await expectError(() => broker.producer({ compression: 5 as unknown as 'gzip' }), 'INVALID_ARGUMENT', '(got 5)');
    await broker.close();
  });
});
