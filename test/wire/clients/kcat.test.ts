/**
 * kcat (Debian's, librdkafka 2.0) against the listener: metadata, produce (also gzip), consume
 * from the beginning, the end, an offset and a time, offsets by time — and records crossing
 * between kcat and in-process clients with the same offsets, keys, headers and timestamps.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { PartitionState } from '../../../src/topic/partition.js';
import { serve } from '../listener-helpers.js';
import { kcat, requireKcat } from './tools.js';

beforeAll(() => requireKcat());

const FORMAT = '%p|%o|%k|%s|%T|%h\\n';
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0 && !l.startsWith('%'));

describe('kcat', () => {
  it('-L lists the broker and the topics, __consumer_offsets included', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('orders', { partitions: 3 });
    const r = await kcat(['-b', listener.address, '-L']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`broker 0 at ${listener.address}`);
    expect(r.stdout).toContain('topic "orders" with 3 partitions');
    expect(r.stdout).toContain('topic "__consumer_offsets" with 1 partitions');
    expect(r.stdout).toMatch(/partition 2, leader 0, replicas: 0, isrs: 0/);
  });

  it('-P produces keyed messages with headers that an in-process consumer polls with the same offsets, keys, headers and timestamps', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const before = Date.now();
    const r = await kcat(['-b', listener.address, '-P', '-t', 't', '-p', '1', '-K', ':', '-H', 'trace=abc', '-H', 'n=1'], { input: 'k1:v1\nk2:v2\n:v3\n' });
    expect(r.code, r.stderr).toBe(0);
    const consumer = broker.consumer({ autoOffsetReset: 'earliest' });
    await consumer.assign([{ topic: 't', partition: 1 }]);
    const records = await consumer.poll({ timeoutMs: 2000 });
    await consumer.close();
    expect(records.map((x) => [x.partition, x.offset, x.key?.toString() ?? null, x.value!.toString()])).toEqual([
      [1, 0, 'k1', 'v1'],
      [1, 1, 'k2', 'v2'],
      [1, 2, '', 'v3'],
    ]);
    expect(Object.fromEntries(Object.entries(records[0]!.headers).map(([k, v]) => [k, v.toString()]))).toEqual({ trace: 'abc', n: '1' });
    expect(records[0]!.timestamp).toBeGreaterThanOrEqual(before - 1000);
    // kcat sees the same.
    const c = await kcat(['-b', listener.address, '-C', '-t', 't', '-p', '1', '-o', 'beginning', '-e', '-f', FORMAT]);
    expect(lines(c.stdout)).toEqual(records.map((x) => `1|${x.offset}|${x.key?.toString() ?? ''}|${x.value!.toString()}|${x.timestamp}|trace=abc,n=1`));
  });

  it('-C reads what in-process producers wrote, from the beginning, the end, an offset and a time', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const p = broker.producer();
    for (let i = 0; i < 5; i++) await p.send({ topic: 't', messages: [{ key: `k${i}`, value: `v${i}`, timestamp: 1_700_000_000_000 + i * 1000, headers: { i: String(i) } }] });
    const consume = async (offset: string) => {
      const r = await kcat(['-b', listener.address, '-C', '-t', 't', '-p', '0', '-o', offset, '-e', '-f', FORMAT]);
      expect(r.code, r.stderr).toBe(0);
      return lines(r.stdout);
    };
    expect(await consume('beginning')).toEqual([0, 1, 2, 3, 4].map((i) => `0|${i}|k${i}|v${i}|${1_700_000_000_000 + i * 1000}|i=${i}`));
    expect(await consume('3')).toHaveLength(2);
    expect(await consume('-2')).toEqual(['0|3|k3|v3|1700000003000|i=3', '0|4|k4|v4|1700000004000|i=4']);
    expect(await consume('end')).toEqual([]);
    expect((await consume(`s@${1_700_000_002_500}`)).map((l) => l.split('|')[1])).toEqual(['3', '4']);
  });

  it('-Q answers offsets by time', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const p = broker.producer();
    for (let i = 0; i < 4; i++) await p.send({ topic: 't', messages: [{ value: `v${i}`, partition: 0, timestamp: 1000 * (i + 1) }] });
    const r = await kcat(['-b', listener.address, '-Q', '-t', 't:0:2500', '-t', 't:1:2500']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('t [0] offset 2');
    expect(r.stdout).toContain('t [1] offset -1');
  });

  it('-P -z zstd: the compressed batch is stored as it is, read back by kcat and in-process', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('z');
    const input = Array.from({ length: 200 }, (_, i) => `message ${i} ${'compressible '.repeat(10)}`).join('\n') + '\n';
    const r = await kcat(['-b', listener.address, '-P', '-t', 'z', '-p', '0', '-z', 'zstd'], { input });
    expect(r.code, r.stderr).toBe(0);
    const stored = await (broker.topic('z').partition(0) as unknown as PartitionState).readBatches(0, 1 << 30);
    expect(stored.length).toBeGreaterThan(0);
    for (const b of stored) expect(b[22]! & 7).toBe(4); // zstd
    const c = await kcat(['-b', listener.address, '-C', '-t', 'z', '-o', 'beginning', '-e', '-f', '%o %s\\n']);
    expect(lines(c.stdout)).toEqual(input.split('\n').filter((l) => l.length > 0).map((m, i) => `${i} ${m}`));
    const read = await broker.topic('z').partition(0).read(0, { maxRecords: 1000 });
    expect(read.map((x) => x.value!.toString())).toEqual(input.split('\n').filter((l) => l.length > 0));
  });

  it('-P -z gzip produces (librdkafka 2.0 sends gzip only to brokers that list Produce v0, so the batch goes uncompressed, as against Kafka 4)', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('g');
    const input = Array.from({ length: 50 }, (_, i) => `gzip me ${i} ${'again '.repeat(10)}`).join('\n') + '\n';
    const r = await kcat(['-b', listener.address, '-P', '-t', 'g', '-z', 'gzip'], { input });
    expect(r.code, r.stderr).toBe(0);
    const records = await broker.topic('g').partition(0).read(0, { maxRecords: 100 });
    expect(records.map((x) => x.value!.toString())).toEqual(input.split('\n').filter((l) => l.length > 0));
  });

  it('a record produced in-process and one produced by kcat interleave in one log, each read back the same by both sides', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('mix');
    await broker.producer().send({ topic: 'mix', messages: [{ key: 'a', value: 'from-node', headers: { side: 'node' }, timestamp: 1_700_000_000_123 }] });
    expect((await kcat(['-b', listener.address, '-P', '-t', 'mix', '-K', ':', '-H', 'side=kcat'], { input: 'b:from-kcat\n' })).code).toBe(0);
    const records = await broker.topic('mix').partition(0).read(0);
    expect(records.map((x) => [x.offset, x.key!.toString(), x.value!.toString(), x.headers.side!.toString()])).toEqual([
      [0, 'a', 'from-node', 'node'],
      [1, 'b', 'from-kcat', 'kcat'],
    ]);
    const c = await kcat(['-b', listener.address, '-C', '-t', 'mix', '-o', 'beginning', '-e', '-f', FORMAT]);
    expect(lines(c.stdout)).toEqual(records.map((x) => `0|${x.offset}|${x.key}|${x.value}|${x.timestamp}|side=${x.headers.side}`));
  });
});
