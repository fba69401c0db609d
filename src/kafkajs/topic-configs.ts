/**
 * Topic configs by Kafka's names, for KafkaJS' admin: `createTopics`' `configEntries`,
 * `describeConfigs` and `alterConfigs`. The configs kafkalite applies are its topic configs under
 * Kafka's names (`KAFKA_CONFIG_NAMES`: `cleanup.policy`, `max.message.bytes`, `retention.bytes`,
 * `retention.ms`, `segment.bytes`, `delete.retention.ms`, `min.cleanable.dirty.ratio`); Kafka's other topic configs mean nothing in-process and are
 * accepted and ignored; any other name is Kafka's `INVALID_CONFIG`.
 */

import type { Topic, TopicConfig } from '../index.js';
import { defaultTopicConfig, KAFKA_CONFIG_NAMES } from '../topic/topic-config.js';
import type { TopicConfigChanges } from '../topic/topic-config.js';
import { ConfigSource } from './constants.js';
import { protocolError } from './errors.js';
import type { ConfigEntries, IResourceConfigEntry } from './types.js';

type Field = keyof typeof KAFKA_CONFIG_NAMES;

/** kafkalite's field of each Kafka config name it applies. */
const fieldOf = new Map<string, Field>(Object.entries(KAFKA_CONFIG_NAMES).map(([field, name]) => [name, field as Field]));

/** Kafka topic configs that mean nothing in-process: accepted, and ignored. */
const ignoredConfigs = new Set([
  'compression.type',
  'file.delete.delay.ms',
  'flush.messages',
  'flush.ms',
  'follower.replication.throttled.replicas',
  'index.interval.bytes',
  'leader.replication.throttled.replicas',
  'local.retention.bytes',
  'local.retention.ms',
  'max.compaction.lag.ms',
  'message.downconversion.enable',
  'message.format.version',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.difference.max.ms',
  'message.timestamp.type',
  'min.compaction.lag.ms',
  'min.insync.replicas',
  'preallocate',
  'remote.storage.enable',
  'segment.index.bytes',
  'segment.jitter.ms',
  'segment.ms',
  'unclean.leader.election.enable',
]);

/** Kafka's string of a config value. */
const asKafka = (value: unknown): string => String(value);

/**
 * Config entries (Kafka names, string values) as kafkalite topic config; throws Kafka's
 * `INVALID_CONFIG` for an unknown name or a value that is not one (kafkalite checks ranges).
 */
export function parseConfigEntries(entries: readonly IResourceConfigEntry[]): Partial<TopicConfig> {
  const config: Partial<TopicConfig> = {};
  for (const { name, value } of entries) {
    const field = fieldOf.get(name);
    if (field === undefined) {
      if (ignoredConfigs.has(name)) continue;
      throw protocolError('INVALID_CONFIG', new Error(`unknown topic config ${JSON.stringify(name)}`));
    }
    if (field === 'cleanupPolicy') {
      const policies = value.split(',').map((p) => p.trim());
      if (policies.length === 0 || policies.some((p) => p !== 'delete' && p !== 'compact')) {
        throw protocolError('INVALID_CONFIG', new Error(`cleanup.policy must be delete, compact or both (got ${JSON.stringify(value)})`));
      }
      config.cleanupPolicy = policies.includes('compact') ? (policies.includes('delete') ? 'compact,delete' : 'compact') : 'delete';
    } else if (field === 'minCleanableDirtyRatio') {
      const n = Number(value);
      if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) {
        throw protocolError('INVALID_CONFIG', new Error(`${name} must be a number (got ${JSON.stringify(value)})`));
      }
      config[field] = n;
    } else {
      const n = Number(value);
      if (typeof value !== 'string' || value.trim() === '' || !Number.isSafeInteger(n)) {
        throw protocolError('INVALID_CONFIG', new Error(`${name} must be an integer (got ${JSON.stringify(value)})`));
      }
      config[field] = n;
    }
  }
  return config;
}

/**
 * Kafka's (non-incremental) AlterConfigs: the entries given become the topic's configs, and every
 * config not given goes back to its default.
 */
export function replacingChanges(entries: readonly IResourceConfigEntry[]): TopicConfigChanges {
  const given = parseConfigEntries(entries);
  const changes: TopicConfigChanges = {};
  for (const field of fieldOf.values()) (changes as Record<string, unknown>)[field] = given[field] ?? null;
  return changes;
}

/** A topic's configs as DescribeConfigs answers, optionally only those named. */
export function describeTopicConfigs(topic: Topic, names: readonly string[] | null | undefined): ConfigEntries[] {
  const entries = [...fieldOf].map(([configName, field]): ConfigEntries => {
    const configValue = asKafka(topic.config[field]);
    // kafkalite keeps resolved configs: a value equal to Kafka's default reads as the default.
    const isDefault = configValue === asKafka(defaultTopicConfig[field]);
    return {
      configName,
      configValue,
      isDefault,
      configSource: isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.TOPIC_CONFIG,
      isSensitive: false,
      readOnly: false,
      configSynonyms: [],
    };
  });
  entries.sort((a, b) => (a.configName < b.configName ? -1 : 1));
  return names != null && names.length > 0 ? entries.filter((e) => names.includes(e.configName)) : entries;
}
