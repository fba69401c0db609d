import { alterTopicConfig, defaultTopicConfig, type TopicConfigChanges } from '../../topic/topic-config.js';
import { defineApi } from '../api-handler.js';
import { kafkaConfigError, parseTopicConfigs } from '../kafka-configs.js';
import { KafkaErrorCode, kafkaErrorOf, type KafkaError } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';
import type { WireContext } from '../wire-context.js';
import { ResourceType } from './describe-configs.js';

/** Every config kafkalite keeps, back at its default: what a non-incremental AlterConfigs starts from. */
const ALL_DEFAULTS = Object.fromEntries(Object.keys(defaultTopicConfig).map((key) => [key, null])) as TopicConfigChanges;

/**
 * AlterConfigs (the old, non-incremental form): a topic's configs become exactly those given —
 * every config left out goes back to its default — through `topic.alterConfig`. Broker configs
 * are read-only here (INVALID_REQUEST). `validateOnly` checks and changes nothing.
 */
export const alterConfigs = defineApi({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const responses = [];
    for (const r of request.resources) {
      const error = await alterTopic(ctx, r.resourceType, r.resourceName, request.validateOnly, () => {
        const parsed = parseTopicConfigs(r.configs);
        return 'error' in parsed ? parsed : { changes: { ...ALL_DEFAULTS, ...parsed.changes } };
      }, r.configs.map((c) => c.name));
      responses.push({ resourceType: r.resourceType, resourceName: r.resourceName, errorCode: error?.code ?? KafkaErrorCode.NONE, errorMessage: error?.message ?? null });
    }
    return { throttleTimeMs: 0, responses };
  },
});

/**
 * The part AlterConfigs and IncrementalAlterConfigs share: refuse non-topic resources, unknown
 * topics and a config named twice, check the changes as `alterConfig` would, then apply them
 * unless only validating.
 */
export async function alterTopic(
  ctx: WireContext,
  resourceType: number,
  name: string,
  validateOnly: boolean,
  changesFor: () => { changes: TopicConfigChanges } | { error: KafkaError },
  configNames: string[],
): Promise<KafkaError | undefined> {
  if (resourceType === ResourceType.BROKER) return { code: KafkaErrorCode.INVALID_REQUEST, message: "kafkalite's broker configs are read-only" };
  if (resourceType !== ResourceType.TOPIC) return { code: KafkaErrorCode.INVALID_REQUEST, message: `kafkalite alters topic (2) configs, not resource type ${resourceType}` };
  const topic = ctx.topics.get(name);
  if (topic === undefined) return { code: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `unknown topic ${name}` };
  if (new Set(configNames).size !== configNames.length) return { code: KafkaErrorCode.INVALID_REQUEST, message: 'a config is named more than once' };
  const result = changesFor();
  if ('error' in result) return result.error;
  try {
    alterTopicConfig(name, topic.config, result.changes);
    if (!validateOnly) await topic.alterConfig(result.changes);
    return undefined;
  } catch (error) {
    return kafkaConfigError(error) ?? kafkaErrorOf(error);
  }
}
