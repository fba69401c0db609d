/**
 * What happens when a serde fails: a serializer refuses the whole `send` (nothing appended, no
 * topic created); a deserializer failure is DESERIALIZATION_FAILED with topic, partition and
 * offset in every delivery mode, and the position stays on that record.
 */
import { describe, expect, it } from 'vitest';
import { Broker, KafkaliteError, ManualClock, serde, type Serde, type Serializer } from 'kafkalite';
import { expectError } from '../helpers.js';

const boom = new Error('boom');

/** Serializes numbers; refuses 13 — synchronously, or by rejecting when `async`. */
function picky(async: boolean): Serde<number> {
  return {
    serialize: (n) => {
      if (n !== 13) return async ? Promise.resolve(String(n)) : String(n);
      if (async) return Promise.reject(boom);
      throw boom;
    },
    deserialize: (b) => {
      const n = Number(b.toString());
      if (n === 13) throw boom;
      return async ? Promise.resolve(n) : n;
    },
  };
}

const logEnd = (broker: Broker, topic: string) => broker.topic(topic).partitions.reduce((n, p) => n + p.logEndOffset, 0);

describe('a serializer that fails', () => {
  for (const async of [false, true]) {
    it(`refuses the whole send (${async ? 'rejecting' : 'throwing'}) with INVALID_ARGUMENT, cause kept, and appends nothing of it`, async () => {
      const broker = await Broker.open();
      await broker.createTopic('t', { partitions: 2 });
      const producer = broker.producer({ serializers: { value: picky(async) } });
      // Fired together, un-awaited: only the bad call fails, the calls around it keep their order.
      const before = producer.send({ topic: 't', messages: [{ value: 1, partition: 0 }] });
      const bad = producer.send({ topic: 't', messages: [{ value: 2, partition: 0 }, { value: 13, partition: 1 }, { value: 3, partition: 0 }] });
      const after = producer.send({ topic: 't', messages: [{ value: 4, partition: 0 }] });
      const error = await expectError(() => bad, 'INVALID_ARGUMENT', 'cannot serialize messages[1].value for topic "t": boom');
      expect(error.cause).toBe(boom);
      expect(error.topic).toBe('t');
      expect((await before)[0]!.baseOffset).toBe(0);
      expect((await after)[0]!.baseOffset).toBe(1);
      expect(logEnd(broker, 't')).toBe(2);
      const values = (await broker.topic('t').partition(0).read(0)).map((r) => r.value!.toString());
      expect(values).toEqual(['1', '4']);

      // Refused before its topic was looked up: an unknown topic is not created.
      await expectError(() => producer.send({ topic: 'fresh', messages: [{ value: 13 }] }), 'INVALID_ARGUMENT', 'topic "fresh"');
      await expectError(
        () => producer.sendBatch({ topicMessages: [{ topic: 'fresh2', messages: [{ value: 1 }] }, { topic: 't', messages: [{ value: 13 }] }] }),
        'INVALID_ARGUMENT',
        'messages[0].value',
      );
      await producer.flush();
      expect(broker.listTopics()).toEqual(['t']);
      expect(logEnd(broker, 't')).toBe(2);
      await broker.close();
    });
  }

  it('refuses a serializer that answers with something other than bytes, and a key serializer failure likewise', async () => {
    const broker = await Broker.open();
    const liar: Serializer<number> = { serialize: () => 42 as unknown as string };
    const producer = broker.producer({ serializers: { key: serde.string(), value: liar } });
    const e = await expectError(() => producer.send({ topic: 't', messages: [{ value: 1 }] }), 'INVALID_ARGUMENT', 'the serializer returned 42');
    expect(e.cause).toBeInstanceOf(TypeError);
    await expectError(() => producer.send({ topic: 't', messages: [{ key: 7 as unknown as string, value: 1 }] }), 'INVALID_ARGUMENT', 'messages[0].key');
    await expectError(() => producer.send({ topic: 't', messages: [{ value: undefined as unknown as number }] }), 'INVALID_ARGUMENT', 'messages[0].value');
    expect(broker.listTopics()).toEqual([]);
    // The producer goes on serving.
    const ok = broker.producer({ serializers: { value: serde.json<{ a: number }>() } });
    await ok.send({ topic: 't', messages: [{ value: { a: 1 } }] });
    await expectError(() => ok.send({ topic: 't', messages: [{ value: (() => 1) as unknown as { a: number } }] }), 'INVALID_ARGUMENT', 'JSON.stringify gave no text');
    expect(logEnd(broker, 't')).toBe(1);
    await broker.close();
  });

  it('bad serde options are INVALID_ARGUMENT naming them', async () => {
    const broker = await Broker.open();
    expect(() => broker.producer({ serializers: { value: {} as Serializer<string> } })).toThrow(/serializers.value must be an object with a serialize\(\) method/);
    expect(() => broker.producer({ serializers: 'json' as never })).toThrow(/serializers must be an object/);
    expect(() => broker.consumer({ deserializers: { body: serde.json() } as never })).toThrow(/deserializers takes only key and value \(got "body"\)/);
    await broker.close();
  });
});

describe('a deserializer that fails', () => {
  async function setup(async: boolean) {
    const clock = new ManualClock(0);
    const broker = await Broker.open({ clock, logger: 'silent' });
    await broker.createTopic('t', { partitions: 1 });
    const producer = broker.producer();
    await producer.send({ topic: 't', messages: ['1', '2', '13', '4'].map((value) => ({ value })) });
    const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { value: picky(async) } });
    await consumer.assign([{ topic: 't', partition: 0 }]);
    return { broker, clock, consumer };
  }

  for (const async of [false, true]) {
    const how = async ? 'rejecting' : 'throwing';
    it(`poll (${how}): hands out the records before it, then rejects with DESERIALIZATION_FAILED at that offset, position kept`, async () => {
      const { broker, consumer } = await setup(async);
      const first = await consumer.poll();
      expect(first.map((r) => r.value)).toEqual([1, 2]);
      for (let i = 0; i < 2; i++) {
        const error = await expectError(() => consumer.poll(), 'DESERIALIZATION_FAILED', 'the value of the record at offset 2 of t-0: boom');
        expect(error).toMatchObject({ topic: 't', partition: 0, offset: 2, cause: boom });
        expect(consumer.position({ topic: 't', partition: 0 })).toBe(2);
      }
      consumer.seek({ topic: 't', partition: 0, offset: 3 }); // skipping it is the application's choice
      expect((await consumer.poll()).map((r) => r.value)).toEqual([4]);
      await broker.close();
    });

    it(`for await (${how}): yields the records before it, then throws; the position stays on it`, async () => {
      const { broker, consumer } = await setup(async);
      const got: (number | null)[] = [];
      let caught: unknown;
      try {
        for await (const r of consumer) got.push(r.value);
      } catch (error) {
        caught = error;
      }
      expect(got).toEqual([1, 2]);
      expect(caught).toBeInstanceOf(KafkaliteError);
      expect(caught).toMatchObject({ code: 'DESERIALIZATION_FAILED', offset: 2 });
      expect(consumer.position({ topic: 't', partition: 0 })).toBe(2);
      await broker.close();
    });

    for (const mode of ['eachMessage', 'eachBatch'] as const) {
      it(`run ${mode} (${how}): the handler never sees it; reported as 'error' and retried after retryBackoffMs`, async () => {
        const { broker, clock, consumer } = await setup(async);
        const handled: (number | null)[] = [];
        const errors: unknown[] = [];
        consumer.on('error', (e) => errors.push(e));
        if (mode === 'eachMessage') {
          await consumer.run({ eachMessage: ({ message }) => void handled.push(message.value) });
        } else {
          await consumer.run({ eachBatch: ({ batch }) => void handled.push(...batch.messages.map((m) => m.value)) });
        }
        await waitFor(() => errors.length >= 1);
        await clock.advance(100); // retryBackoffMs: the record is tried again, and fails again
        await waitFor(() => errors.length >= 2);
        expect(handled).toEqual([1, 2]);
        expect(errors[0]).toMatchObject({ code: 'DESERIALIZATION_FAILED', topic: 't', partition: 0, offset: 2 });
        expect(consumer.position({ topic: 't', partition: 0 })).toBe(2);
        consumer.seek({ topic: 't', partition: 0, offset: 3 });
        await waitFor(() => handled.length === 3);
        expect(handled).toEqual([1, 2, 4]);
        await broker.close();
      });
    }
  }

  it('poll raises a failure of one partition even while another keeps having records', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t', { partitions: 2 });
    const producer = broker.producer();
    await producer.send({ topic: 't', messages: [{ value: '13', partition: 0 }, { value: '1', partition: 1 }] });
    const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { value: picky(false) } });
    await consumer.assign([0, 1].map((partition) => ({ topic: 't', partition })));
    await expectError(() => consumer.poll(), 'DESERIALIZATION_FAILED', 'offset 0 of t-0');
    // Nothing was handed out by the failed poll: partition 1's record is still there.
    expect(consumer.position({ topic: 't', partition: 1 })).toBe(0);
    await producer.send({ topic: 't', messages: [{ value: '2', partition: 1 }] });
    await expectError(() => consumer.poll(), 'DESERIALIZATION_FAILED');
    consumer.seek({ topic: 't', partition: 0, offset: 1 });
    expect((await consumer.poll()).map((r) => r.value)).toEqual([1, 2]);
    await broker.close();
  });

  it('a key deserializer failure names the key; null keys and tombstones are never passed in', async () => {
    const broker = await Broker.open();
    const calls: string[] = [];
    const strict: Serde<string> = {
      serialize: (s) => s,
      deserialize: (b) => {
        calls.push(b.toString());
        if (b.toString() === 'bad') throw new Error('bad key');
        return b.toString();
      },
    };
    await broker.producer().send({ topic: 't', messages: [{ key: null, value: null }, { key: 'ok', value: 'x' }, { key: 'bad', value: 'y' }] });
    const consumer = broker.consumer({ autoOffsetReset: 'earliest', deserializers: { key: strict, value: strict } });
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect((await consumer.poll()).map((r) => [r.key, r.value])).toEqual([
      [null, null],
      ['ok', 'x'],
    ]);
    await expectError(() => consumer.poll(), 'DESERIALIZATION_FAILED', 'cannot deserialize the key of the record at offset 2 of t-0: bad key');
    expect(calls.slice(0, 2)).toEqual(['ok', 'x']);
    await broker.close();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(condition()).toBe(true);
}
