/**
 * kafkalite/kafkajs against KafkaJS 2.2's own declarations: code typed with `kafkajs` accepts our
 * clients (checked by `tsc`), and our module exports every name `kafkajs` exports at runtime.
 */
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { describe, expect, it } from 'vitest';
import * as lite from 'kafkalite/kafkajs';

const require = createRequire(import.meta.url);

describe('kafkalite/kafkajs is typed like KafkaJS 2.2', () => {
  it('has every runtime export of kafkajs, under the same names', () => {
    const real = require('kafkajs') as Record<string, unknown>;
    const ours = lite as unknown as Record<string, unknown>;
    const missing = Object.keys(real).filter((name) => !(name in ours));
    expect(missing).toEqual([]);
    for (const name of Object.keys(real)) expect(typeof ours[name], name).toBe(typeof real[name]);
    // Enumerations have KafkaJS' values.
    for (const name of ['logLevel', 'CompressionTypes', 'ConfigResourceTypes', 'ConfigSource', 'AclResourceTypes', 'AclOperationTypes', 'AclPermissionTypes', 'ResourcePatternTypes']) {
      expect(ours[name], name).toEqual(real[name]);
    }
  });

  it("assigns our clients to KafkaJS' types (a compile-time check)", () => {
    const config: KafkaJS.KafkaConfig = { clientId: 'typed', brokers: ['typed:9092'], logLevel: lite.logLevel.NOTHING };
    const kafka: KafkaJS.Kafka = new lite.Kafka(config);
    const producer: KafkaJS.Producer = kafka.producer({ createPartitioner: lite.Partitioners.DefaultPartitioner });
    const consumer: KafkaJS.Consumer = kafka.consumer({ groupId: 'typed', partitionAssigners: [lite.PartitionAssigners.roundRobin] });
    const admin: KafkaJS.Admin = kafka.admin();
    const logger: KafkaJS.Logger = kafka.logger();

    // Values of KafkaJS' enums go into our options, and ours into KafkaJS'.
    const record: lite.ProducerRecord = { topic: 't', messages: [], compression: 1 as KafkaJS.CompressionTypes.GZIP };
    const theirs: KafkaJS.ProducerRecord = { topic: 't', messages: [], compression: lite.CompressionTypes.GZIP };
    const level: KafkaJS.logLevel = lite.logLevel.ERROR;
    const partitioner: KafkaJS.ICustomPartitioner = lite.Partitioners.LegacyPartitioner;
    const assigner: KafkaJS.PartitionAssigner = lite.PartitionAssigners.roundRobin;
    const protocol: typeof KafkaJS.AssignerProtocol = lite.AssignerProtocol;
    const error: KafkaJS.KafkaJSError = new lite.KafkaJSNonRetriableError('typed');
    const handler: lite.EachBatchHandler = async ({ batch, resolveOffset }: KafkaJS.EachBatchPayload) => resolveOffset(batch.lastOffset());

    expect([producer, consumer, admin, logger, record, theirs, level, partitioner, assigner, protocol, error, handler]).toHaveLength(12);
  });

  it('takes KafkaJS-typed configs and calls, when only the import of Kafka was swapped (a compile-time check)', async () => {
    const config: KafkaJS.KafkaConfig = { clientId: 'swapped', brokers: ['swapped:9092'], retry: { retries: 3 }, logLevel: 0 as KafkaJS.logLevel };
    const ours = new lite.Kafka(config);
    const producerConfig: KafkaJS.ProducerConfig = { createPartitioner: (await import('kafkajs')).Partitioners.DefaultPartitioner, idempotent: false };
    const consumerConfig: KafkaJS.ConsumerConfig = { groupId: 'swapped', sessionTimeout: 30_000, retry: { retries: 2 } };
    const producer: KafkaJS.Producer = ours.producer(producerConfig);
    const consumer: KafkaJS.Consumer = ours.consumer(consumerConfig);
    const admin: KafkaJS.Admin = ours.admin({ retry: { retries: 1 } });
    const record: KafkaJS.ProducerRecord = { topic: 't', messages: [{ key: 'k', value: 'v', headers: { h: ['1'] } }] };
    const run: KafkaJS.ConsumerRunConfig = { eachMessage: async ({ message }) => void message.offset };
    const subscription: KafkaJS.ConsumerSubscribeTopics = { topics: [/t.*/], fromBeginning: true };
    const topics: KafkaJS.ITopicConfig[] = [{ topic: 't', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '1000' }] }];
    const calls = [
      () => producer.send(record),
      () => consumer.run(run),
      () => consumer.subscribe(subscription),
      () => admin.createTopics({ topics }),
      () => admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 as KafkaJS.ConfigResourceTypes, name: 't' }] }),
    ];
    expect(calls).toHaveLength(5);
  });
});
