/** Shared setup for the listener's tests: a broker listening on a free loopback port, and batches as clients send them. */
import { afterEach } from 'vitest';
import { Broker, RecordBatchBuilder, type BrokerOptions, type ListenOptions, type Listener } from 'kafkalite';
import { crc32c } from '../../src/codec/crc32c.js';
import { WireClient } from './wire-client.js';

const open: { broker: Broker; clients: WireClient[] }[] = [];

afterEach(async () => {
  for (const { broker, clients } of open.splice(0)) {
    for (const c of clients) c.close();
    await broker.close();
  }
});

export interface Served {
  broker: Broker;
  listener: Listener;
  /** A new raw client connected to the listener (closed after the test). */
  client(): Promise<WireClient>;
}

/** A broker (closed after the test) listening on a free loopback port. */
export async function serve(options: BrokerOptions = {}, listen: ListenOptions = {}): Promise<Served> {
  const broker = await Broker.open({ logger: 'silent', ...options });
  const listener = await broker.listen({ port: 0, ...listen });
  const entry = { broker, clients: [] as WireClient[] };
  open.push(entry);
  return {
    broker,
    listener,
    client: async () => {
      const c = await WireClient.connect(listener.address);
      entry.clients.push(c);
      return c;
    },
  };
}

/** A RecordBatch as a client sends it: base offset 0, leader epoch -1, the given producer id and attributes. */
export function clientBatch(
  values: (string | null)[],
  options: { key?: string; timestamp?: number; producerId?: number; attributes?: number; headers?: Record<string, string> } = {},
): Buffer {
  const b = new RecordBatchBuilder();
  values.forEach((v, i) => b.append((options.timestamp ?? 1_700_000_000_000) + i, options.key ?? null, v, options.headers));
  const batch = Buffer.from(b.build());
  batch.writeInt32BE(-1, 12); // clients send -1; the broker writes its leader epoch
  if (options.producerId !== undefined) {
    batch.writeBigInt64BE(BigInt(options.producerId), 43);
    batch.writeInt16BE(0, 51);
    batch.writeInt32BE(0, 53);
  }
  if (options.attributes !== undefined) batch.writeInt16BE(options.attributes, 21);
  return resign(batch);
}

/** Recomputes a batch's CRC-32C after a test changed bytes it covers. */
export function resign(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
  return batch;
}

export const produceRequest = (topic: string, partition: number, records: Uint8Array | null, acks = -1) => ({
  acks,
  timeoutMs: 5000,
  transactionalId: null,
  topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
});
