import { Buffer } from 'node:buffer';
import { ProtocolError } from './protocol-error.js';
import type { RawTaggedField } from './tagged-fields.js';
import { uuidToBytes } from './uuid.js';

/** Size of each scratch slab; messages are written into slabs back to back. */
const SLAB_SIZE = 64 * 1024;

/**
 * Byte arrays at least this long are not copied but handed to the output by reference (stored
 * batches in a Fetch response); shorter ones are cheaper to copy than to cut the output for.
 */
export const ZERO_COPY_MIN = 1024;

const TWO_32 = 4294967296;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Total length of a bytes value given as one array or as a list of chunks. */
export function byteLength(value: Uint8Array | readonly Uint8Array[]): number {
  if (value instanceof Uint8Array) return value.length;
  let n = 0;
  for (const chunk of value) n += chunk.length;
  return n;
}

/** UTF-8 length of a string, counting a lone surrogate as the 3 bytes of U+FFFD (as Buffer writes it). */
export function utf8Length(s: string): number {
  const len = s.length;
  if (len > 64) return Buffer.byteLength(s, 'utf8');
  let n = len;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/** Bytes an unsigned varint of `v` takes. */
export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/**
 * A growable output for Kafka's encodings, the mirror of {@link Reader}.
 *
 * Bytes go into a 64 KiB scratch slab; {@link finish} hands the caller the written region as a list
 * of chunks and moves on in the same slab, so one Writer serves every message of a connection (or
 * of a process) without reallocating and without ever overwriting bytes it handed out. Large byte
 * arrays — stored record batches — are not copied: the chunk list points at them, so a Fetch
 * response of a thousand batches costs a thousand references, to be sent with one `writev` (or
 * `socket.cork()` + writes). The caller must not change such arrays until they are sent.
 *
 * Concurrency: one message at a time and synchronous; not reentrant (an encoder must not start a
 * second message on the same Writer before `finish`). Encoders are stateless functions over it.
 */
export class Writer {
  readonly #slabSize: number;
  #slab: Buffer;
  #pos = 0;
  #start = 0;
  #chunks: Uint8Array[] = [];
  #chunkBytes = 0;
  #frameSlab: Buffer | null = null;
  #frameAt = 0;
  #frameBase = 0;

  constructor(slabSize = SLAB_SIZE) {
    if (!Number.isInteger(slabSize) || slabSize < 16) throw new ProtocolError(`invalid slab size ${slabSize}`);
    this.#slabSize = slabSize;
    this.#slab = Buffer.allocUnsafe(slabSize);
  }

  /** Bytes written since the last {@link finish}. */
  get length(): number {
    return this.#chunkBytes + this.#pos - this.#start;
  }

  #room(n: number): number {
    if (this.#slab.length - this.#pos < n) this.#newSlab(n);
    const p = this.#pos;
    this.#pos = p + n;
    return p;
  }

  #newSlab(n: number): void {
    this.#cut();
    this.#slab = Buffer.allocUnsafe(Math.max(this.#slabSize, n));
    this.#pos = 0;
    this.#start = 0;
  }

  #cut(): void {
    if (this.#pos > this.#start) {
      this.#chunks.push(this.#slab.subarray(this.#start, this.#pos));
      this.#chunkBytes += this.#pos - this.#start;
      this.#start = this.#pos;
    }
  }

  /** Hands over everything written since the last finish, as chunks to send in order. */
  finish(): Uint8Array[] {
    this.#cut();
    const out = this.#chunks;
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#frameSlab = null;
    return out;
  }

  /** {@link finish} joined into one array (copies only when there is more than one chunk). */
  finishBytes(): Uint8Array {
    const chunks = this.finish();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks);
  }

  /** Starts a size-prefixed frame: reserves the int32 size that {@link finishFrame} fills in. */
  beginFrame(): void {
    if (this.length !== 0) throw new ProtocolError('beginFrame called with an unfinished message in the writer');
    const p = this.#room(4);
    this.#frameSlab = this.#slab;
    this.#frameAt = p;
    this.#frameBase = this.length;
  }

  /** Fills in the frame's size (the bytes after the prefix) and hands the frame over. */
  finishFrame(): Uint8Array[] {
    const slab = this.#frameSlab;
    if (slab === null) throw new ProtocolError('finishFrame called without beginFrame');
    const size = this.length - this.#frameBase;
    slab.writeInt32BE(size, this.#frameAt);
    return this.finish();
  }

  // The position is taken before the slab is read: #room may move to a new slab.
  writeInt8(v: number): void {
    const p = this.#room(1);
    this.#slab[p] = v;
  }

  writeBool(v: boolean): void {
    const p = this.#room(1);
    this.#slab[p] = v ? 1 : 0;
  }

  writeInt16(v: number): void {
    const p = this.#room(2);
    const b = this.#slab;
    b[p] = v >> 8;
    b[p + 1] = v;
  }

  writeUint16(v: number): void {
    this.writeInt16(v);
  }

  writeInt32(v: number): void {
    const p = this.#room(4);
    const b = this.#slab;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
  }

  writeUint32(v: number): void {
    this.writeInt32(v);
  }

  /**
   * An int64 from a JS number. Safe integers are exact; larger magnitudes (a decoded
   * Long.MAX_VALUE arrives as 2^63) are written through BigInt and saturated to the int64 range;
   * anything that is not an integer is refused.
   */
  writeInt64(v: number): void {
    if (Number.isSafeInteger(v)) {
      const hi = Math.floor(v / TWO_32);
      this.writeInt32(hi);
      this.writeInt32(v - hi * TWO_32);
      return;
    }
    if (!Number.isInteger(v)) throw new ProtocolError(`int64 value ${String(v)} is not an integer`);
    let big = BigInt(v);
    if (big > INT64_MAX) big = INT64_MAX;
    if (big < INT64_MIN) big = INT64_MIN;
    const p = this.#room(8);
    this.#slab.writeBigInt64BE(big, p);
  }

  writeFloat64(v: number): void {
    const p = this.#room(8);
    this.#slab.writeDoubleBE(v, p);
  }

  writeUuid(v: string): void {
    const p = this.#room(16);
    uuidToBytes(v, this.#slab, p);
  }

  writeUnsignedVarint(v: number): void {
    if (this.#slab.length - this.#pos < 5) this.#newSlab(5);
    const b = this.#slab;
    let p = this.#pos;
    let x = v >>> 0;
    while (x >= 0x80) {
      b[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[p++] = x;
    this.#pos = p;
  }

  writeArrayLength(n: number): void {
    this.writeInt32(n);
  }

  /** Compact array length; -1 writes a null array. */
  writeCompactArrayLength(n: number): void {
    this.writeUnsignedVarint(n + 1);
  }

  #utf8(s: string, n: number): void {
    const p = this.#room(n);
    const b = this.#slab;
    if (n === s.length && n <= 64) {
      for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
    } else {
      b.write(s, p, n, 'utf8');
    }
  }

  writeString(s: string): void {
    const n = utf8Length(s);
    if (n > 0x7fff) throw new ProtocolError(`string of ${n} bytes is longer than an int16 length allows`);
    this.writeInt16(n);
    this.#utf8(s, n);
  }

  writeNullableString(s: string | null): void {
    if (s === null) this.writeInt16(-1);
    else this.writeString(s);
  }

  writeCompactString(s: string): void {
    const n = utf8Length(s);
    this.writeUnsignedVarint(n + 1);
    this.#utf8(s, n);
  }

  writeCompactNullableString(s: string | null): void {
    if (s === null) this.writeUnsignedVarint(0);
    else this.writeCompactString(s);
  }

  /** Appends bytes with no length prefix; long arrays are referenced, not copied. */
  writeRaw(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n >= ZERO_COPY_MIN) {
      this.#cut();
      this.#chunks.push(chunk);
      this.#chunkBytes += n;
    } else if (n > 0) {
      const p = this.#room(n);
      this.#slab.set(chunk, p);
    }
  }

  #rawAll(value: Uint8Array | readonly Uint8Array[]): void {
    if (value instanceof Uint8Array) this.writeRaw(value);
    else for (const chunk of value) this.writeRaw(chunk);
  }

  writeBytes(value: Uint8Array | readonly Uint8Array[]): void {
    this.writeInt32(byteLength(value));
    this.#rawAll(value);
  }

  writeNullableBytes(value: Uint8Array | readonly Uint8Array[] | null): void {
    if (value === null) this.writeInt32(-1);
    else this.writeBytes(value);
  }

  writeCompactBytes(value: Uint8Array | readonly Uint8Array[]): void {
    this.writeUnsignedVarint(byteLength(value) + 1);
    this.#rawAll(value);
  }

  writeCompactNullableBytes(value: Uint8Array | readonly Uint8Array[] | null): void {
    if (value === null) this.writeUnsignedVarint(0);
    else this.writeCompactBytes(value);
  }

  /**
   * Writes one tagged field whose body was encoded into `body` (a scratch Writer): tag, size, body.
   */
  writeTaggedField(tag: number, body: Writer): void {
    this.writeUnsignedVarint(tag);
    this.writeUnsignedVarint(body.length);
    for (const chunk of body.finish()) this.writeRaw(chunk);
  }

  /** A whole tagged-field section made only of fields the encoder does not know itself. */
  writeUnknownTaggedFields(list: readonly RawTaggedField[] | undefined): void {
    if (list === undefined) {
      this.writeUnsignedVarint(0);
      return;
    }
    this.writeUnsignedVarint(list.length);
    this.writeRawTaggedFields(list, 0, Infinity);
  }

  #arrayLength(compact: boolean, n: number): void {
    if (compact) this.writeUnsignedVarint(n + 1);
    else this.writeInt32(n);
  }

  writeInt32Array(compact: boolean, values: readonly number[] | null): void {
    if (values === null) return this.#arrayLength(compact, -1);
    this.#arrayLength(compact, values.length);
    for (const v of values) this.writeInt32(v);
  }

  writeInt64Array(compact: boolean, values: readonly number[] | null): void {
    if (values === null) return this.#arrayLength(compact, -1);
    this.#arrayLength(compact, values.length);
    for (const v of values) this.writeInt64(v);
  }

  writeStringArray(compact: boolean, values: readonly string[] | null): void {
    if (values === null) return this.#arrayLength(compact, -1);
    this.#arrayLength(compact, values.length);
    if (compact) for (const v of values) this.writeCompactString(v);
    else for (const v of values) this.writeString(v);
  }

  /** Length prefix of an array of structs (the elements follow); -1 for null. */
  writeStructArrayLength(compact: boolean, n: number): void {
    this.#arrayLength(compact, n);
  }

  /**
   * Writes the unknown tagged fields `list[from..]` whose tag is below `belowTag`, keeping the
   * whole tagged section in tag order; returns the index of the first one not written.
   */
  writeRawTaggedFields(list: readonly RawTaggedField[], from: number, belowTag: number): number {
    let i = from;
    for (; i < list.length; i++) {
      const field = list[i]!;
      if (field.tag >= belowTag) break;
      this.writeUnsignedVarint(field.tag);
      this.writeUnsignedVarint(field.data.length);
      this.writeRaw(field.data);
    }
    return i;
  }
}
