/**
 * The records of `__transaction_state` that hold a transactional id's state.
 *
 * Key (Kafka's TransactionLogKey v0): int16 version 0, string transactionalId.
 *
 * Value: Kafka's TransactionLogValue v0 — int16 version 0, int64 producerId, int16 producerEpoch,
 * int32 transactionTimeoutMs, int8 state (Kafka's numbering: 0 Empty, 1 Ongoing, 2 PrepareCommit,
 * 3 PrepareAbort, 4 CompleteCommit, 5 CompleteAbort), int32 topic count and per topic a string
 * and an int32 count of int32 partitions, int64 lastUpdateTimestamp, int64 startTimestamp —
 * followed by kafkalite's own tail: int32 count of offsets the transaction commits, each a
 * string group, string topic, int32 partition, int64 offset (Kafka keeps those in
 * `__consumer_offsets` as transactional records instead).
 *
 * A string is an int16 length and UTF-8 bytes.
 */

export const TXN_STATES = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort'] as const;
export type TxnState = (typeof TXN_STATES)[number];

export interface TransactionRecord {
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: { topic: string; partition: number }[];
  /** When the transaction opened (-1: none open). */
  startedAt: number;
  offsets: { groupId: string; topic: string; partition: number; offset: number }[];
}

export function encodeTransactionKey(transactionalId: string): Buffer {
  const id = Buffer.from(transactionalId);
  const b = Buffer.alloc(4 + id.length);
  b.writeInt16BE(0, 0);
  b.writeInt16BE(id.length, 2);
  id.copy(b, 4);
  return b;
}

/** The transactional id of a key, or `undefined` for another kind of record (a producer id block). */
export function transactionKeyOf(key: Buffer | null): string | undefined {
  if (key === null || key.length < 4 || key.readInt16BE(0) !== 0) return undefined;
  return key.toString('utf8', 4, 4 + key.readInt16BE(2));
}

class Writer {
  parts: Buffer[] = [];
  int8(n: number): void {
    const b = Buffer.alloc(1);
    b.writeInt8(n);
    this.parts.push(b);
  }
  int16(n: number): void {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    this.parts.push(b);
  }
  int32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
  }
  int64(n: number): void {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    this.parts.push(b);
  }
  string(s: string): void {
    const b = Buffer.from(s);
    this.int16(b.length);
    this.parts.push(b);
  }
}

export function encodeTransaction(t: TransactionRecord, now = t.startedAt): Buffer {
  const w = new Writer();
  w.int16(0);
  w.int64(t.producerId);
  w.int16(t.producerEpoch);
  w.int32(t.timeoutMs);
  w.int8(TXN_STATES.indexOf(t.state));
  const topics = new Map<string, number[]>();
  for (const { topic, partition } of t.partitions) topics.set(topic, [...(topics.get(topic) ?? []), partition]);
  w.int32(topics.size);
  for (const [topic, partitions] of topics) {
    w.string(topic);
    w.int32(partitions.length);
    for (const p of partitions) w.int32(p);
  }
  w.int64(now);
  w.int64(t.startedAt);
  w.int32(t.offsets.length);
  for (const o of t.offsets) {
    w.string(o.groupId);
    w.string(o.topic);
    w.int32(o.partition);
    w.int64(o.offset);
  }
  return Buffer.concat(w.parts);
}

export function decodeTransaction(b: Buffer): TransactionRecord {
  let p = 2;
  const int16 = (): number => ((p += 2), b.readInt16BE(p - 2));
  const int32 = (): number => ((p += 4), b.readInt32BE(p - 4));
  const int64 = (): number => ((p += 8), Number(b.readBigInt64BE(p - 8)));
  const string = (): string => {
    const n = int16();
    p += n;
    return b.toString('utf8', p - n, p);
  };
  const producerId = int64();
  const producerEpoch = int16();
  const timeoutMs = int32();
  const state = TXN_STATES[b.readInt8(p++)] ?? 'Empty';
  const partitions: TransactionRecord['partitions'] = [];
  for (let t = int32(); t > 0; t--) {
    const topic = string();
    for (let n = int32(); n > 0; n--) partitions.push({ topic, partition: int32() });
  }
  int64(); // last update
  const startedAt = int64();
  const offsets: TransactionRecord['offsets'] = [];
  if (p < b.length) {
    for (let n = int32(); n > 0; n--) {
      const groupId = string();
      const topic = string();
      const partition = int32();
      offsets.push({ groupId, topic, partition, offset: int64() });
    }
  }
  return { producerId, producerEpoch, timeoutMs, state, partitions, startedAt, offsets };
}
