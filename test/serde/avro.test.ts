/**
 * serde.avro: Confluent's framing, evolution through Avro schema resolution, the bytes a Producer
 * stores, and bad input. (The outside client's view of the same bytes: test/schema/rest-server.test.ts.)
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, SchemaRegistry, serde } from 'kafkalite';
import type { SerdeContext } from '../../src/serde/serde.js';
import { expectError } from '../helpers.js';

// avsc itself, to read the Avro body independently of the serde.
const avsc = createRequire(import.meta.url)('avsc') as typeof import('avsc');

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()));
});
const registry = (): SchemaRegistry => {
  const r = new SchemaRegistry();
  closing.push(r);
  return r;
};

const v1 = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }, { name: 'cents', type: 'int' }] };
const v2 = { type: 'record', name: 'Order', fields: [...v1.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
const value: SerdeContext = { topic: 'orders', isKey: false };

describe('serde.avro', () => {
  it("frames values as Confluent does: magic 0, the schema id big-endian, the Avro body", async () => {
    const r = registry();
    await r.register('other', '"string"'); // so that the order schema's id is 2, not 1
    const orders = serde.avro<{ id: number; cents: number }>({ registry: r, subject: 'orders-value', schema: v1 });
    const bytes = Buffer.from(await orders.serialize({ id: 7, cents: 250 }, value));
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(2);
    expect(avsc.Type.forSchema(v1 as never).fromBuffer(bytes.subarray(5))).toEqual({ id: 7, cents: 250 });
    expect(await r.latest('orders-value')).toMatchObject({ id: 2, version: 1 });
    expect(await orders.deserialize(bytes, value)).toEqual({ id: 7, cents: 250 });
  });

  it('reads old records into a newer schema and new records into an older one (schema resolution)', async () => {
    const r = registry();
    const writerV1 = serde.avro({ registry: r, subject: 'orders-value', schema: v1 });
    const old = Buffer.from(await writerV1.serialize({ id: 1, cents: 100 }, value));
    const writerV2 = serde.avro({ registry: r, subject: 'orders-value', schema: v2 });
    const newer = Buffer.from(await writerV2.serialize({ id: 2, cents: 200, currency: 'USD' }, value));
    expect(newer.readUInt32BE(1)).toBe(2);
    // A reader on the latest version (no schema of its own) fills the default into old records.
    const latest = serde.avro({ registry: r, subject: 'orders-value' });
    expect(await latest.deserialize(old, value)).toEqual({ id: 1, cents: 100, currency: 'EUR' });
    expect(await latest.deserialize(newer, value)).toEqual({ id: 2, cents: 200, currency: 'USD' });
    // A reader still on v1 drops the field it does not know.
    expect(await writerV1.deserialize(newer, value)).toEqual({ id: 2, cents: 200 });
    // Without a schema of its own, a serializer writes with the subject's latest version.
    expect(Buffer.from(await latest.serialize({ id: 3, cents: 1, currency: 'GBP' }, value)).readUInt32BE(1)).toBe(2);
  });

  it('round-trips through the bytes a Producer stores and a Consumer reads', async () => {
    const broker = await Broker.open();
    closing.push(broker);
    const r = registry();
    const orders = serde.avro<{ id: number; cents: number }>({ registry: r, schema: v1 });
    const keys = serde.avro<string>({ registry: r, schema: '"string"' });
    const sent = [
      { id: 1, cents: 10 },
      { id: 2, cents: 20 },
    ];
    const producer = broker.producer();
    await producer.send({
      topic: 'orders',
      messages: await Promise.all(
        sent.map(async (o) => ({
          key: await keys.serialize(`u${o.id}`, { topic: 'orders', isKey: true }),
          value: await orders.serialize(o, { topic: 'orders', isKey: false }),
        })),
      ),
    });
    // The default subjects are Confluent's TopicNameStrategy.
    expect(await r.subjects()).toEqual(['orders-key', 'orders-value']);
    const records = await broker.topic('orders').partition(0).read(0);
    const got = await Promise.all(
      records.map(async (rec) => ({
        key: await keys.deserialize(rec.key!, { topic: rec.topic, isKey: true, partition: rec.partition, offset: rec.offset }),
        value: await orders.deserialize(rec.value!, { topic: rec.topic, isKey: false, partition: rec.partition, offset: rec.offset }),
      })),
    );
    expect(got).toEqual(sent.map((o) => ({ key: `u${o.id}`, value: o })));
  });

  it('names what is wrong with bad values and bad bytes', async () => {
    const r = registry();
    const orders = serde.avro({ registry: r, subject: 'orders-value', schema: v1 });
    await expectError(() => orders.serialize({ id: 1, cents: 'ten' }, value), 'INVALID_ARGUMENT', /subject "orders-value".*cents is "ten"/);
    await expectError(() => orders.deserialize(Buffer.from([1, 0, 0, 0, 1, 2]), value), 'INVALID_ARGUMENT', /magic byte 1/);
    await expectError(() => orders.deserialize(Buffer.from([0, 0, 0]), value), 'INVALID_ARGUMENT', /only 3 bytes/);
    await expectError(() => orders.deserialize(Buffer.from([0, 0, 0, 0, 42, 2, 4]), value), 'UNKNOWN_SCHEMA', /schema id 42/);
    // A truncated body.
    const good = Buffer.from(await orders.serialize({ id: 1, cents: 300 }, value));
    await expect(orders.deserialize(good.subarray(0, good.length - 1), value)).rejects.toThrow();
    // A writer's schema the reader's cannot read (no default for a field the writer lacks).
    const strict = serde.avro({ registry: r, subject: 'strict', schema: { ...v1, fields: [...v1.fields, { name: 'note', type: 'string' }] } });
    await expectError(() => strict.deserialize(good, value), 'INVALID_ARGUMENT', /schema id 1 cannot be read with the reader's schema of subject "strict"/);
    // A subject without versions and no schema to write with.
    await expectError(() => serde.avro({ registry: r, subject: 'empty' }).serialize({}, value), 'UNKNOWN_SCHEMA', /subject "empty"/);
    // A JSON Schema id is not Avro.
    const { id } = await r.register('json', { type: 'object' }, { type: 'JSON' });
    await expectError(() => orders.deserialize(Buffer.from([0, 0, 0, 0, id, 0]), value), 'INVALID_ARGUMENT', /is a JSON schema, not Avro/);
    // A schema the subject's level refuses is not registered by the serializer either.
    const breaking = serde.avro({ registry: r, subject: 'orders-value', schema: { ...v1, fields: [...v1.fields, { name: 'x', type: 'int' }] } });
    await expectError(() => breaking.serialize({ id: 1, cents: 1, x: 1 }, value), 'INCOMPATIBLE_SCHEMA', /orders-value/);
    expect(() => serde.avro({ subject: 's' } as never)).toThrow(/serde.avro needs \{ registry/);
  });
});
