/**
 * MemoryLog's cleaner over zstd batches that kafkalite itself never compressed (a wire client's,
 * here KafkaJS' encoder): on Node 20 zstd compresses through a wasm module loaded the first time,
 * asynchronously, so the pass waits for it and then runs as if called then. A file of its own:
 * in a fresh worker nothing of kafkalite has loaded its zstd compressor yet.
 */
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RecordBatchBuilder, checkBatch, decodeRecordBatch, readBatchHeader, setBatchBaseOffset } from '../../../src/codec/record-batch.js';
import { MemoryLog } from '../../../src/storage/memory/memory-log.js';
import { kafkajsEncodeBatch } from '../../codec/kafkajs-oracle.js';
import { registerKafkaJsCodecs } from '../../codec/kafkajs-codecs.js';

const T0 = 1_700_000_000_000;
const ZSTD = 4;
/** Node 22.15 and later compress zstd in node:zlib, at once. */
const zstdAtOnce = (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync !== undefined;

describe('MemoryLog.clean over zstd batches', () => {
  it('waits for the zstd compressor to load when it must (Node 20), then thins the batch in zstd; the next pass runs at once', async () => {
    await registerKafkaJsCodecs();
    const log = new MemoryLog(() => 14, { topic: 'c', partition: 0 });
    log.append(await kafkajsEncodeBatch([{ timestamp: T0, key: 'k', value: 'k1' }, { timestamp: T0 + 1, key: 'j', value: 'j1' }, { timestamp: T0 + 2, key: 'k', value: 'k2' }], 0, ZSTD));
    log.append(await kafkajsEncodeBatch([{ timestamp: T0 + 3, key: 'j', value: 'j2' }], 3, ZSTD));
    const active = new RecordBatchBuilder();
    active.append(T0 + 4, 'k', 'k3'); // the active segment: not cleaned, so k2 is still k's latest below it
    const last = active.build();
    setBatchBaseOffset(last, 4);
    log.append(last);

    const pass = log.clean({ minDirtyRatio: 0, deleteRetentionMs: 0, now: T0 + 10 });
    expect(pass instanceof Promise).toBe(!zstdAtOnce);
    expect(await pass).toMatchObject({ cleaned: true });

    const batches = log.read(0, 1 << 20);
    expect(batches.map((b) => checkBatch(b))).toEqual([undefined, undefined, undefined]);
    const first = readBatchHeader(batches[0]!);
    expect([first.attributes & 0x07, first.baseOffset, first.lastOffsetDelta, first.recordCount]).toEqual([ZSTD, 0, 2, 1]);
    expect(decodeRecordBatch(batches[0]!).records.map((r) => `${r.offset}:${r.value!.toString()}`)).toEqual(['2:k2']);
    expect(decodeRecordBatch(batches[1]!).records.map((r) => `${r.offset}:${r.value!.toString()}`)).toEqual(['3:j2']);

    // Loaded now: a pass is synchronous again.
    expect(log.clean({ minDirtyRatio: 0, deleteRetentionMs: 0, now: T0 + 10 }) instanceof Promise).toBe(false);
  });
});
