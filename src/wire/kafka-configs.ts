import { KafkaliteError } from '../errors.js';
import { KAFKA_CONFIG_NAMES, defaultTopicConfig, type TopicConfigChanges } from '../topic/topic-config.js';
import type { ResolvedTopicConfig } from '../types.js';
import { KafkaErrorCode, type KafkaError } from './kafka-errors.js';

/** Kafka's `ConfigSource` and `ConfigType` codes (DescribeConfigs, CreateTopics v5+). */
export const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;
const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7 } as const;

/** One config as DescribeConfigs and CreateTopics report it. */
export interface ConfigEntry {
  name: string;
  value: string;
  readOnly: boolean;
  isDefault: boolean;
  source: number;
  type: number;
}

export type TopicKey = keyof typeof defaultTopicConfig;
const KEY_OF = new Map<string, TopicKey>(Object.entries(KAFKA_CONFIG_NAMES).map(([k, v]) => [v, k as TopicKey]));
const TYPE_OF: Record<TopicKey, number> = {
  retentionMs: ConfigType.LONG,
  retentionBytes: ConfigType.LONG,
  segmentBytes: ConfigType.INT,
  cleanupPolicy: ConfigType.LIST,
  maxMessageBytes: ConfigType.INT,
  deleteRetentionMs: ConfigType.LONG,
  minCleanableDirtyRatio: ConfigType.DOUBLE,
};

/**
 * Topic configs Kafka has and kafkalite does not change: described with their one value, and
 * accepted in CreateTopics / AlterConfigs only with that value.
 */
const FIXED_TOPIC_CONFIGS: readonly { name: string; value: string; type: number }[] = [
  { name: 'compression.type', value: 'producer', type: ConfigType.STRING },
  { name: 'message.timestamp.type', value: 'CreateTime', type: ConfigType.STRING },
  { name: 'min.insync.replicas', value: '1', type: ConfigType.INT },
  { name: 'unclean.leader.election.enable', value: 'false', type: ConfigType.BOOLEAN },
];
const FIXED = new Map(FIXED_TOPIC_CONFIGS.map((c) => [c.name, c.value]));

/** What a Kafka topic-config name is to kafkalite: one of its seven keys, a fixed config (with its value), or unknown. */
export function topicConfigOf(name: string): { key: TopicKey } | { fixed: string } | undefined {
  const key = KEY_OF.get(name);
  if (key !== undefined) return { key };
  const fixed = FIXED.get(name);
  return fixed === undefined ? undefined : { fixed };
}

/** Parses one value given under a Kafka name, as Kafka parses it: undefined when it does not parse. */
export function parseTopicConfigValue(key: TopicKey, value: string): unknown {
  return parseValue(key, value.trim());
}

const render = (value: unknown): string => String(value);

/** A topic's configs under Kafka's names: kafkalite's seven (writable), then the fixed ones. */
export function describeTopicConfigs(config: ResolvedTopicConfig): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const [key, name] of Object.entries(KAFKA_CONFIG_NAMES) as [TopicKey, string][]) {
    const value = render(config[key]);
    const isDefault = value === render(defaultTopicConfig[key]);
    out.push({ name, value, readOnly: false, isDefault, source: isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG, type: TYPE_OF[key] });
  }
  for (const c of FIXED_TOPIC_CONFIGS) out.push({ name: c.name, value: c.value, readOnly: true, isDefault: true, source: ConfigSource.DEFAULT_CONFIG, type: c.type });
  return out;
}

/**
 * Reads configs given under Kafka's names (CreateTopics, AlterConfigs) into kafkalite's keys: a
 * value is parsed as Kafka parses it (a trimmed decimal integer, a list), `null` means the
 * default. Unknown names, values that do not parse, and fixed configs given another value are
 * INVALID_CONFIG, naming the config. Range checks are the topic's own (`alterConfig`).
 */
export function parseTopicConfigs(configs: readonly { name: string; value: string | null }[]): { changes: TopicConfigChanges } | { error: KafkaError } {
  const changes: Record<string, unknown> = {};
  for (const { name, value } of configs) {
    const key = KEY_OF.get(name);
    if (key === undefined) {
      const fixed = FIXED.get(name);
      if (fixed === undefined) return bad(`kafkalite does not support the topic config ${name}`);
      if (value !== null && value.trim() !== fixed) return bad(`${name} is always ${fixed} in kafkalite (got ${value})`);
      continue;
    }
    if (value === null) {
      changes[key] = null;
      continue;
    }
    const parsed = parseValue(key, value.trim());
    if (parsed === undefined) return bad(`invalid value ${JSON.stringify(value)} for ${name}`);
    changes[key] = parsed;
  }
  return { changes: changes as TopicConfigChanges };
}

function parseValue(key: TopicKey, value: string): unknown {
  if (key === 'cleanupPolicy') {
    // A list, in any order: `delete,compact` is `compact,delete`.
    const list = [...new Set(value.split(',').map((v) => v.trim().toLowerCase()))].sort();
    if (list.length === 1 && (list[0] === 'delete' || list[0] === 'compact')) return list[0];
    if (list.length === 2 && list[0] === 'compact' && list[1] === 'delete') return 'compact,delete';
    return undefined;
  }
  if (key === 'minCleanableDirtyRatio') {
    // Kafka's DOUBLE: a decimal number.
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) return undefined;
    return Number(value);
  }
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

const bad = (message: string): { error: KafkaError } => ({ error: { code: KafkaErrorCode.INVALID_CONFIG, message } });

/**
 * A topic-config error of kafkalite's (INVALID_CONFIG, naming `retentionMs`, say) as a Kafka
 * error naming the config as Kafka clients know it (`retention.ms`).
 */
export function kafkaConfigError(error: unknown): KafkaError | undefined {
  if (!(error instanceof KafkaliteError) || (error.code !== 'INVALID_CONFIG' && error.code !== 'INVALID_PARTITIONS')) return undefined;
  let message = error.message;
  for (const [key, name] of Object.entries(KAFKA_CONFIG_NAMES)) message = message.replace(new RegExp(`\\b${key}\\b`, 'g'), name);
  return { code: error.code === 'INVALID_CONFIG' ? KafkaErrorCode.INVALID_CONFIG : KafkaErrorCode.INVALID_PARTITIONS, message };
}

/** The broker's configs (resource "0"), all read-only: what kafkalite does, under Kafka's names. */
export function describeBrokerConfigs(settings: {
  defaultPartitions: number;
  autoCreateTopics: boolean;
  retentionCheckIntervalMs: number;
  maxRequestBytes: number;
  advertisedListener: string;
  saslMechanism: string | undefined;
}): ConfigEntry[] {
  const entry = (name: string, value: string, type: number, isDefault = false): ConfigEntry => ({
    name,
    value,
    readOnly: true,
    isDefault,
    source: isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.STATIC_BROKER_CONFIG,
    type,
  });
  return [
    entry('broker.id', '0', ConfigType.INT),
    entry('advertised.listeners', settings.advertisedListener, ConfigType.STRING),
    entry('auto.create.topics.enable', String(settings.autoCreateTopics), ConfigType.BOOLEAN),
    entry('num.partitions', String(settings.defaultPartitions), ConfigType.INT),
    entry('default.replication.factor', '1', ConfigType.INT),
    entry('offsets.topic.replication.factor', '1', ConfigType.SHORT),
    entry('message.max.bytes', String(defaultTopicConfig.maxMessageBytes), ConfigType.INT, true),
    entry('log.retention.ms', String(defaultTopicConfig.retentionMs), ConfigType.LONG, true),
    entry('log.retention.bytes', String(defaultTopicConfig.retentionBytes), ConfigType.LONG, true),
    entry('log.segment.bytes', String(defaultTopicConfig.segmentBytes), ConfigType.INT, true),
    entry('log.cleanup.policy', defaultTopicConfig.cleanupPolicy, ConfigType.LIST, true),
    entry('log.retention.check.interval.ms', String(settings.retentionCheckIntervalMs), ConfigType.LONG),
    entry('socket.request.max.bytes', String(settings.maxRequestBytes), ConfigType.INT),
    entry('sasl.enabled.mechanisms', settings.saslMechanism ?? '', ConfigType.LIST),
    entry('min.insync.replicas', '1', ConfigType.INT, true),
    entry('compression.type', 'producer', ConfigType.STRING, true),
  ];
}
