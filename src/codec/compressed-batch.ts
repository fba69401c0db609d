/**
 * A RecordBatch v2 with its records section compressed, as Kafka stores it: the 61-byte header
 * as it was (see record-batch.ts), `batchLength` of the stored bytes, the codec's id in attribute
 * bits 0-2, and the CRC-32C over the stored bytes from `attributes` on — so a compressed batch is
 * checked without decompressing it, and kept and served in its codec.
 */
import { COMPRESSION_CODECS, COMPRESSION_MASK, compress, codecId, decompress, type CompressionCodec } from './compression.js';
import { crc32c } from './crc32c.js';
import { KafkaliteError, unsupported } from '../errors.js';

const HEADER = 61;
const LOG_OVERHEAD = 12;
const BATCH_LENGTH_AT = 8;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;

/** The codec id in the batch's attributes (0: not compressed). */
export function batchCodec(batch: Uint8Array, at = 0): number {
  return batch[at + ATTRIBUTES_AT + 1]! & COMPRESSION_MASK;
}

/**
 * The uncompressed batch `plain` (as `RecordBatchBuilder.build()` makes it) with its records
 * compressed by `codec`: a new buffer; a promise only while the codec is still loading.
 */
export function compressBatch(plain: Buffer, codec: CompressionCodec): Buffer | Promise<Buffer> {
  if (codec === 'none') return plain;
  const records = compress(codec, plain.subarray(HEADER));
  return records instanceof Promise ? records.then((r) => withRecords(plain, r, codecId(codec))) : withRecords(plain, records, codecId(codec));
}

/**
 * The uncompressed batch `plain` compressed again with codec `id` (1-4), at once: the log
 * cleaner's rewrite of a compressed batch it thinned, in the batch's own codec as Kafka's cleaner
 * writes it. The codec's compressor must have loaded (`compressorReady` in compression.ts): the
 * cleaner waits for that before its pass, so a promise here is a bug, refused as `UNSUPPORTED`.
 */
export function recompressBatch(plain: Uint8Array, id: number): Buffer {
  const codec = COMPRESSION_CODECS[id];
  if (codec === undefined || codec === 'none') throw unsupported(`recompressing a batch with codec ${id}`, "it is not one of Kafka's (1 gzip, 2 snappy, 3 lz4, 4 zstd)");
  const buf = Buffer.isBuffer(plain) ? plain : Buffer.from(plain.buffer, plain.byteOffset, plain.length);
  const records = compress(codec, buf.subarray(HEADER));
  if (records instanceof Promise) {
    records.catch(() => undefined);
    throw unsupported(`recompressing a ${codec} batch at once`, 'its compressor is still loading (compressorReady was not awaited)');
  }
  return withRecords(buf, records, id);
}

function withRecords(plain: Buffer, records: Buffer, id: number): Buffer {
  const batch = Buffer.allocUnsafe(HEADER + records.length);
  plain.copy(batch, 0, 0, HEADER);
  records.copy(batch, HEADER);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_AT);
  batch.writeInt16BE((batch.readInt16BE(ATTRIBUTES_AT) & ~COMPRESSION_MASK) | id, ATTRIBUTES_AT);
  batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_AT, batch.length), CRC_AT);
  return batch;
}

/**
 * The compressed batch at `at` as an uncompressed one, for decoding: a private buffer with the
 * same header, the codec bits cleared and `batchLength` of the plain records (its CRC is not
 * recomputed: it is never stored). A stream that does not decompress is `STORAGE_CORRUPT`; a codec
 * whose package is missing, `UNSUPPORTED`.
 */
export function decompressBatch(batch: Uint8Array, at: number, where: { topic: string; partition: number; offset: number }): Buffer {
  const id = batchCodec(batch, at);
  const { topic, partition, offset } = where;
  if (id > 4) throw new KafkaliteError('UNSUPPORTED', `record batch at offset ${offset} of ${topic}-${partition} is compressed with unknown codec ${id}`, where);
  const end = at + LOG_OVERHEAD + new DataView(batch.buffer, batch.byteOffset).getInt32(at + BATCH_LENGTH_AT);
  let records: Buffer;
  try {
    records = decompress(id, batch.subarray(at + HEADER, end));
  } catch (error) {
    if (error instanceof KafkaliteError) throw error;
    throw new KafkaliteError(
      'STORAGE_CORRUPT',
      `record batch at offset ${offset} of ${topic}-${partition} does not decompress with ${COMPRESSION_CODECS[id] ?? `codec ${id}`}: ${error instanceof Error ? error.message : String(error)}`,
      { topic, partition, offset, cause: error },
    );
  }
  const plain = Buffer.allocUnsafe(HEADER + records.length);
  plain.set(batch.subarray(at, at + HEADER), 0);
  records.copy(plain, HEADER);
  plain.writeInt32BE(plain.length - LOG_OVERHEAD, BATCH_LENGTH_AT);
  plain[ATTRIBUTES_AT + 1] = plain[ATTRIBUTES_AT + 1]! & ~COMPRESSION_MASK;
  return plain;
}
