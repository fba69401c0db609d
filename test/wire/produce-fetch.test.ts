/** Produce, Fetch and ListOffsets over the wire, with a bare client: what is stored, what is served, what is refused. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { batchBaseOffset, readBatchHeader } from 'kafkalite';
import { compressBatch } from '../../src/codec/compressed-batch.js';
import { crc32c } from '../../src/codec/crc32c.js';
import type { PartitionState } from '../../src/topic/partition.js';
import { ApiKey } from '../../src/wire/protocol/index.js';
import { clientBatch, produceRequest, resign, serve } from './listener-helpers.js';

const fetchRequest = (topic: string, partition: number, fetchOffset: number, extra: { maxWaitMs?: number; minBytes?: number; maxBytes?: number; partitionMaxBytes?: number } = {}) => ({
  maxWaitMs: extra.maxWaitMs ?? 0,
  minBytes: extra.minBytes ?? 1,
  maxBytes: extra.maxBytes ?? 0x7fffffff,
  isolationLevel: 0,
  topics: [{ topic, partitions: [{ partition, fetchOffset, partitionMaxBytes: extra.partitionMaxBytes ?? 1 << 20 }] }],
});

/** The batches of a Fetch response's partition, split by their headers. */
function batchesOf(records: Uint8Array | null): Buffer[] {
  const out: Buffer[] = [];
  const b = Buffer.from(records ?? new Uint8Array(0));
  for (let at = 0; at + 12 <= b.length; ) {
    const size = b.readInt32BE(at + 8) + 12;
    out.push(b.subarray(at, at + size));
    at += size;
  }
  return out;
}

describe('Produce', () => {
  it.each([3, 7, 9, 11])('v%i stores the client batch byte for byte but base offset and leader epoch, and answers its offset', async (version) => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const c = await client();
    await broker.producer().send({ topic: 't', messages: [{ value: 'in-process', partition: 1 }] });
    const batch = clientBatch(['a', 'b', null], { key: 'k', headers: { h: 'v' } });
    const sent = Buffer.from(batch);
    const r = await c.request(ApiKey.Produce, version, produceRequest('t', 1, batch));
    expect(r.responses[0]!.partitionResponses[0]).toMatchObject({ index: 1, errorCode: 0, baseOffset: 1, logAppendTimeMs: -1 });
    if (version >= 5) expect(r.responses[0]!.partitionResponses[0]!.logStartOffset).toBe(0);
    const f = await c.request(ApiKey.Fetch, 11, fetchRequest('t', 1, 1));
    const [stored] = batchesOf(f.responses[0]!.partitions[0]!.records);
    expect(batchBaseOffset(stored!)).toBe(1);
    expect(stored!.readInt32BE(12)).toBe(0);
    expect(stored!.subarray(16).equals(sent.subarray(16))).toBe(true);
    const records = await broker.topic('t').partition(1).read(0);
    expect(records.map((x) => [x.offset, x.key?.toString() ?? null, x.value?.toString() ?? null])).toEqual([
      [0, null, 'in-process'],
      [1, 'k', 'a'],
      [2, 'k', 'b'],
      [3, 'k', null],
    ]);
    expect(records[1]!.headers.h!.toString()).toBe('v');
    expect(records[1]!.timestamp).toBe(1_700_000_000_000);
  });

  it('checks an idempotent producer\'s sequences: a retried batch gets its first offset and is stored once; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER (45), an old epoch INVALID_PRODUCER_EPOCH (47)', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const { producerId } = await c.request(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    const idempotent = (values: string[], sequence: number, epoch = 0) => {
      const b = clientBatch(values, { producerId });
      b.writeInt16BE(epoch, 51);
      b.writeInt32BE(sequence, 53);
      return resign(b);
    };
    const produce = async (batch: Buffer) => (await c.request(ApiKey.Produce, 9, produceRequest('t', 0, batch))).responses[0]!.partitionResponses[0]!;
    expect(await produce(idempotent(['a', 'b'], 0))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(idempotent(['c'], 2))).toMatchObject({ errorCode: 0, baseOffset: 2 });
    expect(await produce(idempotent(['a', 'b'], 0))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(idempotent(['e'], 5))).toMatchObject({ errorCode: 45 });
    const bumped = await c.request(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId, producerEpoch: 0 });
    expect(bumped).toMatchObject({ producerId, producerEpoch: 1 });
    expect(await produce(idempotent(['f'], 0, 1))).toMatchObject({ errorCode: 0, baseOffset: 3 });
    expect(await produce(idempotent(['g'], 3, 0))).toMatchObject({ errorCode: 47 });
    expect((await broker.topic('t').partition(0).read(0)).map((x) => x.value!.toString())).toEqual(['a', 'b', 'c', 'f']);
  });

  it('with acks=0 answers nothing and appends; a refused acks=0 request closes the connection', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    c.send(ApiKey.Produce, 9, produceRequest('t', 0, clientBatch(['quiet']), 0));
    // The next response on the connection is the next request's: nothing came for the produce.
    expect((await c.request(ApiKey.ApiVersions, 0, {})).errorCode).toBe(0);
    expect((await broker.topic('t').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(['quiet']);
    c.send(ApiKey.Produce, 9, produceRequest('missing', 0, clientBatch(['x']), 0));
    await c.closed;
  });

  it('refuses, per partition, what Kafka refuses, and appends nothing of it', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { maxMessageBytes: 200 });
    const c = await client();
    const good = clientBatch(['ok']);
    const crc = clientBatch(['x']);
    crc[crc.length - 1] = crc[crc.length - 1]! ^ 1;
    const magic = resign(clientBatch(['x']));
    magic[16] = 1;
    const twoBatches = Buffer.concat([clientBatch(['x']), clientBatch(['y'])]);
    const short = clientBatch(['x']).subarray(0, 65);
    const count = clientBatch(['x', 'y']);
    count.writeInt32BE(3, 57);
    const delta = clientBatch(['x', 'y']);
    delta.writeInt32BE(5, 23);
    const offsets = clientBatch(['x', 'y']);
    offsets[61 + 3] = 4; // the first record's offset delta (zigzag 2): not 0
    const maxTs = clientBatch(['x']);
    maxTs.writeInt32BE(7, 39); // maxTimestamp's low word
    const control = clientBatch(['x'], { attributes: 0x20 });
    const transactional = clientBatch(['x'], { attributes: 0x10, producerId: 5 });
    const codec = clientBatch(['x'], { attributes: 5 });
    const zstdOld = clientBatch(['x'], { attributes: 4 });
    const large = clientBatch(['x'.repeat(300)]);
    const cases: [string, Uint8Array | null, number, number?][] = [
      ['good', good, 0],
      ['crc', crc, 2],
      ['magic', magic, 87],
      ['two batches', twoBatches, 87],
      ['cut short', short, 2],
      ['no records', null, 87],
      ['record count', resign(count), 87],
      ['last offset delta', resign(delta), 87],
      ['offset deltas', resign(offsets), 87],
      ['max timestamp', resign(maxTs), 87],
      ['control batch', control, 87],
      ['transactional, no transactional id', transactional, 48],
      ['unknown codec', codec, 2],
      ['zstd before v7', zstdOld, 76, 5],
      ['too large', large, 10],
    ];
    for (const [name, records, code, version] of cases) {
      const r = await c.request(ApiKey.Produce, version ?? 9, produceRequest('t', 0, records));
      expect([name, r.responses[0]!.partitionResponses[0]!.errorCode]).toEqual([name, code]);
    }
    const r = await c.request(ApiKey.Produce, 9, {
      acks: -1,
      timeoutMs: 1000,
      transactionalId: null,
      topicData: [
        { name: 't', partitionData: [{ index: 0, records: clientBatch(['ok2']) }, { index: 3, records: clientBatch(['x']) }] },
        { name: 'nope', partitionData: [{ index: 0, records: clientBatch(['x']) }] },
      ],
    });
    expect(r.responses.map((t) => t.partitionResponses.map((p) => p.errorCode))).toEqual([[0, 3], [3]]);
    expect((await c.request(ApiKey.Produce, 9, produceRequest('t', 0, clientBatch(['x']), 2))).responses[0]!.partitionResponses[0]!.errorCode).toBe(21);
    // A transactional batch of a transactional id no producer initialised.
    expect((await c.request(ApiKey.Produce, 9, { ...produceRequest('t', 0, transactional), transactionalId: 'tx' })).responses[0]!.partitionResponses[0]!.errorCode).toBe(49);
    expect((await broker.topic('t').partition(0).read(0)).map((x) => x.value!.toString())).toEqual(['ok', 'ok2']);
  });

  it('stores idempotent and compressed batches as they are (checked inside); in-process readers decode them', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const idempotent = clientBatch(['i'], { producerId: 7 });
    expect((await c.request(ApiKey.Produce, 9, produceRequest('t', 0, idempotent))).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    // A gzip batch is inflated to check its records (Kafka's LogValidator does), and stored as it came.
    const gzipped = (values: string[], claimed = values.length) => {
      const plain = clientBatch(values);
      const batch = Buffer.concat([plain.subarray(0, 61), gzipSync(plain.subarray(61))]);
      batch.writeInt32BE(batch.length - 12, 8);
      batch.writeInt16BE(1, 21);
      batch.writeInt32BE(claimed - 1, 23);
      batch.writeInt32BE(claimed, 57);
      return resign(batch);
    };
    const gzip = gzipped(['z', 'y']);
    expect((await c.request(ApiKey.Produce, 9, produceRequest('t', 0, gzip))).responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 1 });
    // Refused with CORRUPT_MESSAGE (2): bytes that do not inflate, and a batch claiming more records than it holds.
    const garbage = Buffer.concat([clientBatch(['z']).subarray(0, 61), Buffer.from('not really gzip')]);
    garbage.writeInt32BE(garbage.length - 12, 8);
    garbage.writeInt16BE(1, 21);
    for (const bad of [resign(garbage), gzipped(['a', 'b', 'c'], 10)]) {
      const r = (await c.request(ApiKey.Produce, 9, produceRequest('t', 0, bad))).responses[0]!.partitionResponses[0]!;
      expect(r.errorCode).toBe(2);
      expect(r.errorMessage).toMatch(/gzip/);
    }
    const f = await c.request(ApiKey.Fetch, 11, fetchRequest('t', 0, 0));
    const [first, second, third] = batchesOf(f.responses[0]!.partitions[0]!.records);
    expect(third).toBeUndefined();
    expect(readBatchHeader(first!)).toMatchObject({ producerId: 7, producerEpoch: 0, baseSequence: 0, baseOffset: 0 });
    expect(second!.subarray(61)).toEqual(gzip.subarray(61));
    expect(crc32c(second!, 21, second!.length)).toBe(second!.readUInt32BE(17));
    expect((await broker.topic('t').partition(0).read(0)).map((x) => x.value!.toString())).toEqual(['i', 'z', 'y']);
  });

  it.each([
    ['snappy', 2],
    ['lz4', 3],
    ['zstd', 4],
  ] as const)('checks the records inside a %s batch: a good one is stored as it came and read in-process, a garbled or lying one is CORRUPT_MESSAGE', async (codec, id) => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const plain = clientBatch(['a', 'b']);
    const good = Buffer.from(await compressBatch(plain, codec));
    expect((await c.request(ApiKey.Produce, 9, produceRequest('t', 0, good))).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    const garbled = Buffer.concat([plain.subarray(0, 61), Buffer.from(`${codec} bytes that are not ${codec}`)]);
    garbled.writeInt32BE(garbled.length - 12, 8);
    garbled.writeInt16BE(id, 21);
    const lying = Buffer.from(await compressBatch(clientBatch(['a', 'b', 'c']), codec));
    lying.writeInt32BE(9, 23); // claims 10 records
    lying.writeInt32BE(10, 57);
    for (const bad of [resign(garbled), resign(lying)]) {
      const r = (await c.request(ApiKey.Produce, 9, produceRequest('t', 0, bad))).responses[0]!.partitionResponses[0]!;
      expect(r.errorCode).toBe(2);
      expect(r.errorMessage).toContain(codec);
    }
    const f = await c.request(ApiKey.Fetch, 11, fetchRequest('t', 0, 0));
    const [stored, none] = batchesOf(f.responses[0]!.partitions[0]!.records);
    expect(none).toBeUndefined();
    expect(stored!.subarray(21)).toEqual(good.subarray(21)); // served in its codec, byte for byte
    const consumer = broker.consumer({ autoOffsetReset: 'earliest' });
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect((await consumer.poll({ timeoutMs: 1000 })).map((r) => r.value!.toString())).toEqual(['a', 'b']);
    await consumer.close();
  });

  it('does not let a small batch pin the large socket chunk it arrived in', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    // 200 small produce requests written at once arrive in a few large chunks.
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.request(ApiKey.Produce, 9, produceRequest('t', 0, clientBatch([`m${i}`])))));
    const stored = await (broker.topic('t').partition(0) as PartitionState).readBatches(0, 1 << 30);
    expect(stored).toHaveLength(200);
    // What the log keeps are its own buffers (MemoryStorage's slabs), about the size of the batches
    // together — not the 64 KiB socket chunks they arrived in.
    const storedBytes = stored.reduce((n, b) => n + b.length, 0);
    const kept = [...new Set(stored.map((b) => b.buffer))].reduce((n, buf) => n + buf.byteLength, 0);
    expect(kept).toBeLessThanOrEqual(3 * storedBytes);
  });
});

describe('Fetch', () => {
  it('long-polls until an in-process producer appends, then serves the stored bytes', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const poll = c.request(ApiKey.Fetch, 11, fetchRequest('t', 0, 0, { maxWaitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 50));
    await broker.producer().send({ topic: 't', messages: [{ key: 'k', value: 'v' }] });
    const r = await poll;
    const p = r.responses[0]!.partitions[0]!;
    expect(p).toMatchObject({ errorCode: 0, highWatermark: 1, lastStableOffset: 1, logStartOffset: 0 });
    expect(batchesOf(p.records)).toHaveLength(1);
    expect(r.sessionId).toBe(0);
  });

  it('answers an empty fetch after maxWaitMs with nothing', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const r = await (await client()).request(ApiKey.Fetch, 11, fetchRequest('t', 0, 0, { maxWaitMs: 30 }));
    expect(r.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 0 });
    expect(r.responses[0]!.partitions[0]!.records?.length ?? 0).toBe(0);
  });

  it('waits for minBytes while time is left', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const p = broker.producer();
    await p.send({ topic: 't', messages: [{ value: 'first' }] });
    const poll = c.request(ApiKey.Fetch, 11, fetchRequest('t', 0, 0, { maxWaitMs: 10_000, minBytes: 150 }));
    await new Promise((r) => setTimeout(r, 50));
    let answered = false;
    void poll.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    await p.send({ topic: 't', messages: [{ value: 'second' }] });
    expect(batchesOf((await poll).responses[0]!.partitions[0]!.records)).toHaveLength(2);
  });

  it('keeps to partitionMaxBytes and maxBytes, but always sends the first batch of the first partition with data', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const p = broker.producer({ lingerMs: 0 });
    for (let i = 0; i < 5; i++) {
      await p.send({ topic: 't', messages: [{ value: 'x'.repeat(500), partition: 0 }] });
      await p.send({ topic: 't', messages: [{ value: 'y'.repeat(500), partition: 1 }] });
    }
    const c = await client();
    const both = (maxBytes: number, partitionMaxBytes: number) =>
      c.request(ApiKey.Fetch, 11, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes,
        topics: [{ topic: 't', partitions: [0, 1].map((partition) => ({ partition, fetchOffset: 0, partitionMaxBytes })) }],
      });
    const count = (r: Awaited<ReturnType<typeof both>>) => r.responses[0]!.partitions.map((x) => batchesOf(x.records).length);
    expect(count(await both(1 << 20, 1 << 20))).toEqual([5, 5]);
    expect(count(await both(1 << 20, 1200))).toEqual([2, 2]);
    expect(count(await both(1800, 1 << 20))).toEqual([3, 0]);
    expect(count(await both(10, 10))).toEqual([1, 0]);
  });

  it('v13 names topics by id; an unknown id is UNKNOWN_TOPIC_ID', async () => {
    const { broker, client } = await serve();
    const t = await broker.createTopic('t');
    await broker.producer().send({ topic: 't', messages: [{ value: 'v' }] });
    const r = await (await client()).request(ApiKey.Fetch, 13, {
      maxWaitMs: 0,
      minBytes: 1,
      topics: [
        { topicId: t.id, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
        { topicId: 'AAAAAAAAAAAAAAAAAAAAAw', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
      ],
    });
    expect(r.responses.map((x) => [x.topicId, x.partitions[0]!.errorCode, batchesOf(x.partitions[0]!.records).length])).toEqual([
      [t.id, 0, 1],
      ['AAAAAAAAAAAAAAAAAAAAAw', 100, 0],
    ]);
  });

  it('answers an out-of-range offset with OFFSET_OUT_OF_RANGE and the log bounds, an unknown partition with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const r = await c.request(ApiKey.Fetch, 11, fetchRequest('t', 0, 5));
    expect(r.responses[0]!.partitions[0]).toMatchObject({ errorCode: 1, highWatermark: 0, logStartOffset: 0 });
    expect((await c.request(ApiKey.Fetch, 11, fetchRequest('t', 4, 0))).responses[0]!.partitions[0]!.errorCode).toBe(3);
    expect((await c.request(ApiKey.Fetch, 11, fetchRequest('nope', 0, 0))).responses[0]!.partitions[0]!.errorCode).toBe(3);
  });

  it('keeps no fetch sessions: session id 0, and an incremental fetch for a session is FETCH_SESSION_ID_NOT_FOUND', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const first = await c.request(ApiKey.Fetch, 11, { ...fetchRequest('t', 0, 0), sessionId: 0, sessionEpoch: 0 });
    expect([first.errorCode, first.sessionId]).toEqual([0, 0]);
    const incremental = await c.request(ApiKey.Fetch, 11, { ...fetchRequest('t', 0, 0), sessionId: 12, sessionEpoch: 3 });
    expect(incremental.errorCode).toBe(70);
  });
});

describe('ListOffsets', () => {
  it('answers earliest, latest, by time (first record at or after it) and refuses max-timestamp', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const p = broker.producer();
    for (let i = 0; i < 4; i++) await p.send({ topic: 't', messages: [{ value: `v${i}`, timestamp: 1000 * (i + 1) }] });
    await broker.topic('t').partition(0).deleteRecordsBefore(1);
    const c = await client();
    const ask = async (version: number, timestamp: number) =>
      (await c.request(ApiKey.ListOffsets, version, { replicaId: -1, isolationLevel: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp }] }] })).topics[0]!.partitions[0]!;
    for (const version of [1, 5, 8]) {
      expect(await ask(version, -2)).toMatchObject({ errorCode: 0, offset: 1, timestamp: -1 });
      expect(await ask(version, -1)).toMatchObject({ errorCode: 0, offset: 4 });
      expect(await ask(version, 2500)).toMatchObject({ errorCode: 0, offset: 2, timestamp: 3000 });
      expect(await ask(version, 9999)).toMatchObject({ errorCode: 0, offset: -1, timestamp: -1 });
    }
    expect(await ask(8, -4)).toMatchObject({ errorCode: 0, offset: 1 });
    expect((await ask(7, -3)).errorCode).toBe(35);
    const unknown = await c.request(ApiKey.ListOffsets, 5, { replicaId: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 9, timestamp: -1 }, { partitionIndex: 0, timestamp: -1 }] }] });
    expect(unknown.topics[0]!.partitions.map((x) => [x.errorCode, x.offset])).toEqual([
      [3, -1],
      [0, 4],
    ]);
  });
});
