/**
 * @platformatic/kafka 1.x, a client that speaks the flexible versions, against the listener:
 * metadata, produce, a direct fetch (no group) and admin calls; a recording proxy checks on the
 * wire that it used ApiVersions v3 and flexible Metadata, Produce and Fetch (v13, topic ids).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { ApiKey } from '../../../src/wire/protocol/index.js';
import { serve } from '../listener-helpers.js';
import { recordingProxy, type RecordingProxy } from './recording-proxy.js';

const proxies: RecordingProxy[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const p of proxies.splice(0)) await p.close();
});

/**
 * A broker whose listener is reached only through a recording proxy: the listener binds
 * 127.0.0.2:P and advertises 127.0.0.1, where the proxy listens on the same port P.
 */
async function proxied() {
  for (let attempt = 0; ; attempt++) {
    const served = await serve({}, { host: '127.0.0.2', advertisedHost: '127.0.0.1' });
    const port = Number(served.listener.address.split(':')[1]);
    try {
      const proxy = await recordingProxy(port, '127.0.0.2', port);
      proxies.push(proxy);
      return { ...served, proxy, bootstrap: `127.0.0.1:${port}` };
    } catch (error) {
      if (attempt >= 5) throw error; // that port is taken on 127.0.0.1: try another
    }
  }
}

/** Kafka's base64url topic id as the UUID text @platformatic/kafka shows it. */
const asUuid = (id: string): string => Buffer.from(id, 'base64url').toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

describe('@platformatic/kafka', () => {
  it('produces and fetches over flexible versions, with topic ids', async () => {
    const { broker, bootstrap, proxy } = await proxied();
    await broker.createTopic('flex', { partitions: 2 });
    const producer = new Producer({ clientId: 'plt', bootstrapBrokers: [bootstrap], serializers: stringSerializers, autocreateTopics: false, retries: 0 });
    closers.push(() => producer.close());
    const sent = await producer.send({ acks: -1, messages: [{ topic: 'flex', key: 'k', value: 'hello', partition: 1, headers: { h: 'v' } }] });
    expect(sent.offsets?.[0]).toMatchObject({ topic: 'flex', partition: 1, offset: 0n });
    const records = await broker.topic('flex').partition(1).read(0);
    expect(records.map((r) => [r.key!.toString(), r.value!.toString(), r.headers.h!.toString()])).toEqual([['k', 'hello', 'v']]);
    await broker.producer().send({ topic: 'flex', messages: [{ value: 'from node', partition: 1 }] });

    const consumer = new Consumer({ clientId: 'plt', groupId: 'unused', bootstrapBrokers: [bootstrap], deserializers: stringDeserializers, retries: 0 });
    closers.push(async () => consumer.close(true));
    const metadata = await consumer.metadata({ topics: ['flex'] });
    expect(metadata.topics.get('flex')!.id).toBe(asUuid(broker.topic('flex').id));
    const fetched = await consumer.fetch({
      node: 0,
      topics: [{ topicId: metadata.topics.get('flex')!.id, partitions: [{ partition: 1, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
    });
    const partition = fetched.responses[0]!.partitions[0]!;
    expect(partition.errorCode).toBe(0);
    expect(partition.highWatermark).toBe(2n);
    const values = (partition.records ?? []).flatMap((b) => b.records.map((r) => r.value!.toString()));
    expect(values).toEqual(['hello', 'from node']);

    const used = (key: number) => [...(proxy.seen.get(key) ?? [])];
    expect(used(ApiKey.ApiVersions)).toEqual([3]);
    expect(Math.min(...used(ApiKey.Metadata))).toBeGreaterThanOrEqual(9);
    expect(used(ApiKey.Produce)).toEqual([11]);
    expect(used(ApiKey.Fetch)).toEqual([13]);
  });

  it('admin: creates, lists, grows and deletes topics; lists groups', async () => {
    const { broker, bootstrap, proxy } = await proxied();
    const admin = new Admin({ clientId: 'plt-admin', bootstrapBrokers: [bootstrap], retries: 0 });
    closers.push(() => admin.close());
    const created = await admin.createTopics({ topics: ['adm'], partitions: 2, replicas: 1 });
    expect(created[0]).toMatchObject({ name: 'adm', partitions: 2, id: asUuid(broker.topic('adm').id) });
    expect(await admin.listTopics()).toEqual(['adm']);
    await admin.createPartitions({ topics: [{ name: 'adm', count: 3 }] });
    expect(broker.topic('adm').partitions).toHaveLength(3);
    await broker.group('g').resetOffsets({ topic: 'adm', to: 'earliest' });
    const groups = await admin.listGroups();
    expect([...groups.keys()]).toEqual(['g']);
    await admin.deleteTopics({ topics: ['adm'] });
    expect(broker.listTopics()).toEqual([]);
    expect([...(proxy.seen.get(ApiKey.CreateTopics) ?? [])]).toEqual([7]);
    expect([...(proxy.seen.get(ApiKey.DeleteTopics) ?? [])]).toEqual([6]);
  });
});
