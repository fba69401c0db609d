import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KafkaliteError, MemoryStorage, type RecordMetadata } from 'kafkalite';
import { SystemClock } from '../../src/clock.js';
import { RequestHandler } from '../../src/broker/request-handler.js';
import type { KafkaApi, ProduceRequest, ProduceResponse } from '../../src/seam/kafka-api.js';
import { Producer } from '../../src/client/producer.js';
import { checkBatch, readBatchHeader } from '../../src/codec/record-batch.js';
import type { CompressionCodec } from '../../src/codec/compression.js';
import { GroupCoordinator } from '../../src/group/coordinator.js';
import { OffsetStore } from '../../src/group/offset-store.js';
import { ProblemLog, silentLogger } from '../../src/logger.js';
import type { PartitionState } from '../../src/topic/partition.js';
import { TopicRegistry } from '../../src/topic/topic-registry.js';

/** What the faulty seam does to one produce request. */
type Fault = 'none' | 'lose-ack' | 'lose-request';

/**
 * The broker's own request handler behind a seam that loses things, as a network does: a lost
 * acknowledgement appends and then fails with a retriable error; a lost request fails before
 * anything reaches the broker.
 */
async function faultyStack(faults: () => Fault) {
  // Real time, but the producer's retry pauses take one macrotask instead of 100 ms.
  const clock = new (class extends SystemClock {
    override setTimeout(callback: () => void | Promise<void>): ReturnType<SystemClock['setTimeout']> {
      return super.setTimeout(callback, 0);
    }
  })();
  const storage = new MemoryStorage();
  const topics = new TopicRegistry(storage, clock);
  topics.load(await storage.open());
  const offsets = await OffsetStore.open(topics, () => clock.now());
  const handler = new RequestHandler(topics, new GroupCoordinator(topics, offsets, clock), clock, { autoCreateTopics: true, defaultPartitions: 3 });
  const requests: ProduceRequest[] = [];
  const lost = (what: string) => new KafkaliteError('STORAGE_IO', `${what} (injected)`, { retriable: true });
  const produce = async (request: ProduceRequest): Promise<ProduceResponse> => {
    requests.push(request);
    const fault = faults();
    if (fault === 'lose-request') throw lost('the request was lost');
    const response = await handler.produce(request);
    if (fault === 'lose-ack') throw lost('the acknowledgement was lost');
    return response;
  };
  const api = new Proxy(handler as KafkaApi, {
    get(target, prop) {
      if (prop === 'produce') return produce;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
  const producer = (options: { idempotent: boolean; lingerMs?: number; batchSize?: number; compression?: CompressionCodec }) =>
    new Producer(api, { clock, log: new ProblemLog(silentLogger, clock) }, options, () => undefined);
  return { topics, producer, requests, close: () => topics.close() };
}

async function valuesOf(topics: TopicRegistry, topic: string) {
  const out: { partition: number; offset: number; value: string }[] = [];
  for (const p of topics.require(topic).partitions) {
    for (const r of await p.read(0, { maxRecords: 100_000 })) out.push({ partition: r.partition, offset: r.offset, value: r.value!.toString() });
  }
  return out;
}

describe('idempotent producer', () => {
  it('appends a send once although its acknowledgement was lost and the request sent again', async () => {
    const plan: Fault[] = ['lose-ack', 'lose-ack', 'none'];
    const s = await faultyStack(() => plan.shift() ?? 'none');
    const producer = s.producer({ idempotent: true });
    const [meta] = await producer.send({ topic: 't', messages: [{ key: 'k', value: 'once' }] });
    expect(s.requests).toHaveLength(3);
    expect(await valuesOf(s.topics, 't')).toEqual([{ partition: meta!.partition, offset: 0, value: 'once' }]);
    expect(meta!.baseOffset).toBe(0);
    const header = readBatchHeader(s.requests[0]!.partitions[0]!.records);
    expect(header).toMatchObject({ producerEpoch: 0, baseSequence: 0 });
    expect(header.producerId).toBeGreaterThanOrEqual(0);
    // The same bytes went out every time.
    expect(s.requests[2]!.partitions[0]!.records).toBe(s.requests[0]!.partitions[0]!.records);
    await producer.close();
    await s.close();
  });

  it('without idempotence a lost acknowledgement fails the send (and the producer writes no sequences)', async () => {
    const s = await faultyStack(() => 'lose-ack');
    const producer = s.producer({ idempotent: false });
    await expect(producer.send({ topic: 't', messages: [{ value: 'maybe' }] })).rejects.toMatchObject({ code: 'STORAGE_IO' });
    expect(s.requests).toHaveLength(1);
    expect(readBatchHeader(s.requests[0]!.partitions[0]!.records)).toMatchObject({ producerId: -1, producerEpoch: -1, baseSequence: -1 });
    await s.close();
  });

  it('a request lost for good fails its sends; the producer takes a new epoch and goes on from sequence 0', async () => {
    let failing = true;
    const s = await faultyStack(() => (failing ? 'lose-request' : 'none'));
    const producer = s.producer({ idempotent: true });
    await expect(producer.send({ topic: 't', messages: [{ key: 'k', value: 'lost' }] })).rejects.toMatchObject({ code: 'STORAGE_IO' });
    expect(s.requests.length).toBe(10);
    failing = false;
    await producer.send({ topic: 't', messages: [{ key: 'k', value: 'next' }] });
    const last = readBatchHeader(s.requests[s.requests.length - 1]!.partitions[0]!.records);
    const first = readBatchHeader(s.requests[0]!.partitions[0]!.records);
    expect(last).toMatchObject({ producerId: first.producerId, producerEpoch: first.producerEpoch + 1, baseSequence: 0 });
    expect((await valuesOf(s.topics, 't')).map((r) => r.value)).toEqual(['next']);
    await s.close();
  }, 20_000);

  it('property: sends fired without awaiting, across ticks, with acks and requests lost at random, all succeed, land exactly once and in call order per partition', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Fault>('none', 'none', 'none', 'lose-ack', 'lose-request'), { minLength: 1, maxLength: 40 }),
        fc.array(fc.record({ n: fc.integer({ min: 1, max: 30 }), key: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }), pause: fc.constantFrom('none', 'micro', 'macro') }), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.constantFrom(100, 400, 16_384),
        async (faults, calls, batchSize) => {
          // Fewer faults in a row than the producer's attempts: every send must then succeed.
          fc.pre(faults.includes('none') && !/(l[^n]*){9}/.test(faults.concat(faults).map((f) => f[0]).join('')));
          let i = 0;
          const s = await faultyStack(() => faults[i++ % faults.length]!);
          const producer = s.producer({ idempotent: true, batchSize });
          const sends: { values: string[]; key: string | undefined; result: Promise<RecordMetadata[]> }[] = [];
          let n = 0;
          for (const call of calls) {
            const values = Array.from({ length: call.n }, () => `v${n++}`);
            sends.push({ values, key: call.key, result: producer.send({ topic: 't', messages: values.map((value) => ({ key: call.key ?? null, value })) }) });
            if (call.pause === 'micro') await Promise.resolve();
            else if (call.pause === 'macro') await new Promise((r) => setImmediate(r));
          }
          const closing = producer.close();
          const outcomes = await Promise.allSettled(sends.map((x) => x.result));
          await closing;
          const stored = await valuesOf(s.topics, 't');
          const seen = new Map(stored.map((r) => [r.value, r]));
          // Nothing twice.
          expect(seen.size).toBe(stored.length);
          // Every acknowledged send is there, where its metadata says, in call order per partition.
          outcomes.forEach((o, k) => {
            expect(o.status).toBe('fulfilled');
            if (o.status !== 'fulfilled') return;
            for (const meta of o.value) {
              const first = stored.find((r) => r.partition === meta.partition && r.offset === meta.baseOffset);
              expect(first && sends[k]!.values.includes(first.value)).toBe(true);
            }
            for (const v of sends[k]!.values) expect(seen.has(v), v).toBe(true);
          });
          for (let p = 0; p < 3; p++) {
            const order = stored.filter((r) => r.partition === p).map((r) => Number(r.value.slice(1)));
            expect(order).toEqual([...order].sort((a, b) => a - b));
          }
          await s.close();
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const CODEC_IDS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
const FILLER = ' lorem ipsum dolor sit amet'.repeat(4);

/** The partition's stored batches, as the partition keeps them. */
async function storedBatches(topics: TopicRegistry, topic: string, partition: number): Promise<Uint8Array[]> {
  return (topics.require(topic).partitions[partition] as unknown as PartitionState).readBatches(0, 64 << 20);
}

describe.each(CODECS)('idempotent producer with compression %s', (codec) => {
  it('un-awaited sends across partitions and ticks, with acks and requests lost: every record once, in call order per partition, in batches compressed once with the producer id and sequences in their header', async () => {
    // A fixed plan of faults, fewer in a row than the producer's attempts.
    const plan: Fault[] = ['none', 'lose-ack', 'none', 'lose-request', 'lose-ack', 'none', 'none'];
    let f = 0;
    const s = await faultyStack(() => plan[f++ % plan.length]!);
    const producer = s.producer({ idempotent: true, compression: codec, batchSize: 600 });
    const sends: { value: string; result: Promise<RecordMetadata[]> }[] = [];
    for (let i = 0; i < 300; i++) {
      const value = `v${i}${FILLER}`;
      sends.push({ value, result: producer.send({ topic: 't', messages: [{ key: `k${i % 5}`, value }] }) });
      if (i % 37 === 0) await Promise.resolve();
      if (i % 91 === 0) await new Promise((r) => setImmediate(r));
    }
    const metas = await Promise.all(sends.map((x) => x.result));
    await producer.close();

    const stored = await valuesOf(s.topics, 't');
    expect(stored.map((r) => r.value).sort()).toEqual(sends.map((x) => x.value).sort());
    metas.forEach(([meta], i) => expect(stored.find((r) => r.partition === meta!.partition && r.offset === meta!.baseOffset)?.value).toBe(sends[i]!.value));
    const used = new Set(metas.map(([meta]) => meta!.partition));
    expect(used.size).toBe(3);
    let producerId: number | undefined;
    for (const p of used) {
      const order = stored.filter((r) => r.partition === p).map((r) => Number(r.value.split(' ')[0]!.slice(1)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      // Stored as sent: the codec's bits, the producer's id and epoch, the sequences one per record from 0, and a CRC over them.
      let sequence = 0;
      const batches = await storedBatches(s.topics, 't', p);
      expect(batches.length).toBeGreaterThan(1);
      for (const batch of batches) {
        const header = readBatchHeader(batch);
        expect(checkBatch(batch)).toBeUndefined();
        expect(header.attributes & 0x07).toBe(CODEC_IDS[codec]);
        expect(header.attributes & 0x30).toBe(0);
        producerId ??= header.producerId;
        expect([header.producerId, header.producerEpoch, header.baseSequence]).toEqual([producerId, 0, sequence]);
        expect(Buffer.from(batch).includes(FILLER)).toBe(false);
        sequence += header.recordCount;
      }
    }
    expect(producerId).toBeGreaterThanOrEqual(0);
    // Every request went out compressed, and a retry sent the very same bytes it had sent before.
    for (const request of s.requests) for (const part of request.partitions) expect(readBatchHeader(part.records).attributes & 0x07).toBe(CODEC_IDS[codec]);
    const retried = s.requests.filter((r, i) => i > 0 && s.requests.slice(0, i).some((earlier) => earlier.partitions === r.partitions));
    expect(retried.length).toBeGreaterThan(0);
    await s.close();
  });

  it('a retried compressed batch (its acknowledgement lost twice) is appended once, and every attempt sends the same bytes', async () => {
    const plan: Fault[] = ['lose-ack', 'lose-ack', 'none'];
    const s = await faultyStack(() => plan.shift() ?? 'none');
    const producer = s.producer({ idempotent: true, compression: codec });
    const [meta] = await producer.send({ topic: 't', messages: [{ key: 'k', value: `once${FILLER}` }, { key: 'k', value: `twice?${FILLER}` }] });
    expect(s.requests).toHaveLength(3);
    const sent = s.requests[0]!.partitions[0]!.records;
    for (const request of s.requests) expect(request.partitions[0]!.records).toBe(sent);
    expect(readBatchHeader(sent)).toMatchObject({ producerEpoch: 0, baseSequence: 0, recordCount: 2 });
    expect(readBatchHeader(sent).attributes & 0x07).toBe(CODEC_IDS[codec]);
    expect(await valuesOf(s.topics, 't')).toEqual([
      { partition: meta!.partition, offset: 0, value: `once${FILLER}` },
      { partition: meta!.partition, offset: 1, value: `twice?${FILLER}` },
    ]);
    expect(await storedBatches(s.topics, 't', meta!.partition)).toHaveLength(1);
    // The next batch follows at sequence 2, and its request is a new one.
    await producer.send({ topic: 't', messages: [{ key: 'k', value: 'next' }] });
    expect(readBatchHeader(s.requests[3]!.partitions[0]!.records)).toMatchObject({ baseSequence: 2 });
    await producer.close();
    await s.close();
  });
});
