import { firstRecordWithoutKey } from '../codec/batch-filter.js';
import { batchBaseOffset } from '../codec/record-batch.js';
import { invalidArgument, invalidConfig, invalidPartitions, invalidTopic, show } from '../errors.js';
import type { ResolvedTopicConfig, TopicConfig } from '../types.js';

/** Kafka's defaults, but for `partitions`, which comes from the broker. */
export const defaultTopicConfig: Omit<ResolvedTopicConfig, 'partitions'> = {
  retentionMs: 604_800_000,
  retentionBytes: -1,
  segmentBytes: 1_073_741_824,
  cleanupPolicy: 'delete',
  maxMessageBytes: 1_048_576,
  deleteRetentionMs: 86_400_000,
  minCleanableDirtyRatio: 0.5,
};

/** Whether the topic's log is compacted (`'compact'` or `'compact,delete'`). */
export function isCompacted(config: { cleanupPolicy: string }): boolean {
  return config.cleanupPolicy !== 'delete';
}

/** `INVALID_ARGUMENT` for a batch holding a record without a key, which a compacted topic refuses (as Kafka does). */
export function refuseKeyless(batch: Uint8Array, topic: string, partition: number): void {
  const at = firstRecordWithoutKey(batch);
  if (at === undefined) return;
  throw invalidArgument(`topic ${show(topic)} is compacted (cleanupPolicy keeps the latest record per key): a record without a key is refused (record ${at - batchBaseOffset(batch)} of the batch)`, {
    topic,
    partition,
  });
}

/** Whether time and size retention apply (`'delete'` or `'compact,delete'`), as in Kafka. */
export function deletesOldRecords(config: { cleanupPolicy: string }): boolean {
  return config.cleanupPolicy !== 'compact';
}

/** A guard against a typo allocating millions of logs; Kafka clusters stay far below it. */
export const MAX_PARTITIONS = 100_000;

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
const MAX_TOPIC_NAME = 249;

/** Kafka's topic-name rules: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`. */
export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw invalidTopic(name, 'a topic name is a string');
  if (name.length === 0) throw invalidTopic(name, 'it is empty');
  if (name.length > MAX_TOPIC_NAME) throw invalidTopic(name, `it has ${name.length} characters, more than ${MAX_TOPIC_NAME}`);
  if (name === '.' || name === '..') throw invalidTopic(name, "'.' and '..' are not allowed");
  if (!TOPIC_NAME.test(name)) throw invalidTopic(name, 'only ASCII letters, digits, ".", "_" and "-" are allowed');
}

export function validatePartitionCount(n: unknown, topic?: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw invalidPartitions(`partitions must be a positive integer (got ${show(n)})`, topic);
  }
  if (n > MAX_PARTITIONS) throw invalidPartitions(`partitions must be at most ${MAX_PARTITIONS} (got ${n})`, topic);
}

const KEYS = new Set(['partitions', ...Object.keys(defaultTopicConfig)]);

/** Fills in defaults and checks every field; throws `INVALID_CONFIG` / `INVALID_PARTITIONS` naming the bad value. */
export function resolveTopicConfig(topic: string, config: unknown, defaultPartitions: number): ResolvedTopicConfig {
  if (config !== undefined && (config === null || typeof config !== 'object' || Array.isArray(config))) {
    throw invalidConfig(`the config of topic ${show(topic)} must be an object (got ${show(config)})`, topic);
  }
  const given = (config ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KEYS.has(key)) throw invalidConfig(`unknown topic config ${show(key)} for topic ${show(topic)}`, topic);
  }
  const pick = <K extends keyof ResolvedTopicConfig>(key: K, fallback: ResolvedTopicConfig[K]): unknown =>
    given[key] === undefined ? fallback : given[key];

  const partitions = pick('partitions', defaultPartitions);
  validatePartitionCount(partitions, topic);
  const resolved = {
    partitions,
    retentionMs: pick('retentionMs', defaultTopicConfig.retentionMs),
    retentionBytes: pick('retentionBytes', defaultTopicConfig.retentionBytes),
    segmentBytes: pick('segmentBytes', defaultTopicConfig.segmentBytes),
    cleanupPolicy: pick('cleanupPolicy', defaultTopicConfig.cleanupPolicy),
    maxMessageBytes: pick('maxMessageBytes', defaultTopicConfig.maxMessageBytes),
    deleteRetentionMs: pick('deleteRetentionMs', defaultTopicConfig.deleteRetentionMs),
    minCleanableDirtyRatio: pick('minCleanableDirtyRatio', defaultTopicConfig.minCleanableDirtyRatio),
  };
  const bad = (key: string, rule: string, value: unknown): never => {
    throw invalidConfig(`${key} of topic ${show(topic)} must be ${rule} (got ${show(value)})`, topic);
  };
  const { retentionMs, retentionBytes, segmentBytes, cleanupPolicy, maxMessageBytes, deleteRetentionMs, minCleanableDirtyRatio } = resolved;
  if (!isInteger(retentionMs) || (retentionMs < 0 && retentionMs !== -1)) bad('retentionMs', '-1 or an integer >= 0', retentionMs);
  if (!isInteger(retentionBytes) || (retentionBytes < 0 && retentionBytes !== -1)) {
    bad('retentionBytes', '-1 or an integer >= 0', retentionBytes);
  }
  if (!isInteger(segmentBytes) || segmentBytes < 14 || segmentBytes > 2 ** 31 - 1) {
    bad('segmentBytes', 'an integer from 14 to 2147483647', segmentBytes);
  }
  if (cleanupPolicy !== 'delete' && cleanupPolicy !== 'compact' && cleanupPolicy !== 'compact,delete') {
    bad('cleanupPolicy', "'delete', 'compact' or 'compact,delete'", cleanupPolicy);
  }
  if (!isInteger(deleteRetentionMs) || deleteRetentionMs < 0) bad('deleteRetentionMs', 'an integer >= 0', deleteRetentionMs);
  if (typeof minCleanableDirtyRatio !== 'number' || !(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1)) {
    bad('minCleanableDirtyRatio', 'a number from 0 to 1', minCleanableDirtyRatio);
  }
  if (!isInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > 2 ** 31 - 1) {
    bad('maxMessageBytes', 'an integer from 1 to 2147483647', maxMessageBytes);
  }
  return resolved as ResolvedTopicConfig;
}

/** What `alterConfig` takes: new values, or `null` to go back to the default. The partition count changes only by `addPartitions`. */
export type TopicConfigChanges = { [K in keyof Omit<TopicConfig, 'partitions'>]?: TopicConfig[K] | null };

/** The config after `changes` (checked as at creation); `INVALID_CONFIG` for an unknown key, `partitions`, or a bad value. */
export function alterTopicConfig(topic: string, current: ResolvedTopicConfig, changes: unknown): ResolvedTopicConfig {
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
    throw invalidConfig(`alterConfig of topic ${show(topic)} takes an object of changes (got ${show(changes)})`, topic);
  }
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (key === 'partitions') throw invalidConfig(`the partition count of topic ${show(topic)} changes only by addPartitions`, topic);
    if (!KEYS.has(key)) throw invalidConfig(`unknown topic config ${show(key)} for topic ${show(topic)}`, topic);
    if (value === undefined) continue;
    next[key] = value === null ? defaultTopicConfig[key as keyof typeof defaultTopicConfig] : value;
  }
  return resolveTopicConfig(topic, next, current.partitions);
}

/**
 * Kafka's names for the topic configs kafkalite has (DescribeConfigs, AlterConfigs, KafkaJS'
 * admin), and how their values read as Kafka's strings.
 */
export const KAFKA_CONFIG_NAMES = {
  retentionMs: 'retention.ms',
  retentionBytes: 'retention.bytes',
  segmentBytes: 'segment.bytes',
  cleanupPolicy: 'cleanup.policy',
  maxMessageBytes: 'max.message.bytes',
  deleteRetentionMs: 'delete.retention.ms',
  minCleanableDirtyRatio: 'min.cleanable.dirty.ratio',
} as const satisfies Record<keyof typeof defaultTopicConfig, string>;

function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}
