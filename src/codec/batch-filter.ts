/**
 * Record-level work on stored batches for the log cleaner (Kafka's `MemoryRecords.filterTo`):
 * reading each record's key and offset without decoding values, and rewriting a batch that keeps
 * only some of its records.
 *
 * A rewritten batch keeps its `baseOffset` and its `lastOffsetDelta` (so its last offset) as
 * Kafka keeps them — the batch still ends where it ended, whatever was removed from it — and its
 * producer id, epoch and base sequence; its records keep their offset deltas, so offsets never
 * change. `recordCount`, `batchLength`, `maxTimestamp` and the CRC are those of what is kept.
 *
 * Tombstones (records with a null value) follow KIP-534: the first time the cleaner keeps a
 * batch holding one, it stamps the batch with a delete horizon (`now + deleteRetentionMs`) in
 * the `baseTimestamp` field and sets attribute bit 6; each record's `timestampDelta` is rewritten
 * against it, so every record's timestamp reads as before. Once a pass runs at or after the
 * horizon, the batch's tombstones go.
 *
 * A compressed batch is cleaned as Kafka's cleaner cleans one: decompressed, filtered as above,
 * and — when anything changed — written back as one batch compressed again with the batch's own
 * codec (its header fields kept as for a plain batch, the codec bits set, the CRC-32C over the new
 * compressed bytes). Control batches are left as they are: their records are not looked at.
 */

import { crc32c } from './crc32c.js';
import { batchBaseOffset, isControlBatch, LOG_OVERHEAD, RECORD_BATCH_HEADER_SIZE } from './record-batch.js';
import { batchCodec, decompressBatch, recompressBatch } from './compressed-batch.js';

const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const BASE_TIMESTAMP_AT = 27;
const MAX_TIMESTAMP_AT = 35;
const RECORD_COUNT_AT = 57;
const COMPRESSION_MASK = 0x07;
const CONTROL_FLAG = 0x20;
/** Kafka's `DELETE_HORIZON_FLAG_MASK`: `baseTimestamp` holds the batch's delete horizon. */
export const DELETE_HORIZON_FLAG = 0x40;

/** One record of a batch, as the cleaner sees it. */
export interface RecordRef {
  /** The key's bytes as a latin1 string (one character per byte), or undefined for a null key. */
  key: string | undefined;
  offset: number;
  tombstone: boolean;
}

/** What became of a batch: kept as it is, rewritten (some records removed, or a horizon set), or removed whole. */
export type Filtered = { kind: 'same' } | { kind: 'rewritten'; batch: Uint8Array } | { kind: 'removed' };

/** The partition a batch belongs to, named in the error of a compressed batch that does not decompress. */
export interface BatchPlace {
  topic: string;
  partition: number;
}

/** Whether the batch's records can be walked as they are (neither compressed nor a control batch). */
export function hasPlainRecords(batch: Uint8Array, at = 0): boolean {
  return (batch[at + ATTRIBUTES_AT + 1]! & (COMPRESSION_MASK | CONTROL_FLAG)) === 0;
}

/** The batch's delete horizon (KIP-534), or undefined when none is set. */
export function deleteHorizon(batch: Uint8Array, at = 0): number | undefined {
  return (batch[at + ATTRIBUTES_AT + 1]! & DELETE_HORIZON_FLAG) === 0 ? undefined : readInt64(batch, at + BASE_TIMESTAMP_AT);
}

/**
 * Calls `visit` for every record of a plain batch (key, offset, tombstone), in order; returns
 * false, visiting nothing, for a compressed or control batch.
 */
export function forEachRecord(batch: Uint8Array, visit: (key: string | undefined, offset: number, tombstone: boolean) => void): boolean {
  if (!hasPlainRecords(batch)) return false;
  const r = new Walker(batch);
  const base = batchBaseOffset(batch);
  const count = readInt32(batch, RECORD_COUNT_AT);
  for (let i = 0; i < count; i++) {
    r.record();
    visit(r.key, base + r.offsetDelta, r.tombstone);
  }
  return true;
}

/**
 * The batch with records {@link forEachRecord} can walk: the batch itself when it is plain, a
 * decompressed copy when it is compressed (`STORAGE_CORRUPT` when its stream does not
 * decompress, `UNSUPPORTED` when its codec's package is missing), undefined for a control batch.
 */
export function plainRecords(batch: Uint8Array, where: BatchPlace): Uint8Array | undefined {
  if (isControlBatch(batch)) return undefined;
  return batchCodec(batch) === 0 ? batch : decompressBatch(batch, 0, { ...where, offset: batchBaseOffset(batch) });
}

/**
 * The offset of the first record without a key, or undefined (every record has one, or it is a
 * control batch). A compressed batch is decompressed to look (a keyless record must not reach a
 * compacted topic inside one either).
 */
export function firstRecordWithoutKey(batch: Uint8Array): number | undefined {
  const plain = batchCodec(batch) !== 0 && !isControlBatch(batch) ? decompressBatch(batch, 0, { topic: 'the produced batch', partition: 0, offset: batchBaseOffset(batch) }) : batch;
  let found: number | undefined;
  forEachRecord(plain, (key, offset) => {
    if (key === undefined && found === undefined) found = offset;
  });
  return found;
}

/**
 * Keeps the records `keep` says yes to, and drops tombstones whose delete horizon has passed at
 * `now`; a batch with tombstones kept and no horizon yet gets `now + deleteRetentionMs`. A
 * compressed batch is decompressed to filter, and a rewritten one compressed again with its codec
 * (which must have loaded: `compressorReady`); `where` names its partition if it does not
 * decompress.
 */
export function filterBatch(batch: Uint8Array, keep: (key: string | undefined, offset: number) => boolean, now: number, deleteRetentionMs: number, where: BatchPlace): Filtered {
  if (isControlBatch(batch)) return { kind: 'same' };
  const codec = batchCodec(batch);
  if (codec === 0) return filterPlain(batch, keep, now, deleteRetentionMs);
  const result = filterPlain(decompressBatch(batch, 0, { ...where, offset: batchBaseOffset(batch) }), keep, now, deleteRetentionMs);
  // Kept whole (and no horizon to stamp): the stored bytes stay, not a recompression of them.
  return result.kind === 'rewritten' ? { kind: 'rewritten', batch: recompressBatch(result.batch, codec) } : result;
}

function filterPlain(batch: Uint8Array, keep: (key: string | undefined, offset: number) => boolean, now: number, deleteRetentionMs: number): Filtered {
  const horizon = deleteHorizon(batch);
  const baseTimestamp = readInt64(batch, BASE_TIMESTAMP_AT);
  const base = batchBaseOffset(batch);
  const count = readInt32(batch, RECORD_COUNT_AT);
  const r = new Walker(batch);
  const kept: { start: number; end: number; timestamp: number; afterDelta: number }[] = [];
  let tombstones = false;
  for (let i = 0; i < count; i++) {
    r.record();
    if (!keep(r.key, base + r.offsetDelta)) continue;
    if (r.tombstone) {
      if (horizon !== undefined && now >= horizon) continue;
      tombstones = true;
    }
    kept.push({ start: r.start, end: r.end, timestamp: baseTimestamp + r.timestampDelta, afterDelta: r.afterDelta });
  }
  if (kept.length === 0) return { kind: 'removed' };
  const stamp = tombstones && horizon === undefined;
  if (kept.length === count && !stamp) return { kind: 'same' };
  return { kind: 'rewritten', batch: rebuild(batch, kept, stamp ? now + deleteRetentionMs : undefined) };
}

/**
 * A batch of the kept records. With `horizon`, `baseTimestamp` becomes the horizon and every
 * record's `timestampDelta` is written against it; otherwise the records' bytes are copied as
 * they are (their deltas still hold against the unchanged `baseTimestamp`).
 */
function rebuild(batch: Uint8Array, kept: { start: number; end: number; timestamp: number; afterDelta: number }[], horizon: number | undefined): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = RECORD_BATCH_HEADER_SIZE;
  let maxTimestamp = -1;
  const baseTimestamp = horizon ?? readInt64(batch, BASE_TIMESTAMP_AT);
  for (const k of kept) {
    if (k.timestamp > maxTimestamp) maxTimestamp = k.timestamp;
    let part: Uint8Array;
    if (horizon === undefined) {
      part = batch.subarray(k.start, k.end);
    } else {
      // length varint, attributes, timestampDelta (new), then the rest as it was.
      const rest = batch.subarray(k.afterDelta, k.end);
      const delta = zigzag(k.timestamp - horizon);
      const bodyLength = 1 + varintSize(delta) + rest.length;
      const out = new Uint8Array(varintSize(zigzag(bodyLength)) + bodyLength);
      let p = writeVarint(out, 0, zigzag(bodyLength));
      let q = k.start;
      while ((batch[q]! & 0x80) !== 0) q++; // past the old length varint
      out[p++] = batch[q + 1]!; // attributes
      p = writeVarint(out, p, delta);
      out.set(rest, p);
      part = out;
    }
    parts.push(part);
    size += part.length;
  }
  const out = new Uint8Array(size);
  out.set(batch.subarray(0, RECORD_BATCH_HEADER_SIZE));
  let p = RECORD_BATCH_HEADER_SIZE;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  view.setInt32(8, size - LOG_OVERHEAD);
  if (horizon !== undefined) view.setUint8(ATTRIBUTES_AT + 1, out[ATTRIBUTES_AT + 1]! | DELETE_HORIZON_FLAG);
  writeInt64(view, BASE_TIMESTAMP_AT, baseTimestamp);
  writeInt64(view, MAX_TIMESTAMP_AT, maxTimestamp);
  view.setInt32(RECORD_COUNT_AT, kept.length);
  view.setUint32(17, crc32c(out, ATTRIBUTES_AT, size));
  return out;
}

/**
 * A batch of no records covering `baseOffset` .. `lastOffset` (FileStorage writes one where the
 * cleaner removed whole batches, so a segment's batches still follow one another offset by
 * offset: see docs/format.md). Kafka's own cleaner leaves such empty batches too (for producer
 * state), so every Kafka client reads them.
 */
export function emptyBatch(baseOffset: number, lastOffset: number): Uint8Array {
  const out = new Uint8Array(RECORD_BATCH_HEADER_SIZE);
  const view = new DataView(out.buffer);
  writeInt64(view, 0, baseOffset);
  view.setInt32(8, RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD);
  view.setUint8(16, 2);
  view.setInt32(LAST_OFFSET_DELTA_AT, lastOffset - baseOffset);
  writeInt64(view, BASE_TIMESTAMP_AT, -1);
  writeInt64(view, MAX_TIMESTAMP_AT, -1);
  writeInt64(view, 43, -1); // producerId
  view.setInt16(51, -1); // producerEpoch
  view.setInt32(53, -1); // baseSequence
  view.setInt32(RECORD_COUNT_AT, 0);
  view.setUint32(17, crc32c(out, ATTRIBUTES_AT, out.length));
  return out;
}

/** Walks the records of a plain batch one at a time, reading only what the cleaner needs. */
class Walker {
  readonly #b: Uint8Array;
  /** The batch as a Buffer, once, for its latin1 decoding of keys. */
  readonly #buf: Buffer;
  #pos = RECORD_BATCH_HEADER_SIZE;
  start = 0;
  end = 0;
  afterDelta = 0;
  timestampDelta = 0;
  offsetDelta = 0;
  key: string | undefined;
  tombstone = false;

  constructor(batch: Uint8Array) {
    this.#b = batch;
    this.#buf = Buffer.isBuffer(batch) ? batch : Buffer.from(batch.buffer, batch.byteOffset, batch.length);
  }

  record(): void {
    this.start = this.#pos;
    const length = this.#varint();
    this.end = this.#pos + length;
    this.#pos++; // attributes
    this.timestampDelta = this.#varint();
    this.afterDelta = this.#pos;
    this.offsetDelta = this.#varint();
    const keyLength = this.#varint();
    if (keyLength < 0) this.key = undefined;
    else {
      this.key = this.#buf.toString('latin1', this.#pos, this.#pos + keyLength);
      this.#pos += keyLength;
    }
    this.tombstone = this.#varint() < 0;
    if (this.end > this.#b.length) throw new RangeError(`a record runs past its batch (at byte ${this.start})`);
    this.#pos = this.end;
  }

  /** A zigzag varint (or varlong: a JS number holds the deltas a batch can have). */
  #varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.#b[this.#pos++];
      if (byte === undefined) throw new RangeError('a record runs past its batch');
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) break;
      scale *= 128;
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varintSize(zz: number): number {
  let size = 1;
  while (zz >= 128) {
    zz = Math.floor(zz / 128);
    size++;
  }
  return size;
}

/** Writes an already zigzagged value; returns the position after it. */
function writeVarint(out: Uint8Array, at: number, zz: number): number {
  while (zz >= 128) {
    out[at++] = (zz % 128) | 0x80;
    zz = Math.floor(zz / 128);
  }
  out[at++] = zz;
  return at;
}

function readInt32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) | 0;
}

function readInt64(b: Uint8Array, at: number): number {
  return readInt32(b, at) * 4294967296 + (readInt32(b, at + 4) >>> 0);
}

function writeInt64(view: DataView, at: number, n: number): void {
  view.setBigInt64(at, BigInt(n));
}
