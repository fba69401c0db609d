/**
 * What a Broker on a FileStorage leaves on disk is Kafka's layout, byte for byte: `.log` files
 * that KafkaJS' own RecordBatch decoder reads, named by the base offset of their first batch,
 * with Kafka-format `.index` / `.timeindex` entries and recovery checkpoint. And a Broker
 * reopened on the folder finds its topics, configs, records and committed group offsets.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, FileStorage, batchLastOffset, batchMaxTimestamp, type Message } from 'kafkalite';
import { kafkajsDecodeBatch } from '../../codec/kafkajs-oracle.js';
import { int, removeAll, rng, segments, splitBatches, tempDir } from './fs-helpers.js';

const dirs: string[] = [];
const brokers: Broker[] = [];

afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close().catch(() => undefined);
  removeAll(dirs);
});

async function openBroker(dir: string, options: { segmentBytes?: number } = {}): Promise<Broker> {
  const broker = await Broker.open({ storage: new FileStorage({ dir, ...options }) });
  brokers.push(broker);
  return broker;
}

interface Sent {
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp: number;
}

const text = (b: Buffer | null | undefined): string | null => (b == null ? null : b.toString('utf8'));

describe('golden layout', () => {
  it('writes .log files that KafkaJS decodes into exactly the records sent, with Kafka-format indexes', async () => {
    const dir = tempDir('golden');
    dirs.push(dir);
    const broker = await openBroker(dir);
    await broker.createTopic('golden', { partitions: 2, segmentBytes: 1024 });
    const producer = broker.producer();
    const r = rng(2024);
    const sent: Sent[][] = [[], []];
    let clock = 1_700_000_000_000;
    for (let call = 0; call < 40; call++) {
      const partition = int(r, 0, 1);
      const messages: Message[] = [];
      const n = int(r, 1, 6);
      for (let i = 0; i < n; i++) {
        clock += int(r, -3, 20); // not always increasing: maxTimestamp must still be right
        const value = r() < 0.08 ? null : `v${call}.${i}:${'x'.repeat(int(r, 0, 120))}`;
        const key = r() < 0.15 ? null : `k${call}.${i}`;
        const headers: Record<string, string> = r() < 0.4 ? { trace: `t${call}`, 'üñï': `h${i}`, empty: '' } : {};
        messages.push({ key, value, headers, timestamp: clock, partition });
      }
      const [meta] = await producer.send({ topic: 'golden', messages });
      expect(meta!.partition).toBe(partition);
      messages.forEach((m, i) =>
        sent[partition]!.push({ offset: meta!.baseOffset + i, key: m.key as string | null, value: m.value as string | null, headers: m.headers as Record<string, string>, timestamp: m.timestamp! }),
      );
    }
    await broker.close();

    expect(existsSync(join(dir, '.kafka_cleanshutdown')), 'clean-shutdown marker').toBe(true);
    const checkpoint = readFileSync(join(dir, 'recovery-point-offset-checkpoint'), 'utf8').split('\n');
    expect(checkpoint[0], 'checkpoint version').toBe('0');
    expect(Number(checkpoint[1]), 'checkpoint entry count').toBe(checkpoint.slice(2).filter((l) => l.length > 0).length);
    const topics = JSON.parse(readFileSync(join(dir, 'topics.json'), 'utf8')) as { topics: { name: string; partitions: number }[] };
    expect(topics.topics.find((t) => t.name === 'golden')?.partitions).toBe(2);

    for (const partition of [0, 1]) {
      const part = join(dir, `golden-${partition}`);
      expect(checkpoint, 'the checkpoint names each partition with its end').toContain(`golden ${partition} ${sent[partition]!.length}`);
      const segs = segments(part);
      expect(segs.length, `golden-${partition} rolled segments`).toBeGreaterThanOrEqual(3);
      for (const name of readdirSync(part)) expect(name, 'only segment files').toMatch(/^\d{20}\.(log|index|timeindex|txnindex)$/);
      for (const seg of segs) expect(readFileSync(seg.log.replace(/\.log$/, '.txnindex')).length, 'no aborted transaction: an empty .txnindex').toBe(0);

      const decoded: Sent[] = [];
      for (const seg of segs) {
        const file = basename(seg.log);
        const batches = splitBatches(readFileSync(seg.log));
        expect(batches.length, `${file} is not empty`).toBeGreaterThan(0);
        let first = true;
        for (const { position, batch } of batches) {
          const kb = await kafkajsDecodeBatch(batch);
          expect(kb.records.length, `${file}@${position}: records`).toBe(kb.lastOffsetDelta + 1);
          if (first) expect(file, 'the file is named by the base offset of its first batch').toBe(`${kb.firstOffset.padStart(20, '0')}.log`);
          first = false;
          expect(kb.maxTimestamp).toBe(String(Math.max(...kb.records.map((x) => Number(x.timestamp)))));
          expect(kb.isControlBatch || kb.inTransaction).toBe(false);
          for (const rec of kb.records) {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(rec.headers)) headers[k] = text(v as Buffer | null) ?? '';
            decoded.push({ offset: Number(rec.offset), key: text(rec.key), value: text(rec.value), headers, timestamp: Number(rec.timestamp) });
          }
        }
        checkIndexes(seg.base, seg.index, seg.timeindex, batches, file);
      }
      expect(decoded, `golden-${partition}: every record, decoded by KafkaJS`).toEqual(sent[partition]);
    }
  });
});

/** `.index`: 8-byte entries at batch starts naming the batch's last offset; `.timeindex`: 12-byte entries, timestamps not decreasing. */
function checkIndexes(base: number, indexPath: string, timeIndexPath: string, batches: { position: number; batch: Buffer }[], file: string): void {
  const index = readFileSync(indexPath);
  expect(index.length % 8, `${file}: .index is made of 8-byte entries`).toBe(0);
  expect(index.length, `${file}: .index has an entry`).toBeGreaterThan(0);
  let prevRel = -1;
  let prevPos = -1;
  for (let at = 0; at < index.length; at += 8) {
    const rel = index.readInt32BE(at);
    const position = index.readInt32BE(at + 4);
    expect(rel, `${file}: relative offsets increase`).toBeGreaterThan(prevRel);
    expect(position, `${file}: positions increase`).toBeGreaterThan(prevPos);
    const batch = batches.find((b) => b.position === position);
    expect(batch, `${file}: index entry at byte ${position} is a batch start`).toBeDefined();
    expect(batchLastOffset(batch!.batch), `${file}: entry (${rel}, ${position}) names its batch's last offset`).toBe(base + rel);
    prevRel = rel;
    prevPos = position;
  }
  const time = readFileSync(timeIndexPath);
  expect(time.length % 12, `${file}: .timeindex is made of 12-byte entries`).toBe(0);
  expect(time.length, `${file}: .timeindex has an entry`).toBeGreaterThan(0);
  let prevTs = -1n;
  for (let at = 0; at < time.length; at += 12) {
    const ts = time.readBigInt64BE(at);
    const rel = time.readInt32BE(at + 8);
    expect(ts >= prevTs, `${file}: timestamps do not decrease`).toBe(true);
    // Kafka's entry: the largest timestamp so far, and the last offset of the batch that reached it.
    const upTo = batches.findIndex((b) => batchLastOffset(b.batch) === base + rel);
    expect(upTo, `${file}: time entry offset ${base + rel} ends a batch`).toBeGreaterThanOrEqual(0);
    const maxSoFar = Math.max(...batches.slice(0, upTo + 1).map((b) => batchMaxTimestamp(b.batch)));
    expect(Number(ts), `${file}: time entry is the largest timestamp so far`).toBe(maxSoFar);
    prevTs = ts;
  }
}

describe('reopen through a Broker', () => {
  it('keeps topics, configs, records and committed group offsets; a new group member resumes there', async () => {
    const dir = tempDir('reopen');
    dirs.push(dir);
    const first = await openBroker(dir);
    await first.createTopic('orders', { partitions: 3, retentionMs: 3_600_000, retentionBytes: 1_000_000, segmentBytes: 2048 });
    await first.createTopic('audit', { partitions: 1, retentionMs: -1 });
    const producer = first.producer();
    for (let i = 0; i < 60; i++) {
      await producer.send({ topic: 'orders', messages: [{ key: `k${i}`, value: `order-${i}`, headers: { n: String(i) }, partition: i % 3 }] });
    }
    await producer.send({ topic: 'audit', messages: [{ value: 'a0' }, { value: 'a1' }] });
    const before = [0, 1, 2].map((p) => first.topic('orders').partition(p));
    const ends = before.map((p) => p.logEndOffset);
    expect(ends).toEqual([20, 20, 20]);
    const records = await Promise.all(before.map((p) => p.read(0, { maxRecords: 1000 })));

    const consumer = first.consumer({ groupId: 'g', autoCommit: false, autoOffsetReset: 'earliest' });
    await consumer.subscribe('orders');
    let polled = 0;
    for (let round = 0; round < 100 && polled < 60; round++) polled += (await consumer.poll()).length;
    expect(polled).toBe(60);
    const commits = [
      { topic: 'orders', partition: 0, offset: 7 },
      { topic: 'orders', partition: 1, offset: 20 },
      { topic: 'orders', partition: 2, offset: 13 },
    ];
    await consumer.commit(commits);
    await consumer.close();
    await first.close();

    const second = await openBroker(dir);
    expect(second.listTopics()).toEqual(['audit', 'orders']);
    const orders = second.topic('orders');
    expect(orders.partitions).toHaveLength(3);
    expect(orders.config).toMatchObject({ partitions: 3, retentionMs: 3_600_000, retentionBytes: 1_000_000, segmentBytes: 2048 });
    expect(second.topic('audit').config.retentionMs).toBe(-1);
    for (const p of [0, 1, 2]) {
      expect(orders.partition(p).logEndOffset).toBe(ends[p]);
      const again = await orders.partition(p).read(0, { maxRecords: 1000 });
      expect(again.map((x) => [x.offset, text(x.key), text(x.value), text((x.headers.n as Buffer | undefined) ?? null), x.timestamp])).toEqual(
        records[p]!.map((x) => [x.offset, text(x.key), text(x.value), text((x.headers.n as Buffer | undefined) ?? null), x.timestamp]),
      );
    }
    expect((await second.topic('audit').partition(0).read(0)).map((x) => text(x.value))).toEqual(['a0', 'a1']);
    for (const c of commits) expect(await second.group('g').committed(c)).toBe(c.offset);

    const resumed = second.consumer({ groupId: 'g', autoCommit: false, autoOffsetReset: 'earliest' });
    await resumed.subscribe('orders');
    for (const c of commits) expect(resumed.position(c)).toBe(c.offset);
    const got = new Map<number, number[]>();
    for (let round = 0; round < 100 && [...got.values()].flat().length < 20; round++) {
      for (const x of await resumed.poll()) got.set(x.partition, [...(got.get(x.partition) ?? []), x.offset]);
    }
    expect(got.get(0)?.[0]).toBe(7);
    expect(got.get(1)).toBeUndefined();
    expect(got.get(2)?.[0]).toBe(13);
    expect([...got.values()].flat()).toHaveLength(13 + 7);

    // The log goes on where it ended.
    const [meta] = await second.producer().send({ topic: 'orders', messages: [{ value: 'after', partition: 1 }] });
    expect(meta!.baseOffset).toBe(20);
  });
});
