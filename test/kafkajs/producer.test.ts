/**
 * KafkaJS' producer (kafka.js.org/docs/producing): send / sendBatch results, partitioners (checked
 * against KafkaJS' own as an oracle), headers, acks, compression codecs, events.
 */
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokers } from './helpers.js';
import type { Broker } from 'kafkalite';
import type { PartitionState } from '../../src/topic/partition.js';
import { readBatchHeader } from '../../src/codec/record-batch.js';
import {
  CompressionCodecs,
  CompressionTypes,
  Kafka,
  Partitioners,
  closeAllClusters,
  getBroker,
  resetCluster,
  type PartitionMetadata,
  type Producer,
} from 'kafkalite/kafkajs';

const require = createRequire(import.meta.url);
const real = require('kafkajs') as typeof KafkaJS;

let kafka: Kafka;
let broker: Broker;
const producers: Producer[] = [];

beforeEach(async () => {
  kafka = new Kafka({ clientId: 'producing', brokers: brokers() });
  broker = await getBroker<Broker>(kafka);
});

afterEach(async () => {
  for (const p of producers.splice(0)) await p.disconnect();
  await resetCluster(kafka);
});

afterAll(() => closeAllClusters());

async function connected(config?: Parameters<Kafka['producer']>[0]): Promise<Producer> {
  const producer = kafka.producer(config);
  producers.push(producer);
  await producer.connect();
  return producer;
}

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));

const keys = [...Array.from({ length: 300 }, (_, i) => `key-${i}`), 'ü', '日本語のキー', '', 'a', 'ab', 'abc', 'abcd', 'abcde'];

describe('partitioners', () => {
  it("pick KafkaJS' partitions for keys: DefaultPartitioner (murmur2, as Java) and LegacyPartitioner", () => {
    for (const [ours, theirs] of [
      [Partitioners.DefaultPartitioner, real.Partitioners.DefaultPartitioner],
      [Partitioners.LegacyPartitioner, real.Partitioners.LegacyPartitioner],
    ] as const) {
      const a = ours();
      const b = theirs();
      for (const n of [1, 3, 7, 12]) {
        for (const key of keys) {
          const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } };
          expect(a(args), `${key} of ${n}`).toBe(b(args));
        }
        const buffer = { topic: 't', partitionMetadata: metadata(n), message: { key: Buffer.from([0xff, 0x00, 0x80, 0x7f, 0x01]), value: null } };
        expect(a(buffer)).toBe(b(buffer));
      }
    }
  });

  it('sends keyed messages where KafkaJS would, with the default partitioner', async () => {
    await kafka.admin().createTopics({ topics: [{ topic: 'keyed', numPartitions: 5 }] });
    const producer = await connected();
    const results = await producer.send({ topic: 'keyed', messages: keys.slice(0, 50).map((key) => ({ key, value: key })) });
    const oracle = real.Partitioners.DefaultPartitioner();
    for (const p of broker.topic('keyed').partitions) {
      for (const record of await p.read(0)) {
        const key = record.key!.toString();
        expect(oracle({ topic: 'keyed', partitionMetadata: metadata(5), message: { key, value: null } }), key).toBe(p.id);
      }
    }
    expect(results.map((r) => r.partition)).toEqual([...new Set(results.map((r) => r.partition))].sort());
  });

  it('uses the legacy or a custom partitioner for every message, as KafkaJS does', async () => {
    await kafka.admin().createTopics({ topics: [{ topic: 'legacy', numPartitions: 4 }, { topic: 'custom', numPartitions: 3 }] });
    const legacy = await connected({ createPartitioner: Partitioners.LegacyPartitioner });
    await legacy.send({ topic: 'legacy', messages: keys.slice(0, 40).map((key) => ({ key, value: key })) });
    const oracle = real.Partitioners.LegacyPartitioner();
    for (const p of broker.topic('legacy').partitions) {
      for (const record of await p.read(0)) {
        expect(oracle({ topic: 'legacy', partitionMetadata: metadata(4), message: { key: record.key!.toString(), value: null } })).toBe(p.id);
      }
    }
    // A custom partitioner sees every message, even one with a partition of its own.
    const last = await connected({ createPartitioner: () => ({ partitionMetadata }) => partitionMetadata.length - 1 });
    const [result] = await last.send({ topic: 'custom', messages: [{ value: 'x', partition: 0 }, { key: 'k', value: 'y' }] });
    expect(result).toMatchObject({ topicName: 'custom', partition: 2, baseOffset: '0' });
    // ...also when the topic is created by the send.
    const [created] = await last.send({ topic: 'brand-new', messages: [{ value: 'z' }] });
    expect(created!.partition).toBe(0);
  });

  it('spreads keyless messages round robin with the default partitioner', async () => {
    await kafka.admin().createTopics({ topics: [{ topic: 'spread', numPartitions: 3 }] });
    const producer = await connected();
    const results = await producer.send({ topic: 'spread', messages: Array.from({ length: 6 }, (_, i) => ({ value: `v${i}` })) });
    expect(results.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
    expect(broker.topic('spread').partitions.map((p) => p.logEndOffset)).toEqual([2, 2, 2]);
  });
});

describe('send and sendBatch', () => {
  it('returns one result per partition written, offsets as strings', async () => {
    await kafka.admin().createTopics({ topics: [{ topic: 'a', numPartitions: 2 }, { topic: 'b' }] });
    const producer = await connected();
    await producer.send({ topic: 'a', messages: [{ value: 'first', partition: 1 }] });
    const results = await producer.sendBatch({
      topicMessages: [
        { topic: 'b', messages: [{ value: '1' }] },
        { topic: 'a', messages: [{ value: '2', partition: 1 }, { value: '3', partition: 0 }] },
        { topic: 'b', messages: [{ value: '4' }] },
      ],
    });
    expect(results).toEqual([
      { topicName: 'b', partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' },
      { topicName: 'a', partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' },
      { topicName: 'a', partition: 1, errorCode: 0, baseOffset: '1', logAppendTime: '-1', logStartOffset: '0' },
    ]);
    expect((await broker.topic('b').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(['1', '4']);
  });

  it('accepts acks, timeout and compression; acks 0 answers nothing', async () => {
    const producer = await connected();
    expect(await producer.send({ topic: 'quiet', acks: 0, messages: [{ value: 'x' }] })).toEqual([]);
    const [gzip] = await producer.send({ topic: 'quiet', acks: 1, timeout: 1000, compression: CompressionTypes.GZIP, messages: [{ value: 'y' }] });
    expect(gzip!.baseOffset).toBe('1');
    await expect(producer.send({ topic: 'quiet', compression: CompressionTypes.Snappy, messages: [{ value: 'z' }] })).rejects.toMatchObject({
      name: 'KafkaJSNotImplemented',
      message: 'Snappy compression not implemented',
    });
    const registered = CompressionCodecs[CompressionTypes.Snappy];
    CompressionCodecs[CompressionTypes.Snappy] = () => ({ compress: async (b: Buffer) => b, decompress: async (b: Buffer) => b });
    try {
      expect(await producer.send({ topic: 'quiet', compression: CompressionTypes.Snappy, messages: [{ value: 'z' }] })).toHaveLength(1);
    } finally {
      CompressionCodecs[CompressionTypes.Snappy] = registered!;
    }
  });

  it("compresses each send's batches with its compression once the codec is registered, and consumers read them", async () => {
    const producer = await connected();
    const saved = { ...CompressionCodecs };
    const SnappyCodec = require('kafkajs-snappy') as () => unknown;
    const LZ4Codec = require('kafkajs-lz4') as new () => { codec: () => unknown };
    CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
    CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
    CompressionCodecs[CompressionTypes.ZSTD] = () => ({});
    try {
      const types = [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD];
      for (const compression of types) {
        await producer.send({ topic: 'zipped', compression, messages: [{ key: 'k', value: `v${compression} ${'repeat '.repeat(20)}` }] });
      }
      const batches = await (broker.topic('zipped').partition(0) as unknown as PartitionState).readBatches(0, 1 << 20);
      expect(batches.map((b) => b[22]! & 7)).toEqual(types);
      const consumer = kafka.consumer({ groupId: 'zipped-reader' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'zipped', fromBeginning: true });
      const seen: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString().split(' ')[0]!) });
      for (let i = 0; i < 200 && seen.length < types.length; i++) await new Promise((r) => setTimeout(r, 10));
      await consumer.disconnect();
      expect(seen).toEqual(types.map((t) => `v${t}`));
    } finally {
      Object.assign(CompressionCodecs, saved);
    }
  });

  it('an idempotent producer compresses too: its batches carry the codec, its producer id and sequences', async () => {
    const producer = await connected({ idempotent: true });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => producer.send({ topic: 'zipped-idem', compression: CompressionTypes.GZIP, messages: [{ key: 'k', value: `v${i} ${'repeat '.repeat(20)}` }] })),
    );
    const batches = await (broker.topic('zipped-idem').partition(0) as unknown as PartitionState).readBatches(0, 1 << 20);
    expect(batches.map((b) => b[22]! & 7)).toEqual(batches.map(() => CompressionTypes.GZIP));
    const headers = batches.map((b) => readBatchHeader(b));
    expect(headers[0]!.producerId).toBeGreaterThanOrEqual(0);
    let sequence = 0;
    for (const h of headers) {
      expect([h.producerId, h.baseSequence]).toEqual([headers[0]!.producerId, sequence]);
      sequence += h.recordCount;
    }
    expect(sequence).toBe(5);
    expect((await broker.topic('zipped-idem').partition(0).read(0, { maxRecords: 10 })).map((r) => r.value!.toString().split(' ')[0])).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('takes values, keys and headers as KafkaJS does', async () => {
    const producer = await connected();
    await producer.send({
      topic: 'shapes',
      messages: [
        { key: Buffer.from([1, 2]), value: Buffer.from([3]), headers: { a: 'x', b: Buffer.from('y'), c: ['single'], d: undefined } },
        { value: null },
        { value: 42 as unknown as string },
      ],
    });
    const records = await broker.topic('shapes').partition(0).read(0);
    expect(records[0]).toMatchObject({ key: Buffer.from([1, 2]), value: Buffer.from([3]), headers: { a: Buffer.from('x'), b: Buffer.from('y'), c: Buffer.from('single') } });
    // KafkaJS writes undefined and null header values as Kafka's null; kafkalite has no null header
    // value yet, so they are empty (never the text "null").
    expect(Object.keys(records[0]!.headers)).toEqual(['a', 'b', 'c', 'd']);
    expect(records[0]!.headers.d).toEqual(Buffer.alloc(0));
    expect(records[1]!.value).toBeNull();
    expect(records[2]!.value!.toString()).toBe('42');
    // A header array is the same key written once per value; it reads back as an array, as in KafkaJS.
    await producer.send({ topic: 'shapes', messages: [{ value: 'x', headers: { many: ['1', Buffer.from('2')], one: 'o' } }] });
    const [many] = await broker.topic('shapes').partition(0).read(3);
    expect(many!.headers).toEqual({ many: [Buffer.from('1'), Buffer.from('2')], one: Buffer.from('o') });
  });

  it("validates as KafkaJS' send does", async () => {
    const producer = await connected();
    await expect(producer.send({ topic: '', messages: [{ value: 'x' }] })).rejects.toThrow('Invalid topic');
    await expect(producer.send({ topic: 't', messages: undefined as never })).rejects.toThrow('Invalid messages array [undefined] for topic "t"');
    await expect(producer.send({ topic: 't', messages: [{} as never] })).rejects.toThrow('Invalid message without value for topic "t"');
    expect(await producer.send({ topic: 't', messages: [] })).toEqual([]);
    const idempotent = await connected({ idempotent: true });
    expect(idempotent.isIdempotent()).toBe(true);
    await expect(idempotent.send({ topic: 't', acks: 1, messages: [{ value: 'x' }] })).rejects.toThrow(/invalidates the idempotent producer/);
    const strict = await connected({ allowAutoTopicCreation: false });
    await expect(strict.send({ topic: 'missing', messages: [{ value: 'x' }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(producer.transaction()).rejects.toThrow('Must provide transactional id for transactional producer');
  });

  it('maps broker refusals to KafkaJS protocol errors', async () => {
    await kafka.admin().createTopics({ topics: [{ topic: 'small', configEntries: [{ name: 'max.message.bytes', value: '200' }] }] });
    const producer = await connected();
    await expect(producer.send({ topic: 'small', messages: [{ value: 'x'.repeat(500) }] })).rejects.toMatchObject({
      name: 'KafkaJSProtocolError',
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
    });
    await expect(producer.send({ topic: 'small', messages: [{ value: 'x', partition: 3 }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('emits CONNECT and DISCONNECT', async () => {
    const producer = kafka.producer();
    const events: string[] = [];
    const off = producer.on(producer.events.CONNECT, (e) => events.push(e.type));
    producer.on(producer.events.DISCONNECT, (e) => events.push(e.type));
    await producer.connect();
    off();
    await producer.disconnect();
    await producer.connect();
    await producer.disconnect();
    expect(events).toEqual(['producer.connect', 'producer.disconnect', 'producer.disconnect']);
  });
});
