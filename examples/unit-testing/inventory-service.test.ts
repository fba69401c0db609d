/**
 * How to unit-test a Kafka-style service with kafkalite: a real broker in memory, real topics and
 * offsets, `caughtUp()` instead of sleeps, and a ManualClock for anything timed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Broker, ManualClock } from 'kafkalite';
import { InventoryService, type StockAlert } from './inventory-service.js';

describe('InventoryService', () => {
  let broker: Broker;
  let clock: ManualClock;
  let service: InventoryService;

  beforeEach(async () => {
    clock = new ManualClock();
    broker = await Broker.open({ clock });
    await broker.createTopic('orders', { partitions: 2 });
    await broker.createTopic('stock-alerts');
    service = new InventoryService(broker, { apple: 10, pear: 3 });
    await service.start(broker);
  });

  afterEach(() => broker.close());

  const order = (sku: string, quantity: number) =>
    broker.producer().send({ topic: 'orders', messages: [{ key: sku, value: JSON.stringify({ sku, quantity }) }] });

  const alerts = async (): Promise<StockAlert[]> =>
    (await broker.topic('stock-alerts').partition(0).read(0)).map((r) => JSON.parse(r.value!.toString()) as StockAlert);

  it('takes stock for every order', async () => {
    await order('apple', 2);
    await order('apple', 1);
    await service.idle();
    expect(service.stock.get('apple')).toBe(7);
    expect(await alerts()).toEqual([]);
  });

  it('publishes an alert when stock falls below the threshold', async () => {
    await order('apple', 6);
    await service.idle();
    expect(await alerts()).toEqual([{ sku: 'apple', left: 4 }]);
  });

  it('retries an order it cannot fill until stock arrives, without losing it', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    await order('pear', 5);
    await new Promise((r) => setImmediate(r));
    expect(service.stock.get('pear')).toBe(3);
    service.restock('pear', 10);
    await clock.advance(100); // the consumer's retry backoff, on the test's clock
    await service.idle();
    expect(service.stock.get('pear')).toBe(8);
  });
});
