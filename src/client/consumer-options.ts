import { invalidArgument, show } from '../errors.js';
import type { Deserializer } from '../serde/serde.js';
import type { Deserializers } from './record-deserializer.js';
import { checkSerdes } from './serde-options.js';
import type { AssignorFunction, IsolationLevel } from '../seam/kafka-api.js';
import { classicAssignors, type PartitionAssignor } from './partition-assignor.js';

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';
export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

/** `K` and `V`: what records carry as keys and values — the deserializers' types, else Buffers. */
export interface ConsumerOptions<K = Buffer, V = Buffer> {
  /** The consumer group; needed by `subscribe` and `commit`, not by `assign`. @default undefined */
  groupId?: string;
  /** Names the consumer in its group's member list. @default 'kafkalite' */
  clientId?: string;
  /**
   * Where to start when there is no committed offset, or the position fell outside the log:
   * `'none'` makes `poll` throw `OFFSET_OUT_OF_RANGE`.
   * @default 'latest'
   */
  autoOffsetReset?: AutoOffsetReset;
  /**
   * Per topic, overrides `autoOffsetReset` for that topic's partitions (both uses: no committed
   * offset, and a position outside the log). E.g. KafkaJS' per-subscription `fromBeginning`.
   * @default {}
   */
  autoOffsetResetByTopic?: Readonly<Record<string, AutoOffsetReset>>;
  /** Commit positions every `autoCommitIntervalMs`, on rebalance and on `close`. @default true */
  autoCommit?: boolean;
  /** @default 5000 */
  autoCommitIntervalMs?: number;
  /** A member silent this long is removed from its group. @default 10000 */
  sessionTimeoutMs?: number;
  /** A member that does not come back to `poll` (or whose handler runs) this long is removed. @default 300000 */
  maxPollIntervalMs?: number;
  /** Records one `poll` returns at most. @default 500 */
  maxPollRecords?: number;
  /**
   * How the group spreads partitions over its members: Kafka's `'range'` and `'roundrobin'`
   * (eager: every member gives up everything at each rebalance), `'cooperative-sticky'`
   * (incremental: only partitions that move are revoked), or your own function (incremental).
   * On the consumer protocol the group uses the assignor of its longest-standing member. With
   * `groupProtocol: 'classic'` the group's leader runs it, and it may also be a
   * `PartitionAssignor` (async, with `userData`) or a list of names and assignors in order of
   * preference: the group takes one every member supports.
   * @default 'range'
   */
  assignor?: AssignorName | AssignorFunction | PartitionAssignor | (AssignorName | PartitionAssignor)[];
  /**
   * Kafka's `group.protocol`: `'consumer'` (KIP-848's: the coordinator assigns, members hand
   * partitions over without stopping the others) or `'classic'` (JoinGroup/SyncGroup: the leader
   * member assigns, as every Kafka client on the wire does — a group shared with wire clients or
   * `kafkalite/kafkajs` consumers must use it). A group runs one protocol at a time.
   * @default 'consumer'
   */
  groupProtocol?: 'consumer' | 'classic';
  /** After a `run` handler throws, wait this long before delivering the record again. @default 100 */
  retryBackoffMs?: number;
  /**
   * Turn record keys and values into the application's types before delivery. Either may be left
   * out: that side stays a Buffer. `null` keys and tombstones are never passed to a deserializer.
   * One that throws or rejects is `DESERIALIZATION_FAILED` (with topic, partition, offset): `poll`
   * and `for await` throw it, `run` reports it as `'error'` and tries the record again after
   * `retryBackoffMs`; the position stays on that record (`seek` past it to skip it).
   * @default undefined (no deserializers)
   */
  deserializers?: { key?: Deserializer<K>; value?: Deserializer<V> };
  /**
   * Kafka's `isolation.level`: `'read_committed'` stops at the last stable offset (before the
   * oldest open transaction) and skips records of aborted transactions; `'read_uncommitted'`
   * reads up to the high watermark, open and aborted transactions included. Control batches
   * (transaction markers) are never delivered. `caughtUp()` follows the same end.
   * @default 'read_uncommitted'
   */
  isolationLevel?: IsolationLevel;
}

export type ResolvedConsumerOptions = Required<Omit<ConsumerOptions, 'groupId' | 'deserializers'>> & {
  groupId: string | undefined;
  deserializers: Deserializers | undefined;
};

export const defaultConsumerOptions: ResolvedConsumerOptions = {
  groupId: undefined,
  clientId: 'kafkalite',
  autoOffsetReset: 'latest',
  autoOffsetResetByTopic: Object.freeze({}),
  autoCommit: true,
  autoCommitIntervalMs: 5000,
  sessionTimeoutMs: 10_000,
  maxPollIntervalMs: 300_000,
  maxPollRecords: 500,
  assignor: 'range',
  groupProtocol: 'consumer',
  retryBackoffMs: 100,
  deserializers: undefined,
  isolationLevel: 'read_uncommitted',
};

export function resolveConsumerOptions(options: ConsumerOptions<unknown, unknown> | undefined): ResolvedConsumerOptions {
  const o = { ...defaultConsumerOptions };
  if (options !== undefined) {
    if (options === null || typeof options !== 'object') throw invalidArgument(`consumer options must be an object (got ${show(options)})`);
    for (const [key, value] of Object.entries(options)) {
      if (!(key in o)) throw invalidArgument(`unknown consumer option ${show(key)}`);
      if (value !== undefined) (o as Record<string, unknown>)[key] = value;
    }
  }
  if (o.groupId !== undefined && (typeof o.groupId !== 'string' || o.groupId.length === 0)) {
    throw invalidArgument(`groupId must be a non-empty string (got ${show(o.groupId)})`);
  }
  if (typeof o.clientId !== 'string') throw invalidArgument(`clientId must be a string (got ${show(o.clientId)})`);
  if (!['earliest', 'latest', 'none'].includes(o.autoOffsetReset)) {
    throw invalidArgument(`autoOffsetReset must be 'earliest', 'latest' or 'none' (got ${show(o.autoOffsetReset)})`);
  }
  const byTopic: unknown = o.autoOffsetResetByTopic;
  if (byTopic === null || typeof byTopic !== 'object' || Array.isArray(byTopic)) {
    throw invalidArgument(`autoOffsetResetByTopic must be an object of topic name to 'earliest', 'latest' or 'none' (got ${show(byTopic)})`);
  }
  for (const [topic, reset] of Object.entries(byTopic)) {
    if (!['earliest', 'latest', 'none'].includes(reset as string)) {
      throw invalidArgument(`autoOffsetResetByTopic[${show(topic)}] must be 'earliest', 'latest' or 'none' (got ${show(reset)})`);
    }
  }
  o.autoOffsetResetByTopic = Object.freeze({ ...(byTopic as Record<string, AutoOffsetReset>) });
  if (typeof o.autoCommit !== 'boolean') throw invalidArgument(`autoCommit must be a boolean (got ${show(o.autoCommit)})`);
  for (const key of ['autoCommitIntervalMs', 'sessionTimeoutMs', 'maxPollIntervalMs', 'maxPollRecords', 'retryBackoffMs'] as const) {
    const v = o[key];
    const min = key === 'retryBackoffMs' ? 0 : 1;
    if (!Number.isSafeInteger(v) || v < min) throw invalidArgument(`${key} must be an integer >= ${min} (got ${show(v)})`);
  }
  if (o.isolationLevel !== 'read_uncommitted' && o.isolationLevel !== 'read_committed') {
    throw invalidArgument(`isolationLevel must be 'read_uncommitted' or 'read_committed' (got ${show(o.isolationLevel)})`);
  }
  if (o.groupProtocol !== 'consumer' && o.groupProtocol !== 'classic') {
    throw invalidArgument(`groupProtocol must be 'consumer' or 'classic' (got ${show(o.groupProtocol)})`);
  }
  if (o.groupProtocol === 'classic') {
    classicAssignors(o.assignor); // throws on a bad one
  } else if (typeof o.assignor !== 'function' && !['range', 'roundrobin', 'cooperative-sticky'].includes(o.assignor as string)) {
    const hint = typeof o.assignor === 'object' && o.assignor !== null ? " (PartitionAssignor objects and lists need groupProtocol: 'classic')" : '';
    throw invalidArgument(`assignor must be 'range', 'roundrobin', 'cooperative-sticky' or a function (got ${show(o.assignor)})${hint}`);
  }
  o.deserializers = checkSerdes(o.deserializers, 'deserializers', 'deserialize');
  return o;
}
