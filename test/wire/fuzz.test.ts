/**
 * Fuzzing a live listener: 100,000+ frames — random bodies behind valid headers, random bytes,
 * valid requests with bytes flipped, and state-changing requests with fields drawn to be refused —
 * over a few connections that are reopened whenever the listener closes them. The process stays
 * up, no handler fails unexpectedly (nothing is logged as an error), the listener still answers,
 * and the refused requests changed nothing: same topics, configs, log offsets, records and group
 * offsets as before.
 */
import { connect, type Socket } from 'node:net';
import { FrameReader } from '../../src/wire/frame-reader.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Broker, type Logger } from 'kafkalite';
import { ADVERTISED } from '../../src/wire/dispatcher.js';
import { ApiKey, Writer, encodeRequestFrame, type ApiMessageTypes, type EncodeInput } from '../../src/wire/protocol/index.js';
import { clientBatch } from './listener-helpers.js';
import { WireClient } from './wire-client.js';

const FRAMES = 100_000;
const CONNECTIONS = 8;

type AnyRequest = { key: ApiKey; version: number; body: unknown };
const req = <K extends ApiKey>(key: K, version: number, body: EncodeInput<ApiMessageTypes[K]['request']>): AnyRequest => ({ key, version, body });

/** Requests that only read, valid as they are: flipped bytes may make them anything. */
function readOnlyTemplates(): AnyRequest[] {
  return [
    req(ApiKey.ApiVersions, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' }),
    req(ApiKey.Metadata, 4, { topics: [{ name: 't' }], allowAutoTopicCreation: true }),
    req(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: true, includeTopicAuthorizedOperations: true }),
    req(ApiKey.Fetch, 11, { maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] }),
    req(ApiKey.Fetch, 13, { maxWaitMs: 0, minBytes: 1, topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAw', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1000 }] }] }),
    req(ApiKey.ListOffsets, 7, { replicaId: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp: -1 }, { partitionIndex: 1, timestamp: 0 }] }] }),
    req(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['g'] }),
    req(ApiKey.OffsetFetch, 8, { groups: [{ groupId: 'g', topics: null }], requireStable: false }),
    req(ApiKey.OffsetFetch, 5, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }], requireStable: false }),
    req(ApiKey.DescribeGroups, 5, { groups: ['g'], includeAuthorizedOperations: true }),
    req(ApiKey.ListGroups, 5, { statesFilter: ['Empty'], typesFilter: [] }),
    req(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: 't', configurationKeys: null }, { resourceType: 4, resourceName: '0', configurationKeys: null }], includeSynonyms: true, includeDocumentation: true }),
    req(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' }),
  ];
}

/** State-changing requests built to be refused, whatever values fast-check draws. */
function refusedChangesArbitrary(): fc.Arbitrary<AnyRequest> {
  const name = fc.constantFrom('t', 'nope', '', 'bad name', '__consumer_offsets', 'x'.repeat(250));
  const unknownTopic = fc.constantFrom('nope', 'bad name', '', 'x'.repeat(250));
  const records = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 200 }));
  return fc.oneof(
    // Produce: random bytes are never a valid batch with a matching CRC.
    fc.record({ version: fc.integer({ min: 3, max: 11 }), acks: fc.constantFrom(-1, 1, 0, 2, -7), topic: name, partition: fc.integer({ min: -2, max: 5 }), records }).map((r) =>
      req(ApiKey.Produce, r.version, { acks: r.acks, timeoutMs: 1000, transactionalId: null, topicData: [{ name: r.topic, partitionData: [{ index: r.partition, records: r.records }] }] }),
    ),
    // CreateTopics of a topic that exists, or with a replication factor other than 1 / -1.
    fc.record({ version: fc.integer({ min: 0, max: 7 }), partitions: fc.integer({ min: -5, max: 5 }), rf: fc.constantFrom(0, 2, 3, -2), validateOnly: fc.boolean() }).map((r) =>
      req(ApiKey.CreateTopics, r.version, { timeoutMs: 1000, validateOnly: r.validateOnly, topics: [{ name: 'fresh', numPartitions: r.partitions, replicationFactor: r.rf, assignments: [], configs: [] }, { name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }] }),
    ),
    fc.record({ version: fc.integer({ min: 0, max: 5 }), topic: unknownTopic }).map((r) => req(ApiKey.DeleteTopics, r.version, { timeoutMs: 1000, topicNames: [r.topic] })),
    fc.record({ version: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: -3, max: 3 }) }).map((r) => req(ApiKey.CreatePartitions, r.version, { timeoutMs: 1000, validateOnly: false, topics: [{ name: 't', count: r.count, assignments: null }] })),
    fc.record({ version: fc.integer({ min: 0, max: 2 }), partition: fc.integer({ min: 3, max: 9 }), offset: fc.integer({ min: -100, max: 100 }) }).map((r) =>
      req(ApiKey.DeleteRecords, r.version, { timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partitionIndex: r.partition, offset: r.offset }] }, { name: 'nope', partitions: [{ partitionIndex: 0, offset: 0 }] }] }),
    ),
    fc.record({ version: fc.integer({ min: 0, max: 2 }), value: fc.constantFrom('-9', 'abc', '', '1.5', '99999999999999999999') }).map((r) =>
      req(ApiKey.AlterConfigs, r.version, { validateOnly: false, resources: [{ resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', value: r.value }] }, { resourceType: 4, resourceName: '0', configs: [] }] }),
    ),
    fc.record({ op: fc.integer({ min: -1, max: 7 }), name: fc.constantFrom('retention.ms', 'flush.ms', 'min.insync.replicas') }).map((r) =>
      req(ApiKey.IncrementalAlterConfigs, 1, { validateOnly: false, resources: [{ resourceType: 2, resourceName: 't', configs: [{ name: r.name, configOperation: r.op === 0 || r.op === 1 ? 2 : r.op, value: '5' }] }] }),
    ),
    fc.record({ version: fc.integer({ min: 0, max: 9 }), topic: unknownTopic, member: fc.constantFrom('ghost', 'x') }).map((r) =>
      req(ApiKey.OffsetCommit, r.version, { groupId: 'g', generationIdOrMemberEpoch: 3, memberId: r.member, groupInstanceId: null, topics: [{ name: r.topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] }] }),
    ),
    fc.constantFrom('', 'unknown-group').map((g) => req(ApiKey.DeleteGroups, 2, { groupsNames: [g] })),
  );
}

/** One fuzzing connection: a frame out, then its response, the connection's end, or a timeout. */
class Lane {
  #socket: Socket;
  #reader = new FrameReader(1 << 30);
  #waiting: ((outcome: 'answered' | 'closed' | 'waited') => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk, () => (this.#settle('answered'), true)));
    socket.on('close', () => this.#settle('closed'));
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<Lane> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Lane(s)));
      s.once('error', reject);
    });
  }

  exchange(frame: Buffer): Promise<'answered' | 'closed' | 'waited'> {
    if (this.#socket.destroyed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settle('waited'), 200);
      this.#waiting = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      this.#socket.write(frame);
    });
  }

  #settle(outcome: 'answered' | 'closed' | 'waited'): void {
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.(outcome);
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** Snapshot of everything a request could change. */
async function state(broker: Broker): Promise<unknown> {
  const topics = [];
  for (const name of ['__consumer_offsets', ...broker.listTopics()]) {
    const t = broker.topic(name);
    const partitions = [];
    for (const p of t.partitions) {
      const records = name === '__consumer_offsets' ? [] : (await p.read(0, { maxRecords: 10_000 })).map((r) => [r.offset, r.key?.toString('hex'), r.value?.toString('hex'), r.timestamp]);
      partitions.push({ start: p.logStartOffset, end: p.logEndOffset, records });
    }
    topics.push({ name, id: t.id, config: t.config, partitions });
  }
  return { topics, groups: broker.listGroups(), offsets: await broker.group('g').lag() };
}

describe('fuzzing the listener', () => {
  it(`survives ${FRAMES} hostile frames and changes nothing`, { timeout: 240_000 }, async () => {
    const errors: string[] = [];
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m) => errors.push(m) };
    const broker = await Broker.open({ autoCreateTopics: false, logger });
    await broker.createTopic('t', { partitions: 3 });
    const p = broker.producer();
    for (let i = 0; i < 10; i++) await p.send({ topic: 't', messages: [{ key: `k${i}`, value: `v${i}`, partition: i % 3 }] });
    await broker.group('g').resetOffsets({ topic: 't', to: 'latest' });
    const listener = await broker.listen({ port: 0, maxRequestBytes: 64 * 1024 });
    const port = Number(listener.address.split(':')[1]);
    const before = await state(broker);

    const w = new Writer();
    const encode = (r: AnyRequest, correlationId: number): Buffer => Buffer.concat(encodeRequestFrame(w, r.key, r.version, correlationId, 'fuzz', r.body as never));
    const size = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    const served = ADVERTISED;
    const randomBody = fc.record({ api: fc.constantFrom(...served), v: fc.nat(), correlationId: fc.integer(), body: fc.uint8Array({ maxLength: 200 }), flexibleHeader: fc.boolean() }).map(({ api, v, correlationId, body, flexibleHeader }) => {
      const version = api.minVersion + (v % (api.maxVersion - api.minVersion + 1));
      const header = Buffer.alloc(10);
      header.writeInt16BE(api.apiKey, 0);
      header.writeInt16BE(version, 2);
      header.writeInt32BE(correlationId, 4);
      header.writeInt16BE(4, 8); // client id length
      const tail = flexibleHeader ? Buffer.from([0]) : Buffer.alloc(0);
      const frame = Buffer.concat([header, Buffer.from('fuzz'), tail, body]);
      return Buffer.concat([size(frame.length), frame]);
    });
    const rawBytes = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.concat([size(b.length), b]));
    const templates = readOnlyTemplates();
    const flipped = fc.record({ t: fc.nat({ max: templates.length - 1 }), flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }) }).map(({ t, flips }) => {
      const frame = encode(templates[t]!, 7);
      for (const f of flips) frame[4 + (f.at % (frame.length - 4))] = f.value;
      return frame;
    });
    // Produce with a valid batch whose CRC-covered bytes are flipped: always CORRUPT_MESSAGE.
    const batch = clientBatch(['a', 'b', 'c'], { key: 'k' });
    const producePrefix = encode(req(ApiKey.Produce, 9, { acks: -1, timeoutMs: 1000, transactionalId: null, topicData: [{ name: 't', partitionData: [{ index: 0, records: batch }] }] }), 9);
    const batchAt = producePrefix.indexOf(batch);
    const corruptProduce = fc.record({ at: fc.integer({ min: 17, max: batch.length - 1 }), delta: fc.integer({ min: 1, max: 255 }) }).map(({ at, delta }) => {
      const frame = Buffer.from(producePrefix);
      frame[batchAt + at] = (frame[batchAt + at]! + delta) & 0xff;
      return frame;
    });
    const refused = refusedChangesArbitrary().map((r) => encode(r, 11));
    const frames = fc.sample(
      // Weighted so that connections closed by malformed frames stay in the thousands (each costs a new one).
      fc.oneof({ arbitrary: randomBody, weight: 6 }, { arbitrary: rawBytes, weight: 2 }, { arbitrary: flipped, weight: 22 }, { arbitrary: corruptProduce, weight: 20 }, { arbitrary: refused, weight: 50 }),
      { numRuns: FRAMES, seed: 20261201 },
    );
    expect(frames.length).toBe(FRAMES);

    // Each lane sends one frame at a time and waits for its answer, the listener closing the
    // connection (then opens a new one), or 200 ms (a long poll a flipped byte asked for: the lane
    // drops that connection and goes on) — so every frame is read by the listener.
    const outcomes = { answered: 0, closed: 0, waited: 0 };
    const lane = async (first: number): Promise<void> => {
      let conn: Lane | undefined;
      for (let i = first; i < frames.length; i += CONNECTIONS) {
        conn ??= await Lane.open(port);
        const outcome = await conn.exchange(frames[i]!);
        outcomes[outcome]++;
        if (outcome !== 'answered') {
          conn.destroy();
          conn = undefined;
        }
      }
      conn?.destroy();
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => lane(i)));
    if (process.env.FUZZ_VERBOSE) console.log(outcomes);
    expect(outcomes.answered + outcomes.closed + outcomes.waited).toBe(FRAMES);
    expect(outcomes.answered).toBeGreaterThan(FRAMES / 2);
    expect(outcomes.closed).toBeGreaterThan(1000);
    expect(outcomes.waited).toBeLessThan(FRAMES / 100);

    const probe = await WireClient.connect(listener.address);
    expect((await probe.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'probe', clientSoftwareVersion: '1' })).errorCode).toBe(0);
    probe.close();
    // Requests still in flight on connections being closed settle before the comparison.
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual([]);
    expect(await state(broker)).toEqual(before);
    await broker.close();
  });
});
