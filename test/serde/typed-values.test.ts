/**
 * Typed producers and consumers: the types inferred from `serializers` / `deserializers` (checked
 * by `tsc` through expectTypeOf), the ready-made serdes, and records going through them both ways.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Broker,
  serde,
  type Consumer,
  type ConsumerRecord,
  type EachBatchPayload,
  type EachMessagePayload,
  type Message,
  type Producer,
  type Serde,
  type SerdeContext,
  type Transaction,
} from 'kafkalite';

interface OrderPlaced {
  id: number;
  cents: number;
}

describe('typed values: types', () => {
  it('without serdes, producers and consumers take and give exactly the byte types of before', async () => {
    const broker = await Broker.open();
    const producer = broker.producer();
    const consumer = broker.consumer({ groupId: 'g' });
    expectTypeOf(producer).toEqualTypeOf<Producer>();
    expectTypeOf(producer).toEqualTypeOf<Producer<string | Uint8Array, string | Uint8Array>>();
    expectTypeOf(consumer).toEqualTypeOf<Consumer>();
    expectTypeOf(consumer).toEqualTypeOf<Consumer<Buffer, Buffer>>();
    expectTypeOf<Message>().toEqualTypeOf<{
      key?: string | Uint8Array | null;
      value: string | Uint8Array | null;
      headers?: Record<string, string | Uint8Array | (string | Uint8Array)[]>;
      timestamp?: number;
      partition?: number;
    }>();
    expectTypeOf<ConsumerRecord>().toEqualTypeOf<{
      topic: string;
      partition: number;
      offset: number;
      key: Buffer | null;
      value: Buffer | null;
      headers: Record<string, Buffer | Buffer[]>;
      timestamp: number;
    }>();
    expectTypeOf(producer.send).parameter(0).toEqualTypeOf<{ topic: string; messages: Message[] }>();
    expectTypeOf(consumer.poll).returns.resolves.toEqualTypeOf<ConsumerRecord[]>();
    expectTypeOf(consumer[Symbol.asyncIterator]).returns.toEqualTypeOf<AsyncGenerator<ConsumerRecord, void, undefined>>();
    expectTypeOf<Parameters<NonNullable<Parameters<typeof consumer.run>[0]['eachMessage']>>[0]>().toEqualTypeOf<EachMessagePayload>();
    expectTypeOf<EachMessagePayload['message']>().toEqualTypeOf<ConsumerRecord>();
    expectTypeOf<EachBatchPayload['batch']['messages']>().toEqualTypeOf<ConsumerRecord[]>();
    await broker.close();
  });

  it('with serdes, the types follow them; a side without one stays bytes', async () => {
    const broker = await Broker.open();
    const producer = broker.producer({ serializers: { value: serde.json<OrderPlaced>() } });
    expectTypeOf(producer).toEqualTypeOf<Producer<string | Uint8Array, OrderPlaced>>();
    expectTypeOf(producer.send).parameter(0).toEqualTypeOf<{ topic: string; messages: Message<string | Uint8Array, OrderPlaced>[] }>();
    expectTypeOf<Message<string | Uint8Array, OrderPlaced>['value']>().toEqualTypeOf<OrderPlaced | null>();
    // @ts-expect-error a value of another type is refused by the compiler
    void producer.send({ topic: 't', messages: [{ value: 'not an order' }] }).catch(() => undefined);

    const both = broker.producer({ serializers: { key: serde.string(), value: serde.json<OrderPlaced>() } });
    expectTypeOf(both).toEqualTypeOf<Producer<string, OrderPlaced>>();
    // @ts-expect-error bytes are no longer a key once keys are serialized as strings
    void both.send({ topic: 't', messages: [{ key: Buffer.from('k'), value: { id: 1, cents: 2 } }] }).catch(() => undefined);

    const consumer = broker.consumer({ groupId: 'g', deserializers: { value: serde.json<OrderPlaced>() } });
    expectTypeOf(consumer).toEqualTypeOf<Consumer<Buffer, OrderPlaced>>();
    expectTypeOf(consumer.poll).returns.resolves.toEqualTypeOf<ConsumerRecord<Buffer, OrderPlaced>[]>();
    expectTypeOf(consumer[Symbol.asyncIterator]).returns.toEqualTypeOf<AsyncGenerator<ConsumerRecord<Buffer, OrderPlaced>, void, undefined>>();
    type Handlers = Parameters<typeof consumer.run>[0];
    expectTypeOf<Parameters<NonNullable<Handlers['eachMessage']>>[0]>().toEqualTypeOf<EachMessagePayload<Buffer, OrderPlaced>>();
    expectTypeOf<Parameters<NonNullable<Handlers['eachBatch']>>[0]['batch']['messages']>().toEqualTypeOf<ConsumerRecord<Buffer, OrderPlaced>[]>();
    expectTypeOf<ConsumerRecord<Buffer, OrderPlaced>['value']>().toEqualTypeOf<OrderPlaced | null>();

    const keyed = broker.consumer({ deserializers: { key: serde.string(), value: serde.buffer() } });
    expectTypeOf(keyed).toEqualTypeOf<Consumer<string, Buffer>>();

    // A user serde, async: the type is what it promises.
    const dates: Serde<Date> = {
      serialize: async (d: Date) => d.toISOString(),
      deserialize: async (b: Buffer) => new Date(b.toString()),
    };
    expectTypeOf(broker.producer({ serializers: { value: dates } })).toEqualTypeOf<Producer<string | Uint8Array, Date>>();
    expectTypeOf(broker.consumer({ deserializers: { value: dates } })).toEqualTypeOf<Consumer<Buffer, Date>>();
    await broker.close();
  });
});

describe('typed values: transactions', () => {
  it("a transaction takes its producer's types: keys and values go through the serializers, committed and read back typed", async () => {
    const broker = await Broker.open();
    await broker.createTopic('orders', { partitions: 1 });
    const producer = broker.producer({ transactionalId: 'typed', serializers: { key: serde.string(), value: serde.json<OrderPlaced>() } });
    const tx = producer.transaction();
    expectTypeOf(tx).toEqualTypeOf<Transaction<string, OrderPlaced>>();
    expectTypeOf(tx.send).parameter(0).toEqualTypeOf<{ topic: string; messages: Message<string, OrderPlaced>[] }>();
    expectTypeOf(tx.sendBatch).parameter(0).toEqualTypeOf<{ topicMessages: { topic: string; messages: Message<string, OrderPlaced>[] }[] }>();
    // Checked by the compiler only (never called): json's serializer would take the Buffer at run time.
    const refused = () =>
      // @ts-expect-error bytes are no longer a value once values are serialized as OrderPlaced
      tx.send({ topic: 'orders', messages: [{ key: 'u1', value: Buffer.from('{}') }] });
    expectTypeOf(refused).toBeFunction();
    await tx.send({ topic: 'orders', messages: [{ key: 'u1', value: { id: 1, cents: 250 } }] });
    await tx.sendBatch({ topicMessages: [{ topic: 'orders', messages: [{ key: 'u2', value: { id: 2, cents: 99 } }] }] });
    await tx.commit();
    // Without serializers, a transaction takes bytes or strings, as the producer does.
    expectTypeOf(broker.producer({ transactionalId: 'bytes' }).transaction()).toEqualTypeOf<Transaction>();
    expectTypeOf<Transaction>().toEqualTypeOf<Transaction<string | Uint8Array, string | Uint8Array>>();

    const consumer = broker.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest', deserializers: { key: serde.string(), value: serde.json<OrderPlaced>() } });
    await consumer.assign([{ topic: 'orders', partition: 0 }]);
    const seen: [string | null, OrderPlaced | null][] = [];
    while (seen.length < 2) for (const r of await consumer.poll({ timeoutMs: 50 })) seen.push([r.key, r.value]);
    expect(seen).toEqual([
      ['u1', { id: 1, cents: 250 }],
      ['u2', { id: 2, cents: 99 }],
    ]);
    await broker.close();
  });
});

describe('typed values: round trips', () => {
  it('json, string and buffer serdes carry keys and values both ways; null keys and tombstones stay null', async () => {
    const broker = await Broker.open();
    await broker.createTopic('orders', { partitions: 3 });
    const producer = broker.producer({ serializers: { key: serde.string(), value: serde.json<OrderPlaced>() } });
    await producer.send({
      topic: 'orders',
      messages: [
        { key: 'u1', value: { id: 1, cents: 250 } },
        { key: null, value: { id: 2, cents: 99 }, partition: 1 },
        { key: 'u1', value: null },
      ],
    });
    const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { key: serde.string(), value: serde.json<OrderPlaced>() } });
    await consumer.assign([0, 1, 2].map((partition) => ({ topic: 'orders', partition })));
    const records = await consumer.poll();
    const seen = records.map((r) => [r.key, r.value]);
    expect(seen).toHaveLength(3);
    expect(seen).toEqual(expect.arrayContaining([['u1', { id: 1, cents: 250 }], [null, { id: 2, cents: 99 }], ['u1', null]]));

    // What is stored is plain JSON and UTF-8: a consumer without serdes reads the bytes.
    const raw = broker.consumer({ autoOffsetReset: 'earliest' });
    await raw.assign([{ topic: 'orders', partition: 1 }]);
    const r = (await raw.poll()).find((x) => x.key === null);
    expect(r!.value!.toString()).toBe('{"id":2,"cents":99}');

    const bytes = broker.producer({ serializers: { value: serde.buffer() } });
    await bytes.send({ topic: 'blobs', messages: [{ value: Buffer.from([0, 1, 2]) }] });
    const blobs = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { value: serde.buffer() } });
    await blobs.assign([{ topic: 'blobs', partition: 0 }]);
    const [blob] = await blobs.poll();
    expect(blob!.value).toEqual(Buffer.from([0, 1, 2]));
    await broker.close();
  });

  it('the key is serialized before partitioning: the serialized bytes pick the partition, as without serdes', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t', { partitions: 7 });
    const upper: Serde<string> = { serialize: (s) => s.toUpperCase(), deserialize: (b) => b.toString().toLowerCase() };
    const typed = broker.producer({ serializers: { key: upper } });
    const plain = broker.producer();
    for (const key of ['a', 'bb', 'ccc', 'user-42', 'zz']) {
      const [viaSerde] = await typed.send({ topic: 't', messages: [{ key, value: 'v' }] });
      const [viaBytes] = await plain.send({ topic: 't', messages: [{ key: key.toUpperCase(), value: 'v' }] });
      expect(viaSerde!.partition).toBe(viaBytes!.partition);
    }
    await broker.close();
  });

  it('async serdes get their context, and calls keep their order behind an async serializer', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t', { partitions: 2 });
    const seen: SerdeContext[] = [];
    let delay = 5;
    const slow: Serde<number> = {
      serialize: (n, ctx) => {
        seen.push(ctx);
        const d = delay--;
        return new Promise((resolve) => setTimeout(() => resolve(String(n)), d));
      },
      deserialize: async (b, ctx) => {
        seen.push(ctx);
        return Number(b.toString());
      },
    };
    const producer = broker.producer({ serializers: { value: slow } });
    // Not awaited one by one: the later (faster) calls must not overtake the earlier ones.
    const sends = [1, 2, 3, 4, 5].map((n) => producer.send({ topic: 't', messages: [{ value: n, partition: 1 }] }));
    const metas = await Promise.all(sends);
    expect(metas.map((m) => m[0]!.baseOffset)).toEqual([0, 1, 2, 3, 4]);
    expect(seen[0]).toEqual({ topic: 't', isKey: false, partition: 1 });
    seen.length = 0;
    const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { value: slow } });
    await consumer.assign([{ topic: 't', partition: 1 }]);
    const got: number[] = [];
    for await (const r of consumer) {
      expectTypeOf(r.value).toEqualTypeOf<number | null>();
      got.push(r.value!);
      if (got.length === 5) break;
    }
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(seen[2]).toEqual({ topic: 't', isKey: false, partition: 1, offset: 2 });
    await broker.close();
  });
});
