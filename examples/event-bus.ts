/**
 * kafkalite as the event bus between two modules of one app, with typed JSON payloads: the
 * producers and the consumer are typed by their serdes, so events go in and come out as objects.
 *
 * `orders` publishes OrderPlaced events keyed by customer (so one customer's events stay in
 * order on one partition); `billing` consumes them, charges, and publishes PaymentTaken. Neither
 * module knows the other: they share only topic names and event types.
 *
 * Run it: `npm run demo` (in memory). The same code runs on a Kafka cluster — or on another
 * process's `npx kafkalite serve` — when `KAFKALITE_BROKERS=host:port,…` names its brokers: only
 * the line that opens the broker differs.
 */
import { pathToFileURL } from 'node:url';
import { Broker, serde } from 'kafkalite';

// ---- the contract between the modules: topic names and event types --------------------------

interface OrderPlaced {
  orderId: string;
  customer: string;
  amountCents: number;
}
interface PaymentTaken extends OrderPlaced {
  receipt: string;
}

/** Each topic with the serde of its events: both modules type their clients by it. */
const topics = {
  ordersPlaced: { name: 'orders.placed', events: serde.json<OrderPlaced>() },
  paymentsTaken: { name: 'payments.taken', events: serde.json<PaymentTaken>() },
};

// ---- module 1: orders ------------------------------------------------------------------------

function ordersModule(broker: Broker) {
  // Keys are customer ids (so one customer's events keep their order on one partition).
  const producer = broker.producer({ serializers: { key: serde.string(), value: topics.ordersPlaced.events } });
  let next = 1;
  return {
    placeOrder: async (customer: string, amountCents: number) => {
      const orderId = `o-${next++}`;
      await producer.send({ topic: topics.ordersPlaced.name, messages: [{ key: customer, value: { orderId, customer, amountCents } }] });
      return orderId;
    },
  };
}

// ---- module 2: billing -----------------------------------------------------------------------

async function billingModule(broker: Broker, log: (line: string) => void) {
  let payments = 0;
  const producer = broker.producer({ serializers: { key: serde.string(), value: topics.paymentsTaken.events } });
  const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { value: topics.ordersPlaced.events } });
  const topic = broker.topic(topics.ordersPlaced.name);
  await consumer.assign(topic.partitions.map((p) => ({ topic: topic.name, partition: p.id })));
  let totalCents = 0;
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const order = message.value; // an OrderPlaced, typed by the deserializer
      if (order === null) return; // a tombstone: nothing to charge
      totalCents += order.amountCents;
      const receipt = `r-${partition}-${message.offset}`;
      await producer.send({ topic: topics.paymentsTaken.name, messages: [{ key: order.customer, value: { ...order, receipt } }] });
      payments++;
      log(`billing: charged ${order.customer} ${(order.amountCents / 100).toFixed(2)} for ${order.orderId} (${receipt})`);
    },
  });
  return { consumer, total: () => totalCents, payments: () => payments };
}

// ---- the app ---------------------------------------------------------------------------------

export async function main(
  log: (line: string) => void = console.log,
  brokers: string[] | undefined = process.env.KAFKALITE_BROKERS?.split(','),
): Promise<{ charged: number; payments: number }> {
  // In memory by default; on a Kafka cluster (Broker.connect) when brokers are named.
  const broker = brokers === undefined ? await Broker.open() : await Broker.connect({ brokers, clientId: 'event-bus' });
  for (const { name } of Object.values(topics)) {
    // A cluster's topics may have been made by its operators already.
    if (!broker.listTopics().includes(name)) await broker.createTopic(name, { partitions: 3 });
  }

  const billing = await billingModule(broker, log);
  const orders = ordersModule(broker);
  for (const [customer, cents] of [['ada', 1250], ['linus', 999], ['ada', 300], ['grace', 4200]] as const) {
    const id = await orders.placeOrder(customer, cents);
    log(`orders: placed ${id} for ${customer}`);
  }

  await billing.consumer.caughtUp(); // every order handled: no sleeps needed
  const payments = billing.payments();
  log(`done: ${payments} payments, ${(billing.total() / 100).toFixed(2)} charged in all`);
  await broker.close();
  return { charged: billing.total(), payments };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
