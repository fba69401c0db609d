import { SystemClock, type Clock } from '../clock.js';
import { invalidArgument, show } from '../errors.js';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import { resolveLogger, type Logger } from '../logger.js';
import type { Storage } from '../storage/storage.js';
import { validatePartitionCount } from '../topic/topic-config.js';

export interface BrokerOptions {
  /** Where logs, topic configs and group offsets live. @default new MemoryStorage() */
  storage?: Storage;
  /** Every timestamp, timer, timeout and retention check goes through it. @default the system clock */
  clock?: Clock;
  /** Sending to (or subscribing to) an unknown topic creates it with `defaultPartitions`. @default true */
  autoCreateTopics?: boolean;
  /** Partitions of a topic created without a count. @default 1 */
  defaultPartitions?: number;
  /** How often time-based retention is checked, as Kafka's `log.retention.check.interval.ms`. @default 300000 */
  retentionCheckIntervalMs?: number;
  /**
   * Where failures that no caller can see are reported — a `run` handler failing again and
   * again, a background commit or fsync failing — even when nobody listens for `'error'`: once
   * per cause, then at most once a minute (on the broker's clock) with a count of repeats.
   * `'silent'` logs nothing.
   * @default warnings and errors to stderr
   */
  logger?: Logger | 'silent';
}

export type ResolvedBrokerOptions = Required<Omit<BrokerOptions, 'logger'>> & { logger: Logger };

export function resolveBrokerOptions(options: BrokerOptions | undefined): ResolvedBrokerOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidArgument(`Broker.open options must be an object (got ${show(options)})`);
  }
  const known = ['storage', 'clock', 'autoCreateTopics', 'defaultPartitions', 'retentionCheckIntervalMs', 'logger'];
  for (const key of Object.keys(options ?? {})) {
    if (!known.includes(key)) throw invalidArgument(`unknown broker option ${show(key)}`);
  }
  const o = options ?? {};
  const resolved: ResolvedBrokerOptions = {
    storage: o.storage ?? new MemoryStorage(),
    clock: o.clock ?? new SystemClock(),
    autoCreateTopics: o.autoCreateTopics ?? true,
    defaultPartitions: o.defaultPartitions ?? 1,
    retentionCheckIntervalMs: o.retentionCheckIntervalMs ?? 300_000,
    logger: resolveLogger(o.logger),
  };
  const { storage, clock, autoCreateTopics, defaultPartitions, retentionCheckIntervalMs } = resolved;
  for (const method of ['open', 'saveTopic', 'deleteTopic', 'log', 'close'] as const) {
    if (typeof (storage as unknown as Record<string, unknown>)?.[method] !== 'function') {
      throw invalidArgument(`storage must implement the Storage interface (it has no ${method}())`);
    }
  }
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof (clock as unknown as Record<string, unknown>)?.[method] !== 'function') {
      throw invalidArgument(`clock must implement the Clock interface (it has no ${method}())`);
    }
  }
  if (typeof autoCreateTopics !== 'boolean') throw invalidArgument(`autoCreateTopics must be a boolean (got ${show(autoCreateTopics)})`);
  validatePartitionCount(defaultPartitions);
  if (!Number.isSafeInteger(retentionCheckIntervalMs) || retentionCheckIntervalMs < 1) {
    throw invalidArgument(`retentionCheckIntervalMs must be a positive integer (got ${show(retentionCheckIntervalMs)})`);
  }
  return resolved;
}
