/**
 * `AssignerProtocol`: Kafka's consumer protocol encodings (protocol type "consumer"), as KafkaJS
 * exposes them — byte for byte what KafkaJS writes and reads:
 *   MemberMetadata:   int16 version, array<string> topics, bytes userData
 *   MemberAssignment: int16 version, array<{ string topic, array<int32> partitions }>, bytes userData
 * (an array is an int32 count then its items; a string an int16 length then UTF-8, -1 for null;
 * bytes an int32 length, -1 for null, then the bytes). That is the subscription and assignment of
 * Kafka's consumer protocol v0; later versions append fields (owned partitions, generation, rack),
 * which decoding ignores, as KafkaJS' does.
 *
 * As in KafkaJS: `userData` left out is written as empty bytes, `null` as null (-1) and read back
 * as `null`; a string `userData` is written as its UTF-8 bytes. Unlike KafkaJS, a buffer that ends
 * before its `userData` decodes with empty `userData` instead of throwing a `RangeError`.
 */

import type { Assignment, ISerializer, MemberAssignment, MemberMetadata } from './types.js';

class Writer {
  #chunks: Buffer[] = [];

  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.#chunks.push(b);
    return this;
  }

  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.#chunks.push(b);
    return this;
  }

  string(s: string | null): this {
    if (s == null) return this.int16(-1);
    const bytes = Buffer.from(s, 'utf8');
    this.int16(bytes.length);
    this.#chunks.push(bytes);
    return this;
  }

  bytes(b: Uint8Array | string | null): this {
    if (b == null) return this.int32(-1);
    const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : b instanceof Buffer ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    this.int32(bytes.length);
    this.#chunks.push(bytes);
    return this;
  }

  array<T>(items: readonly T[], write: (item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(item);
    return this;
  }

  get buffer(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

class Reader {
  #b: Buffer;
  #at = 0;

  constructor(b: Buffer) {
    this.#b = b;
  }

  canRead(n: number): boolean {
    return this.#at + n <= this.#b.length;
  }

  int16(): number {
    const v = this.#b.readInt16BE(this.#at);
    this.#at += 2;
    return v;
  }

  int32(): number {
    const v = this.#b.readInt32BE(this.#at);
    this.#at += 4;
    return v;
  }

  string(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    const s = this.#b.toString('utf8', this.#at, this.#at + length);
    this.#at += length;
    return s;
  }

  bytes(): Buffer | null {
    if (!this.canRead(4)) return Buffer.alloc(0);
    const length = this.int32();
    if (length === -1) return null;
    const b = Buffer.from(this.#b.subarray(this.#at, this.#at + length));
    this.#at += length;
    return b;
  }

  array<T>(read: () => T): T[] {
    const n = this.int32();
    if (n === -1) return [];
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read());
    return out;
  }
}

type UserData = Buffer | string | null | undefined;

const MemberMetadataSerializer: ISerializer<MemberMetadata> = {
  encode({ version, topics, userData = Buffer.alloc(0) }: { version: number; topics: string[]; userData?: UserData }): Buffer {
    const w = new Writer().int16(version);
    w.array(topics, (t) => w.string(t));
    return w.bytes(userData).buffer;
  },
  decode(buffer: Buffer): MemberMetadata {
    const r = new Reader(buffer);
    return { version: r.int16(), topics: r.array(() => r.string()) as string[], userData: r.bytes() as Buffer };
  },
};

const MemberAssignmentSerializer: ISerializer<MemberAssignment> = {
  encode({ version, assignment, userData = Buffer.alloc(0) }: { version: number; assignment: Assignment; userData?: UserData }): Buffer {
    const w = new Writer().int16(version);
    w.array(Object.keys(assignment), (topic) => {
      w.string(topic);
      w.array(assignment[topic] ?? [], (p) => w.int32(p));
    });
    return w.bytes(userData).buffer;
  },
  /** `null` for a buffer too short to hold a version (what a member the leader left out gets). */
  decode(buffer: Buffer): MemberAssignment | null {
    const r = new Reader(buffer);
    if (!r.canRead(2)) return null;
    const version = r.int16();
    const assignment: Assignment = {};
    for (const { topic, partitions } of r.array(() => ({ topic: r.string() as string, partitions: r.array(() => r.int32()) }))) {
      assignment[topic] = partitions;
    }
    return { version, assignment, userData: r.bytes() as Buffer };
  },
};

export const AssignerProtocol: {
  MemberMetadata: ISerializer<MemberMetadata>;
  MemberAssignment: ISerializer<MemberAssignment>;
} = { MemberMetadata: MemberMetadataSerializer, MemberAssignment: MemberAssignmentSerializer };
