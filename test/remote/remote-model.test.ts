/**
 * Producers on a Kafka cluster (Broker.connect) driven as applications drive them: sends issued
 * without awaiting each other — back to back, across microtasks and macrotasks — on several
 * producers, some calls refused (a partition the topic lacks), producers closed while their sends
 * are in flight. Checked against both servers: every resolved send's records are in the log at its
 * offsets, in order, with their bytes; a refused send appended nothing; per producer and
 * partition, offsets follow call order; nothing is stored that no resolved call sent.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, type Producer, type RecordMetadata } from '../../src/index.js';
import { SERVER_KINDS, readAll, startServer, type TestServer } from './servers.js';

const PARTITIONS = 3;

type Gap = 'none' | 'micro' | 'macro';
type Op = { kind: 'send'; producer: number; messages: { key: boolean; partition: number | undefined }[]; gap: Gap } | { kind: 'close'; producer: number; gap: Gap };

const gap = fc.constantFrom<Gap>('none', 'micro', 'macro');
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      producer: fc.integer({ min: 0, max: 2 }),
      messages: fc.array(fc.record({ key: fc.boolean(), partition: fc.option(fc.integer({ min: 0, max: PARTITIONS }), { nil: undefined }) }), { minLength: 1, maxLength: 4 }),
      gap,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), producer: fc.integer({ min: 0, max: 2 }), gap }) },
);

async function pause(g: Gap): Promise<void> {
  if (g === 'micro') await Promise.resolve();
  else if (g === 'macro') await new Promise((r) => setImmediate(r));
}

describe.each(SERVER_KINDS)('producers on %s, calls not awaited one by one', (kind) => {
  let server: TestServer;
  let broker: Broker;
  let run = 0;

  beforeAll(async () => {
    server = await startServer(kind);
    broker = await Broker.connect({ brokers: server.brokers, logger: 'silent' });
  }, 60_000);

  afterAll(async () => {
    await broker?.close();
    await server?.close();
  }, 60_000);

  it('keeps every acknowledged send, in call order per producer and partition, and nothing of a refused one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const topic = `model-${run++}`;
        await server.createTopic(topic, PARTITIONS);
        const producers: Producer[] = [0, 1, 2].map((i) => broker.producer({ lingerMs: i === 2 ? 3 : 0, idempotent: i === 1 }));
        const calls: { producer: number; afterClose: boolean; values: string[]; partition: (number | undefined)[]; result: Promise<RecordMetadata[]> }[] = [];
        const closed = new Set<number>();
        const closes: Promise<void>[] = [];
        let id = 0;
        for (const o of ops) {
          if (o.kind === 'close') {
            closed.add(o.producer);
            closes.push(producers[o.producer]!.close());
          }
          else {
            const values = o.messages.map(() => `v${id++}`);
            const result = producers[o.producer]!.send({
              topic,
              messages: o.messages.map((m, i) => ({ key: m.key ? `k${values[i]}` : null, value: values[i]!, ...(m.partition === undefined ? {} : { partition: m.partition }) })),
            });
            result.catch(() => undefined);
            calls.push({ producer: o.producer, afterClose: closed.has(o.producer), values, partition: o.messages.map((m) => m.partition), result });
          }
          await pause(o.gap);
        }
        const settled = await Promise.allSettled(calls.map((c) => c.result));
        await Promise.all([...closes, ...producers.map((p) => p.close())]);

        const log = new Map<string, { partition: number; offset: number }>();
        for (const r of await readAll(broker, topic, PARTITIONS)) log.set(r.value, { partition: r.partition, offset: r.offset });
        const resolved = new Set<string>();
        const lastOffset = new Map<string, number>();
        calls.forEach((c, i) => {
          const s = settled[i]!;
          if (s.status === 'rejected') {
            for (const v of c.values) expect(log.has(v), `${v} of a refused send is in the log`).toBe(false);
            const code = (s.reason as { code?: string }).code;
            if (c.afterClose) expect(code).toBe('CLOSED');
            else if (c.partition.some((p) => p === PARTITIONS)) expect(code).toBe('UNKNOWN_PARTITION');
            else expect.fail(`a send that should have gone through was refused: ${String(s.reason)}`);
            return;
          }
          // One call's records to one partition: consecutive, in the order given, from the base offset it was told.
          const byPartition = new Map<number, number[]>();
          for (const v of c.values) {
            const at = log.get(v);
            expect(at, `${v} was acknowledged but is not in the log`).toBeDefined();
            resolved.add(v);
            const list = byPartition.get(at!.partition) ?? [];
            list.push(at!.offset);
            byPartition.set(at!.partition, list);
          }
          for (const [partition, offsets] of byPartition) {
            expect(offsets).toEqual(offsets.map((_, k) => offsets[0]! + k));
            expect(s.value.find((m) => m.partition === partition)?.baseOffset).toBe(offsets[0]);
            const key = `${c.producer}/${partition}`;
            expect(offsets[0]!).toBeGreaterThan(lastOffset.get(key) ?? -1);
            lastOffset.set(key, offsets.at(-1)!);
          }
        });
        for (const v of log.keys()) expect(resolved.has(v), `${v} is in the log but no resolved send had it`).toBe(true);
      }),
      { numRuns: kind === 'kafkalite serve' ? 25 : 12 },
    );
  }, 240_000);
});
