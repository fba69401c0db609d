/**
 * A small service written against KafkaJS, as it would run in production: it reads orders, writes
 * an invoice for each (keyed by customer, so a customer's invoices stay in order), and raises a
 * fraud alert for large orders. Nothing here knows about kafkalite: see billing-service.test.ts
 * for how its test runs it in-process, by mocking the `kafkajs` module.
 */
import { Kafka, logLevel, type Admin, type Consumer, type Producer, type TopicMessages } from 'kafkajs';

export interface Order {
  id: string;
  customer: string;
  totalCents: number;
}

export interface Invoice {
  orderId: string;
  customer: string;
  amountCents: number;
  taxCents: number;
}

export interface BillingOptions {
  brokers: string[];
  /** Orders above this total raise a fraud alert. */
  fraudLimitCents: number;
  /** Tax rate, in percent. */
  taxPercent: number;
}

export const TOPICS = { orders: 'orders', invoices: 'invoices', alerts: 'fraud-alerts' } as const;

export class BillingService {
  readonly #options: BillingOptions;
  readonly #kafka: Kafka;
  readonly #admin: Admin;
  readonly #producer: Producer;
  readonly #consumer: Consumer;

  constructor(options: BillingOptions) {
    this.#options = options;
    this.#kafka = new Kafka({ clientId: 'billing', brokers: options.brokers, logLevel: logLevel.WARN });
    this.#admin = this.#kafka.admin();
    this.#producer = this.#kafka.producer({ idempotent: true });
    this.#consumer = this.#kafka.consumer({ groupId: 'billing' });
  }

  async start(): Promise<void> {
    await this.#admin.connect();
    await this.#admin.createTopics({
      topics: [
        { topic: TOPICS.orders, numPartitions: 3 },
        { topic: TOPICS.invoices, numPartitions: 3 },
        { topic: TOPICS.alerts, numPartitions: 1 },
      ],
    });
    await this.#admin.disconnect();

    await this.#producer.connect();
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [TOPICS.orders], fromBeginning: true });
    await this.#consumer.run({
      eachMessage: async ({ message }) => {
        const order = JSON.parse(message.value!.toString()) as Order;
        await this.#bill(order);
      },
    });
  }

  async stop(): Promise<void> {
    await this.#consumer.disconnect();
    await this.#producer.disconnect();
  }

  async #bill(order: Order): Promise<void> {
    const invoice: Invoice = {
      orderId: order.id,
      customer: order.customer,
      amountCents: order.totalCents,
      taxCents: Math.round((order.totalCents * this.#options.taxPercent) / 100),
    };
    const headers = { 'order-id': order.id };
    const topicMessages: TopicMessages[] = [
      { topic: TOPICS.invoices, messages: [{ key: order.customer, value: JSON.stringify(invoice), headers }] },
    ];
    if (order.totalCents > this.#options.fraudLimitCents) {
      topicMessages.push({ topic: TOPICS.alerts, messages: [{ key: order.customer, value: JSON.stringify({ orderId: order.id }), headers }] });
    }
    await this.#producer.sendBatch({ topicMessages });
  }
}
