import type { TopicConfigChanges } from '../../topic/topic-config.js';
import { defineApi } from '../api-handler.js';
import { parseTopicConfigValue, topicConfigOf } from '../kafka-configs.js';
import { KafkaErrorCode, type KafkaError } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';
import { alterTopic } from './alter-configs.js';

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

/**
 * IncrementalAlterConfigs: SET a config, DELETE it (back to its default); configs not named stay.
 * APPEND and SUBTRACT work only on list configs (`cleanup.policy`), and only when the result is
 * not empty (INVALID_CONFIG otherwise). Through `topic.alterConfig`.
 */
export const incrementalAlterConfigs = defineApi({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const responses = [];
    for (const r of request.resources) {
      const topic = ctx.topics.get(r.resourceName);
      const error = await alterTopic(ctx, r.resourceType, r.resourceName, request.validateOnly, () => {
        const changes: Record<string, unknown> = {};
        for (const c of r.configs) {
          const problem = change(changes, c.name, c.configOperation, c.value, topic?.config.cleanupPolicy ?? 'delete');
          if (problem !== undefined) return { error: problem };
        }
        return { changes: changes as TopicConfigChanges };
      }, r.configs.map((c) => c.name));
      responses.push({ resourceType: r.resourceType, resourceName: r.resourceName, errorCode: error?.code ?? KafkaErrorCode.NONE, errorMessage: error?.message ?? null });
    }
    return { throttleTimeMs: 0, responses };
  },
});

function change(changes: Record<string, unknown>, name: string, operation: number, value: string | null, cleanupPolicy: string): KafkaError | undefined {
  const bad = (message: string): KafkaError => ({ code: KafkaErrorCode.INVALID_CONFIG, message });
  const config = topicConfigOf(name);
  if (config === undefined) return bad(`kafkalite does not support the topic config ${name}`);
  if (operation !== SET && operation !== DELETE && operation !== APPEND && operation !== SUBTRACT) {
    return { code: KafkaErrorCode.INVALID_REQUEST, message: `unknown config operation ${operation} for ${name}` };
  }
  if ('fixed' in config) {
    if (operation === DELETE || (operation === SET && value?.trim() === config.fixed)) return undefined;
    return bad(`${name} is always ${config.fixed} in kafkalite`);
  }
  const { key } = config;
  if (operation === DELETE) {
    changes[key] = null;
    return undefined;
  }
  if (value === null) return bad(`${name} needs a value`);
  if (operation === SET) {
    const parsed = parseTopicConfigValue(key, value);
    if (parsed === undefined) return bad(`invalid value ${JSON.stringify(value)} for ${name}`);
    changes[key] = parsed;
    return undefined;
  }
  if (key !== 'cleanupPolicy') return bad(`${operation === APPEND ? 'APPEND' : 'SUBTRACT'} works only on list configs; ${name} is not one`);
  const pending = changes.cleanupPolicy as string | null | undefined;
  const current = new Set((pending === undefined ? cleanupPolicy : (pending ?? 'delete')).split(','));
  for (const v of value.split(',').map((s) => s.trim().toLowerCase())) {
    if (v !== 'delete' && v !== 'compact') return bad(`invalid value ${JSON.stringify(v)} for ${name}`);
    if (operation === APPEND) current.add(v);
    else current.delete(v);
  }
  if (current.size === 0) return bad(`${name} needs at least one policy (delete or compact); the result would be none`);
  changes[key] = [...current].sort().join(',');
  return undefined;
}
