/**
 * Compacted topics and compressed batches, on both storages and with every codec: a compacted
 * topic refuses keyless records inside compressed batches too (a hostile review found them taken),
 * and the cleaner cleans compressed batches as Kafka's does — their keys count in its offset map,
 * their superseded records and expired tombstones go, and what is left is written back in the
 * batch's own codec at the same offsets (they used to be kept whole: old values outlived newer
 * records of their key, and a deleted key came back once its tombstone went).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage, KafkaliteError, ManualClock, MemoryStorage, checkBatch, readBatchHeader, type Storage } from '../../src/index.js';
import { tempDir } from '../storage/fs/fs-helpers.js';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const CODEC_NAMES = ['none', ...CODECS];
const DELETE_RETENTION_MS = 1000;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('compacted topics and compressed batches', () => {
  it('a keyless record in a gzip batch is refused (INVALID_ARGUMENT), nothing appended; keyed ones go in', async () => {
    const broker = await Broker.open();
    await broker.createTopic('c', { cleanupPolicy: 'compact' });
    const producer = broker.producer({ compression: 'gzip' });
    const error = await producer.send({ topic: 'c', messages: [{ key: 'k', value: 'a' }, { value: 'no key' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaliteError);
    expect((error as KafkaliteError).code).toBe('INVALID_ARGUMENT');
    expect(broker.topic('c').partition(0).logEndOffset).toBe(0);
    await producer.send({ topic: 'c', messages: [{ key: 'k', value: 'b' }] });
    expect((await broker.topic('c').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(['b']);
    await broker.close();
  });
});

/** Each record as `offset:key=value`. */
type Row = string;

/** The partition's records through `partition.read`, and through a consumer polling from the start: both must agree. */
async function readBoth(broker: Broker, group: string): Promise<Row[]> {
  const p = broker.topic('c').partition(0);
  const read = (await p.read(0, { maxRecords: 10_000 })).map((r) => `${r.offset}:${r.key!.toString()}=${r.value?.toString() ?? 'null'}`);
  const consumer = broker.consumer({ groupId: group, autoOffsetReset: 'earliest', autoCommit: false });
  await consumer.assign([{ topic: 'c', partition: 0 }]);
  const polled: Row[] = [];
  for (let i = 0; i < 50 && (polled.length === 0 || !polled[polled.length - 1]!.startsWith(`${p.logEndOffset - 1}:`)); i++) {
    for (const r of await consumer.poll()) polled.push(`${r.offset}:${r.key!.toString()}=${r.value?.toString() ?? 'null'}`);
  }
  await consumer.close();
  expect(polled).toEqual(read);
  return read;
}

/**
 * The stored batches as `base-last:codec:records[:horizon]` (empty batches, which only FileStorage
 * leaves, are left out), each checked whole: its CRC-32C over the stored bytes.
 */
async function stored(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for (const batch of await storage.log('c', 0).read(0, 1 << 30)) {
    expect(checkBatch(batch)).toBeUndefined();
    const h = readBatchHeader(batch);
    if (h.recordCount === 0) continue;
    out.push(`${h.baseOffset}-${h.baseOffset + h.lastOffsetDelta}:${CODEC_NAMES[h.attributes & 0x07]}:${h.recordCount}${(h.attributes & 0x40) !== 0 ? ':horizon' : ''}`);
  }
  return out;
}

describe.each(['memory', 'file'] as const)('cleaning compressed batches (%s storage)', (kind) => {
  it.each(CODECS)('%s: only the latest record per key survives, at its offset, in batches still compressed with it; no deleted key comes back', async (codec) => {
    const dir = kind === 'file' ? tempDir('compaction-compressed') : undefined;
    if (dir !== undefined) dirs.push(dir);
    const memory = new MemoryStorage();
    const open = (): Storage => (dir === undefined ? memory : new FileStorage({ dir, fsync: 'never' }));
    const clock = new ManualClock(1_700_000_000_000);
    let storage = open();
    let broker = await Broker.open({ storage, clock, retentionCheckIntervalMs: 1e12 });
    // Every batch rolls a segment: all but the last are cleanable.
    const topic = await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact', segmentBytes: 14, deleteRetentionMs: DELETE_RETENTION_MS });
    const zipped = broker.producer({ compression: codec, lingerMs: 0 });
    const plain = broker.producer({ lingerMs: 0 });
    const send = (p: typeof plain, messages: [string, string | null][]) => p.send({ topic: 'c', messages: messages.map(([key, value]) => ({ key, value })) });
    await send(zipped, [['a', 'a1'], ['b', 'b1'], ['c', 'c1'], ['d', 'd1'], ['e', 'e1'], ['x', 'x1']]); // 0-5
    await send(plain, [['a', 'a2']]); // 6: a newer value, uncompressed
    await send(zipped, [['b', 'b2'], ['c', null], ['f', 'f1'], ['f', 'f2']]); // 7-10: newer b, c deleted, f twice, compressed
    await send(plain, [['e', null]]); // 11: e deleted, uncompressed
    await send(plain, [['z', 'z1']]); // 12: the active segment
    await zipped.close();
    await plain.close();
    expect(await stored(storage)).toEqual([`0-5:${codec}:6`, '6-6:none:1', `7-10:${codec}:4`, '11-11:none:1', '12-12:none:1']);

    await topic.compact();
    expect(await readBoth(broker, 'g1')).toEqual(['3:d=d1', '5:x=x1', '6:a=a2', '7:b=b2', '8:c=null', '10:f=f2', '11:e=null', '12:z=z1']);
    // Thinned batches keep their offsets (base and last) and their codec; tombstones kept get a horizon.
    expect(await stored(storage)).toEqual([`0-5:${codec}:2`, '6-6:none:1', `7-10:${codec}:3:horizon`, '11-11:none:1:horizon', '12-12:none:1']);
    // A read from inside a gap starts at the next record kept.
    expect((await topic.partition(0).read(1, { maxRecords: 1 }))[0]!.offset).toBe(3);
    expect((await topic.partition(0).read(9, { maxRecords: 1 }))[0]!.offset).toBe(10);

    // Past the horizon the tombstones go — and the older values of c and e, compressed, are long gone with them.
    await clock.advance(DELETE_RETENTION_MS);
    await topic.compact();
    const after = ['3:d=d1', '5:x=x1', '6:a=a2', '7:b=b2', '10:f=f2', '12:z=z1'];
    expect(await readBoth(broker, 'g2')).toEqual(after);
    expect(await stored(storage)).toEqual([`0-5:${codec}:2`, '6-6:none:1', `7-10:${codec}:2:horizon`, '12-12:none:1']);
    const p = topic.partition(0);
    expect([p.logStartOffset, p.logEndOffset]).toEqual([0, 13]);

    // Another pass changes nothing; a reopen (FileStorage) reads the same.
    await topic.compact();
    expect(await readBoth(broker, 'g3')).toEqual(after);
    await broker.close();
    storage = open();
    broker = await Broker.open({ storage, clock, retentionCheckIntervalMs: 1e12 });
    expect(await readBoth(broker, 'g4')).toEqual(after);
    expect(await stored(storage)).toEqual([`0-5:${codec}:2`, '6-6:none:1', `7-10:${codec}:2:horizon`, '12-12:none:1']);
    await broker.close();
  });
});
