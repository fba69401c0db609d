/**
 * `AssignerProtocol`: Kafka's consumer protocol encodings, as KafkaJS exposes them.
 *   MemberMetadata:   int16 version, array<string> topics, bytes userData
 *   MemberAssignment: int16 version, array<{ string topic, array<int32> partitions }>, bytes userData
 * (an array is an int32 count then its items; a string an int16 length then UTF-8; bytes an int32
 * length, -1 for null, then the bytes).
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

  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    this.int16(bytes.length);
    this.#chunks.push(bytes);
    return this;
  }

  bytes(b: Buffer | null | undefined): this {
    if (b == null) return this.int32(-1);
    this.int32(b.length);
    this.#chunks.push(b);
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

  string(): string {
    const length = this.int16();
    if (length < 0) return '';
    const s = this.#b.toString('utf8', this.#at, this.#at + length);
    this.#at += length;
    return s;
  }

  bytes(): Buffer {
    if (!this.canRead(4)) return Buffer.alloc(0);
    const length = this.int32();
    if (length < 0) return Buffer.alloc(0);
    const b = Buffer.from(this.#b.subarray(this.#at, this.#at + length));
    this.#at += length;
    return b;
  }

  array<T>(read: () => T): T[] {
    const n = this.int32();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read());
    return out;
  }
}

const MemberMetadataSerializer: ISerializer<MemberMetadata> = {
  encode({ version, topics, userData }: { version: number; topics: string[]; userData?: Buffer }): Buffer {
    const w = new Writer().int16(version);
    w.array(topics, (t) => w.string(t));
    return w.bytes(userData ?? Buffer.alloc(0)).buffer;
  },
  decode(buffer: Buffer): MemberMetadata {
    const r = new Reader(buffer);
    return { version: r.int16(), topics: r.array(() => r.string()), userData: r.bytes() };
  },
};

const MemberAssignmentSerializer: ISerializer<MemberAssignment> = {
  encode({ version, assignment, userData }: { version: number; assignment: Assignment; userData?: Buffer }): Buffer {
    const w = new Writer().int16(version);
    w.array(Object.keys(assignment), (topic) => {
      w.string(topic);
      w.array(assignment[topic] ?? [], (p) => w.int32(p));
    });
    return w.bytes(userData ?? Buffer.alloc(0)).buffer;
  },
  decode(buffer: Buffer): MemberAssignment | null {
    const r = new Reader(buffer);
    if (!r.canRead(2)) return null;
    const version = r.int16();
    const assignment: Assignment = {};
    for (const { topic, partitions } of r.array(() => ({ topic: r.string(), partitions: r.array(() => r.int32()) }))) {
      assignment[topic] = partitions;
    }
    return { version, assignment, userData: r.bytes() };
  },
};

export const AssignerProtocol: {
  MemberMetadata: ISerializer<MemberMetadata>;
  MemberAssignment: ISerializer<MemberAssignment>;
} = { MemberMetadata: MemberMetadataSerializer, MemberAssignment: MemberAssignmentSerializer };
