/**
 * `new Kafka(config)`: KafkaJS' client factory. Its producers, consumers and admins talk to the
 * in-process cluster of its `brokers` list (see cluster-registry.ts), which they reach on first use.
 */

import type { ClientContext } from './client-context.js';
import { clusterFor, registerKafka, resolveBrokers } from './cluster-registry.js';
import type { Cluster } from './cluster.js';
import { LiteAdmin } from './admin.js';
import { LiteConsumer } from './consumer.js';
import { createLogger } from './logger.js';
import { LiteProducer } from './producer.js';
import type { Admin, AdminConfig, Consumer, ConsumerConfig, KafkaConfig, Logger, Producer, ProducerConfig } from './types.js';

export class Kafka {
  #ctx: ClientContext;

  constructor(config: KafkaConfig) {
    const { brokers, clientId = 'kafkajs', logLevel, logCreator, retry } = config;
    const logger = createLogger({ level: logLevel, logCreator });
    let resolved: Promise<string[]> | undefined;
    // A brokers function is called when a client first connects, as KafkaJS does; a list is checked then too.
    const brokersOf = (): Promise<string[]> => {
      if (typeof brokers === 'function') return resolveBrokers(brokers);
      resolved ??= resolveBrokers(brokers);
      return resolved;
    };
    let reached: Cluster | undefined;
    this.#ctx = {
      clientId,
      logger,
      retry,
      cluster: async () => (reached = await clusterFor(await brokersOf())),
      now: () => reached?.broker.clock.now() ?? Date.now(),
    };
    registerKafka(this, brokersOf);
  }

  producer(config?: ProducerConfig): Producer {
    return new LiteProducer(this.#ctx, config);
  }

  consumer(config: ConsumerConfig): Consumer {
    return new LiteConsumer(this.#ctx, config);
  }

  admin(config?: AdminConfig): Admin {
    return new LiteAdmin(this.#ctx, config);
  }

  logger(): Logger {
    return this.#ctx.logger;
  }
}
