/**
 * The listener as a Kafka broker on a TCP port, seen through a bare wire client: connections,
 * framing, ApiVersions, Metadata, refusals that close the connection, pipelining, backpressure,
 * close. (Produce, Fetch and ListOffsets: produce-fetch.test.ts; admin APIs: admin-apis.test.ts.)
 */
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Broker, MemoryStorage, type PartitionLog } from 'kafkalite';
import { expectError } from '../helpers.js';
import { ADVERTISED } from '../../src/wire/dispatcher.js';
import { resolveListenOptions } from '../../src/wire/listen-options.js';
import { ApiKey, Writer, encodeRequestFrame } from '../../src/wire/protocol/index.js';
import { clientBatch, produceRequest, serve } from './listener-helpers.js';
import { WireClient } from './wire-client.js';

describe('broker.listen', () => {
  it('binds to loopback on the port asked for (0: a free one) and reports host:port', async () => {
    const { listener } = await serve();
    expect(listener.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Number(listener.address.split(':')[1])).toBeGreaterThan(0);
  });

  it('checks its options, naming the bad value', async () => {
    const broker = await Broker.open({ logger: 'silent' });
    await expectError(() => broker.listen({ port: 70000 }), 'INVALID_ARGUMENT', /port .* 70000/);
    await expectError(() => broker.listen({ nope: 1 } as never), 'INVALID_ARGUMENT', /"nope"/);
    await expectError(() => broker.listen({ maxRequestBytes: 1.5 }), 'INVALID_ARGUMENT', /maxRequestBytes .* 1.5/);
    await expectError(() => broker.listen({ maxConnections: 0 }), 'INVALID_ARGUMENT', /maxConnections .* 0/);
    await expectError(() => broker.listen({ host: '' }), 'INVALID_ARGUMENT', /host/);
    await expectError(() => broker.listen({ sasl: { mechanism: 'gssapi' as never, users: { a: 'b' } } }), 'INVALID_ARGUMENT', /"gssapi"/);
    await expectError(() => broker.listen({ sasl: { mechanism: 'plain', users: {} } }), 'INVALID_ARGUMENT', /empty/);
    await expectError(() => broker.listen({ sasl: { mechanism: 'plain', users: { a: 1 as never } } }), 'INVALID_ARGUMENT', /"a"/);
    await expectError(() => broker.listen({ tls: 'yes' as never }), 'INVALID_ARGUMENT', /tls/);
    await broker.close();
  });

  it('refuses a port in use with INVALID_ARGUMENT naming it, and a closed broker with CLOSED', async () => {
    const { listener } = await serve();
    const port = Number(listener.address.split(':')[1]);
    const other = await Broker.open({ logger: 'silent' });
    await expectError(() => other.listen({ port }), 'INVALID_ARGUMENT', new RegExp(`127.0.0.1:${port} \\(EADDRINUSE`));
    await other.close();
    await expectError(() => other.listen({ port: 0 }), 'CLOSED');
  });

  it('advertises the advertisedHost, and a wildcard host as the machine name', async () => {
    const { listener } = await serve({}, { advertisedHost: 'kafka.example' });
    expect(listener.address).toMatch(/^kafka\.example:\d+$/);
    const port = Number(listener.address.split(':')[1]);
    const c = await WireClient.connect(`127.0.0.1:${port}`);
    const md = await c.request(ApiKey.Metadata, 12, { topics: [], allowAutoTopicCreation: false });
    expect(md.brokers).toEqual([expect.objectContaining({ nodeId: 0, host: 'kafka.example', port })]);
    const fc = await c.request(ApiKey.FindCoordinator, 3, { key: 'g', keyType: 0 });
    expect(fc).toMatchObject({ errorCode: 0, nodeId: 0, host: 'kafka.example', port });
    c.close();
    expect(resolveListenOptions({ host: '0.0.0.0' }).advertisedHost).toBe(hostname());
    expect(resolveListenOptions({}).host).toBe('127.0.0.1');
  });

  it('close() frees the port, drops connections and ends their long polls at once', async () => {
    const { broker, listener, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const poll = c.request(ApiKey.Fetch, 12, { maxWaitMs: 60_000, minBytes: 1, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1000 }] }] });
    expect(listener.connections).toBe(1);
    await listener.close();
    await expect(poll).rejects.toThrow(/closed/);
    await c.closed;
    expect(listener.connections).toBe(0);
    await listener.close(); // twice is fine
    await expect(WireClient.connect(listener.address)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('broker.close() closes its listeners first', async () => {
    const broker = await Broker.open({ logger: 'silent' });
    const listener = await broker.listen({ port: 0 });
    const c = await WireClient.connect(listener.address);
    await broker.close();
    await c.closed;
    await expect(WireClient.connect(listener.address)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('closes connections beyond maxConnections at once', async () => {
    const { listener, client } = await serve({}, { maxConnections: 2 });
    const a = await client();
    const b = await client();
    const third = await client();
    await third.closed;
    expect(listener.connections).toBe(2);
    expect((await a.request(ApiKey.ApiVersions, 0, {})).errorCode).toBe(0);
    b.close();
    await b.closed;
    await new Promise((r) => setTimeout(r, 20));
    const again = await client();
    expect((await again.request(ApiKey.ApiVersions, 0, {})).errorCode).toBe(0);
  });
});

describe('ApiVersions', () => {
  it.each([0, 1, 2, 3])('v%i lists every served API, with its version range', async (version) => {
    const { client } = await serve();
    const r = await (await client()).request(ApiKey.ApiVersions, version, { clientSoftwareName: 'test', clientSoftwareVersion: '1.0' });
    expect(r.errorCode).toBe(0);
    expect(r.apiKeys.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }))).toEqual(ADVERTISED);
  });

  it('advertises the ranges of the issue, group membership and transactions included', () => {
    const ranges = Object.fromEntries(ADVERTISED.map((a) => [a.apiKey, [a.minVersion, a.maxVersion]]));
    expect(ranges).toMatchObject({
      [ApiKey.ApiVersions]: [0, 3],
      [ApiKey.Metadata]: [0, 12],
      [ApiKey.Produce]: [3, 11],
      [ApiKey.Fetch]: [4, 13],
      [ApiKey.ListOffsets]: [1, 8],
      [ApiKey.FindCoordinator]: [0, 4],
      [ApiKey.JoinGroup]: [0, 9],
      [ApiKey.SyncGroup]: [0, 5],
      [ApiKey.Heartbeat]: [0, 4],
      [ApiKey.LeaveGroup]: [0, 5],
    });
    expect([ApiKey.InitProducerId, ApiKey.AddPartitionsToTxn, ApiKey.AddOffsetsToTxn, ApiKey.EndTxn, ApiKey.TxnOffsetCommit].map((key) => ranges[key])).toEqual([
      [0, 5],
      [0, 3],
      [0, 4],
      [0, 4],
      [0, 4],
    ]);
  });

  it('answers a version it does not know with UNSUPPORTED_VERSION (35) in v0 layout, listing what it has', async () => {
    const { listener } = await serve();
    const socket = connect(Number(listener.address.split(':')[1]), '127.0.0.1');
    const w = new Writer();
    // An ApiVersions v9 request: a header only the first fields of which the broker can read.
    const frame = Buffer.concat(encodeRequestFrame(w, ApiKey.ApiVersions, 3, 42, 'future', { clientSoftwareName: 'x', clientSoftwareVersion: '1' }));
    frame.writeInt16BE(9, 6);
    const reply = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) resolve(all);
      });
      socket.write(frame);
    });
    socket.destroy();
    expect(reply.readInt32BE(4)).toBe(42); // correlation id, response header v0
    expect(reply.readInt16BE(8)).toBe(35);
    expect(reply.readInt32BE(10)).toBe(ADVERTISED.length); // v0: a plain int32 array length
  });

  it('v3 refuses a client software name Kafka would refuse (INVALID_REQUEST)', async () => {
    const { client } = await serve();
    const r = await (await client()).request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'bad name!', clientSoftwareVersion: '1' });
    expect(r.errorCode).toBe(42);
  });
});

describe('refusals that close the connection, as Kafka does', () => {
  const cases: [string, (c: WireClient) => void][] = [
    // WriteTxnMarkers (27) v0, header v1 with a null client id: a broker-to-broker API.
    ['an API it does not serve (WriteTxnMarkers)', (c) => c.writeRaw(Buffer.from([0, 0, 0, 10, 0, 27, 0, 0, 0, 0, 0, 1, 0xff, 0xff]))],
    ['a version outside the advertised range (Produce v2)', (c) => void c.request(ApiKey.Produce, 2, produceRequest('t', 0, null)).catch(() => undefined)],
    ['an unknown api key', (c) => c.writeRaw(Buffer.from([0, 0, 0, 8, 0x7f, 0x7f, 0, 0, 0, 0, 0, 1]))],
    ['a frame cut inside its header', (c) => c.writeRaw(Buffer.from([0, 0, 0, 3, 0, 3, 0]))],
    ['a body that does not decode', (c) => c.writeRaw(Buffer.from([0, 0, 0, 12, 0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0xff, 0xff]))],
    ['a size prefix above maxRequestBytes (before the body arrives)', (c) => c.writeRaw(Buffer.from([0x10, 0, 0, 0]))],
    ['a negative size prefix', (c) => c.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xfe]))],
  ];
  it.each(cases)('%s', async (_, send) => {
    const { client } = await serve({}, { maxRequestBytes: 1 << 20 });
    const c = await client();
    expect((await c.request(ApiKey.ApiVersions, 0, {})).errorCode).toBe(0);
    send(c);
    await c.closed;
    // The listener carries on.
    const other = await client();
    expect((await other.request(ApiKey.ApiVersions, 0, {})).errorCode).toBe(0);
  });
});

describe('Metadata', () => {
  it('lists every topic with null topics, __consumer_offsets flagged internal, one broker leading every partition', async () => {
    const { broker, client, listener } = await serve();
    const orders = await broker.createTopic('orders', { partitions: 3 });
    const c = await client();
    for (const version of [1, 4, 9, 12]) {
      const md = await c.request(ApiKey.Metadata, version, { topics: null, allowAutoTopicCreation: false });
      expect(md.brokers).toEqual([expect.objectContaining({ nodeId: 0, host: '127.0.0.1', port: Number(listener.address.split(':')[1]) })]);
      expect(md.controllerId).toBe(0);
      expect(md.topics.map((t) => [t.name, t.isInternal, t.partitions.length])).toEqual([
        ['__consumer_offsets', true, 1],
        ['orders', false, 3],
      ]);
      expect(md.topics[1]!.partitions[2]).toMatchObject({ errorCode: 0, partitionIndex: 2, leaderId: 0, replicaNodes: [0], isrNodes: [0] });
      if (version >= 10) expect(md.topics[1]!.topicId).toBe(orders.id);
      if (version >= 2) expect(md.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    // v0: an empty list means every topic.
    expect((await c.request(ApiKey.Metadata, 0, { topics: [] })).topics).toHaveLength(2);
  });

  it('auto-creates an unknown topic when the broker and the request allow it (always before v4), else UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { broker, client } = await serve({ defaultPartitions: 2 });
    const c = await client();
    const no = await c.request(ApiKey.Metadata, 9, { topics: [{ name: 'a' }], allowAutoTopicCreation: false });
    expect(no.topics[0]).toMatchObject({ name: 'a', errorCode: 3 });
    expect(broker.listTopics()).toEqual([]);
    const yes = await c.request(ApiKey.Metadata, 9, { topics: [{ name: 'a' }], allowAutoTopicCreation: true });
    expect(yes.topics[0]).toMatchObject({ name: 'a', errorCode: 0 });
    expect(yes.topics[0]!.partitions).toHaveLength(2);
    await c.request(ApiKey.Metadata, 3, { topics: [{ name: 'b' }] });
    expect(broker.listTopics()).toEqual(['a', 'b']);
  });

  it('does not auto-create with autoCreateTopics: false, and refuses invalid names with INVALID_TOPIC_EXCEPTION', async () => {
    const { broker, client } = await serve({ autoCreateTopics: false });
    const c = await client();
    const md = await c.request(ApiKey.Metadata, 9, { topics: [{ name: 'x' }, { name: 'bad name' }, { name: 'x' }], allowAutoTopicCreation: true });
    expect(md.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['x', 3],
      ['bad name', 17],
    ]);
    expect(broker.listTopics()).toEqual([]);
  });

  it('v10+ looks topics up by id; an unknown id is UNKNOWN_TOPIC_ID', async () => {
    const { broker, client } = await serve();
    const t = await broker.createTopic('by-id');
    const c = await client();
    const md = await c.request(ApiKey.Metadata, 12, { topics: [{ topicId: t.id, name: null }, { topicId: 'AAAAAAAAAAAAAAAAAAAAAw', name: null }], allowAutoTopicCreation: false });
    expect(md.topics.map((x) => [x.name, x.topicId, x.errorCode])).toEqual([
      ['by-id', t.id, 0],
      [null, 'AAAAAAAAAAAAAAAAAAAAAw', 100],
    ]);
  });

  it('sees a topic deleted and created again under its new id', async () => {
    const { broker, client } = await serve();
    const first = (await broker.createTopic('again')).id;
    await broker.deleteTopic('again');
    const second = (await broker.createTopic('again')).id;
    const md = await (await client()).request(ApiKey.Metadata, 12, { topics: [{ name: 'again', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false });
    expect(md.topics[0]!.topicId).toBe(second);
    expect(second).not.toBe(first);
  });
});

describe('pipelining', () => {
  it('answers in request order although a Fetch long-polls while the requests behind it run', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const order: string[] = [];
    const fetch = c.request(ApiKey.Fetch, 11, { maxWaitMs: 2000, minBytes: 1, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] }).then((r) => {
      order.push('fetch');
      return r;
    });
    // A produce behind the fetch runs (and wakes the fetch) although its response waits for the fetch's.
    const produce = c.request(ApiKey.Produce, 9, produceRequest('t', 0, clientBatch(['hello']))).then((r) => {
      order.push('produce');
      return r;
    });
    const md = c.request(ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false }).then(() => order.push('metadata'));
    const [f, p] = await Promise.all([fetch, produce, md]);
    expect(order).toEqual(['fetch', 'produce', 'metadata']);
    expect(p.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(f.responses[0]!.partitions[0]!.records).not.toBeNull();
    expect((await broker.topic('t').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(['hello']);
  });

  it('appends pipelined Produce requests in the order they were sent', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const c = await client();
    const sends = Array.from({ length: 50 }, (_, i) => c.request(ApiKey.Produce, 9, produceRequest('t', 0, clientBatch([`m${i}`]))));
    const answers = await Promise.all(sends);
    expect(answers.map((a) => a.responses[0]!.partitionResponses[0]!.baseOffset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect((await broker.topic('t').partition(0).read(0, { maxRecords: 100 })).map((r) => r.value!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });

  it('lets an admin request see what the requests sent before it did', async () => {
    const { client } = await serve();
    const c = await client();
    const create = c.request(ApiKey.CreateTopics, 4, { topics: [{ name: 'fresh', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    const produce = c.request(ApiKey.Produce, 9, produceRequest('fresh', 0, clientBatch(['x'])));
    expect((await create).topics[0]!.errorCode).toBe(0);
    expect((await produce).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
  });

  it('stops reading a client that pipelines more than it reads, and serves it all once it reads', async () => {
    // A storage that counts log reads: how many of the client's fetches the broker has served.
    let reads = 0;
    class CountingStorage extends MemoryStorage {
      override log(topic: string, partition: number): PartitionLog {
        const log = super.log(topic, partition);
        return {
          get logStartOffset() {
            return log.logStartOffset;
          },
          get logEndOffset() {
            return log.logEndOffset;
          },
          append: (b) => log.append(b),
          read: (o, m) => (topic === 'big' && reads++, log.read(o, m)),
          applyRetention: (p) => log.applyRetention(p),
          flush: () => log.flush(),
        };
      }
    }
    const { broker, listener } = await serve({ storage: new CountingStorage() });
    await broker.createTopic('big');
    await broker.producer().send({ topic: 'big', messages: [{ value: Buffer.alloc(900_000, 1) }] });
    reads = 0;
    // 100 fetches of ~900 KB answers each, from a client that does not read for a while.
    const socket = connect(Number(listener.address.split(':')[1]), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.pause();
    const w = new Writer();
    const fetches = 100;
    for (let i = 0; i < fetches; i++) {
      for (const chunk of encodeRequestFrame(w, ApiKey.Fetch, 11, i, 'slow', { maxWaitMs: 0, minBytes: 0, topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] })) socket.write(chunk);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(fetches);
    let received = 0;
    const done = new Promise<void>((resolve) => {
      socket.on('data', (c: Buffer) => {
        received += c.length;
        if (received >= fetches * 900_000) resolve();
      });
    });
    socket.resume();
    await done;
    socket.destroy();
    expect(reads).toBe(fetches);
  });
});
