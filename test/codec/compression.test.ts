/**
 * Batch compression against outside implementations: KafkaJS' RecordBatch decoder (with its
 * codec packages) decodes kafkalite's compressed batches, and kafkalite decodes KafkaJS'. Also the
 * formats' details: attribute bits, CRC over the stored bytes, snappy's two framings, lz4's frame
 * header, and damaged streams.
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecordBatchBuilder, checkBatch, decodeRecordBatch, readBatchHeader } from 'kafkalite';
import { compressBatch } from '../../src/codec/compressed-batch.js';
import { kafkajsCrc32c, kafkajsDecodeBatch, kafkajsEncodeBatch } from './kafkajs-oracle.js';
import { KAFKAJS_CODEC_IDS, registerKafkaJsCodecs } from './kafkajs-codecs.js';
import { expectError } from '../helpers.js';

const require = createRequire(import.meta.url);
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

/** 300 JSON-like records of ~100 bytes, with keys and headers: enough for several snappy blocks. */
function records(n = 300) {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: 1_700_000_000_000 + i * 7,
    key: i % 5 === 0 ? null : `user-${i % 17}`,
    value: JSON.stringify({ id: i, customer: `user-${i % 17}`, amountCents: (i * 131) % 10_000, status: i % 3 ? 'paid' : 'open' }),
    headers: { trace: `t-${i}` },
  }));
}

function build(input: ReturnType<typeof records>): Buffer {
  const b = new RecordBatchBuilder();
  for (const r of input) b.append(r.timestamp, r.key, r.value, r.headers);
  return b.build();
}

beforeAll(() => registerKafkaJsCodecs());

describe.each(CODECS)('%s batches', (codec) => {
  it("kafkalite's compressed batch: codec in attribute bits 0-2, CRC-32C over the stored bytes, and KafkaJS decodes the same records", async () => {
    const input = records();
    const plain = build(input);
    const batch = await compressBatch(plain, codec);
    const header = readBatchHeader(batch);
    expect(header.attributes & 0x07).toBe(KAFKAJS_CODEC_IDS[codec]);
    expect(batch.length).toBeLessThan(plain.length); // JSON-like records do compress
    expect(header.batchLength).toBe(batch.length - 12);
    expect(header.crc).toBe(kafkajsCrc32c(batch.subarray(21)));
    expect(checkBatch(batch)).toBeUndefined();
    // The header but for length, attributes and CRC is the plain batch's.
    expect(batch.subarray(23, 61)).toEqual(plain.subarray(23, 61));

    const theirs = await kafkajsDecodeBatch(batch);
    expect(theirs.records).toHaveLength(input.length);
    theirs.records.forEach((r, i) => {
      expect(r.key === null ? null : r.key.toString()).toBe(input[i]!.key);
      expect(r.value!.toString()).toBe(input[i]!.value);
      expect(Number(r.timestamp)).toBe(input[i]!.timestamp);
      expect(r.headers.trace!.toString()).toBe(`t-${i}`);
      expect(Number(r.offset)).toBe(i);
    });
  });

  it("KafkaJS' compressed batch decodes in kafkalite", async () => {
    const input = records();
    const theirs = await kafkajsEncodeBatch(input, 40, KAFKAJS_CODEC_IDS[codec]);
    expect(readBatchHeader(theirs).attributes & 0x07).toBe(KAFKAJS_CODEC_IDS[codec]);
    expect(checkBatch(theirs)).toBeUndefined();
    const { header, records: ours } = decodeRecordBatch(theirs);
    expect(header.baseOffset).toBe(40);
    expect(ours).toHaveLength(input.length);
    ours.forEach((r, i) => {
      expect(r.offset).toBe(40 + i);
      expect(r.key?.toString() ?? null).toBe(input[i]!.key);
      expect(r.value!.toString()).toBe(input[i]!.value);
      expect(r.timestamp).toBe(input[i]!.timestamp);
      expect(r.headers).toEqual({ trace: Buffer.from(`t-${i}`) });
    });
  });

  it('a damaged stream is STORAGE_CORRUPT naming the codec and offset, never wrong records', async () => {
    const batch = Buffer.from(await compressBatch(build(records(50)), codec));
    // Garble the middle of the compressed records (past any stream header).
    const at = 61 + Math.floor((batch.length - 61) / 2);
    for (let i = at; i < Math.min(at + 24, batch.length); i++) batch[i] = 0xff;
    batch.fill(0xff, batch.length - 4); // and its end (lz4's end mark, zstd's last block)
    const error = await expectError(() => decodeRecordBatch(batch), 'STORAGE_CORRUPT', `does not decompress with ${codec}`);
    expect(error.offset).toBe(0);
  });
});

describe('stream formats', () => {
  it("snappy: writes snappy-java's xerial framing (magic, versions 1/1, 32 KiB blocks) and reads raw blocks as librdkafka writes them", async () => {
    const input = records(1000); // > 32 KiB of records: several xerial chunks
    const plain = build(input);
    const batch = await compressBatch(plain, 'snappy');
    const stream = batch.subarray(61);
    expect(stream.subarray(0, 16)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]));
    let chunks = 0;
    for (let at = 16; at < stream.length; chunks++) at += 4 + stream.readInt32BE(at);
    expect(chunks).toBe(Math.ceil((plain.length - 61) / 32768));

    // librdkafka: one raw block (compressed here with snappyjs, not kafkalite's snappy).
    const snappyjs = require('snappyjs') as { compress(b: Buffer): Buffer };
    const raw = Buffer.concat([plain.subarray(0, 61), snappyjs.compress(plain.subarray(61))]);
    raw.writeInt32BE(raw.length - 12, 8);
    raw.writeInt16BE(2, 21);
    expect(decodeRecordBatch(raw).records.map((r) => r.value!.toString())).toEqual(input.map((r) => r.value));
  });

  it('lz4: a KIP-57 frame — magic, version 01, independent blocks, and a header checksum node-lz4 accepts', async () => {
    const batch = await compressBatch(build(records()), 'lz4');
    const frame = batch.subarray(61);
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    const flg = frame[4]!;
    expect(flg >> 6).toBe(1); // version 01
    expect(flg & 0x20).toBe(0x20); // independent blocks, as Kafka's Java writer
    // The header checksum is the second byte of xxh32 over the descriptor (KIP-57), checked with node-lz4's xxhash.
    const descriptorEnd = 4 + 2 + (flg & 0x08 ? 8 : 0);
    expect(frame[descriptorEnd]).toBe(xxh32Byte(frame.subarray(4, descriptorEnd)));
  });
});

/** (xxh32(descriptor, seed 0) >> 8) & 0xff, the LZ4 frame header checksum, with node-lz4's own xxhash. */
function xxh32Byte(descriptor: Buffer): number {
  const xxhash = require('lz4/lib/utils-js') as { descriptorChecksum(d: Buffer): number };
  return xxhash.descriptorChecksum(descriptor);
}
