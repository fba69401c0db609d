/**
 * kafkalite as the event bus between two modules of one app, with typed JSON payloads.
 *
 * `orders` publishes OrderPlaced events keyed by customer (so one customer's events stay in
 * order on one partition); `billing` consumes them, charges, and publishes PaymentTaken. Neither
 * module knows the other: they share only topic names and event types.
 *
 * Run it: `npm run demo`.
 */
import { pathToFileURL } from 'node:url';
import { Broker, type ConsumerRecord, type Producer } from 'kafkalite';

// ---- the contract between the modules: topic names and event types --------------------------

interface Events {
  'orders.placed': { orderId: string; customer: string; amountCents: number };
  'payments.taken': { orderId: string; customer: string; amountCents: number; receipt: string };
}
type TopicName = keyof Events;

/** Sends one typed event as JSON, keyed so that a key's events keep their order. */
function publish<T extends TopicName>(producer: Producer, topic: T, key: string, event: Events[T]) {
  return producer.send({ topic, messages: [{ key, value: JSON.stringify(event) }] });
}

function read<T extends TopicName>(_topic: T, record: ConsumerRecord): Events[T] {
  return JSON.parse(record.value!.toString('utf8')) as Events[T];
}

// ---- module 1: orders ------------------------------------------------------------------------

function ordersModule(broker: Broker) {
  const producer = broker.producer();
  let next = 1;
  return {
    placeOrder: async (customer: string, amountCents: number) => {
      const orderId = `o-${next++}`;
      await publish(producer, 'orders.placed', customer, { orderId, customer, amountCents });
      return orderId;
    },
  };
}

// ---- module 2: billing -----------------------------------------------------------------------

async function billingModule(broker: Broker, log: (line: string) => void) {
  const producer = broker.producer();
  const consumer = broker.consumer({ autoOffsetReset: 'earliest' });
  const topic = broker.topic('orders.placed');
  await consumer.assign(topic.partitions.map((p) => ({ topic: topic.name, partition: p.id })));
  let totalCents = 0;
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const order = read('orders.placed', message);
      totalCents += order.amountCents;
      const receipt = `r-${partition}-${message.offset}`;
      await publish(producer, 'payments.taken', order.customer, { ...order, receipt });
      log(`billing: charged ${order.customer} ${(order.amountCents / 100).toFixed(2)} for ${order.orderId} (${receipt})`);
    },
  });
  return { consumer, total: () => totalCents };
}

// ---- the app ---------------------------------------------------------------------------------

export async function main(log: (line: string) => void = console.log): Promise<{ charged: number; payments: number }> {
  const broker = await Broker.open(); // in memory by default
  await broker.createTopic('orders.placed', { partitions: 3 });
  await broker.createTopic('payments.taken', { partitions: 3 });

  const billing = await billingModule(broker, log);
  const orders = ordersModule(broker);
  for (const [customer, cents] of [['ada', 1250], ['linus', 999], ['ada', 300], ['grace', 4200]] as const) {
    const id = await orders.placeOrder(customer, cents);
    log(`orders: placed ${id} for ${customer}`);
  }

  await billing.consumer.caughtUp(); // every order handled: no sleeps needed
  const payments = broker.topic('payments.taken').partitions.reduce((n, p) => n + p.logEndOffset, 0);
  log(`done: ${payments} payments, ${(billing.total() / 100).toFixed(2)} charged in all`);
  await broker.close();
  return { charged: billing.total(), payments };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
