import { KafkaliteError, offsetOutOfRange, show } from '../errors.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type IsolationLevel, type KafkaApi } from '../seam/kafka-api.js';
import type { AutoOffsetReset } from './consumer-options.js';

/** One assigned partition as a consumer tracks it (Kafka's `TopicPartitionState`). */
export interface PartitionCursor {
  topic: string;
  partition: number;
  /** The next offset to deliver; undefined until a reset fixes it. */
  position: number | undefined;
  /**
   * Set when the position must be fixed before the next fetch: from the group's committed offset
   * (falling back to `autoOffsetReset`), or from the log's start or end.
   */
  reset: 'committed' | 'earliest' | 'latest' | undefined;
  paused: boolean;
  /** Being given up in a rebalance: nothing more is delivered from it. */
  revoked: boolean;
  /** The position last committed, so auto-commit skips partitions that did not move. */
  committed: number | undefined;
  /** Bumped by every seek, reset and reassignment, so stale fetches and resets are dropped. */
  epoch: number;
  /**
   * Not known to exist — just assigned by `assign`, or its topic was deleted (until it is created
   * again): neither fetched nor reset until it is.
   */
  unverified: boolean;
  /** The partition's high watermark in the last fetch response that had it; undefined before. */
  highWatermark: number | undefined;
}

export interface PositionPolicy {
  groupId: string | undefined;
  autoOffsetReset: AutoOffsetReset;
  /** Per topic, overrides `autoOffsetReset`. */
  autoOffsetResetByTopic: Readonly<Record<string, AutoOffsetReset>>;
  /** `'read_committed'`: `latest` is the last stable offset. */
  isolationLevel?: IsolationLevel;
}

/** The reset policy of a topic: its own, else the consumer's. */
export function resetPolicy(policy: PositionPolicy, topic: string): AutoOffsetReset {
  return Object.hasOwn(policy.autoOffsetResetByTopic, topic) ? policy.autoOffsetResetByTopic[topic]! : policy.autoOffsetReset;
}

/** A cursor for a newly assigned partition: from the group's committed offset, else the reset policy. */
export function newCursor(topic: string, partition: number, policy: PositionPolicy): PartitionCursor {
  // Without a group there is never a committed offset: 'none' starts at the end like 'latest'
  // (Kafka would throw NoOffsetForPartition, which a manual assignment could never avoid).
  const reset = policy.groupId !== undefined ? 'committed' : resetPolicy(policy, topic) === 'earliest' ? 'earliest' : 'latest';
  return { topic, partition, position: undefined, reset, paused: false, revoked: false, committed: undefined, epoch: 0, unverified: false, highWatermark: undefined };
}

/**
 * Fixes every position waiting for a reset: from the group's committed offsets, else by
 * `autoOffsetReset` from the log start or end. With `'none'` and nothing committed, throws
 * `OFFSET_OUT_OF_RANGE` — unless `lenient` (a rebalance), when the next `poll` throws instead.
 * A cursor seeked meanwhile (its epoch moved) keeps its seek.
 */
export async function fixPositions(api: KafkaApi, cursors: Iterable<PartitionCursor>, policy: PositionPolicy, lenient = false): Promise<void> {
  const all = [...cursors].filter((c) => !c.unverified);
  const fromGroup = all.filter((s) => s.reset === 'committed');
  if (fromGroup.length > 0) {
    const epochs = fromGroup.map((s) => s.epoch);
    const offsets = await api.offsetFetch({
      groupId: policy.groupId!,
      partitions: fromGroup.map(({ topic, partition }) => ({ topic, partition })),
    });
    fromGroup.forEach((s, i) => {
      if (s.epoch !== epochs[i] || s.reset !== 'committed') return;
      const offset = offsets[i];
      if (offset !== undefined) {
        s.position = offset;
        s.committed = offset;
        s.reset = undefined;
      } else if (resetPolicy(policy, s.topic) !== 'none') {
        s.reset = resetPolicy(policy, s.topic) as 'earliest' | 'latest';
      } else if (!lenient) {
        throw new KafkaliteError(
          'OFFSET_OUT_OF_RANGE',
          `group ${show(policy.groupId)} has no committed offset for ${s.topic}-${s.partition} and autoOffsetReset is 'none'`,
          { topic: s.topic, partition: s.partition },
        );
      }
    });
  }
  const pending = all.filter((s) => s.reset === 'earliest' || s.reset === 'latest');
  if (pending.length === 0) return;
  const epochs = pending.map((s) => s.epoch);
  const { partitions } = await api.listOffsets({
    partitions: pending.map((s) => ({
      topic: s.topic,
      partition: s.partition,
      timestamp: s.reset === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
    })),
    isolationLevel: policy.isolationLevel,
  });
  pending.forEach((s, i) => {
    if (s.epoch !== epochs[i] || s.reset === undefined) return;
    s.position = partitions[i]!.offset;
    s.reset = undefined;
  });
}

/** A fetch found the position outside the log: reset it per `autoOffsetReset` (`'none'` throws). */
export function resetOutOfRange(cursor: PartitionCursor, policy: PositionPolicy, logStart: number, logEnd: number): void {
  const reset = resetPolicy(policy, cursor.topic);
  if (reset === 'none') {
    throw offsetOutOfRange(cursor.topic, cursor.partition, cursor.position ?? -1, logStart, logEnd);
  }
  cursor.reset = reset;
  cursor.position = undefined;
  cursor.epoch++;
}
