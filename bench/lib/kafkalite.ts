/** A fresh broker with one single-partition topic, a producer and an assigned consumer. */

import { Broker, type Consumer, type ConsumerOptions, type Producer, type ProducerOptions } from 'kafkalite';
import { VALUE_SIZE } from './harness.js';

export const TOPIC = 'bench';

/**
 * The value every message carries. One shared buffer is enough: `send` copies it into the record
 * batch, and every record the consumer gets has its own copy.
 */
export const VALUE: Buffer = Buffer.alloc(VALUE_SIZE, 0x61);

export interface Fixture {
  broker: Broker;
  producer: Producer;
  consumer: Consumer;
  close(): Promise<void>;
}

export async function openFixture(options: { producer?: ProducerOptions; consumer?: ConsumerOptions } = {}): Promise<Fixture> {
  const broker = await Broker.open();
  await broker.createTopic(TOPIC, { partitions: 1 });
  const producer = broker.producer(options.producer);
  const consumer = broker.consumer({ autoOffsetReset: 'earliest', ...options.consumer });
  await consumer.assign([{ topic: TOPIC, partition: 0 }]);
  return {
    broker,
    producer,
    consumer,
    async close() {
      await consumer.close();
      await producer.close();
      await broker.close();
    },
  };
}
