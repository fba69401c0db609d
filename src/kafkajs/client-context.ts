/** What every client of one `Kafka` instance shares. */

import type { Cluster } from './cluster.js';
import type { Logger, RetryOptions } from './types.js';

export interface ClientContext {
  /** The `clientId` of the Kafka config (KafkaJS' default: `'kafkajs'`). */
  clientId: string;
  /** The root logger of the Kafka instance. */
  logger: Logger;
  /** The `retry` of the Kafka config. */
  retry: RetryOptions | undefined;
  /** The cluster of the Kafka instance's `brokers` (resolved and checked as KafkaJS does on connect). */
  cluster(): Promise<Cluster>;
  /**
   * The time on the clock of the cluster reached last (a `ManualClock` of an attached broker
   * drives KafkaJS clients too); `Date.now()` before any cluster was reached.
   */
  now(): number;
}
