/** ClusterClient against kafkalite listeners (and a scripted broker for FindCoordinator before v4). */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/remote/cluster-client.js';
import { ApiKey } from '../../src/wire/protocol/index.js';
import { expectError } from '../helpers.js';
import { clientBatch, produceRequest, serve } from '../wire/listener-helpers.js';
import { answerApiVersions, fakeBroker } from './fake-broker.js';

/** An address nothing listens on. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return `127.0.0.1:${port}`;
}

const fetchFrom = (client: ClusterClient, topic: string, fetchOffset: number, maxWaitMs = 0) => ({
  maxWaitMs,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  topics: [{ topic, topicId: client.topic(topic)!.topicId, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }] }],
});

const open: ClusterClient[] = [];
async function connect(brokers: string[], extra: Partial<Parameters<typeof ClusterClient.connect>[0]> = {}): Promise<ClusterClient> {
  const c = await ClusterClient.connect({ brokers, clientId: 'cluster-test', ...extra });
  open.push(c);
  return c;
}

describe('ClusterClient', () => {
  it('connects through the first bootstrap address that answers and loads the nodes', async () => {
    const { listener } = await serve();
    const dead = await deadAddress();
    const c = await connect([dead, listener.address]);
    const [host, port] = [listener.address.split(':')[0], Number(listener.address.split(':')[1])];
    expect(c.nodes).toEqual([expect.objectContaining({ host, port })]);
    expect(c.clusterId).toEqual(expect.any(String));
    const otherDead = await deadAddress();
    const none = await expectError(() => connect([dead, otherDead]), 'NETWORK_ERROR', /cannot reach any bootstrap broker \(127\.0\.0\.1:\d+: cannot connect.*; 127\.0\.0\.1:\d+: cannot connect/);
    expect(none.retriable).toBe(true);
    await c.close();
  });

  it('refuses bad options, and stops at an error another address would not change', async () => {
    await expectError(() => ClusterClient.connect({ brokers: [] }), 'INVALID_ARGUMENT', /brokers must be a non-empty array/);
    await expectError(() => ClusterClient.connect({ brokers: ['nohost'] }), 'INVALID_ARGUMENT', /'host:port' .*"nohost"/);
    const secured = await serve({}, { sasl: { mechanism: 'plain', users: { alice: 'wonderland' } } });
    const plain = await serve();
    await expectError(() => connect([secured.listener.address, plain.listener.address], { sasl: { mechanism: 'plain', username: 'alice', password: 'nope' } }), 'AUTHENTICATION_FAILED');
    const c = await connect([secured.listener.address], { sasl: { mechanism: 'plain', username: 'alice', password: 'wonderland' } });
    expect(c.nodes).toHaveLength(1);
  });

  it('metadata() refreshes the cache of topics, partitions and leaders with their epochs', async () => {
    const { broker, listener } = await serve({ autoCreateTopics: true });
    await broker.createTopic('t', { partitions: 2 });
    await broker.createTopic('u');
    const c = await connect([listener.address]);
    expect(c.topic('t')).toBeUndefined();
    const md = await c.metadata(['t', 'missing']);
    expect(md.topics.find((t) => t.name === 'missing')!.errorCode).toBe(3);
    expect(c.topic('missing')).toBeUndefined();
    expect(c.topic('t')!.partitions).toHaveLength(2);
    const nodeId = c.nodes[0]!.nodeId;
    expect(c.leaderFor('t', 1)).toEqual({ leaderId: nodeId, leaderEpoch: expect.any(Number) });
    expect(c.leaderFor('t', 2)).toBeUndefined();
    expect(c.leaderFor('u', 0)).toBeUndefined();
    await c.metadata();
    expect(c.topic('u')).toBeDefined();
    expect((await c.metadata(['auto'], true)).topics[0]).toMatchObject({ name: 'auto', errorCode: 0 });
    expect(broker.listTopics()).toContain('auto');
    await broker.deleteTopic('u');
    await c.metadata(['u']);
    expect(c.topic('u')).toBeUndefined();
  });

  it('sends to the leader (LEADER_NOT_AVAILABLE, retriable, when the metadata names none); a long-poll Fetch does not hold up a Produce behind it', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    await broker.createTopic('other');
    const c = await connect([listener.address]);
    const none = await expectError(() => c.sendToLeader('t', 0, ApiKey.Produce, produceRequest('t', 0, clientBatch(['x']))), 'LEADER_NOT_AVAILABLE', /t-0 has no leader/);
    expect(none.retriable).toBe(true);
    await c.metadata(['t', 'other']);
    const longPoll = c.sendToLeader('t', 0, ApiKey.Fetch, fetchFrom(c, 't', 0, 60_000));
    // Answered in order on one connection, this would wait out the long poll: Fetches have a lane of their own.
    const elsewhere = await c.sendToLeader('other', 0, ApiKey.Produce, produceRequest('other', 0, clientBatch(['o'])));
    expect(elsewhere!.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    const produced = await c.sendToLeader('t', 0, ApiKey.Produce, produceRequest('t', 0, clientBatch(['a', 'b'])));
    expect(produced!.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const fetched = (await longPoll).responses[0]!.partitions[0]!;
    expect(fetched).toMatchObject({ errorCode: 0, highWatermark: 2 });
    expect(fetched.records!.length).toBeGreaterThan(0);
    expect((await c.sendToAny(ApiKey.Metadata, { topics: [] })).brokers).toHaveLength(1);
  });

  it('opens one connection per node and lane, shared by concurrent first uses, and replaces a dead one on next use', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const c = await connect([listener.address]);
    await c.metadata(['t']);
    const nodeId = c.nodes[0]!.nodeId;
    const [a, b] = await Promise.all([c.connection(nodeId, 'fetch'), c.connection(nodeId, 'fetch')]);
    expect(a).toBe(b);
    const main = await c.connection(nodeId);
    expect(main).not.toBe(a);
    expect(await c.connection(nodeId)).toBe(main);
    await expectError(() => c.connection(42), 'NETWORK_ERROR', /node 42 is not in the cluster metadata/);

    const longPoll = c.sendToLeader('t', 0, ApiKey.Fetch, fetchFrom(c, 't', 0, 60_000));
    const port = Number(listener.address.split(':')[1]);
    await listener.close();
    const lost = await expectError(() => longPoll, 'NETWORK_ERROR', /was lost/);
    expect(lost.retriable).toBe(true);
    await broker.listen({ port });
    const produced = await c.sendToLeader('t', 0, ApiKey.Produce, produceRequest('t', 0, clientBatch(['after'])));
    expect(produced!.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    expect(await c.connection(nodeId)).not.toBe(main);
    expect(main.isClosed).toBe(true);
  });

  it('finds coordinators by FindCoordinator, caches them until forgotten', async () => {
    const { listener } = await serve();
    const c = await connect([listener.address]);
    const group = await c.coordinator('group', 'g');
    expect(group).toMatchObject({ key: 'g', errorCode: 0, nodeId: c.nodes[0]!.nodeId });
    expect(await c.coordinator('group', 'g')).toBe(group);
    c.forgetCoordinator('group', 'g');
    const again = await c.coordinator('group', 'g');
    expect(again).not.toBe(group);
    expect(again).toEqual(group);
    expect(await c.coordinator('transaction', 'tx')).toMatchObject({ key: 'tx', errorCode: 0 });
    const offsets = await c.sendToNode(group.nodeId, ApiKey.OffsetFetch, { groupId: 'g', topics: null, groups: [{ groupId: 'g', topics: null }] });
    expect(offsets.errorCode).toBe(0);
  });

  it('reads FindCoordinator before v4, and connects to a coordinator the metadata did not name', async () => {
    const fake = await fakeBroker((req) => {
      if (req.apiKey === ApiKey.ApiVersions) {
        answerApiVersions(req, [
          { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 9 },
          { apiKey: ApiKey.FindCoordinator, minVersion: 0, maxVersion: 3 },
        ]);
      } else if (req.apiKey === ApiKey.Metadata) {
        req.reply({ brokers: [{ nodeId: 1, host: fake.host, port: fake.port }], clusterId: 'c', controllerId: 1, topics: [] });
      } else if (req.apiKey === ApiKey.FindCoordinator) {
        const { key } = req.request as { key: string };
        req.reply(key === 'busy' ? { errorCode: 14, nodeId: -1, host: '', port: -1 } : { errorCode: 0, nodeId: 7, host: fake.host, port: fake.port });
      }
    });
    const c = await connect([fake.address]);
    expect(await c.coordinator('group', 'busy')).toMatchObject({ errorCode: 14 });
    expect(ClusterClient.isRetriable(14)).toBe(true);
    const found = await c.coordinator('group', 'g');
    expect(found).toMatchObject({ key: 'g', errorCode: 0, nodeId: 7, port: fake.port });
    expect((await c.connection(7)).address).toBe(fake.address);
  });

  it('close() is idempotent, rejects what is in flight with CLOSED and every later call', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const c = await connect([listener.address]);
    await c.metadata(['t']);
    const longPoll = c.sendToLeader('t', 0, ApiKey.Fetch, fetchFrom(c, 't', 0, 60_000));
    await Promise.all([c.close(), c.close()]);
    await expectError(() => longPoll, 'CLOSED');
    await expectError(() => c.metadata(), 'CLOSED');
    await expectError(() => c.connection(c.nodes[0]!.nodeId), 'CLOSED');
    await expectError(() => c.coordinator('group', 'g'), 'CLOSED');
  });

  it('isRetriable: the metadata, coordinator, timeout and replica errors are; the others are not', () => {
    for (const code of [3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 51, 56, 74]) expect(ClusterClient.isRetriable(code), `code ${code}`).toBe(true);
    for (const code of [-1, 0, 1, 2 ** 15, 10, 22, 25, 27, 35, 47, 58, 90]) expect(ClusterClient.isRetriable(code), `code ${code}`).toBe(false);
  });
});

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});
