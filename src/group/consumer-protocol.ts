import { invalidArgument } from '../errors.js';
import type { TopicPartition } from '../types.js';

/**
 * Kafka's consumer protocol (`protocolType` "consumer"): the bytes a member of a classic group
 * offers with each protocol in JoinGroup (its subscription) and receives in SyncGroup (its
 * assignment). Clients of every language agree on them, so kafkalite's members, KafkaJS's,
 * librdkafka's and Java's can share a group. All integers big-endian; strings an int16 length and
 * UTF-8; arrays an int32 count; bytes an int32 length (-1: null). Never flexible.
 *
 * ```
 * Subscription  v0: int16 version, [string] topics, bytes userData
 *               v1: + [ { string topic, [int32] partitions } ] ownedPartitions
 *               v2: + int32 generationId (-1)
 *               v3: + nullable string rackId
 * Assignment    v0..v3: int16 version, [ { string topic, [int32] partitions } ], bytes userData
 * ```
 * Decoding reads what it knows of any version and ignores the rest, as Kafka's does.
 */

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface Subscription {
  topics: string[];
  userData: Uint8Array | null;
  owned: TopicPartition[];
  generationId: number;
  rackId: string | null;
}

export interface MemberAssignment {
  partitions: TopicPartition[];
  userData: Uint8Array | null;
}

/** The version kafkalite writes: v2 carries owned partitions (cooperative rebalancing) and the generation. */
const SUBSCRIPTION_VERSION = 2;
const ASSIGNMENT_VERSION = 1;

export function encodeSubscription(s: Pick<Subscription, 'topics'> & Partial<Subscription>): Uint8Array {
  const w = new Writer();
  w.int16(SUBSCRIPTION_VERSION);
  w.array(s.topics, (t) => w.string(t));
  w.bytes(s.userData ?? null);
  writePartitions(w, s.owned ?? []);
  w.int32(s.generationId ?? -1);
  return w.done();
}

export function decodeSubscription(bytes: Uint8Array): Subscription {
  const r = new Reader(bytes);
  const version = r.int16();
  const topics = r.array(() => r.string());
  const userData = r.bytes();
  const owned = version >= 1 && r.left > 0 ? readPartitions(r) : [];
  const generationId = version >= 2 && r.left > 0 ? r.int32() : -1;
  const rackId = version >= 3 && r.left > 0 ? r.nullableString() : null;
  return { topics, userData, owned, generationId, rackId };
}

export function encodeAssignment(a: MemberAssignment): Uint8Array {
  const w = new Writer();
  w.int16(ASSIGNMENT_VERSION);
  writePartitions(w, a.partitions);
  w.bytes(a.userData);
  return w.done();
}

/** An empty byte string (what a member gets when the leader sent nothing for it) is no partitions. */
export function decodeAssignment(bytes: Uint8Array): MemberAssignment {
  if (bytes.length === 0) return { partitions: [], userData: null };
  const r = new Reader(bytes);
  r.int16();
  const partitions = readPartitions(r);
  const userData = r.left > 0 ? r.bytes() : null;
  return { partitions, userData };
}

function writePartitions(w: Writer, tps: readonly TopicPartition[]): void {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of tps) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [partition]);
    else list.push(partition);
  }
  w.array([...byTopic], ([topic, partitions]) => {
    w.string(topic);
    w.array(partitions, (p) => w.int32(p));
  });
}

function readPartitions(r: Reader): TopicPartition[] {
  const out: TopicPartition[] = [];
  r.array(() => {
    const topic = r.string();
    r.array(() => out.push({ topic, partition: r.int32() }));
  });
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

class Reader {
  #view: DataView;
  #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.#bytes.length - this.#at;
  }

  #need(n: number): number {
    if (n < 0 || this.#at + n > this.#bytes.length) throw invalidArgument(`consumer protocol bytes end early (need ${n} at byte ${this.#at} of ${this.#bytes.length})`);
    const at = this.#at;
    this.#at += n;
    return at;
  }

  int16(): number {
    return this.#view.getInt16(this.#need(2));
  }

  int32(): number {
    return this.#view.getInt32(this.#need(4));
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw invalidArgument('a consumer protocol string is null');
    return s;
  }

  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    const at = this.#need(n);
    return utf8.decode(this.#bytes.subarray(at, at + n));
  }

  bytes(): Uint8Array | null {
    const n = this.int32();
    if (n < 0) return null;
    const at = this.#need(n);
    return this.#bytes.slice(at, at + n);
  }

  array<T>(item: () => T): T[] {
    const n = this.int32();
    if (n < 0) return [];
    if (n > this.left) throw invalidArgument(`a consumer protocol array claims ${n} items in ${this.left} bytes`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item());
    return out;
  }
}

class Writer {
  #chunks: Uint8Array[] = [];

  int16(n: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setInt16(0, n);
    this.#chunks.push(b);
  }

  int32(n: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, n);
    this.#chunks.push(b);
  }

  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.int16(b.length);
    this.#chunks.push(b);
  }

  bytes(b: Uint8Array | null): void {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    this.#chunks.push(b);
  }

  array<T>(items: readonly T[], item: (x: T) => void): void {
    this.int32(items.length);
    for (const x of items) item(x);
  }

  done(): Uint8Array {
    return Buffer.concat(this.#chunks);
  }
}
