import { COMPRESSION_CODECS, decompress } from '../codec/compression.js';
import { crc32c } from '../codec/crc32c.js';
import { KafkaliteError } from '../errors.js';
import { LOG_OVERHEAD, RECORD_BATCH_HEADER_SIZE, RECORD_BATCH_MAGIC } from '../codec/record-batch.js';
import { KafkaErrorCode, type KafkaError } from './kafka-errors.js';

/** Batch attribute bits (Kafka's `DefaultRecordBatch`). */
export const COMPRESSION_MASK = 0x07;
const CONTROL_FLAG = 0x20;
const ZSTD = 4;

/**
 * Checks the records of one partition of a Produce request the way Kafka's broker does before it
 * appends them (`ProduceRequest.validateRecords`, `LogValidator`): exactly one RecordBatch of
 * magic 2, whole, with a matching CRC-32C, consistent counts, no control batch from a client, a
 * known codec; and, for an uncompressed batch, every record well-formed with offset deltas
 * 0..n-1 and the header's `maxTimestamp` the records' largest. The bytes are stored exactly as
 * they came, so what is not checked here is what every later reader would trip over.
 * Returns why the batch is refused, or undefined. A compressed batch (any of Kafka's four codecs)
 * is decompressed and its records walked as an uncompressed one's, then stored as it came; a codec
 * whose optional package is not installed is UNSUPPORTED_COMPRESSION_TYPE, as Kafka answers a
 * codec it does not take.
 */
export function checkProducedBatch(records: Uint8Array | null, apiVersion: number): KafkaError | undefined {
  if (records === null || records.length === 0) return invalid('a produce request must hold exactly one record batch (got none)');
  const size = records.length;
  if (size < RECORD_BATCH_HEADER_SIZE) return corrupt(`${size} bytes of records are fewer than a record batch header (${RECORD_BATCH_HEADER_SIZE})`);
  const view = new DataView(records.buffer, records.byteOffset, size);
  const batchLength = view.getInt32(8);
  const magic = records[16]!;
  if (magic !== RECORD_BATCH_MAGIC) return invalid(`record batches must have magic ${RECORD_BATCH_MAGIC} (got ${magic})`);
  if (batchLength < RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD) return corrupt(`batchLength ${batchLength} is smaller than a batch header`);
  if (LOG_OVERHEAD + batchLength > size) return corrupt(`batchLength ${batchLength} runs past the ${size} bytes of records`);
  if (LOG_OVERHEAD + batchLength < size) return invalid('a produce request must hold exactly one record batch per partition (more bytes follow the first)');
  const crc = view.getUint32(17);
  if (crc32c(records, 21, size) !== crc) return corrupt('the record batch fails its CRC-32C check');
  const attributes = view.getInt16(21);
  if ((attributes & CONTROL_FLAG) !== 0) return invalid('clients may not write control batches');
  const codec = attributes & COMPRESSION_MASK;
  if (codec > ZSTD) return corrupt(`unknown compression codec ${codec}`);
  if (codec === ZSTD && apiVersion < 7) {
    return { code: KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message: 'zstd needs Produce version 7 or later' };
  }
  const lastOffsetDelta = view.getInt32(23);
  const recordCount = view.getInt32(57);
  if (recordCount < 1) return invalid(`a record batch needs at least one record (recordCount ${recordCount})`);
  if (lastOffsetDelta !== recordCount - 1) return invalid(`lastOffsetDelta ${lastOffsetDelta} does not match recordCount ${recordCount}`);
  const baseTimestamp = readInt64(view, 27);
  const maxTimestamp = readInt64(view, 35);
  if (codec === 0) {
    const why = walkRecords(records, RECORD_BATCH_HEADER_SIZE, recordCount, baseTimestamp, maxTimestamp);
    return why === undefined ? undefined : invalid(why);
  }
  const name = COMPRESSION_CODECS[codec]!;
  let inflated: Buffer;
  try {
    inflated = decompress(codec, records.subarray(RECORD_BATCH_HEADER_SIZE));
  } catch (error) {
    if (error instanceof KafkaliteError) return { code: KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message: error.message };
    return corrupt(`the ${name} batch does not decompress: ${error instanceof Error ? error.message : String(error)}`);
  }
  const why = walkRecords(inflated, 0, recordCount, baseTimestamp, maxTimestamp);
  return why === undefined ? undefined : corrupt(`in the ${name} batch: ${why}`);
}

const invalid = (message: string): KafkaError => ({ code: KafkaErrorCode.INVALID_RECORD, message });
const corrupt = (message: string): KafkaError => ({ code: KafkaErrorCode.CORRUPT_MESSAGE, message });

function readInt64(view: DataView, at: number): number {
  return view.getInt32(at) * 4294967296 + view.getUint32(at + 4);
}

/**
 * Walks every record of an uncompressed batch by its lengths (no copies); returns what is wrong
 * with the first bad one.
 */
function walkRecords(b: Uint8Array, from: number, count: number, baseTimestamp: number, maxTimestamp: number): string | undefined {
  const end = b.length;
  const r = { pos: from, ok: true };
  let largest = -Infinity;
  for (let i = 0; i < count; i++) {
    const length = varint(b, r, end);
    const start = r.pos;
    if (!r.ok || length < 0 || start + length > end) return `record ${i} has a bad length`;
    const recordEnd = start + length;
    r.pos++; // attributes
    const timestampDelta = varint(b, r, recordEnd);
    const offsetDelta = varint(b, r, recordEnd);
    if (!r.ok) return `record ${i} is cut short`;
    if (offsetDelta !== i) return `record ${i} has offset delta ${offsetDelta}`;
    const timestamp = baseTimestamp + timestampDelta;
    if (timestamp > largest) largest = timestamp;
    for (let field = 0; field < 2; field++) {
      const n = varint(b, r, recordEnd); // key, then value: -1 is null
      if (!r.ok || n < -1 || r.pos + Math.max(n, 0) > recordEnd) return `record ${i} has a bad ${field === 0 ? 'key' : 'value'} length`;
      if (n > 0) r.pos += n;
    }
    const headers = varint(b, r, recordEnd);
    if (!r.ok || headers < 0) return `record ${i} has a bad header count`;
    for (let h = 0; h < headers; h++) {
      const kl = varint(b, r, recordEnd);
      if (!r.ok || kl < 0 || r.pos + kl > recordEnd) return `record ${i} has a bad header key`;
      r.pos += kl;
      const vl = varint(b, r, recordEnd);
      if (!r.ok || vl < -1 || r.pos + Math.max(vl, 0) > recordEnd) return `record ${i} has a bad header value`;
      if (vl > 0) r.pos += vl;
    }
    if (r.pos !== recordEnd) return `record ${i} is ${length} bytes long but its fields take ${r.pos - start}`;
  }
  if (r.pos !== end) return `${end - r.pos} bytes follow the batch's ${count} records`;
  if (largest !== maxTimestamp) return `maxTimestamp ${maxTimestamp} is not the records' largest timestamp (${largest})`;
  return undefined;
}

/** A zigzag varint (up to 10 bytes) at `r.pos`, not reading at or past `end`; clears `r.ok` when it runs over. */
function varint(b: Uint8Array, r: { pos: number; ok: boolean }, end: number): number {
  let z = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= end) {
      r.ok = false;
      return 0;
    }
    const byte = b[r.pos++]!;
    z += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    mul *= 128;
  }
  r.ok = false;
  return 0;
}
