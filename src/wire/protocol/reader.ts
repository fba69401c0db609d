import { Buffer } from 'node:buffer';
import { ProtocolError } from './protocol-error.js';
import type { RawTaggedField } from './tagged-fields.js';
import { uuidFromBytes } from './uuid.js';

const EMPTY = new Uint8Array(0);

/** Longest string read with the plain JS loop; longer ones go through Buffer's UTF-8 decoder. */
const SHORT_STRING = 32;

/**
 * A bounds-checked cursor over one Kafka frame, in Kafka's big-endian encodings (int16/32/64,
 * unsigned varints, length-prefixed strings, bytes and arrays, compact forms of flexible versions).
 *
 * Every read checks the bytes it needs against the end first and throws {@link ProtocolError} when
 * they are not there, so no malformed frame can reach a RangeError, a huge allocation or a loop that
 * does not consume input: array lengths are checked against the bytes remaining before any element
 * is read. Bytes and records are returned as views into the frame (zero-copy): they stay valid only
 * as long as the caller does not reuse the frame's memory.
 *
 * Concurrency: a Reader is a cursor owned by one synchronous decode; it is never shared.
 */
export class Reader {
  readonly #buf: Uint8Array;
  #text: Buffer | null = null;
  #pos: number;
  #end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    if (!(buf instanceof Uint8Array)) throw new ProtocolError('a Reader needs a Uint8Array');
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > buf.length) {
      throw new ProtocolError(`invalid reader range ${start}..${end} of a ${buf.length}-byte buffer`);
    }
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  /** Position of the next byte to read, as an index into the buffer. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes left before the end of the frame (or of the tagged field being read). */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** The frame this reader walks; views returned by the bytes readers alias it. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  #take(n: number): number {
    const p = this.#pos;
    if (this.#end - p < n) throw this.#short(n);
    this.#pos = p + n;
    return p;
  }

  #short(n: number): ProtocolError {
    return new ProtocolError(
      `frame truncated: needed ${n} bytes at offset ${this.#pos} but only ${this.#end - this.#pos} remain`,
    );
  }

  readInt8(): number {
    return (this.#buf[this.#take(1)]! << 24) >> 24;
  }

  /** Kafka's bool: any non-zero byte is true. */
  readBool(): boolean {
    return this.#buf[this.#take(1)] !== 0;
  }

  readInt16(): number {
    const p = this.#take(2);
    const b = this.#buf;
    return ((b[p]! << 24) | (b[p + 1]! << 16)) >> 16;
  }

  readUint16(): number {
    const p = this.#take(2);
    const b = this.#buf;
    return (b[p]! << 8) | b[p + 1]!;
  }

  readInt32(): number {
    const p = this.#take(4);
    const b = this.#buf;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  readUint32(): number {
    return this.readInt32() >>> 0;
  }

  /**
   * An int64 as a JS number: exact within ±2^53 (every offset, timestamp and producer id Kafka
   * hands out), rounded beyond; Long.MAX_VALUE/MIN_VALUE sentinels survive a round trip because
   * the writer saturates.
   */
  readInt64(): number {
    const p = this.#take(8);
    const b = this.#buf;
    const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    return hi * 4294967296 + lo;
  }

  readFloat64(): number {
    const p = this.#take(8);
    return this.#view().readDoubleBE(p);
  }

  readUuid(): string {
    return uuidFromBytes(this.#buf, this.#take(16));
  }

  /** Kafka's unsigned varint: at most 5 bytes and at most 2^32-1. */
  readUnsignedVarint(): number {
    const b = this.#buf;
    let p = this.#pos;
    if (p < this.#end) {
      const first = b[p]!;
      if (first < 0x80) {
        this.#pos = p + 1;
        return first;
      }
    }
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (p >= this.#end) throw this.#short(p - this.#pos + 1);
      const byte = b[p++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > 0xffffffff) break;
        this.#pos = p;
        return value;
      }
      scale *= 128;
    }
    throw new ProtocolError(`invalid unsigned varint at offset ${this.#pos}: longer than 32 bits`);
  }

  /** A non-flexible array length: the element count, or -1 for a null array. */
  readArrayLength(): number {
    const at = this.#pos;
    const n = this.readInt32();
    if (n < 0) return -1;
    if (n > this.#end - this.#pos) throw this.#tooLong('array', n, at);
    return n;
  }

  /** A compact (flexible-version) array length: the element count, or -1 for a null array. */
  readCompactArrayLength(): number {
    const at = this.#pos;
    const n = this.readUnsignedVarint() - 1;
    if (n > this.#end - this.#pos) throw this.#tooLong('array', n, at);
    return n;
  }

  #tooLong(what: string, n: number, at: number): ProtocolError {
    return new ProtocolError(
      `${what} length ${n} at offset ${at} exceeds the ${this.#end - this.#pos} bytes remaining`,
    );
  }

  #nullNotAllowed(what: string, at: number): ProtocolError {
    return new ProtocolError(`non-nullable ${what} at offset ${at} is encoded as null`);
  }

  #string(n: number, at: number): string {
    if (n > this.#end - this.#pos) throw this.#tooLong('string', n, at);
    const p = this.#pos;
    this.#pos = p + n;
    if (n <= SHORT_STRING) {
      const b = this.#buf;
      let s = '';
      for (let i = p; i < p + n; i++) {
        const c = b[i]!;
        if (c >= 0x80) return this.#view().toString('utf8', p, p + n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.#view().toString('utf8', p, p + n);
  }

  #view(): Buffer {
    if (this.#text === null) {
      const b = this.#buf;
      this.#text = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.#text;
  }

  readString(): string {
    const at = this.#pos;
    const n = this.readInt16();
    if (n < 0) throw this.#nullNotAllowed('string', at);
    return this.#string(n, at);
  }

  readNullableString(): string | null {
    const at = this.#pos;
    const n = this.readInt16();
    return n < 0 ? null : this.#string(n, at);
  }

  readCompactString(): string {
    const at = this.#pos;
    const n = this.readUnsignedVarint() - 1;
    if (n < 0) throw this.#nullNotAllowed('string', at);
    return this.#string(n, at);
  }

  readCompactNullableString(): string | null {
    const at = this.#pos;
    const n = this.readUnsignedVarint() - 1;
    return n < 0 ? null : this.#string(n, at);
  }

  #bytes(n: number, at: number): Uint8Array {
    if (n > this.#end - this.#pos) throw this.#tooLong('bytes', n, at);
    if (n === 0) return EMPTY;
    const p = this.#pos;
    this.#pos = p + n;
    return this.#buf.subarray(p, p + n);
  }

  /** Bytes (and records) as a view into the frame. */
  readBytes(): Uint8Array {
    const at = this.#pos;
    const n = this.readInt32();
    if (n < 0) throw this.#nullNotAllowed('bytes', at);
    return this.#bytes(n, at);
  }

  readNullableBytes(): Uint8Array | null {
    const at = this.#pos;
    const n = this.readInt32();
    return n < 0 ? null : this.#bytes(n, at);
  }

  readCompactBytes(): Uint8Array {
    const at = this.#pos;
    const n = this.readUnsignedVarint() - 1;
    if (n < 0) throw this.#nullNotAllowed('bytes', at);
    return this.#bytes(n, at);
  }

  readCompactNullableBytes(): Uint8Array | null {
    const at = this.#pos;
    const n = this.readUnsignedVarint() - 1;
    return n < 0 ? null : this.#bytes(n, at);
  }

  /** Reads the body of a tagged field the decoder does not know, and appends it to `list`. */
  readUnknownTaggedField(list: RawTaggedField[] | undefined, tag: number, size: number): RawTaggedField[] {
    const data = this.#bytes(size, this.#pos);
    const out = list ?? [];
    out.push({ tag, data });
    return out;
  }

  /** Reads a tagged-field section in which this version knows no tag. */
  readUnknownTaggedFields(): RawTaggedField[] | undefined {
    let list: RawTaggedField[] | undefined;
    for (let n = this.readUnsignedVarint(); n > 0; n--) {
      const tag = this.readUnsignedVarint();
      list = this.readUnknownTaggedField(list, tag, this.readUnsignedVarint());
    }
    return list;
  }

  /** Length of an array of structs (the elements follow), -1 for null. */
  readStructArrayLength(compact: boolean): number {
    return compact ? this.readCompactArrayLength() : this.readArrayLength();
  }

  readInt32Array(compact: boolean): number[] | null {
    const n = compact ? this.readCompactArrayLength() : this.readArrayLength();
    if (n < 0) return null;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.readInt32());
    return out;
  }

  readInt64Array(compact: boolean): number[] | null {
    const n = compact ? this.readCompactArrayLength() : this.readArrayLength();
    if (n < 0) return null;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.readInt64());
    return out;
  }

  readStringArray(compact: boolean): string[] | null {
    const n = compact ? this.readCompactArrayLength() : this.readArrayLength();
    if (n < 0) return null;
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(compact ? this.readCompactString() : this.readString());
    return out;
  }

  /**
   * Narrows the readable end to the next `size` bytes (a tagged field's body) and returns the old
   * end for {@link popLimit}, so a field cannot read into its neighbour.
   */
  pushLimit(size: number): number {
    if (size > this.#end - this.#pos) throw this.#tooLong('tagged field', size, this.#pos);
    const end = this.#end;
    this.#end = this.#pos + size;
    return end;
  }

  /** Restores the end saved by {@link pushLimit}; the field must have used exactly its bytes. */
  popLimit(end: number, tag: number): void {
    if (this.#pos !== this.#end) {
      throw new ProtocolError(`tagged field ${tag} left ${this.#end - this.#pos} of its bytes unread`);
    }
    this.#end = end;
  }
}
