import { RecordBatchBuilder } from '../codec/record-batch.js';
import type { PartitionState } from '../topic/partition.js';
import type { TopicRegistry } from '../topic/topic-registry.js';
import { tpKey, type TopicPartitionOffset } from '../types.js';

/** Kafka's internal topic for committed offsets. */
export const OFFSETS_TOPIC = '__consumer_offsets';
/**
 * Its segments roll at 1 MiB (Kafka's `offsets.topic.segment.bytes` is 100 MiB, for a cluster):
 * the cleaner never touches the active segment, and opening a broker replays what the cleaner
 * kept plus the active segment, so this bounds the replay to about 8,000 commits beyond the latest
 * offset per key.
 */
export const OFFSETS_SEGMENT_BYTES = 1 << 20;

/**
 * Committed offsets of every group, kept as Kafka keeps them: records in the internal topic
 * `__consumer_offsets`, keyed by (group, topic, partition) with Kafka's OffsetCommitKey v1 and
 * OffsetCommitValue v3 layouts, replayed into memory when the broker opens. With a durable
 * storage they survive restarts for free. The topic is compacted (as Kafka's is): the cleaner
 * keeps the latest commit per key, so a reopen replays what is kept, not every commit ever made.
 *
 * Record key:   int16 version (1), string group, string topic, int32 partition
 * Record value: int16 version (3), int64 offset, int32 leaderEpoch (-1), string metadata (""),
 *               int64 commitTimestamp; a null value (tombstone) deletes the offset.
 * (A string is an int16 length and UTF-8 bytes.)
 *
 * Concurrency: commits are appended in call order through the partition; the in-memory view is
 * updated once the append is readable.
 */
export class OffsetStore {
  #offsets = new Map<string, Map<string, number>>();
  #log: PartitionState;
  #now: () => number;

  private constructor(log: PartitionState, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  /** Opens (creating if needed) the offsets topic and replays it. */
  static async open(topics: TopicRegistry, now: () => number): Promise<OffsetStore> {
    const topic =
      topics.get(OFFSETS_TOPIC) ??
      (await topics.create(OFFSETS_TOPIC, { partitions: 1, cleanupPolicy: 'compact', retentionMs: -1, segmentBytes: OFFSETS_SEGMENT_BYTES }, 1));
    // A topic made before it was compacted has 1 GiB segments: all active, never cleaned.
    if (topic.config.segmentBytes > OFFSETS_SEGMENT_BYTES) await topic.alterConfig({ segmentBytes: OFFSETS_SEGMENT_BYTES });
    topics.protect(OFFSETS_TOPIC);
    const store = new OffsetStore(topic.partition(0), now);
    await store.#replay();
    return store;
  }

  async #replay(): Promise<void> {
    let next = this.#log.logStartOffset;
    for (;;) {
      const records = await this.#log.read(next, { maxRecords: 10_000 });
      if (records.length === 0) return;
      for (const r of records) {
        const key = decodeKey(r.key);
        if (key !== undefined) this.#apply(key.group, key.topic, key.partition, r.value === null ? undefined : decodeOffset(r.value));
      }
      next = records[records.length - 1]!.offset + 1;
    }
  }

  committed(group: string, topic: string, partition: number): number | undefined {
    return this.#offsets.get(group)?.get(tpKey(topic, partition));
  }

  /** Groups with at least one committed offset. */
  groups(): string[] {
    return [...this.#offsets.keys()];
  }

  /** Every committed offset of a group. */
  groupOffsets(group: string): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const [key, offset] of this.#offsets.get(group) ?? []) {
      const cut = key.lastIndexOf('\u0000');
      out.push({ topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), offset });
    }
    return out;
  }

  /** Appends the commits (one batch) and applies them once readable. */
  async commit(group: string, offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const builder = new RecordBatchBuilder(offsets.length * (64 + group.length));
    const now = this.#now();
    for (const { topic, partition, offset } of offsets) builder.append(now, encodeKey(group, topic, partition), encodeOffset(offset, now));
    await this.#log.append(builder.build());
    for (const { topic, partition, offset } of offsets) this.#apply(group, topic, partition, offset);
  }

  /** Forgets a group's offsets for `topic` (or all), with tombstones. */
  async delete(group: string, topic?: string): Promise<void> {
    const doomed = this.groupOffsets(group).filter((o) => topic === undefined || o.topic === topic);
    await this.#tombstone(doomed.map((o) => ({ group, ...o })));
  }

  /** Forgets every group's offsets for `topic` (it was deleted), with tombstones. */
  async deleteTopic(topic: string): Promise<void> {
    const doomed: { group: string; topic: string; partition: number }[] = [];
    for (const group of this.#offsets.keys()) {
      for (const o of this.groupOffsets(group)) if (o.topic === topic) doomed.push({ group, topic, partition: o.partition });
    }
    await this.#tombstone(doomed);
  }

  async #tombstone(doomed: { group: string; topic: string; partition: number }[]): Promise<void> {
    if (doomed.length === 0) return;
    const builder = new RecordBatchBuilder();
    const now = this.#now();
    for (const o of doomed) builder.append(now, encodeKey(o.group, o.topic, o.partition), null);
    await this.#log.append(builder.build());
    for (const o of doomed) this.#apply(o.group, o.topic, o.partition, undefined);
  }

  #apply(group: string, topic: string, partition: number, offset: number | undefined): void {
    let offsets = this.#offsets.get(group);
    if (offset === undefined) {
      offsets?.delete(tpKey(topic, partition));
      if (offsets?.size === 0) this.#offsets.delete(group);
      return;
    }
    if (offsets === undefined) this.#offsets.set(group, (offsets = new Map()));
    offsets.set(tpKey(topic, partition), offset);
  }
}

function encodeKey(group: string, topic: string, partition: number): Buffer {
  const g = Buffer.from(group);
  const t = Buffer.from(topic);
  const b = Buffer.alloc(2 + 2 + g.length + 2 + t.length + 4);
  let p = b.writeInt16BE(1, 0);
  p = b.writeInt16BE(g.length, p);
  p += g.copy(b, p);
  p = b.writeInt16BE(t.length, p);
  p += t.copy(b, p);
  b.writeInt32BE(partition, p);
  return b;
}

function decodeKey(key: Buffer | null): { group: string; topic: string; partition: number } | undefined {
  if (key === null || key.length < 10) return undefined;
  const version = key.readInt16BE(0);
  if (version !== 0 && version !== 1) return undefined; // group metadata records: not offsets
  let p = 2;
  const gl = key.readInt16BE(p);
  const group = key.toString('utf8', p + 2, p + 2 + gl);
  p += 2 + gl;
  const tl = key.readInt16BE(p);
  const topic = key.toString('utf8', p + 2, p + 2 + tl);
  p += 2 + tl;
  return { group, topic, partition: key.readInt32BE(p) };
}

function encodeOffset(offset: number, now: number): Buffer {
  const b = Buffer.alloc(2 + 8 + 4 + 2 + 8);
  b.writeInt16BE(3, 0);
  b.writeBigInt64BE(BigInt(offset), 2);
  b.writeInt32BE(-1, 10);
  b.writeInt16BE(0, 14);
  b.writeBigInt64BE(BigInt(now), 16);
  return b;
}

function decodeOffset(value: Buffer): number {
  return Number(value.readBigInt64BE(2));
}
