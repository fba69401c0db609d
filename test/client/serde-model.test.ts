/**
 * A property test of typed sends fired without awaiting: each call's serializer answers at once,
 * later (a promise resolved after other calls were made, across microtasks and macrotasks), or
 * fails either way; a close() may come in the middle. Whatever the mix: every call that resolved
 * has its records in the log, consecutive and in call order; a refused call appended nothing; no
 * call settles twice or never.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Broker, KafkaliteError, serde, type Serde } from 'kafkalite';

type How = 'sync' | 'micro' | 'macro' | 'throw' | 'reject';

const call = fc.record({
  how: fc.constantFrom<How>('sync', 'micro', 'macro', 'throw', 'reject'),
  values: fc.integer({ min: 1, max: 4 }),
  partition: fc.integer({ min: 0, max: 1 }),
});

describe('typed sends fired together (model)', () => {
  it('keep call order, refuse failing calls whole, and settle every call once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 25 }), fc.option(fc.integer({ min: 0, max: 24 }), { nil: undefined }), async (calls, closeAt) => {
        const broker = await Broker.open();
        await broker.createTopic('t', { partitions: 2 });
        // The value says how its serializer answers: "<call>:<i>:<how>".
        const behaving: Serde<string> = {
          serialize: (v) => {
            const how = v.split(':')[2] as How;
            if (how === 'throw') throw new Error(`no ${v}`);
            if (how === 'reject') return Promise.reject(new Error(`no ${v}`));
            if (how === 'micro') return Promise.resolve(v);
            if (how === 'macro') return new Promise((resolve) => setTimeout(() => resolve(v), 1));
            return v;
          },
          deserialize: (b) => b.toString(),
        };
        const producer = broker.producer({ serializers: { key: serde.string(), value: behaving } });
        const outcomes: Promise<'ok' | 'refused' | 'closed'>[] = [];
        let closing: Promise<void> | undefined;
        calls.forEach((c, n) => {
          if (n === closeAt) closing = producer.close();
          const messages = Array.from({ length: c.values }, (_, i) => ({ key: `k${n}`, value: `${n}:${i}:${c.how}`, partition: c.partition }));
          outcomes.push(
            producer.send({ topic: 't', messages }).then(
              () => 'ok' as const,
              (e: unknown) => (e instanceof KafkaliteError && e.code === 'CLOSED' ? 'closed' : (expect(e).toMatchObject({ code: 'INVALID_ARGUMENT' }), 'refused')),
            ),
          );
        });
        const settled = await Promise.all(outcomes);
        await closing;
        await producer.close();
        calls.forEach((c, n) => {
          if (n >= (closeAt ?? Infinity)) expect(settled[n]).toBe('closed');
          else expect(settled[n]).toBe(c.how === 'throw' || c.how === 'reject' ? 'refused' : 'ok');
        });
        for (const p of [0, 1]) {
          const log = (await broker.topic('t').partition(p).read(0, { maxRecords: 1000 })).map((r) => r.value!.toString());
          const expected = calls.flatMap((c, n) => (settled[n] === 'ok' && c.partition === p ? Array.from({ length: c.values }, (_, i) => `${n}:${i}:${c.how}`) : []));
          expect(log).toEqual(expected);
        }
        await broker.close();
      }),
      { numRuns: 60 },
    );
  });
});
