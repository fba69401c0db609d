/**
 * The committed golden folders (format v5, docs/format.md; and v4 to v1, still read): today's
 * code reads them, KafkaJS' decoder reads their segment files, and writing the same records again
 * gives the current version's bytes (topic ids, which are random, aside).
 */
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, FileStorage, batchSize } from 'kafkalite';
import { kafkajsDecodeBatch } from '../../codec/kafkajs-oracle.js';
import type { PartitionState } from '../../../src/topic/partition.js';
import { TXN_ENTRY_SIZE } from '../../../src/storage/fs/transaction-index.js';
import { GOLDEN_DIR, GOLDEN_MESSAGES, GOLDEN_PAYMENTS_COMMITTED, GOLDEN_PRICES, GOLDEN_START_MS, OLDER_GOLDEN_DIRS, writeGolden } from '../../fixtures/golden.js';

const temps: string[] = [];
async function temp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kafkalite-golden-'));
  temps.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Every file of a folder, relative path → bytes. */
function files(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory()) for (const [k, v] of files(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

const bytes = (v: string | Uint8Array | null | undefined): Buffer | null => (v == null ? null : Buffer.from(v));

describe.each([GOLDEN_DIR, ...OLDER_GOLDEN_DIRS])('golden FileStorage folder %s', (goldenDir) => {
  it('is read by today’s code: topics, configs, records and committed offsets', async () => {
    const dir = await temp();
    cpSync(goldenDir, dir, { recursive: true });
    const broker = await Broker.open({ storage: new FileStorage({ dir }) });
    expect(broker.listTopics().filter((t) => t !== 'prices' && t !== 'payments')).toEqual(['orders']); // prices: format v4 on; payments: v5 on
    const topic = broker.topic('orders');
    expect(topic.config).toMatchObject({ partitions: 2, segmentBytes: 512, retentionMs: -1 });
    const p0 = await topic.partition(0).read(0, { maxRecords: 100 });
    const expected0 = GOLDEN_MESSAGES.filter((m) => m.partition === 0);
    expect(p0.map((r) => r.offset)).toEqual(expected0.map((_, i) => i));
    p0.forEach((r, i) => {
      const m = expected0[i]!;
      expect(r.key).toEqual(bytes(m.key));
      expect(r.value).toEqual(bytes(m.value));
      expect(Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()]))).toEqual(m.headers ?? {});
      if (m.timestamp !== undefined) expect(r.timestamp).toBe(m.timestamp);
      else expect(r.timestamp).toBeGreaterThanOrEqual(GOLDEN_START_MS);
    });
    expect((await topic.partition(1).read(0)).map((r) => r.value!.toString())).toEqual(['order placed']);
    expect(await broker.group('billing').committed({ topic: 'orders', partition: 0 })).toBe(3);
    const id = topic.id;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    if (goldenDir === GOLDEN_DIR) expect(id).toBe(goldenTopicIds(goldenDir).get('orders'));
    // Older folders have no ids: one is given at open and saved with the next write of topics.json.
    await broker.createTopic('another');
    await broker.close();
    const again = await Broker.open({ storage: new FileStorage({ dir }) });
    expect(again.topic('orders').id).toBe(id);
    await again.close();
  });

  it('holds segments KafkaJS decodes, named by their base offsets, with 8- and 12-byte index entries', async () => {
    const dir = join(goldenDir, 'orders-0');
    const logs = readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
    expect(logs.length).toBeGreaterThan(1);
    let next = 0;
    for (const name of logs) {
      const log = readFileSync(join(dir, name));
      expect(name).toBe(`${String(next).padStart(20, '0')}.log`);
      for (let at = 0; at < log.length; ) {
        const size = batchSize(log, at);
        const batch = await kafkajsDecodeBatch(log.subarray(at, at + size));
        for (const r of batch.records) expect(Number(r.offset)).toBe(next++);
        at += size;
      }
      expect(readFileSync(join(dir, name.replace('.log', '.index'))).length % 8).toBe(0);
      expect(readFileSync(join(dir, name.replace('.log', '.timeindex'))).length % 12).toBe(0);
    }
    expect(next).toBe(GOLDEN_MESSAGES.filter((m) => m.partition === 0).length);
  });
});

describe('golden compacted topic (format v4 on)', () => {
  /** What the cleaner keeps of GOLDEN_PRICES: see writeGolden. */
  const kept = [7, 9, 10, 11];

  it('is read with its gaps: offsets as produced, the latest price per product, no tombstone left', async () => {
    const dir = await temp();
    cpSync(GOLDEN_DIR, dir, { recursive: true });
    const broker = await Broker.open({ storage: new FileStorage({ dir }) });
    const p = broker.topic('prices').partition(0);
    const records = await p.read(0);
    expect(records.map((r) => r.offset)).toEqual(kept);
    for (const r of records) expect([r.key!.toString(), r.value?.toString() ?? null]).toEqual(GOLDEN_PRICES[r.offset]);
    expect([p.logStartOffset, p.logEndOffset]).toEqual([0, GOLDEN_PRICES.length]);
    expect((await p.read(1, { maxRecords: 1 }))[0]!.offset).toBe(7); // from a removed offset: the next one kept
    await broker.close();
  });

  it('holds segments KafkaJS decodes unchanged: thinned batches, empty batches over removed ones, timestamps as produced', async () => {
    const dir = join(GOLDEN_DIR, 'prices-0');
    const offsets: number[] = [];
    let next = 0;
    let empty = 0;
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
      const log = readFileSync(join(dir, name));
      expect(name).toBe(`${String(next).padStart(20, '0')}.log`); // segments still meet end to end
      for (let at = 0; at < log.length; ) {
        const size = batchSize(log, at);
        const batch = await kafkajsDecodeBatch(log.subarray(at, at + size));
        expect(Number(batch.firstOffset)).toBe(next); // batches follow offset by offset
        if (batch.records.length === 0) empty++;
        for (const r of batch.records) {
          offsets.push(Number(r.offset));
          expect([r.key!.toString(), r.value?.toString() ?? null]).toEqual(GOLDEN_PRICES[Number(r.offset)]);
          expect(Number(r.timestamp)).toBeGreaterThanOrEqual(GOLDEN_START_MS);
          expect(Number(r.timestamp)).toBeLessThan(GOLDEN_START_MS + 60_000);
        }
        next = Number(batch.firstOffset) + batch.lastOffsetDelta + 1;
        at += size;
      }
    }
    expect(offsets).toEqual(kept);
    expect(empty).toBeGreaterThan(0);
  });
});

describe('golden transactional topic (format v5 on)', () => {
  it('holds a .txnindex per segment, in Kafka’s 34-byte entries: the aborted transaction of pay-a', () => {
    const dir = join(GOLDEN_DIR, 'payments-0');
    const txn = readFileSync(join(dir, '00000000000000000000.txnindex'));
    expect(txn.length).toBe(TXN_ENTRY_SIZE);
    // version, producer id, first offset, last offset (the marker), last stable offset (pay-b's first)
    expect([txn.readInt16BE(0), ...[2, 10, 18, 26].map((at) => Number(txn.readBigInt64BE(at)))]).toEqual([0, 0, 0, 2, 1]);
    for (const part of readdirSync(GOLDEN_DIR, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      for (const log of readdirSync(join(GOLDEN_DIR, part.name)).filter((n) => n.endsWith('.log'))) {
        const size = readFileSync(join(GOLDEN_DIR, part.name, log.replace('.log', '.txnindex'))).length;
        expect(size, `${part.name}/${log}`).toBe(part.name === 'payments-0' ? TXN_ENTRY_SIZE : 0);
      }
    }
  });

  it('is read through the index: read_committed gets the aborted transaction, the same after the index is rebuilt from the log', async () => {
    const dir = await temp();
    cpSync(GOLDEN_DIR, dir, { recursive: true });
    for (const rebuilt of [false, true]) {
      if (rebuilt) rmSync(join(dir, 'payments-0', '00000000000000000000.txnindex'));
      const broker = await Broker.open({ storage: new FileStorage({ dir }) });
      const p = broker.topic('payments').partition(0) as unknown as PartitionState;
      const read = await p.readCommitted(0, 1 << 20);
      expect(read.lastStableOffset).toBe(6);
      expect(read.abortedTransactions).toEqual([{ producerId: 0, firstOffset: 0, lastOffset: 2 }]);
      const consumer = broker.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
      await consumer.assign([{ topic: 'payments', partition: 0 }]);
      const seen: string[] = [];
      while (seen.length < GOLDEN_PAYMENTS_COMMITTED.length) seen.push(...(await consumer.poll({ timeoutMs: 50 })).map((r) => r.value!.toString()));
      expect(seen).toEqual(GOLDEN_PAYMENTS_COMMITTED);
      await broker.close();
      expect(readFileSync(join(dir, 'payments-0', '00000000000000000000.txnindex')).equals(readFileSync(join(GOLDEN_DIR, 'payments-0', '00000000000000000000.txnindex')))).toBe(true);
    }
  });
});

describe('golden FileStorage folder (the current format)', () => {
  it('is what the code writes today, byte for byte', async () => {
    const dir = await temp();
    await writeGolden(dir);
    const golden = files(GOLDEN_DIR);
    const fresh = files(dir);
    expect([...fresh.keys()].sort()).toEqual([...golden.keys()].sort());
    for (const [name, content] of golden) {
      if (name === 'topics.json') expect(withoutIds(fresh.get(name)!)).toBe(withoutIds(content));
      else expect(fresh.get(name)!.equals(content), name).toBe(true);
    }
    const ids = [...goldenTopicIds(dir).values()];
    expect(new Set(ids).size).toBe(ids.length);
  });
});

/** topics.json with every topic id replaced by a placeholder (ids are random). */
function withoutIds(topicsJson: Buffer): string {
  return topicsJson.toString('utf8').replace(/"id": "[A-Za-z0-9_-]{22}"/g, '"id": "<id>"');
}

function goldenTopicIds(dir: string): Map<string, string> {
  const parsed = JSON.parse(readFileSync(join(dir, 'topics.json'), 'utf8')) as { topics: { name: string; id: string }[] };
  return new Map(parsed.topics.map((t) => [t.name, t.id]));
}
