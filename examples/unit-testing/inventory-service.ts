/**
 * A small Kafka-style service: it consumes `orders`, keeps stock per SKU, and publishes a
 * `stock-alerts` event when a SKU falls below its threshold. Written against kafkalite's
 * Kafka-shaped API, so the same code runs against a broker with files or in memory — and its
 * unit test (inventory-service.test.ts) needs no Kafka and no sleeps.
 */
import type { Broker, Consumer, Producer } from 'kafkalite';

export interface OrderEvent {
  sku: string;
  quantity: number;
}

export interface StockAlert {
  sku: string;
  left: number;
}

export class InventoryService {
  readonly stock = new Map<string, number>();
  #consumer: Consumer;
  #producer: Producer;
  #threshold: number;

  constructor(broker: Broker, initial: Record<string, number>, threshold = 5) {
    for (const [sku, n] of Object.entries(initial)) this.stock.set(sku, n);
    this.#threshold = threshold;
    this.#producer = broker.producer();
    this.#consumer = broker.consumer({ autoOffsetReset: 'earliest' });
    this.#consumer.on('error', (error) => console.error('inventory: order rejected, will retry', error));
  }

  /** Starts consuming every partition of `orders`. */
  async start(broker: Broker): Promise<void> {
    const orders = broker.topic('orders');
    await this.#consumer.assign(orders.partitions.map((p) => ({ topic: 'orders', partition: p.id })));
    await this.#consumer.run({
      eachMessage: async ({ message }) => {
        const order = JSON.parse(message.value!.toString()) as OrderEvent;
        const left = (this.stock.get(order.sku) ?? 0) - order.quantity;
        if (left < 0) throw new Error(`not enough ${order.sku}`); // redelivered until restocked
        this.stock.set(order.sku, left);
        if (left < this.#threshold) {
          const alert: StockAlert = { sku: order.sku, left };
          await this.#producer.send({ topic: 'stock-alerts', messages: [{ key: order.sku, value: JSON.stringify(alert) }] });
        }
      },
    });
  }

  restock(sku: string, quantity: number): void {
    this.stock.set(sku, (this.stock.get(sku) ?? 0) + quantity);
  }

  /** Resolves once every order published so far has been handled. */
  idle(): Promise<void> {
    return this.#consumer.caughtUp();
  }

  async stop(): Promise<void> {
    await this.#consumer.close();
    await this.#producer.close();
  }
}
