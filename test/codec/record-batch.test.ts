import fc from 'fast-check';
import { inspect, isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compressBatch } from '../../src/codec/compressed-batch.js';
import { crc32c } from '../../src/codec/crc32c.js';
import {
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
  RECORD_BATCH_MAGIC,
  RecordBatchBuilder,
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  batchRecordCount,
  batchSize,
  checkBatch,
  decodeRecordBatch,
  decodeRecordsInto,
  readBatchHeader,
  setBatchBaseOffset,
  setBatchProducer,
  singleRecordBatchSize,
  type Bytes,
  type DecodedRecord,
} from '../../src/codec/record-batch.js';
import type { ConsumerRecord } from '../../src/types.js';
import {
  kafkajsCrc32c,
  kafkajsDecodeBatch,
  kafkajsEncodeBatch,
  type KafkaJsRecord,
  type OracleRecordInput,
} from './kafkajs-oracle.js';

// ---------------------------------------------------------------------------------------------
// Helpers

interface In {
  timestamp: number;
  key: Bytes | null;
  value: Bytes | null;
  headers?: Record<string, Bytes>;
}

/** What a record should decode to: every payload as hex, null kept. */
interface Normal {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

const BASE_TS = 1_700_000_000_000;

const toBuffer = (b: Bytes): Buffer => (typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b));
const hex = (b: Bytes | null | undefined): string | null => (b == null ? null : toBuffer(b).toString('hex'));

function build(records: In[], builder = new RecordBatchBuilder()): Buffer {
  for (const r of records) builder.append(r.timestamp, r.key, r.value, r.headers);
  return builder.build();
}

function expected(records: In[], baseOffset = 0): Normal[] {
  return records.map((r, i) => ({
    offset: baseOffset + i,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: Object.entries(r.headers ?? {}).map(([k, v]): [string, string | null] => [k, hex(v)]),
  }));
}

function normal(records: Pick<DecodedRecord, 'offset' | 'timestamp' | 'key' | 'value' | 'headers'>[]): Normal[] {
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: Object.entries(r.headers).map(([k, v]): [string, string | null] => [k, hex(v as Buffer)]),
  }));
}

function normalKafkaJs(records: KafkaJsRecord[]): Normal[] {
  return records.map((r) => ({
    offset: Number(r.offset),
    timestamp: Number(r.timestamp),
    key: hex(r.key),
    value: hex(r.value),
    headers: Object.entries(r.headers).map(([k, v]): [string, string | null] => {
      if (!Array.isArray(v)) return [k, hex(v)];
      // KafkaJS' record decoder folds headers with `obj[key] === undefined ? value : [obj[key], value]`,
      // so a header named like an Object.prototype member (valueOf, __proto__, ...) comes back as
      // [<inherited member>, value]. Undo that KafkaJS quirk; a real repeat is still an error.
      const inherited: unknown = ({} as Record<string, unknown>)[k];
      const [first, second, ...rest] = v;
      if (inherited !== undefined && first === inherited && rest.length === 0) return [k, hex(second)];
      throw new Error(`header ${k} repeated`);
    }),
  }));
}

function toOracle(records: In[]): OracleRecordInput[] {
  return records.map((r) => ({
    timestamp: r.timestamp,
    key: r.key === null ? null : toBuffer(r.key),
    value: r.value === null ? null : toBuffer(r.value),
    ...(r.headers === undefined
      ? {}
      : { headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, toBuffer(v)])) }),
  }));
}

function decodeAll(batch: Uint8Array, at = 0, fromOffset = batchBaseOffset(batch, at), max = Infinity): ConsumerRecord[] {
  const out: ConsumerRecord[] = [];
  decodeRecordsInto(out, batch, at, 't', 3, fromOffset, max);
  return out;
}

const SAMPLE: In[] = [
  { timestamp: BASE_TS, key: 'k1', value: 'v1' },
  { timestamp: BASE_TS + 5, key: null, value: 'no key' },
  { timestamp: BASE_TS - 3, key: 'no value', value: null },
  { timestamp: BASE_TS + 1, key: null, value: null },
  { timestamp: BASE_TS + 2, key: '', value: '' },
  { timestamp: BASE_TS + 9, key: 'ключ 🔑', value: 'значение — ✓ 𝄞', headers: { 'ü-hdr': 'wert ✓' } },
  {
    timestamp: BASE_TS + 4,
    key: new Uint8Array([0, 1, 2, 255]),
    value: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
    headers: { a: 'x', b: new Uint8Array([9, 8, 7]), empty: '', 'bytes-empty': new Uint8Array(0) },
  },
  { timestamp: BASE_TS + 7, key: 'k'.repeat(200), value: 'v'.repeat(70_000), headers: { ['h'.repeat(64)]: 'y'.repeat(8192) } },
];

// ---------------------------------------------------------------------------------------------
// Arbitraries

const bytesArb: fc.Arbitrary<Bytes> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.uint8Array({ minLength: 60, maxLength: 200 }),
);
const nullableBytesArb = fc.option(bytesArb, { nil: null, freq: 4 });
const headersArb: fc.Arbitrary<Record<string, Bytes> | undefined> = fc.option(
  fc
    .uniqueArray(fc.tuple(
        fc.oneof(
          { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
          { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString', '0', '') },
        ),
        bytesArb,
      ), {
      maxLength: 3,
      selector: ([k]) => k,
    })
    .map((entries) => Object.fromEntries(entries)),
  { nil: undefined },
);
const recordsArb: fc.Arbitrary<In[]> = fc
  .tuple(
    fc.integer({ min: 1_000_000_000_000, max: 2_000_000_000_000 }),
    fc.array(
      fc.record({
        delta: fc.oneof(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: -100, max: 100 })),
        key: nullableBytesArb,
        value: nullableBytesArb,
        headers: headersArb,
      }),
      { minLength: 1, maxLength: 12 },
    ),
  )
  .map(([base, rs]) =>
    rs.map(({ delta, key, value, headers }) => ({
      timestamp: base + delta,
      key,
      value,
      ...(headers === undefined ? {} : { headers }),
    })),
  );

// ---------------------------------------------------------------------------------------------

describe('RecordBatchBuilder output, read by KafkaJS', () => {
  it('decodes in KafkaJS with the same header fields and records', async () => {
    const batch = build(SAMPLE);
    setBatchBaseOffset(batch, 12345);
    const decoded = await kafkajsDecodeBatch(batch);
    const timestamps = SAMPLE.map((r) => r.timestamp);

    expect(decoded.firstOffset).toBe('12345');
    expect(decoded.lastOffsetDelta).toBe(SAMPLE.length - 1);
    expect(decoded.firstTimestamp).toBe(String(BASE_TS));
    expect(decoded.maxTimestamp).toBe(String(Math.max(...timestamps)));
    expect(decoded.producerId).toBe('-1');
    expect(decoded.producerEpoch).toBe(-1);
    expect(decoded.firstSequence).toBe(-1);
    expect(decoded.partitionLeaderEpoch).toBe(0);
    expect(decoded.inTransaction).toBe(false);
    expect(decoded.isControlBatch).toBe(false);
    expect(decoded.timestampType).toBe(0); // CreateTime
    expect(decoded.records).toHaveLength(SAMPLE.length);
    for (const r of decoded.records) {
      expect(r.magicByte).toBe(2);
      expect(r.attributes).toBe(0);
      expect(r.isControlRecord).toBe(false);
    }
    expect(normalKafkaJs(decoded.records)).toEqual(expected(SAMPLE, 12345));
    // Null key and value stay null, empty ones stay empty.
    expect(decoded.records[3]!.key).toBeNull();
    expect(decoded.records[3]!.value).toBeNull();
    expect(decoded.records[4]!.key).toEqual(Buffer.alloc(0));
    expect(decoded.records[4]!.value).toEqual(Buffer.alloc(0));
  });

  it('has the header our own accessors read back', () => {
    const batch = build(SAMPLE);
    setBatchBaseOffset(batch, 12345);
    const header = readBatchHeader(batch);
    expect(header).toEqual({
      baseOffset: 12345,
      batchLength: batch.length - LOG_OVERHEAD,
      partitionLeaderEpoch: 0,
      magic: 2,
      crc: kafkajsCrc32c(batch.subarray(21)),
      attributes: 0,
      lastOffsetDelta: SAMPLE.length - 1,
      baseTimestamp: BASE_TS,
      maxTimestamp: BASE_TS + 9,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      recordCount: SAMPLE.length,
    });
    expect(batchBaseOffset(batch)).toBe(12345);
    expect(batchLastOffset(batch)).toBe(12345 + SAMPLE.length - 1);
    expect(batchRecordCount(batch)).toBe(SAMPLE.length);
    expect(batchMaxTimestamp(batch)).toBe(BASE_TS + 9);
    expect(batchSize(batch)).toBe(batch.length);
    expect(RECORD_BATCH_MAGIC).toBe(2);
  });

  it('stores at bytes 17..20 the CRC-32C (KafkaJS) of bytes 21..end, unchanged by setBatchBaseOffset', () => {
    const batch = build(SAMPLE);
    const crc = kafkajsCrc32c(batch.subarray(21));
    expect(batch.readUInt32BE(17)).toBe(crc);
    expect(crc32c(batch, 21)).toBe(crc);
    expect(checkBatch(batch)).toBeUndefined();
    setBatchBaseOffset(batch, 2 ** 40 + 7);
    expect(batch.readUInt32BE(17)).toBe(crc);
    expect(checkBatch(batch)).toBeUndefined();
    expect(batchBaseOffset(batch)).toBe(2 ** 40 + 7);
    expect(batch.readBigInt64BE(0)).toBe(2n ** 40n + 7n);
    expect(batchLastOffset(batch)).toBe(2 ** 40 + 7 + SAMPLE.length - 1);
  });

  it('has a 61-byte header: one record with a null key and an empty value takes singleRecordBatchSize', () => {
    expect(RECORD_BATCH_HEADER_SIZE).toBe(61);
    const builder = new RecordBatchBuilder();
    const took = builder.append(BASE_TS, null, '');
    const batch = builder.build();
    // length(1) attributes(1) timestampDelta(1) offsetDelta(1) key -1 (1) value 0 (1) headers 0 (1)
    expect(took).toBe(7);
    expect(batch.length).toBe(61 + 7);
    expect(singleRecordBatchSize(null, '')).toBe(batch.length);
    expect(batch.subarray(61)).toEqual(Buffer.from([12, 0, 0, 0, 1, 0, 0]));
    expect(batch.readInt32BE(8)).toBe(batch.length - 12);
  });

  it('agrees with KafkaJS on random batches', async () => {
    await fc.assert(
      fc.asyncProperty(recordsArb, fc.integer({ min: 0, max: 2 ** 45 }), async (records, baseOffset) => {
        const batch = build(records);
        setBatchBaseOffset(batch, baseOffset);
        const decoded = await kafkajsDecodeBatch(batch);
        expect(decoded.firstOffset).toBe(String(baseOffset));
        expect(decoded.lastOffsetDelta).toBe(records.length - 1);
        expect(decoded.firstTimestamp).toBe(String(records[0]!.timestamp));
        expect(decoded.maxTimestamp).toBe(String(Math.max(...records.map((r) => r.timestamp))));
        expect(normalKafkaJs(decoded.records)).toEqual(expected(records, baseOffset));
        expect(batch.readUInt32BE(17)).toBe(kafkajsCrc32c(batch.subarray(21)));
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('is byte for byte what KafkaJS encodes for the same records', async () => {
    await fc.assert(
      fc.asyncProperty(recordsArb, async (records) => {
        const ours = build(records);
        const theirs = await kafkajsEncodeBatch(toOracle(records));
        expect(ours.toString('hex')).toBe(theirs.toString('hex'));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('setBatchProducer', () => {
  it("writes an idempotent producer's fields into a compressed batch's header and signs it: the same bytes as compressing a batch built with them, read by KafkaJS", async () => {
    const producer = { producerId: 4242, producerEpoch: 7, baseSequence: 2_147_483_000, transactional: true };
    const stamped = setBatchProducer(compressBatch(build(SAMPLE), 'gzip') as Buffer, producer);
    const builtWith = new RecordBatchBuilder();
    for (const r of SAMPLE) builtWith.append(r.timestamp, r.key, r.value, r.headers);
    expect(stamped.equals(compressBatch(builtWith.build(producer), 'gzip') as Buffer)).toBe(true);
    expect(checkBatch(stamped)).toBeUndefined();
    expect(readBatchHeader(stamped).crc).toBe(kafkajsCrc32c(stamped.subarray(21)));

    setBatchBaseOffset(stamped, 77);
    const decoded = await kafkajsDecodeBatch(stamped);
    expect([decoded.producerId, decoded.producerEpoch, decoded.firstSequence, decoded.inTransaction, decoded.isControlBatch]).toEqual(['4242', 7, 2_147_483_000, true, false]);
    expect(normalKafkaJs(decoded.records)).toEqual(expected(SAMPLE, 77));
    // Stamped again (a new epoch): the codec bits stay, the transactional bit follows the producer.
    setBatchProducer(stamped, { producerId: 4242, producerEpoch: 8, baseSequence: 0 });
    expect(readBatchHeader(stamped)).toMatchObject({ attributes: 1, producerEpoch: 8, baseSequence: 0 });
    expect(checkBatch(stamped)).toBeUndefined();
  });
});

describe('KafkaJS-encoded batches, read by the codec', () => {
  it('decode to the same records and pass checkBatch', async () => {
    const records = toOracle(SAMPLE);
    const batch = await kafkajsEncodeBatch(records, 777);
    expect(checkBatch(batch)).toBeUndefined();
    const { header, records: decoded } = decodeRecordBatch(batch);
    expect(header.baseOffset).toBe(777);
    expect(header.magic).toBe(2);
    expect(header.recordCount).toBe(SAMPLE.length);
    expect(header.lastOffsetDelta).toBe(SAMPLE.length - 1);
    expect(header.baseTimestamp).toBe(BASE_TS);
    expect(header.maxTimestamp).toBe(BASE_TS + 9);
    expect(header.crc).toBe(crc32c(batch, 21));
    expect(normal(decoded)).toEqual(expected(SAMPLE, 777));
  });

  it('decode random batches', async () => {
    await fc.assert(
      fc.asyncProperty(recordsArb, fc.integer({ min: 0, max: 2 ** 45 }), async (records, baseOffset) => {
        const batch = await kafkajsEncodeBatch(toOracle(records), baseOffset);
        expect(checkBatch(batch)).toBeUndefined();
        const { header, records: decoded } = decodeRecordBatch(batch);
        expect(header.baseOffset).toBe(baseOffset);
        expect(header.recordCount).toBe(records.length);
        expect(normal(decoded)).toEqual(expected(records, baseOffset));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('round trip', () => {
  it('build → decodeRecordBatch returns the same records, and checkBatch passes', () => {
    fc.assert(
      fc.property(recordsArb, fc.integer({ min: 0, max: 2 ** 50 }), fc.boolean(), (records, baseOffset, small) => {
        const batch = build(records, new RecordBatchBuilder(small ? 0 : undefined));
        setBatchBaseOffset(batch, baseOffset);
        expect(checkBatch(batch)).toBeUndefined();
        const { header, records: decoded } = decodeRecordBatch(batch);
        expect(header.recordCount).toBe(records.length);
        expect(header.baseOffset).toBe(baseOffset);
        expect(header.baseTimestamp).toBe(records[0]!.timestamp);
        expect(header.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp)));
        expect(batchSize(batch)).toBe(batch.length);
        expect(normal(decoded)).toEqual(expected(records, baseOffset));
        // decodeRecordsInto sees the same records, with topic and partition.
        const out = decodeAll(batch);
        expect(out.every((r) => r.topic === 't' && r.partition === 3)).toBe(true);
        expect(normal(out)).toEqual(expected(records, baseOffset));
      }),
      { seed: 42, numRuns: 1000 },
    );
  });

  it('singleRecordBatchSize is the size of a one-record batch, and append returns the bytes it took', () => {
    fc.assert(
      fc.property(nullableBytesArb, nullableBytesArb, headersArb, (key, value, headers) => {
        const builder = new RecordBatchBuilder();
        const took = builder.append(BASE_TS, key, value, headers);
        expect(builder.size).toBe(RECORD_BATCH_HEADER_SIZE + took);
        expect(builder.count).toBe(1);
        const batch = builder.build();
        expect(batch.length).toBe(singleRecordBatchSize(key, value, headers));
      }),
      { seed: 42, numRuns: 1000 },
    );
  });

  it('reads a batch that sits inside a larger buffer', () => {
    const a = build(SAMPLE.slice(0, 3));
    const b = build(SAMPLE.slice(3));
    setBatchBaseOffset(a, 100);
    setBatchBaseOffset(b, 103);
    const log = Buffer.concat([a, b, Buffer.from([1, 2, 3])]);
    expect(checkBatch(log, 0, a.length)).toBeUndefined();
    expect(checkBatch(log, a.length, a.length + b.length)).toBeUndefined();
    expect(checkBatch(log, a.length)).toBeUndefined();
    expect(batchSize(log, a.length)).toBe(b.length);
    expect(batchBaseOffset(log, a.length)).toBe(103);
    expect(batchLastOffset(log, a.length)).toBe(100 + SAMPLE.length - 1);
    expect(normal(decodeRecordBatch(log, a.length).records)).toEqual(expected(SAMPLE.slice(3), 103));
    expect(normal(decodeAll(log, 0))).toEqual(expected(SAMPLE.slice(0, 3), 100));
  });

  it('keeps a header named __proto__ (and other Object.prototype names) as a plain header', async () => {
    const records: In[] = [
      { timestamp: BASE_TS, key: 'k', value: 'v', headers: Object.fromEntries([['__proto__', 'p'], ['constructor', 'c'], ['toString', 's']]) },
    ];
    const batch = build(records);
    expect(normalKafkaJs((await kafkajsDecodeBatch(batch)).records)).toEqual(expected(records));
    const [decoded] = decodeRecordBatch(batch).records;
    expect(normal([decoded!])).toEqual(expected(records));
    expect(Object.getPrototypeOf(decoded!.headers)).toBe(Object.prototype);
  });

  it('builds a large batch (offset deltas past one varint byte, buffer growth)', async () => {
    const records: In[] = Array.from({ length: 10_000 }, (_, i) => ({
      timestamp: BASE_TS + i,
      key: `key-${i}`,
      value: i % 3 === 0 ? null : new Uint8Array([i & 0xff, i >> 8]),
    }));
    const batch = build(records, new RecordBatchBuilder(128));
    expect(checkBatch(batch)).toBeUndefined();
    expect(normal(decodeRecordBatch(batch).records)).toEqual(expected(records));
    const decoded = await kafkajsDecodeBatch(batch);
    expect(normalKafkaJs(decoded.records)).toEqual(expected(records));
    expect(batch.toString('hex')).toBe((await kafkajsEncodeBatch(toOracle(records))).toString('hex'));
  });
});

describe('isolation', () => {
  it('copies appended bytes: mutating a value, key or header after append does not change the batch', () => {
    const key = new Uint8Array([1, 2, 3]);
    const value = new Uint8Array([4, 5, 6, 7]);
    const hv = new Uint8Array([8, 9]);
    const builder = new RecordBatchBuilder();
    builder.append(BASE_TS, key, value, { h: hv });
    key.fill(0);
    value.fill(0);
    hv.fill(0);
    builder.append(BASE_TS + 1, 'second', 'record');
    const batch = builder.build();
    expect(checkBatch(batch)).toBeUndefined();
    const [first] = decodeRecordBatch(batch).records;
    expect([...first!.key!]).toEqual([1, 2, 3]);
    expect([...first!.value!]).toEqual([4, 5, 6, 7]);
    expect([...first!.headers['h']!]).toEqual([8, 9]);
  });

  it('hands out records that share no memory with the batch', () => {
    const batch = build(SAMPLE);
    const before = Buffer.from(batch);
    for (const r of decodeAll(batch)) {
      for (const b of [r.key, r.value, ...Object.values(r.headers).flat()]) {
        if (b === null) continue;
        expect(b.buffer).not.toBe(batch.buffer);
        b.fill(0x5a);
      }
    }
    expect(batch.equals(before)).toBe(true);
    expect(checkBatch(batch)).toBeUndefined();
    // And the same when reading from the middle of the batch.
    for (const r of decodeAll(batch, 0, 4, 2)) r.value?.fill(0);
    expect(batch.equals(before)).toBe(true);
    // decodeRecordBatch too.
    for (const r of decodeRecordBatch(batch).records) r.key?.fill(1);
    expect(batch.equals(before)).toBe(true);
  });

  it('records decoded twice do not share memory with each other', () => {
    const batch = build([{ timestamp: BASE_TS, key: 'k', value: 'value' }]);
    const [a] = decodeAll(batch);
    const [b] = decodeAll(batch);
    a!.value!.fill(0);
    expect(b!.value!.toString()).toBe('value');
  });
});

  it('hands out keys, values and header values that are plain Buffers, as Buffer.from makes them', () => {
    const batch = build(SAMPLE);
    for (const r of decodeAll(batch)) {
      for (const b of [r.key, r.value, ...Object.values(r.headers).flat()]) {
        if (b === null) continue;
        // Made with Node's own Buffer class (Buffer[Symbol.species]), not Buffer.from: nothing may tell them apart.
        expect(Object.getPrototypeOf(b)).toBe(Buffer.prototype);
        expect(Buffer.isBuffer(b)).toBe(true);
        expect(b.constructor).toBe(Buffer);
        expect(isDeepStrictEqual(b, Buffer.from(b))).toBe(true);
        expect(Object.getPrototypeOf(b.subarray(0))).toBe(Buffer.prototype);
        expect(inspect(b)).toMatch(/^<Buffer/);
      }
    }
  });

describe('checkBatch', () => {
  const batch = build(SAMPLE.slice(0, 6));

  it('accepts a whole batch', () => {
    expect(checkBatch(batch)).toBeUndefined();
  });

  it('reports a flipped byte anywhere in bytes 21..end (CRC)', () => {
    for (let i = 21; i < batch.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(batch);
        bad[i]! ^= mask;
        expect(checkBatch(bad), `byte ${i} ^ ${mask}`).toMatch(/CRC/);
      }
    }
  });

  it('reports a corrupted stored CRC', () => {
    for (let i = 17; i < 21; i++) {
      const bad = Buffer.from(batch);
      bad[i]! ^= 0x10;
      expect(checkBatch(bad)).toMatch(/CRC/);
    }
  });

  it('does not cover baseOffset or partitionLeaderEpoch', () => {
    const other = Buffer.from(batch);
    setBatchBaseOffset(other, 99);
    other.writeInt32BE(5, 12);
    expect(checkBatch(other)).toBeUndefined();
  });

  it('reports a wrong magic', () => {
    for (const magic of [0, 1, 3, 255]) {
      const bad = Buffer.from(batch);
      bad[16] = magic;
      expect(checkBatch(bad)).toMatch(/magic/);
    }
  });

  it('reports a truncated batch', () => {
    for (const cut of [1, 2, 10, batch.length - RECORD_BATCH_HEADER_SIZE, batch.length - RECORD_BATCH_HEADER_SIZE + 1, batch.length - 12, batch.length]) {
      const bad = batch.subarray(0, batch.length - cut);
      expect(checkBatch(bad), `cut ${cut}`).toBeDefined();
    }
    expect(checkBatch(batch, 0, batch.length - 1)).toMatch(/past the end/);
    expect(checkBatch(batch.subarray(0, 60))).toMatch(/header/);
    expect(checkBatch(new Uint8Array(0))).toMatch(/header/);
  });

  it('reports a batchLength running past the end, or shorter than a header', () => {
    const longer = Buffer.from(batch);
    longer.writeInt32BE(batch.length - LOG_OVERHEAD + 1, 8);
    expect(checkBatch(longer)).toMatch(/past the end/);
    const huge = Buffer.from(batch);
    huge.writeInt32BE(0x7fffffff, 8);
    expect(checkBatch(huge)).toMatch(/past the end/);
    const negative = Buffer.from(batch);
    negative.writeInt32BE(-1, 8);
    expect(checkBatch(negative)).toBeDefined();
    const tiny = Buffer.from(batch);
    tiny.writeInt32BE(RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD - 1, 8);
    expect(checkBatch(tiny)).toMatch(/smaller than a header/);
    // A batchLength that is too short but still covers the header fails on the CRC.
    const shorter = Buffer.from(batch);
    shorter.writeInt32BE(batch.length - LOG_OVERHEAD - 1, 8);
    expect(checkBatch(shorter)).toMatch(/CRC/);
  });
});

describe('decodeRecordsInto', () => {
  const records: In[] = Array.from({ length: 10 }, (_, i) => ({
    timestamp: BASE_TS + i * 10,
    key: `k${i}`,
    value: `v${i}`,
    ...(i % 2 === 0 ? { headers: { i: String(i) } } : {}),
  }));
  const batch = build(records);
  setBatchBaseOffset(batch, 500);

  it('starts at fromOffset in the middle of a batch', () => {
    for (let from = 500; from < 510; from++) {
      const out = decodeAll(batch, 0, from);
      expect(out.map((r) => r.offset)).toEqual(Array.from({ length: 510 - from }, (_, i) => from + i));
      expect(normal(out)).toEqual(expected(records, 500).slice(from - 500));
    }
  });

  it.each([
    [1, 'STORAGE_CORRUPT', 'does not decompress with gzip'],
    [2, 'STORAGE_CORRUPT', 'does not decompress with snappy'],
    [3, 'STORAGE_CORRUPT', 'does not decompress with lz4'],
    [4, 'STORAGE_CORRUPT', 'does not decompress with zstd'],
    [5, 'UNSUPPORTED', 'compressed with unknown codec 5'],
  ])('refuses plain records marked with codec %i as %s (%s), naming the batch', (codec, code, name) => {
    const compressed = Buffer.from(batch);
    compressed[22] = codec; // attributes' low byte: bits 0-2 are the codec (the records are not compressed)
    compressed.writeUInt32BE(crc32c(compressed, 21, compressed.length), 17);
    expect(checkBatch(compressed)).toBeUndefined();
    let error: unknown;
    try {
      decodeRecordsInto([], compressed, 0, 'orders', 2, 0, 10);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code, topic: 'orders', partition: 2, offset: 500 });
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toContain('orders-2');
  });

  it('returns every record for a fromOffset below the batch, and none past it', () => {
    expect(decodeAll(batch, 0, 0)).toHaveLength(10);
    expect(decodeAll(batch, 0, 510)).toHaveLength(0);
    expect(decodeAll(batch, 0, 1_000_000)).toHaveLength(0);
  });

  it('limits the count to maxRecords and returns how many it appended', () => {
    const out: ConsumerRecord[] = [{ topic: 'x', partition: 0, offset: -1, key: null, value: null, headers: {}, timestamp: 0 }];
    expect(decodeRecordsInto(out, batch, 0, 't', 0, 503, 4)).toBe(4);
    expect(out.slice(1).map((r) => r.offset)).toEqual([503, 504, 505, 506]);
    expect(out[0]!.offset).toBe(-1);
    expect(normal(out.slice(1))).toEqual(expected(records, 500).slice(3, 7));
    expect(decodeRecordsInto(out, batch, 0, 't', 0, 508, 5)).toBe(2);
    expect(decodeRecordsInto(out, batch, 0, 't', 0, 500, 0)).toBe(0);
    expect(decodeRecordsInto(out, batch, 0, 't', 0, 500, 1)).toBe(1);
    expect(out.at(-1)!.offset).toBe(500);
    expect(out).toHaveLength(1 + 4 + 2 + 1);
  });
});

describe('undoLast', () => {
  it('removes exactly the last record: the build equals one without it, byte for byte', () => {
    fc.assert(
      fc.property(recordsArb, recordsArb, (kept, extra) => {
        const last = extra[0]!;
        const builder = new RecordBatchBuilder();
        for (const r of kept) builder.append(r.timestamp, r.key, r.value, r.headers);
        const sizeBefore = builder.size;
        builder.append(last.timestamp, last.key, last.value, last.headers);
        builder.undoLast();
        expect(builder.count).toBe(kept.length);
        expect(builder.size).toBe(sizeBefore);
        expect(builder.build().equals(build(kept))).toBe(true);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('takes back the max timestamp of the undone record', () => {
    const builder = new RecordBatchBuilder();
    builder.append(BASE_TS, 'a', '1');
    builder.append(BASE_TS + 1000, 'b', '2');
    builder.undoLast();
    builder.append(BASE_TS + 5, 'c', '3');
    const batch = builder.build();
    expect(batchMaxTimestamp(batch)).toBe(BASE_TS + 5);
    expect(
      batch.equals(
        build([
          { timestamp: BASE_TS, key: 'a', value: '1' },
          { timestamp: BASE_TS + 5, key: 'c', value: '3' },
        ]),
      ),
    ).toBe(true);
  });

  it('can undo the only record; the next one sets a new base timestamp', () => {
    const builder = new RecordBatchBuilder();
    builder.append(BASE_TS, 'a', '1', { h: 'x' });
    builder.undoLast();
    expect(builder.count).toBe(0);
    expect(builder.size).toBe(RECORD_BATCH_HEADER_SIZE);
    expect(() => builder.build()).toThrow(RangeError);
    builder.append(BASE_TS - 50, 'b', '2');
    expect(builder.build().equals(build([{ timestamp: BASE_TS - 50, key: 'b', value: '2' }]))).toBe(true);
  });

  it('undoes only one record', () => {
    const builder = new RecordBatchBuilder();
    expect(() => builder.undoLast()).toThrow(RangeError);
    builder.append(BASE_TS, 'a', '1');
    builder.append(BASE_TS, 'b', '2');
    builder.undoLast();
    expect(() => builder.undoLast()).toThrow(RangeError);
    expect(builder.count).toBe(1);
  });
});

describe('varints, through timestamp deltas', () => {
  const DELTAS = [
    0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, -8193, 2 ** 20 - 1, 2 ** 20, 2 ** 27, 2 ** 30 - 1, 2 ** 30, -(2 ** 30),
    -(2 ** 30) - 1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 5, 2 ** 32, 2 ** 35, 2 ** 40, -(2 ** 40), 2 ** 48, 2 ** 52,
  ];
  /** Bytes of the zigzag varint of n. */
  const varintSize = (n: number): number => {
    let z = BigInt(n) >= 0n ? BigInt(n) * 2n : -BigInt(n) * 2n - 1n;
    let size = 1;
    while (z >= 128n) {
      z >>= 7n;
      size++;
    }
    return size;
  };

  it.each(DELTAS)('round-trips a timestamp delta of %d (ours and KafkaJS)', async (delta) => {
    const base = delta < -BASE_TS ? 2 ** 52 : BASE_TS;
    const records: In[] = [
      { timestamp: base, key: 'first', value: null },
      { timestamp: base + delta, key: 'second', value: 'x' },
    ];
    const builder = new RecordBatchBuilder();
    builder.append(records[0]!.timestamp, 'first', null);
    const took = builder.append(records[1]!.timestamp, 'second', 'x');
    // length, attributes, timestampDelta, offsetDelta 1, key (1 + 6), value (1 + 1), headers 0
    const body = 1 + varintSize(delta) + 1 + 7 + 2 + 1;
    expect(took).toBe(varintSize(body) + body);
    const batch = builder.build();
    expect(checkBatch(batch)).toBeUndefined();
    expect(normal(decodeRecordBatch(batch).records)).toEqual(expected(records));
    expect(normalKafkaJs((await kafkajsDecodeBatch(batch)).records)).toEqual(expected(records));
    expect(batch.toString('hex')).toBe((await kafkajsEncodeBatch(toOracle(records))).toString('hex'));
  });

  it('round-trips key, value and header lengths on varint boundaries', async () => {
    const lengths = [0, 1, 63, 64, 65, 127, 128, 8191, 8192, 8193];
    const records: In[] = lengths.map((n, i) => ({
      timestamp: BASE_TS + i,
      key: 'k'.repeat(n),
      value: new Uint8Array(n).fill(i),
      headers: { ['h'.repeat(n)]: 'v'.repeat(n) },
    }));
    const batch = build(records);
    expect(checkBatch(batch)).toBeUndefined();
    expect(normal(decodeRecordBatch(batch).records)).toEqual(expected(records));
    expect(normalKafkaJs((await kafkajsDecodeBatch(batch)).records)).toEqual(expected(records));
    for (const r of records) {
      expect(build([{ ...r, timestamp: BASE_TS }]).length).toBe(singleRecordBatchSize(r.key, r.value, r.headers));
    }
  });
});
