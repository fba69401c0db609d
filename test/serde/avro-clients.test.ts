/**
 * `serde.avro` as the producer's serializer and the consumer's deserializer: typed Avro values
 * end to end through a broker, schema evolution across two producers, and a record whose schema
 * id the registry never gave is DESERIALIZATION_FAILED naming its offset.
 */
import { describe, expect, it } from 'vitest';
import { Broker, KafkaliteError, SchemaRegistry, serde } from '../../src/index.js';

const V1 = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }] };
const V2 = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'int' }, { name: 'cents', type: 'int', default: 0 }] };

describe('serde.avro through Producer and Consumer', () => {
  it('a v1 and a v2 producer (a compatible change) both reach a v2 consumer, typed', async () => {
    const broker = await Broker.open();
    const registry = new SchemaRegistry({ broker });
    const old = broker.producer({ serializers: { value: serde.avro<{ id: number }>({ registry, schema: V1 }) } });
    await old.send({ topic: 'orders', messages: [{ value: { id: 1 } }] });
    const next = broker.producer({ serializers: { value: serde.avro<{ id: number; cents: number }>({ registry, schema: V2 }) } });
    await next.send({ topic: 'orders', messages: [{ value: { id: 2, cents: 250 } }] });
    const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { value: serde.avro<{ id: number; cents: number }>({ registry, schema: V2 }) } });
    await consumer.assign([{ topic: 'orders', partition: 0 }]);
    const records = await consumer.poll({ timeoutMs: 1000 });
    expect(records.map((r) => r.value)).toEqual([{ id: 1, cents: 0 }, { id: 2, cents: 250 }]);
    expect((await registry.latest('orders-value')).version).toBe(2);
    await registry.close();
    await broker.close();
  });

  it('a value the schema cannot hold refuses the send (INVALID_ARGUMENT), appending nothing', async () => {
    const broker = await Broker.open();
    const registry = new SchemaRegistry({ broker });
    await broker.createTopic('orders');
    const producer = broker.producer({ serializers: { value: serde.avro<{ id: number }>({ registry, schema: V1 }) } });
    const error = await producer.send({ topic: 'orders', messages: [{ value: { id: 'one' as unknown as number } }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaliteError);
    expect((error as KafkaliteError).code).toBe('INVALID_ARGUMENT');
    expect(broker.topic('orders').partition(0).logEndOffset).toBe(0);
    await registry.close();
    await broker.close();
  });

  it('bytes framed with an id the registry never gave: DESERIALIZATION_FAILED at that offset', async () => {
    const broker = await Broker.open();
    const registry = new SchemaRegistry({ broker });
    await registry.register('orders-value', JSON.stringify(V1));
    await broker.producer().send({ topic: 'orders', messages: [{ value: Buffer.from([0, 0, 0, 0, 99, 2]) }] });
    const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { value: serde.avro({ registry }) } });
    await consumer.assign([{ topic: 'orders', partition: 0 }]);
    const error = await consumer.poll({ timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaliteError);
    expect(error).toMatchObject({ code: 'DESERIALIZATION_FAILED', topic: 'orders', partition: 0, offset: 0 });
    await registry.close();
    await broker.close();
  });
});
