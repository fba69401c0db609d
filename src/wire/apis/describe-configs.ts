import { defineApi } from '../api-handler.js';
import { describeBrokerConfigs, describeTopicConfigs, type ConfigEntry } from '../kafka-configs.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey, type DescribeConfigsRequestResource } from '../protocol/index.js';
import { NODE_ID, type WireContext } from '../wire-context.js';

/** Kafka's `ConfigResource.Type` codes. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/**
 * DescribeConfigs: a topic's configs under Kafka's names (kafkalite's seven, writable, then the
 * fixed ones it has: compression.type, message.timestamp.type, min.insync.replicas, …) and the
 * broker's (resource "0", or "" for the cluster default; all read-only: num.partitions,
 * message.max.bytes, auto.create.topics.enable, …). `configurationKeys` narrows the list;
 * synonyms, when asked for, are each config itself.
 */
export const describeConfigs = defineApi({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const results = request.resources.map((r) => {
      const found = entries(ctx, r);
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      if ('error' in found) return { ...base, errorCode: found.error.code, errorMessage: found.error.message, configs: [] };
      const keys = r.configurationKeys === null ? undefined : new Set(r.configurationKeys);
      const configs = found.entries
        .filter((e) => keys === undefined || keys.has(e.name))
        .map((e) => ({
          name: e.name,
          value: e.value,
          readOnly: e.readOnly,
          isDefault: e.isDefault,
          configSource: e.source,
          isSensitive: false,
          synonyms: request.includeSynonyms ? [{ name: e.name, value: e.value, source: e.source }] : [],
          configType: e.type,
          documentation: null,
        }));
      return { ...base, errorCode: KafkaErrorCode.NONE, errorMessage: null, configs };
    });
    return { throttleTimeMs: 0, results };
  },
});

function entries(ctx: WireContext, r: DescribeConfigsRequestResource): { entries: ConfigEntry[] } | { error: { code: number; message: string } } {
  if (r.resourceType === ResourceType.TOPIC) {
    const topic = ctx.topics.get(r.resourceName);
    if (topic === undefined) return { error: { code: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `unknown topic ${r.resourceName}` } };
    return { entries: describeTopicConfigs(topic.config) };
  }
  if (r.resourceType === ResourceType.BROKER) {
    if (r.resourceName !== String(NODE_ID) && r.resourceName !== '') {
      return { error: { code: KafkaErrorCode.INVALID_REQUEST, message: `this is broker ${NODE_ID}, not ${r.resourceName}` } };
    }
    return { entries: describeBrokerConfigs(brokerSettings(ctx)) };
  }
  return { error: { code: KafkaErrorCode.INVALID_REQUEST, message: `kafkalite describes topic (2) and broker (4) configs, not resource type ${r.resourceType}` } };
}

export function brokerSettings(ctx: WireContext): Parameters<typeof describeBrokerConfigs>[0] {
  const scheme = `${ctx.listen.sasl === undefined ? '' : 'SASL_'}${ctx.listen.tls === undefined ? 'PLAINTEXT' : 'SSL'}`;
  return {
    defaultPartitions: ctx.options.defaultPartitions,
    autoCreateTopics: ctx.options.autoCreateTopics,
    retentionCheckIntervalMs: ctx.options.retentionCheckIntervalMs,
    maxRequestBytes: ctx.listen.maxRequestBytes,
    advertisedListener: `${scheme}://${ctx.listen.advertisedHost}:${ctx.port}`,
    saslMechanism: ctx.listen.sasl?.mechanism.toUpperCase(),
  };
}
