/**
 * A NestJS application on the Kafka transport, with Nest's default configuration, tested without
 * Kafka: `kafkajs` is swapped for `kafkalite/kafkajs` (one line, below), and everything else is
 * Nest's own — `ServerKafka` for the microservice, `ClientKafka` (with its reply-partition
 * assigner) for the gateway. vitest.config.ts inlines `@nestjs/*`, so that the swap reaches the
 * `import('kafkajs')` inside them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('kafkajs', () => import('kafkalite/kafkajs'));

import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { INestApplicationContext } from '@nestjs/common';
import { Kafka, getBroker, resetCluster } from 'kafkalite/kafkajs';
import { GatewayModule, KAFKA_OPTIONS, OrdersGateway } from './gateway.module.js';
import { Ledger, OrdersModule, type OrderLine } from './orders.module.js';

/** Nest's default brokers: the apps and the test meet on this in-process cluster. */
const BROKERS = ['localhost:9092'];
const apps: INestApplicationContext[] = [];

/** One instance of the orders microservice, as its main.ts would start it. */
async function ordersService(): Promise<Ledger> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(OrdersModule, { transport: Transport.KAFKA, options: KAFKA_OPTIONS, logger: false });
  apps.push(app);
  await app.listen();
  return app.get(Ledger);
}

/** One instance of the gateway application (its ClientKafka connects on init). */
async function gateway(): Promise<OrdersGateway> {
  const app = await NestFactory.createApplicationContext(GatewayModule, { logger: false });
  apps.push(app);
  return app.get(OrdersGateway);
}

async function closeApps(): Promise<void> {
  for (const app of apps.splice(0).reverse()) await app.close();
}

/** Resolves once `condition` holds, checked whenever a ledger changes. */
function until(ledgers: Ledger[], condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const stops: (() => void)[] = [];
    const check = (): void => {
      if (!condition()) return;
      for (const stop of stops) stop();
      resolve();
    };
    for (const ledger of ledgers) stops.push(ledger.onChange(check));
    check();
  });
}

const lines = (n: number): OrderLine[] => [
  { sku: 'tea', quantity: n, unitCents: 250 },
  { sku: 'cake', quantity: 1, unitCents: 400 },
];

beforeEach(async () => {
  await resetCluster(BROKERS);
  // Topics as an operator would create them, with partitions to share between instances.
  const admin = new Kafka({ brokers: BROKERS, logLevel: 0 }).admin();
  await admin.createTopics({
    topics: ['orders.total', 'orders.total.reply', 'orders.placed'].map((topic) => ({ topic, numPartitions: 4 })),
  });
});

afterEach(async () => {
  await closeApps();
  await resetCluster(BROKERS);
});

describe('NestJS on kafkalite/kafkajs, default Kafka transport config', () => {
  it('answers 100 concurrent requests, each correctly and each handled once', async () => {
    const ledgers = [await ordersService(), await ordersService()];
    const orders = await gateway();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => orders.total(`r${i}`, lines(i))));
    expect(answers).toEqual(Array.from({ length: 100 }, (_, i) => ({ requestId: `r${i}`, totalCents: i * 250 + 400 })));
    await closeApps(); // nothing is handled twice later either
    const handled = ledgers.flatMap((l) => l.requests);
    expect(handled).toHaveLength(100);
    expect(new Set(handled).size).toBe(100);
  });

  it('splits events between two servers of one group, without loss or duplicates', async () => {
    const [a, b] = [await ordersService(), await ordersService()];
    const orders = await gateway();
    const ids = Array.from({ length: 40 }, (_, i) => `o${i}`);
    await Promise.all(ids.map((orderId) => orders.placed({ orderId, customer: 'ada' })));
    await until([a, b], () => a.events.length + b.events.length >= ids.length);
    await closeApps();
    const seen = [...a.events, ...b.events].map((e) => e.orderId);
    expect(seen.sort()).toEqual([...ids].sort()); // every event, once
    expect(a.events.length).toBeGreaterThan(0); // both servers took a share…
    expect(b.events.length).toBeGreaterThan(0);
    const partitionsOf = (ledger: Ledger) => new Set(ledger.events.map((e) => e.partition));
    const shared = [...partitionsOf(a)].filter((p) => partitionsOf(b).has(p));
    expect(shared).toEqual([]); // …by partitions: no partition was handled by both
  });

  it("keeps a client's reply partition when another client joins its group, so replies in flight arrive", async () => {
    await ordersService();
    const first = await gateway();
    const reply = 'orders.total.reply';
    await first.total('warm-up', lines(1)); // the client has read (and committed) on its reply partition
    const mine = first.client.getConsumerAssignments()[reply];
    expect(mine).toBeTypeOf('number');

    let rejoined!: () => void;
    const rejoin = new Promise<void>((resolve) => (rejoined = resolve));
    const consumer = first.client.consumer;
    let protocol = '';
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      protocol = payload.groupProtocol;
      rejoined();
    });
    const inFlight = Array.from({ length: 20 }, (_, i) => first.total(`f${i}`, lines(i)));
    const second = await gateway(); // joins the same group ('nestjs-group-client'): a rebalance
    await rejoin;
    expect(protocol).toBe('NestReplyPartitionAssigner'); // Nest's own assigner, run by the group's leader
    expect(first.client.getConsumerAssignments()[reply]).toBe(mine);
    expect(second.client.getConsumerAssignments()[reply]).not.toBe(mine);
    // Replies to requests sent before and during the rebalance reach the client that asked.
    expect((await Promise.all(inFlight)).map((a) => a.requestId)).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
    expect(await second.total('from-second', lines(2))).toEqual({ requestId: 'from-second', totalCents: 900 });

    const third = await gateway();
    expect(first.client.getConsumerAssignments()[reply]).toBe(mine);
    expect(new Set([mine, second.client.getConsumerAssignments()[reply], third.client.getConsumerAssignments()[reply]]).size).toBe(3);
    expect(await first.total('after', lines(3))).toEqual({ requestId: 'after', totalCents: 1150 });
  });

  it('leaves no handles behind after app.close()', async () => {
    await getBroker(BROKERS); // the cluster outlives the apps (its timers are the test's)
    const before = process.getActiveResourcesInfo().sort();
    const ledger = await ordersService();
    await ordersService();
    const orders = await gateway();
    await orders.total('r', lines(1));
    await orders.placed({ orderId: 'o', customer: 'ada' });
    await until([ledger], () => true);
    await closeApps();
    expect(process.getActiveResourcesInfo().sort()).toEqual(before);
  });
});
