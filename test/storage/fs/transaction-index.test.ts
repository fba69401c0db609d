/**
 * FileStorage's `.txnindex` (src/storage/fs/transaction-index.ts): Kafka's entry layout and its
 * checks, an entry lost by a crash rebuilt from the log, and the file going with its segment
 * through retention, cleaning and topic deletion.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { openStorage, tempDir } from './fs-helpers.js';
import { buildControlBatch } from '../../../src/codec/control-batch.js';
import { setBatchBaseOffset } from '../../../src/codec/record-batch.js';
import { TransactionIndex, TXN_ENTRY_SIZE } from '../../../src/storage/fs/transaction-index.js';
import type { AbortedTransaction } from '../../../src/storage/storage.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = tempDir('txnindex');
  dirs.push(d);
  return d;
}

const entry = (producerId: number, firstOffset: number, lastOffset: number, lastStableOffset: number) => ({ producerId, firstOffset, lastOffset, lastStableOffset });

describe('TransactionIndex', () => {
  it('writes Kafka’s 34-byte entries and loads them back', () => {
    const index = new TransactionIndex(100);
    const bytes = index.add(entry(7, 100, 104, 102));
    expect(bytes.length).toBe(TXN_ENTRY_SIZE);
    expect([bytes.readInt16BE(0), ...[2, 10, 18, 26].map((at) => Number(bytes.readBigInt64BE(at)))]).toEqual([0, 7, 100, 104, 102]);
    index.add(entry(8, 90, 110, 111));
    expect(TransactionIndex.load(100, index.bytes(), 120)?.entries).toEqual([entry(7, 100, 104, 102), entry(8, 90, 110, 111)]);
  });

  it('refuses bytes that cannot be right for the segment (the caller rebuilds from the log)', () => {
    const good = TransactionIndex.of(100, [entry(7, 100, 104, 102), entry(8, 90, 110, 111)]).bytes();
    expect(TransactionIndex.load(100, good.subarray(0, good.length - 1), 120), 'a torn entry').toBeUndefined();
    const version = Buffer.from(good);
    version.writeInt16BE(1, 0);
    expect(TransactionIndex.load(100, version, 120), 'an unknown version').toBeUndefined();
    expect(TransactionIndex.load(100, good, 110), 'a marker past the segment’s end').toBeUndefined();
    expect(TransactionIndex.load(105, good, 120), 'a marker before the segment’s base').toBeUndefined();
    const swapped = Buffer.concat([good.subarray(TXN_ENTRY_SIZE), good.subarray(0, TXN_ENTRY_SIZE)]);
    expect(TransactionIndex.load(100, swapped, 120), 'markers out of order').toBeUndefined();
    expect(TransactionIndex.load(100, Buffer.alloc(0), 120)?.entries, 'empty: no aborted transaction').toEqual([]);
  });

  it('collects as Kafka’s collectAbortedTxns: overlapping entries, complete at a last stable offset past the fetch', () => {
    const index = TransactionIndex.of(0, [entry(1, 0, 3, 2), entry(2, 2, 6, 7), entry(3, 5, 9, 10)]);
    const out: AbortedTransaction[] = [];
    expect(index.collect(4, 6, out)).toBe(true); // the second entry's last stable offset 7 >= 6
    expect(out).toEqual([{ producerId: 2, firstOffset: 2, lastOffset: 6 }]);
    const all: AbortedTransaction[] = [];
    expect(index.collect(0, 20, all)).toBe(false); // a later segment may hold more
    expect(all.map((t) => t.producerId)).toEqual([1, 2, 3]);
  });
});

/** One aborted and one committed transaction in `t` (1 partition): [a1] ABORT [b1] COMMIT. */
async function abortOne(d: string, config: Record<string, unknown> = {}): Promise<void> {
  const broker = await Broker.open({ storage: new FileStorage({ dir: d }) });
  await broker.createTopic('t', { partitions: 1, ...config });
  const producer = broker.producer({ transactionalId: 'tx' });
  const a = producer.transaction();
  await a.send({ topic: 't', messages: [{ key: 'k', value: 'a1' }] });
  await a.abort();
  const b = producer.transaction();
  await b.send({ topic: 't', messages: [{ key: 'k', value: 'b1' }] });
  await b.commit();
  await broker.close();
}

async function abortedOnOpen(d: string): Promise<AbortedTransaction[]> {
  const storage = new FileStorage({ dir: d });
  const broker = await Broker.open({ storage });
  const aborted = await storage.log('t', 0).abortedTransactions!(0, Number.MAX_SAFE_INTEGER);
  await broker.close();
  return aborted;
}

describe('.txnindex recovery', () => {
  for (const clean of [true, false]) {
    it(`an entry lost while its marker reached the log is rebuilt at open (${clean ? 'clean-shutdown marker present' : 'after a crash'})`, async () => {
      const d = dir();
      await abortOne(d);
      const path = join(d, 't-0', '00000000000000000000.txnindex');
      const written = readFileSync(path);
      expect(written.length).toBe(TXN_ENTRY_SIZE);
      writeFileSync(path, Buffer.alloc(0)); // whole, but short of the marker's entry
      if (!clean) rmSync(join(d, '.kafka_cleanshutdown'));
      expect(await abortedOnOpen(d)).toEqual([{ producerId: 0, firstOffset: 0, lastOffset: 1 }]);
      expect(readFileSync(path).equals(written), 'the file was rebuilt as it was written').toBe(true);
    });
  }

  it('entries past a torn tail are dropped with it', async () => {
    const d = dir();
    await abortOne(d);
    const log = join(d, 't-0', '00000000000000000000.log');
    const bytes = readFileSync(log);
    // Cut into the abort marker (the second batch): the tail is torn there.
    const firstBatch = 12 + bytes.readInt32BE(8);
    writeFileSync(log, bytes.subarray(0, firstBatch + 20));
    expect(await abortedOnOpen(d)).toEqual([]);
    expect(statSync(join(d, 't-0', '00000000000000000000.txnindex')).size).toBe(0);
  });
});

describe('FileLog.abortedTransactions', () => {
  it('counts an abort marker from its append on, while its round is still being written, and once only after', async () => {
    const storage = await openStorage(dir(), { fsync: 'always' });
    const log = storage.log('t', 0);
    const marker = buildControlBatch(5, 0, false, 0, 0);
    setBatchBaseOffset(marker, 0);
    const written = log.append(marker, entry(5, 0, 0, 1));
    const aborted = [{ producerId: 5, firstOffset: 0, lastOffset: 0 }];
    expect(await log.abortedTransactions!(0, 1), 'queued').toEqual(aborted);
    await written;
    expect(await log.abortedTransactions!(0, 1), 'written').toEqual(aborted);
    expect(await log.abortedTransactions!(1, 5), 'a fetch after the marker').toEqual([]);
    await storage.close();
  });
});

describe('.txnindex with its segment', () => {
  const txnFiles = (d: string) => readdirSync(join(d, 't-0')).filter((n) => n.endsWith('.txnindex')).sort();
  const logFiles = (d: string) => readdirSync(join(d, 't-0')).filter((n) => n.endsWith('.log')).sort();

  it('is made with each segment and deleted with it by retention', async () => {
    const d = dir();
    const broker = await Broker.open({ storage: new FileStorage({ dir: d }) });
    await broker.createTopic('t', { partitions: 1, segmentBytes: 200, retentionBytes: 400 });
    const producer = broker.producer({ transactionalId: 'tx' });
    for (let i = 0; i < 12; i++) {
      const t = producer.transaction();
      await t.send({ topic: 't', messages: [{ value: `v${i}` }] });
      await (i % 2 === 0 ? t.abort() : t.commit());
    }
    await broker.topic('t').partition(0).read(0); // let the retention of the last append settle
    await broker.close();
    expect(logFiles(d).length).toBeGreaterThan(1);
    expect(txnFiles(d).map((n) => n.replace('.txnindex', '.log'))).toEqual(logFiles(d));
    expect(logFiles(d)[0]).not.toBe('00000000000000000000.log'); // retention dropped the first
  });

  it('keeps its entries through a cleaning pass that merges segments, and the merged file is read back', async () => {
    const d = dir();
    const storage = new FileStorage({ dir: d });
    const broker = await Broker.open({ storage });
    const topic = await broker.createTopic('t', { partitions: 1, segmentBytes: 600, cleanupPolicy: 'compact' });
    const producer = broker.producer({ transactionalId: 'tx' });
    for (let i = 0; i < 10; i++) {
      const t = producer.transaction();
      // Large values, mostly superseded: cleaned segments shrink enough to be merged.
      await t.send({ topic: 't', messages: [{ key: `k${i % 2}`, value: `v${i}`.padEnd(150, '.') }] });
      await (i % 3 === 0 ? t.abort() : t.commit());
    }
    const log = storage.log('t', 0);
    const before = await log.abortedTransactions!(0, Number.MAX_SAFE_INTEGER);
    expect(before.length).toBe(4);
    const segmentsBefore = logFiles(d).length;
    await topic.compact();
    expect(logFiles(d).length).toBeLessThan(segmentsBefore);
    expect(txnFiles(d).map((n) => n.replace('.txnindex', '.log'))).toEqual(logFiles(d));
    expect(await log.abortedTransactions!(0, Number.MAX_SAFE_INTEGER)).toEqual(before);
    await broker.close();
    expect(await abortedOnOpen(d)).toEqual(before);
  });

  it('goes with its topic', async () => {
    const d = dir();
    await abortOne(d);
    const broker = await Broker.open({ storage: new FileStorage({ dir: d }) });
    await broker.deleteTopic('t');
    await broker.close();
    expect(existsSync(join(d, 't-0'))).toBe(false);
  });
});
