/**
 * Testing KafkaJS code without Kafka: the service under test imports `kafkajs`, and this one line
 * hands it kafkalite's in-process implementation instead. No broker, no Docker, no sleeps.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('kafkajs', () => import('kafkalite/kafkajs'));

// KafkaJS' own switch for its one-time warning about its default partitioner.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

import { Kafka, type Consumer, type Producer } from 'kafkajs';
import { resetCluster } from 'kafkalite/kafkajs';
import { BillingService, TOPICS, type Invoice, type Order } from './billing-service.js';

const brokers = ['kafka:9092'];

describe('BillingService', () => {
  // The test talks to the same cluster as the service: same brokers, same (mocked) kafkajs.
  const kafka = new Kafka({ clientId: 'billing-test', brokers, logLevel: 0 });
  let service: BillingService;
  let producer: Producer;
  let reader: Consumer;
  let invoices: Invoice[];
  let alerts: string[];
  let received: () => void;
  let expected: number;

  /** Resolves once `n` invoices and alerts (together) have been read. */
  const read = (n: number): Promise<void> =>
    new Promise((resolve) => {
      expected = n;
      received = resolve;
      if (invoices.length + alerts.length >= expected) resolve();
    });

  const order = (o: Order) => producer.send({ topic: TOPICS.orders, messages: [{ key: o.customer, value: JSON.stringify(o) }] });

  beforeEach(async () => {
    service = new BillingService({ brokers, fraudLimitCents: 100_000, taxPercent: 20 });
    await service.start();
    producer = kafka.producer();
    await producer.connect();

    invoices = [];
    alerts = [];
    expected = Infinity;
    reader = kafka.consumer({ groupId: 'billing-test-reader' });
    await reader.subscribe({ topics: [TOPICS.invoices, TOPICS.alerts], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === TOPICS.invoices) invoices.push(JSON.parse(message.value!.toString()) as Invoice);
        else alerts.push(message.headers!['order-id']!.toString());
        if (invoices.length + alerts.length >= expected) received();
      },
    });
  });

  afterEach(async () => {
    await reader.disconnect();
    await producer.disconnect();
    await service.stop();
    await resetCluster(brokers);
  });

  it('writes an invoice, with tax, for every order', async () => {
    await order({ id: 'o-1', customer: 'ada', totalCents: 1000 });
    await order({ id: 'o-2', customer: 'bob', totalCents: 2500 });
    await read(2);
    expect(invoices.sort((a, b) => a.orderId.localeCompare(b.orderId))).toEqual([
      { orderId: 'o-1', customer: 'ada', amountCents: 1000, taxCents: 200 },
      { orderId: 'o-2', customer: 'bob', amountCents: 2500, taxCents: 500 },
    ]);
    expect(alerts).toEqual([]);
  });

  it('raises a fraud alert for an order above the limit', async () => {
    await order({ id: 'o-big', customer: 'eve', totalCents: 250_000 });
    await read(2);
    expect(invoices.map((i) => i.orderId)).toEqual(['o-big']);
    expect(alerts).toEqual(['o-big']);
  });

  it("keeps a customer's invoices in order, on the customer's partition", async () => {
    for (let i = 0; i < 5; i++) await order({ id: `o-${i}`, customer: 'ada', totalCents: 100 * (i + 1) });
    await read(5);
    expect(invoices.map((i) => i.orderId)).toEqual(['o-0', 'o-1', 'o-2', 'o-3', 'o-4']);
  });

  it('bills each order once across a restart: the group resumes at its committed offset', async () => {
    await order({ id: 'o-1', customer: 'ada', totalCents: 1000 });
    await read(1);
    await service.stop();

    await order({ id: 'o-2', customer: 'bob', totalCents: 2000 });
    service = new BillingService({ brokers, fraudLimitCents: 100_000, taxPercent: 20 });
    await service.start();
    // ada's orders share a partition: had o-1 been billed again, its invoice would come before o-3's.
    await order({ id: 'o-3', customer: 'ada', totalCents: 3000 });
    await read(3);
    expect(invoices.map((i) => i.orderId).sort()).toEqual(['o-1', 'o-2', 'o-3']);

    await service.stop(); // commits what it billed
    const committed = await kafka.admin().fetchOffsets({ groupId: 'billing', topics: [TOPICS.orders] });
    expect(committed[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)).toBe(3);
  });
});
