/**
 * Kafka's RecordBatch, magic 2 — the unit that producers build, partitions append, storages keep
 * and consumers decode. Byte for byte what Kafka writes (all integers big-endian):
 *
 * ```
 * offset size field
 *      0    8 baseOffset            first offset of the batch (set by the partition on append)
 *      8    4 batchLength           bytes after this field
 *     12    4 partitionLeaderEpoch  0 (one broker, one epoch)
 *     16    1 magic                 2
 *     17    4 crc                   CRC-32C of bytes 21 .. end
 *     21    2 attributes            0: no compression, CreateTime, not transactional, not control
 *     23    4 lastOffsetDelta       recordCount - 1
 *     27    8 baseTimestamp         timestamp of the first record
 *     35    8 maxTimestamp
 *     43    8 producerId            -1, or the idempotent producer's id
 *     51    2 producerEpoch         -1, or its epoch
 *     53    4 baseSequence          -1, or the sequence of the first record (per producer and partition)
 *     57    4 recordCount
 *     61      records
 * ```
 *
 * A record: `length` varint, `attributes` int8, `timestampDelta` varlong, `offsetDelta` varint,
 * key (varint length, -1 for null, then bytes), value (likewise), a varint header count, then per
 * header a varint-length UTF-8 key and a varint-length value (-1 for null). Varints are zigzag.
 *
 * The CRC does not cover `baseOffset`, so a partition assigns offsets by rewriting the first eight
 * bytes without touching the checksum — as Kafka's broker does.
 */

import type { ConsumerRecord } from '../types.js';
import { decompressBatch } from './compressed-batch.js';
import { crc32c } from './crc32c.js';

export const RECORD_BATCH_HEADER_SIZE = 61;
export const RECORD_BATCH_MAGIC = 2;
/** Bytes before `batchLength` counts: baseOffset and batchLength themselves. */
export const LOG_OVERHEAD = 12;

const BATCH_LENGTH_AT = 8;
const LEADER_EPOCH_AT = 12;
const MAGIC_AT = 16;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const BASE_TIMESTAMP_AT = 27;
const MAX_TIMESTAMP_AT = 35;
const PRODUCER_ID_AT = 43;
const PRODUCER_EPOCH_AT = 51;
const BASE_SEQUENCE_AT = 53;
const RECORD_COUNT_AT = 57;
const COMPRESSION_MASK = 0x07;
const CONTROL_FLAG = 0x20;
const TRANSACTIONAL_FLAG = 0x10;
/** Kafka's largest sequence number: the next one after it is 0. */
const MAX_SEQUENCE = 0x7fffffff;

const TWO_32 = 4294967296;

/** The header fields of one batch, decoded. */
export interface RecordBatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** What an idempotent (or transactional) producer writes into a batch's header; absent, -1 in every field. */
export interface BatchProducer {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Sets the transactional attribute bit (bit 4): the batch belongs to a transaction. */
  transactional?: boolean;
  /** Sets the control attribute bit (bit 5): a transaction marker (see control-batch.ts). */
  control?: boolean;
}

/** A record as the codec sees it, without topic or partition. */
export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
}

export type Bytes = string | Uint8Array;

/** Headers to write: a key given an array is written once per element, in order. */
export type HeadersInput = Record<string, Bytes | readonly Bytes[]>;

/** Headers as read: a key that occurs more than once in the record reads as an array, in record order. */
export type RecordHeaders = Record<string, Buffer | Buffer[]>;

// ---------------------------------------------------------------------------------------------
// Integers

function writeInt64(buf: Buffer, at: number, n: number): void {
  const hi = Math.floor(n / TWO_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(n - hi * TWO_32, at + 4);
}

function readInt64(buf: Uint8Array, at: number): number {
  const hi = (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
  const lo = ((buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}

function readInt32(buf: Uint8Array, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

/** Bytes a zigzag varint of `n` takes; `n` may be any safe integer. */
function varintSize(n: number): number {
  if (n > -64 && n < 64) return 1;
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    size++;
  }
  return size;
}

/** Writes `n` as a zigzag varint at `at` and returns the position after it. */
function writeVarint(buf: Uint8Array, at: number, n: number): number {
  if (n >= -0x40000000 && n < 0x40000000) {
    let z = (n << 1) ^ (n >> 31);
    while ((z & ~0x7f) !== 0) {
      buf[at++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    buf[at++] = z;
    return at;
  }
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 128) {
    buf[at++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[at++] = z;
  return at;
}

/** Decodes varints from a buffer; `pos` moves past each one read. */
class VarintReader {
  pos = 0;
  constructor(public buf: Uint8Array) {}

  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    let z = b & 0x7f;
    if (b & 0x80) {
      let shift = 7;
      do {
        b = buf[this.pos++]!;
        if (b === undefined) throw new RangeError('varint runs past the end of the batch');
        if (shift < 28) z |= (b & 0x7f) << shift;
        else z += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (shift > 63) throw new RangeError('varint longer than 10 bytes');
      } while (b & 0x80);
      if (shift > 28) return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    return (z >>> 1) ^ -(z & 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function byteLength(b: Bytes | null | undefined): number {
  if (b == null) return -1;
  return typeof b === 'string' ? Buffer.byteLength(b) : b.length;
}

function headersSize(headers: HeadersInput | undefined): number {
  if (headers === undefined) return 1;
  let size = 0;
  let count = 0;
  for (const k in headers) {
    const kl = Buffer.byteLength(k);
    const v = headers[k];
    if (Array.isArray(v)) {
      for (const one of v as readonly Bytes[]) {
        const vl = byteLength(one);
        size += varintSize(kl) + kl + varintSize(vl) + Math.max(vl, 0);
        count++;
      }
    } else {
      const vl = byteLength(v as Bytes);
      size += varintSize(kl) + kl + varintSize(vl) + Math.max(vl, 0);
      count++;
    }
  }
  return size + varintSize(count);
}

/**
 * The exact bytes a batch holding just this record takes: what Kafka compares with a topic's
 * `max.message.bytes`.
 */
export function singleRecordBatchSize(key: Bytes | null, value: Bytes | null, headers?: HeadersInput): number {
  const kl = byteLength(key);
  const vl = byteLength(value);
  const body = 1 + 1 + 1 + varintSize(kl) + Math.max(kl, 0) + varintSize(vl) + Math.max(vl, 0) + headersSize(headers);
  return RECORD_BATCH_HEADER_SIZE + varintSize(body) + body;
}

/**
 * Builds one RecordBatch v2, record by record. Every key, value and header is copied into the
 * builder's own buffer as it is appended, so the caller may reuse its buffers at once.
 *
 * Not shared: one builder belongs to one producer accumulator.
 */
export class RecordBatchBuilder {
  #buf: Buffer;
  #pos = RECORD_BATCH_HEADER_SIZE;
  #count = 0;
  #baseTimestamp = 0;
  #maxTimestamp = -1;
  #undo = { pos: 0, maxTimestamp: -1 };

  /** @param initialCapacity bytes to reserve; the buffer doubles as records need. */
  constructor(initialCapacity = 512) {
    this.#buf = Buffer.allocUnsafe(Math.max(initialCapacity, 128));
  }

  /** Records appended so far. */
  get count(): number {
    return this.#count;
  }

  /** Bytes the batch takes so far, header included. */
  get size(): number {
    return this.#pos;
  }

  /** Appends one record and returns the bytes it took. */
  append(timestamp: number, key: Bytes | null, value: Bytes | null, headers?: HeadersInput): number {
    this.#undo.pos = this.#pos;
    this.#undo.maxTimestamp = this.#maxTimestamp;
    if (this.#count === 0) this.#baseTimestamp = timestamp;
    if (timestamp > this.#maxTimestamp) this.#maxTimestamp = timestamp;
    const tsDelta = timestamp - this.#baseTimestamp;
    const keyString = typeof key === 'string';
    const valueString = typeof value === 'string';
    const kl = key === null ? -1 : keyString ? Buffer.byteLength(key as string) : (key as Uint8Array).length;
    const vl = value === null ? -1 : valueString ? Buffer.byteLength(value as string) : (value as Uint8Array).length;
    const body =
      1 +
      varintSize(tsDelta) +
      varintSize(this.#count) +
      varintSize(kl) +
      (kl > 0 ? kl : 0) +
      varintSize(vl) +
      (vl > 0 ? vl : 0) +
      headersSize(headers);
    const total = varintSize(body) + body;
    this.#reserve(total);
    const buf = this.#buf;
    let p = writeVarint(buf, this.#pos, body);
    buf[p++] = 0;
    p = writeVarint(buf, p, tsDelta);
    p = writeVarint(buf, p, this.#count);
    p = writeVarint(buf, p, kl);
    if (kl > 0) p += keyString ? buf.write(key as string, p) : copyInto(buf, p, key as Uint8Array);
    p = writeVarint(buf, p, vl);
    if (vl > 0) p += valueString ? buf.write(value as string, p) : copyInto(buf, p, value as Uint8Array);
    p = this.#writeHeaders(p, headers);
    this.#pos = p;
    this.#count++;
    return total;
  }

  /** Takes back the record appended last (only that one). */
  undoLast(): void {
    if (this.#count === 0 || this.#undo.pos === this.#pos) throw new RangeError('nothing to undo');
    this.#pos = this.#undo.pos;
    this.#maxTimestamp = this.#undo.maxTimestamp;
    this.#count--;
  }

  #writeHeaders(p: number, headers: HeadersInput | undefined): number {
    const buf = this.#buf;
    if (headers === undefined) {
      buf[p] = 0;
      return p + 1;
    }
    let count = 0;
    for (const k in headers) {
      const v = headers[k];
      count += Array.isArray(v) ? v.length : 1;
    }
    p = writeVarint(buf, p, count);
    for (const k in headers) {
      const v = headers[k]!;
      if (Array.isArray(v)) for (const one of v as readonly Bytes[]) p = this.#writeHeader(p, k, one);
      else p = this.#writeHeader(p, k, v as Bytes);
    }
    return p;
  }

  #writeHeader(p: number, key: string, value: Bytes | null): number {
    const buf = this.#buf;
    p = writeVarint(buf, p, Buffer.byteLength(key));
    p += buf.write(key, p);
    if (value == null) return writeVarint(buf, p, -1);
    if (typeof value === 'string') {
      p = writeVarint(buf, p, Buffer.byteLength(value));
      return p + buf.write(value, p);
    }
    p = writeVarint(buf, p, value.length);
    return p + copyInto(buf, p, value);
  }

  #reserve(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + bytes));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }

  /**
   * Writes the header and checksum and returns the batch (with baseOffset 0). The builder must
   * not be used afterwards. `producer` fills the idempotence fields (else -1, as Kafka writes a
   * batch from a plain producer).
   */
  build(producer?: BatchProducer): Buffer {
    if (this.#count === 0) throw new RangeError('a record batch needs at least one record');
    const buf = this.#buf;
    const end = this.#pos;
    writeInt64(buf, 0, 0);
    buf.writeInt32BE(end - LOG_OVERHEAD, BATCH_LENGTH_AT);
    buf.writeInt32BE(0, LEADER_EPOCH_AT);
    buf[MAGIC_AT] = RECORD_BATCH_MAGIC;
    buf.writeInt16BE((producer?.transactional === true ? TRANSACTIONAL_FLAG : 0) | (producer?.control === true ? CONTROL_FLAG : 0), ATTRIBUTES_AT);
    buf.writeInt32BE(this.#count - 1, LAST_OFFSET_DELTA_AT);
    writeInt64(buf, BASE_TIMESTAMP_AT, this.#baseTimestamp);
    writeInt64(buf, MAX_TIMESTAMP_AT, this.#maxTimestamp);
    writeInt64(buf, PRODUCER_ID_AT, producer?.producerId ?? -1);
    buf.writeInt16BE(producer?.producerEpoch ?? -1, PRODUCER_EPOCH_AT);
    buf.writeInt32BE(producer?.baseSequence ?? -1, BASE_SEQUENCE_AT);
    buf.writeInt32BE(this.#count, RECORD_COUNT_AT);
    buf.writeUInt32BE(crc32c(buf, ATTRIBUTES_AT, end), CRC_AT);
    // A log keeps this buffer for as long as it keeps the batch: give back unused capacity.
    if (buf.length - end > (end >>> 3) + 64) {
      const exact = Buffer.allocUnsafe(end);
      buf.copy(exact, 0, 0, end);
      return exact;
    }
    return buf.subarray(0, end);
  }
}

function copyInto(target: Buffer, at: number, source: Uint8Array): number {
  target.set(source, at);
  return source.length;
}

// ---------------------------------------------------------------------------------------------
// Header access

/** The `baseOffset` of the batch starting at `at`. */
export function batchBaseOffset(batch: Uint8Array, at = 0): number {
  return readInt64(batch, at);
}

/** Sets the `baseOffset` of the batch at `at` (outside the CRC, so the checksum stays valid). */
export function setBatchBaseOffset(batch: Uint8Array, baseOffset: number, at = 0): void {
  const hi = Math.floor(baseOffset / TWO_32);
  const lo = baseOffset - hi * TWO_32;
  batch[at] = hi >>> 24;
  batch[at + 1] = hi >>> 16;
  batch[at + 2] = hi >>> 8;
  batch[at + 3] = hi;
  batch[at + 4] = lo >>> 24;
  batch[at + 5] = lo >>> 16;
  batch[at + 6] = lo >>> 8;
  batch[at + 7] = lo;
}

/** Records in the batch at `at`. */
export function batchRecordCount(batch: Uint8Array, at = 0): number {
  return readInt32(batch, at + RECORD_COUNT_AT);
}

/** The offset of the batch's last record. */
export function batchLastOffset(batch: Uint8Array, at = 0): number {
  return readInt64(batch, at) + readInt32(batch, at + LAST_OFFSET_DELTA_AT);
}

/** The batch's largest record timestamp. */
export function batchMaxTimestamp(batch: Uint8Array, at = 0): number {
  return readInt64(batch, at + MAX_TIMESTAMP_AT);
}

/**
 * Writes `producer`'s id, epoch, base sequence and transactional bit into the header of a built
 * batch (compressed or not: the fields are outside the records) and signs it again — the CRC-32C
 * covers them, as Kafka's does. Kafka's producer does the same: it compresses records as they are
 * appended and writes the header, producer state included, when the batch is drained for sending.
 * Returns `batch`, changed in place: the caller must own it.
 */
export function setBatchProducer(batch: Buffer, producer: BatchProducer): Buffer {
  const attributes = batch.readInt16BE(ATTRIBUTES_AT) & ~(TRANSACTIONAL_FLAG | CONTROL_FLAG);
  batch.writeInt16BE(attributes | (producer.transactional === true ? TRANSACTIONAL_FLAG : 0) | (producer.control === true ? CONTROL_FLAG : 0), ATTRIBUTES_AT);
  writeInt64(batch, PRODUCER_ID_AT, producer.producerId);
  batch.writeInt16BE(producer.producerEpoch, PRODUCER_EPOCH_AT);
  batch.writeInt32BE(producer.baseSequence, BASE_SEQUENCE_AT);
  batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_AT, readInt32(batch, BATCH_LENGTH_AT) + LOG_OVERHEAD), CRC_AT);
  return batch;
}

/** The batch's producer id: -1 unless an idempotent or transactional producer wrote it. */
export function batchProducerId(batch: Uint8Array, at = 0): number {
  return readInt64(batch, at + PRODUCER_ID_AT);
}

export function batchProducerEpoch(batch: Uint8Array, at = 0): number {
  return ((batch[at + PRODUCER_EPOCH_AT]! << 8) | batch[at + PRODUCER_EPOCH_AT + 1]!) << 16 >> 16;
}

export function batchBaseSequence(batch: Uint8Array, at = 0): number {
  return readInt32(batch, at + BASE_SEQUENCE_AT);
}

/** The sequence of the batch's last record (sequences wrap to 0 after 2^31 - 1, as Kafka's do). */
export function batchLastSequence(batch: Uint8Array, at = 0): number {
  return incrementSequence(readInt32(batch, at + BASE_SEQUENCE_AT), readInt32(batch, at + LAST_OFFSET_DELTA_AT));
}

/** A control batch (a transaction marker): no records for applications. */
export function isControlBatch(batch: Uint8Array, at = 0): boolean {
  return (batch[at + ATTRIBUTES_AT + 1]! & CONTROL_FLAG) !== 0;
}

export function isTransactionalBatch(batch: Uint8Array, at = 0): boolean {
  return (batch[at + ATTRIBUTES_AT + 1]! & TRANSACTIONAL_FLAG) !== 0;
}

/** `sequence + increment`, wrapping past Kafka's largest sequence to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  return sequence > MAX_SEQUENCE - increment ? increment - (MAX_SEQUENCE - sequence) - 1 : sequence + increment;
}

/** The whole size of the batch at `at` (`batchLength` + 12), read from its header. */
export function batchSize(batch: Uint8Array, at = 0): number {
  return readInt32(batch, at + BATCH_LENGTH_AT) + LOG_OVERHEAD;
}

export function readBatchHeader(batch: Uint8Array, at = 0): RecordBatchHeader {
  if (batch.length - at < RECORD_BATCH_HEADER_SIZE) {
    throw new RangeError(`a record batch header needs ${RECORD_BATCH_HEADER_SIZE} bytes (got ${batch.length - at})`);
  }
  return {
    baseOffset: readInt64(batch, at),
    batchLength: readInt32(batch, at + BATCH_LENGTH_AT),
    partitionLeaderEpoch: readInt32(batch, at + LEADER_EPOCH_AT),
    magic: batch[at + MAGIC_AT]!,
    crc: readInt32(batch, at + CRC_AT) >>> 0,
    attributes: ((batch[at + ATTRIBUTES_AT]! << 8) | batch[at + ATTRIBUTES_AT + 1]!) << 16 >> 16,
    lastOffsetDelta: readInt32(batch, at + LAST_OFFSET_DELTA_AT),
    baseTimestamp: readInt64(batch, at + BASE_TIMESTAMP_AT),
    maxTimestamp: readInt64(batch, at + MAX_TIMESTAMP_AT),
    producerId: readInt64(batch, at + PRODUCER_ID_AT),
    producerEpoch: ((batch[at + PRODUCER_EPOCH_AT]! << 8) | batch[at + PRODUCER_EPOCH_AT + 1]!) << 16 >> 16,
    baseSequence: readInt32(batch, at + BASE_SEQUENCE_AT),
    recordCount: readInt32(batch, at + RECORD_COUNT_AT),
  };
}

/**
 * Checks the batch at `at` the way a reader must before trusting it: room for the header,
 * `batchLength` within `end`, magic 2, a matching CRC-32C. Returns why it is bad, or `undefined`
 * when it is whole.
 */
export function checkBatch(bytes: Uint8Array, at = 0, end = bytes.length): string | undefined {
  if (end - at < RECORD_BATCH_HEADER_SIZE) return `${end - at} bytes left, fewer than a batch header (${RECORD_BATCH_HEADER_SIZE})`;
  const length = readInt32(bytes, at + BATCH_LENGTH_AT);
  if (length < RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD) return `batchLength ${length} is smaller than a header`;
  if (at + LOG_OVERHEAD + length > end) return `batchLength ${length} runs past the end (${end - at - LOG_OVERHEAD} bytes left)`;
  const magic = bytes[at + MAGIC_AT];
  if (magic !== RECORD_BATCH_MAGIC) return `magic is ${magic}, not ${RECORD_BATCH_MAGIC}`;
  const stored = readInt32(bytes, at + CRC_AT) >>> 0;
  const actual = crc32c(bytes, at + ATTRIBUTES_AT, at + LOG_OVERHEAD + length);
  if (stored !== actual) return `CRC-32C is ${actual.toString(16)}, the header says ${stored.toString(16)}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes the records of the batch at `at` whose offset is at least `fromOffset`, at most
 * `maxRecords` of them, appending `ConsumerRecord`s for `topic`/`partition` to `out`. Returns how
 * many it appended.
 *
 * Keys, values and header values are views into one private copy of the batch, made here: a
 * record handed out shares no memory with the log or with other readers.
 */
export function decodeRecordsInto(
  out: ConsumerRecord[],
  batch: Uint8Array,
  at: number,
  topic: string,
  partition: number,
  fromOffset: number,
  maxRecords: number,
): number {
  const attributes = batch[at + ATTRIBUTES_AT + 1]!;
  const count = readInt32(batch, at + RECORD_COUNT_AT);
  if ((attributes & CONTROL_FLAG) !== 0) return 0;
  if ((attributes & COMPRESSION_MASK) !== 0) {
    // Stored and served in its codec; decoded here from a private decompressed copy.
    const plain = decompressBatch(batch, at, { topic, partition, offset: readInt64(batch, at) });
    return decodeRecordsInto(out, plain, 0, topic, partition, fromOffset, maxRecords);
  }
  const baseOffset = readInt64(batch, at);
  const baseTimestamp = readInt64(batch, at + BASE_TIMESTAMP_AT);
  const end = at + LOG_OVERHEAD + readInt32(batch, at + BATCH_LENGTH_AT);
  const r = SKIP_READER;
  r.buf = batch;
  r.pos = at + RECORD_BATCH_HEADER_SIZE;
  // Skip records below fromOffset by their length prefix alone — but in a batch the log cleaner
  // thinned (fewer records than offsets), by each record's offset delta.
  let i = 0;
  if (count === readInt32(batch, at + LAST_OFFSET_DELTA_AT) + 1) {
    const skip = Math.min(count, fromOffset - baseOffset);
    for (; i < skip; i++) {
      const length = r.varint();
      r.pos += length;
    }
  } else {
    for (; i < count; i++) {
      const start = r.pos;
      const length = r.varint();
      const next = r.pos + length;
      r.pos++; // attributes
      r.varint(); // timestampDelta
      if (baseOffset + r.varint() >= fromOffset) {
        r.pos = start;
        break;
      }
      r.pos = next;
    }
  }
  if (i >= count || maxRecords <= 0) return 0;
  const own = Buffer.from(batch.subarray(r.pos, end));
  const shift = r.pos;
  const reader = RECORD_READER;
  reader.buf = own;
  reader.pos = 0;
  let appended = 0;
  for (; i < count && appended < maxRecords; i++) {
    reader.varint(); // record length
    reader.pos++; // attributes
    const timestamp = baseTimestamp + reader.varint();
    const offset = baseOffset + reader.varint();
    const key = readBytes(reader, own);
    const value = readBytes(reader, own);
    const headers = readHeaders(reader, own);
    out.push({ topic, partition, offset, key, value, headers, timestamp });
    appended++;
  }
  if (reader.pos + shift > end) throw new RangeError(`records of ${topic}-${partition} run past their batch`);
  return appended;
}

/**
 * Node's own Buffer class (`FastBuffer`, what `Buffer[Symbol.species]` is): `new BufferView(ab,
 * offset, length)` makes the same Buffer as `Buffer.from(ab, offset, length)` — same prototype,
 * `Buffer.isBuffer`, deep-equal to any other Buffer — without `Buffer.from`'s argument checks,
 * which cost as much as the view itself (half the time per record of a delivered 100-byte value).
 * Where a runtime's species is anything else, `Buffer.from` is used.
 */
type BufferViewClass = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;
const species: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
const BufferView: BufferViewClass =
  typeof species === 'function' && (species as { prototype: unknown }).prototype === Buffer.prototype
    ? (species as BufferViewClass)
    : (class {
        constructor(buffer: ArrayBufferLike, byteOffset: number, length: number) {
          return Buffer.from(buffer, byteOffset, length);
        }
      } as unknown as BufferViewClass);

/**
 * The two readers decodeRecordsInto uses, made once (it never runs inside itself while they are
 * in use): no reader object per batch, and V8 never forgets their hidden class — it does forget a
 * class no object of which is left at a full GC, and throws away the optimized code built on it
 * (here the decoding loop), which then runs slowly until compiled again. Each holds the last
 * batch it read until the next read.
 */
const SKIP_READER = new VarintReader(new Uint8Array(0));
const RECORD_READER = new VarintReader(new Uint8Array(0));

function readBytes(r: VarintReader, own: Buffer): Buffer | null {
  const length = r.varint();
  if (length < 0) return null;
  const start = r.pos;
  r.pos += length;
  return new BufferView(own.buffer, own.byteOffset + start, length);
}

function readHeaders(r: VarintReader, own: Buffer): RecordHeaders {
  const count = r.varint();
  const headers: RecordHeaders = {};
  for (let h = 0; h < count; h++) {
    const kl = r.varint();
    const key = own.toString('utf8', r.pos, r.pos + kl);
    r.pos += kl;
    let value: Buffer | Buffer[] = readBytes(r, own) ?? Buffer.alloc(0);
    if (Object.prototype.hasOwnProperty.call(headers, key)) {
      // Kafka allows a key more than once: the values read as an array, in record order.
      const seen = headers[key]!;
      value = Array.isArray(seen) ? (seen.push(value), seen) : [seen, value];
    }
    // A header named `__proto__` must become an own property, not replace the object's prototype.
    if (key === '__proto__') Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
    else headers[key] = value;
  }
  return headers;
}

/** Decodes one whole batch: its header and every record. For tools, tests and inspection. */
export function decodeRecordBatch(batch: Uint8Array, at = 0): { header: RecordBatchHeader; records: DecodedRecord[] } {
  const header = readBatchHeader(batch, at);
  const out: ConsumerRecord[] = [];
  decodeRecordsInto(out, batch, at, '', 0, header.baseOffset, header.recordCount);
  const records = out.map(({ offset, timestamp, key, value, headers }) => ({ offset, timestamp, key, value, headers }));
  return { header, records };
}
