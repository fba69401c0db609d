/** The cleaner's batch rewriting, with KafkaJS' RecordBatch decoder as the oracle. */
import { beforeAll, describe, expect, it } from 'vitest';
import { RecordBatchBuilder, checkBatch, decodeRecordBatch, readBatchHeader } from 'kafkalite';
import { DELETE_HORIZON_FLAG, emptyBatch, filterBatch, firstRecordWithoutKey, forEachRecord, plainRecords } from '../../src/codec/batch-filter.js';
import { compressBatch } from '../../src/codec/compressed-batch.js';
import { decodeRecordsInto, setBatchBaseOffset, type BatchProducer } from '../../src/codec/record-batch.js';
import type { ConsumerRecord } from '../../src/types.js';
import { kafkajsDecodeBatch } from './kafkajs-oracle.js';
import { KAFKAJS_CODEC_IDS, registerKafkaJsCodecs } from './kafkajs-codecs.js';
import { expectError } from '../helpers.js';

const T0 = 1_700_000_000_000;
/** The partition the batches belong to, for the errors of one that does not decompress. */
const AT = { topic: 't', partition: 0 };

/** Five records at offsets 100..104: keys a b a c b, the one at 103 a tombstone, with headers. */
function batch(producer?: BatchProducer): Buffer {
  const b = new RecordBatchBuilder();
  const rows: [string, string | null][] = [
    ['a', 'a1'],
    ['b', 'b1'],
    ['a', 'a2'],
    ['c', null],
    ['b', 'b2'],
  ];
  rows.forEach(([key, value], i) => b.append(T0 + i * 10, key, value, { h: `${i}` }));
  const out = b.build(producer);
  setBatchBaseOffset(out, 100);
  return out;
}

const keepOffsets = (offsets: number[]) => (_key: string | undefined, offset: number) => offsets.includes(offset);

describe('filterBatch', () => {
  it('keeps the base offset and lastOffsetDelta of a thinned batch; KafkaJS reads the records kept at their own offsets', async () => {
    const result = filterBatch(batch(), keepOffsets([101, 104]), T0, 1000, AT);
    if (result.kind !== 'rewritten') throw new Error(result.kind);
    expect(checkBatch(result.batch)).toBeUndefined();
    expect(readBatchHeader(result.batch)).toMatchObject({ baseOffset: 100, lastOffsetDelta: 4, recordCount: 2, maxTimestamp: T0 + 40, baseTimestamp: T0 });
    const kafkajs = await kafkajsDecodeBatch(result.batch);
    expect(kafkajs.records.map((r) => [r.offset, r.key!.toString(), r.value!.toString(), r.timestamp, r.headers.h!.toString()])).toEqual([
      ['101', 'b', 'b1', String(T0 + 10), '1'],
      ['104', 'b', 'b2', String(T0 + 40), '4'],
    ]);
    // kafkalite's decoder too, also from an offset inside the gap (it skips by offset, not by count).
    const out: ConsumerRecord[] = [];
    decodeRecordsInto(out, result.batch, 0, 't', 0, 102, 10);
    expect(out.map((r) => r.offset)).toEqual([104]);
  });

  it('stamps a delete horizon on a batch keeping a tombstone; timestamps read as before; a pass at the horizon removes it', async () => {
    const first = filterBatch(batch(), keepOffsets([103, 104]), T0 + 500, 1000, AT);
    if (first.kind !== 'rewritten') throw new Error(first.kind);
    const header = readBatchHeader(first.batch);
    expect(header.attributes & DELETE_HORIZON_FLAG).toBe(DELETE_HORIZON_FLAG);
    expect(header.baseTimestamp).toBe(T0 + 1500);
    const kafkajs = await kafkajsDecodeBatch(first.batch);
    expect(kafkajs.records.map((r) => [r.offset, r.value, r.timestamp])).toEqual([
      ['103', null, String(T0 + 30)],
      ['104', Buffer.from('b2'), String(T0 + 40)],
    ]);
    expect(decodeRecordBatch(first.batch).records.map((r) => r.timestamp)).toEqual([T0 + 30, T0 + 40]);
    const all = () => true;
    expect(filterBatch(first.batch, all, T0 + 1499, 1000, AT).kind).toBe('same'); // before the horizon, kept as it is
    const second = filterBatch(first.batch, all, T0 + 1500, 1000, AT);
    if (second.kind !== 'rewritten') throw new Error(second.kind);
    expect(decodeRecordBatch(second.batch).records.map((r) => r.offset)).toEqual([104]);
    expect(readBatchHeader(second.batch).lastOffsetDelta).toBe(4);
  });

  it('says same when all stay (and no horizon is due), removed when none does', () => {
    const noTombstone = new RecordBatchBuilder();
    noTombstone.append(T0, 'a', '1');
    expect(filterBatch(noTombstone.build(), () => true, T0, 0, AT).kind).toBe('same');
    expect(filterBatch(batch(), () => false, T0, 0, AT).kind).toBe('removed');
  });

  it('lists keys and finds records without one', () => {
    const seen: string[] = [];
    forEachRecord(batch(), (key, offset, tombstone) => seen.push(`${offset}:${key}${tombstone ? '!' : ''}`));
    expect(seen).toEqual(['100:a', '101:b', '102:a', '103:c!', '104:b']);
    expect(firstRecordWithoutKey(batch())).toBeUndefined();
    const b = new RecordBatchBuilder();
    b.append(T0, 'k', 'v');
    b.append(T0, null, 'v');
    expect(firstRecordWithoutKey(b.build())).toBe(1);
  });
});

describe('emptyBatch', () => {
  it('covers offsets with no records, a valid batch KafkaJS decodes', async () => {
    const b = emptyBatch(40, 57);
    expect(checkBatch(b)).toBeUndefined();
    expect(readBatchHeader(b)).toMatchObject({ baseOffset: 40, lastOffsetDelta: 17, recordCount: 0 });
    const kafkajs = await kafkajsDecodeBatch(b);
    expect([kafkajs.firstOffset, kafkajs.lastOffsetDelta, kafkajs.records.length]).toEqual(['40', 17, 0]);
  });
});

describe.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('filterBatch on a %s batch', (codec) => {
  const id = KAFKAJS_CODEC_IDS[codec];
  /** The five records compressed, from a transactional producer (its fields must survive a rewrite). */
  const compressed = async (): Promise<Buffer> => compressBatch(batch({ producerId: 7, producerEpoch: 3, baseSequence: 40, transactional: true }), codec);
  beforeAll(() => registerKafkaJsCodecs());

  it('thins it into one batch in the same codec: same base offset, lastOffsetDelta, producer fields and flags; KafkaJS reads the records kept', async () => {
    const result = filterBatch(await compressed(), keepOffsets([101, 104]), T0, 1000, AT);
    if (result.kind !== 'rewritten') throw new Error(result.kind);
    expect(checkBatch(result.batch)).toBeUndefined(); // CRC-32C over the new compressed bytes
    const header = readBatchHeader(result.batch);
    expect(header.attributes & 0x07).toBe(id);
    expect(header.attributes & 0x10).toBe(0x10); // transactional
    expect(header).toMatchObject({ baseOffset: 100, lastOffsetDelta: 4, recordCount: 2, baseTimestamp: T0, maxTimestamp: T0 + 40, producerId: 7, producerEpoch: 3, baseSequence: 40 });
    expect(header.batchLength).toBe(result.batch.length - 12);
    const kafkajs = await kafkajsDecodeBatch(result.batch);
    expect(kafkajs.records.map((r) => [r.offset, r.key!.toString(), r.value!.toString(), r.timestamp, r.headers.h!.toString()])).toEqual([
      ['101', 'b', 'b1', String(T0 + 10), '1'],
      ['104', 'b', 'b2', String(T0 + 40), '4'],
    ]);
    expect(decodeRecordBatch(result.batch).records.map((r) => [r.offset, r.value!.toString()])).toEqual([
      [101, 'b1'],
      [104, 'b2'],
    ]);
  });

  it('stamps a delete horizon on it, still compressed; a pass at the horizon removes the tombstone', async () => {
    const first = filterBatch(await compressed(), keepOffsets([103, 104]), T0 + 500, 1000, AT);
    if (first.kind !== 'rewritten') throw new Error(first.kind);
    const header = readBatchHeader(first.batch);
    expect(header.attributes & (DELETE_HORIZON_FLAG | 0x07)).toBe(DELETE_HORIZON_FLAG | id);
    expect(header.baseTimestamp).toBe(T0 + 1500);
    expect(checkBatch(first.batch)).toBeUndefined();
    const kafkajs = await kafkajsDecodeBatch(first.batch);
    expect(kafkajs.records.map((r) => [r.offset, r.value, r.timestamp])).toEqual([
      ['103', null, String(T0 + 30)],
      ['104', Buffer.from('b2'), String(T0 + 40)],
    ]);
    const all = () => true;
    expect(filterBatch(first.batch, all, T0 + 1499, 1000, AT).kind).toBe('same');
    const second = filterBatch(first.batch, all, T0 + 1500, 1000, AT);
    if (second.kind !== 'rewritten') throw new Error(second.kind);
    expect(readBatchHeader(second.batch)).toMatchObject({ lastOffsetDelta: 4, recordCount: 1 });
    expect(readBatchHeader(second.batch).attributes & 0x07).toBe(id);
    expect(decodeRecordBatch(second.batch).records.map((r) => r.offset)).toEqual([104]);
  });

  it('keeps its stored bytes when every record stays, removes it when none does; its keys are listed', async () => {
    const plain = new RecordBatchBuilder();
    plain.append(T0, 'a', '1');
    plain.append(T0, 'b', '2');
    const whole = await compressBatch(plain.build(), codec);
    expect(filterBatch(whole, () => true, T0, 0, AT).kind).toBe('same');
    expect(filterBatch(await compressed(), () => false, T0, 0, AT).kind).toBe('removed');
    const seen: string[] = [];
    forEachRecord(plainRecords(await compressed(), AT)!, (key, offset, tombstone) => seen.push(`${offset}:${key}${tombstone ? '!' : ''}`));
    expect(seen).toEqual(['100:a', '101:b', '102:a', '103:c!', '104:b']);
  });

  it('a stream that does not decompress is STORAGE_CORRUPT naming the partition and offset', async () => {
    const bad = Buffer.from(await compressed());
    bad.fill(0xff, 61 + 20, bad.length); // past any stream header, to its end (lz4's end mark, zstd's last block)
    const error = await expectError(() => filterBatch(bad, () => true, T0, 0, { topic: 'orders', partition: 3 }), 'STORAGE_CORRUPT', /offset 100 of orders-3 does not decompress/);
    expect(error).toMatchObject({ topic: 'orders', partition: 3, offset: 100 });
  });
});
