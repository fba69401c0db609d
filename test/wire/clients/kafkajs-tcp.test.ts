/**
 * The real KafkaJS package (not kafkalite/kafkajs) against the listener over TCP: producer (acks
 * -1, 1, gzip), admin topic and config calls, offsets by time, group offsets (a manual commit
 * through KafkaJS' own OffsetCommit request, generation -1 and no member; `admin.setOffsets` and
 * `resetOffsets`, which join the group first). Group consumers: groups.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import type { PartitionState } from '../../../src/topic/partition.js';
import { serve } from '../listener-helpers.js';
import { kcat, requireKcat } from './tools.js';

function kafka(address: string): Kafka {
  return new Kafka({ brokers: [address], clientId: 'kafkajs-tcp', logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

/** KafkaJS' cluster behind a Kafka instance: its brokers speak KafkaJS' protocol code, which the public API keeps for groups. */
async function kafkajsCluster(k: Kafka) {
  const create = Object.getOwnPropertySymbols(k).find((s) => s.description === 'private:Kafka:createCluster')!;
  const cluster = (k as unknown as Record<symbol, (o: object) => KafkaJsCluster>)[create]!({});
  await cluster.connect();
  return cluster;
}
interface KafkaJsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(o: { groupId: string }): Promise<{
    offsetCommit(o: { groupId: string; groupGenerationId: number; memberId: string; retentionTime?: number; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<{
      responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[];
    }>;
  }>;
}

describe('KafkaJS over TCP', () => {
  it('produces with acks -1 and 1, keyed by murmur2 as in-process producers are', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t', { partitions: 4 });
    const producer = kafka(listener.address).producer();
    await producer.connect();
    const all = await producer.send({ topic: 't', acks: -1, messages: [{ key: 'user-1', value: 'a', headers: { h: 'x' } }] });
    const one = await producer.send({ topic: 't', acks: 1, messages: [{ key: 'user-1', value: 'b' }] });
    await producer.disconnect();
    const { partition } = (await broker.producer().send({ topic: 't', messages: [{ key: 'user-1', value: 'c' }] }))[0]!;
    expect(all[0]).toMatchObject({ partition, errorCode: 0, baseOffset: '0' });
    expect(one[0]).toMatchObject({ partition, errorCode: 0, baseOffset: '1' });
    const records = await broker.topic('t').partition(partition).read(0);
    expect(records.map((r) => [r.offset, r.key!.toString(), r.value!.toString()])).toEqual([
      [0, 'user-1', 'a'],
      [1, 'user-1', 'b'],
      [2, 'user-1', 'c'],
    ]);
    expect(records[0]!.headers.h!.toString()).toBe('x');
  });

  it('a gzip batch from KafkaJS is stored compressed, and kcat and in-process readers read it', async () => {
    requireKcat();
    const { broker, listener } = await serve();
    await broker.createTopic('z');
    const producer = kafka(listener.address).producer();
    await producer.connect();
    await producer.send({ topic: 'z', compression: CompressionTypes.GZIP, messages: [{ key: 'k', value: 'zipped one' }, { value: 'zipped two' }] });
    await producer.disconnect();
    const [batch] = await (broker.topic('z').partition(0) as PartitionState).readBatches(0, 1 << 20);
    expect(batch![22]! & 7).toBe(1);
    const r = await kcat(['-b', listener.address, '-C', '-t', 'z', '-o', 'beginning', '-e', '-f', '%o %k %s\\n']);
    expect(r.stdout.split('\n').filter((l) => /^\d/.test(l))).toEqual(['0 k zipped one', '1  zipped two']);
    expect((await broker.topic('z').partition(0).read(0)).map((x) => x.value!.toString())).toEqual(['zipped one', 'zipped two']);
  });

  it('admin: create, describe configs, grow, offsets (also by time), delete records, delete', async () => {
    const { broker, listener } = await serve();
    const admin = kafka(listener.address).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '60000' }] }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'a' }] })).toBe(false); // exists
    expect(broker.topic('a').config).toMatchObject({ partitions: 2, retentionMs: 60000 });
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'a', configNames: ['retention.ms', 'cleanup.policy'] }] });
    expect(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue])).toEqual([
      ['retention.ms', '60000'],
      ['cleanup.policy', 'delete'],
    ]);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'a', configEntries: [{ name: 'max.message.bytes', value: '5000' }] }] });
    expect(broker.topic('a').config).toMatchObject({ maxMessageBytes: 5000, retentionMs: 604_800_000 });
    await admin.createPartitions({ topicPartitions: [{ topic: 'a', count: 3 }] });
    expect(broker.topic('a').partitions).toHaveLength(3);
    const p = broker.producer();
    for (let i = 0; i < 4; i++) await p.send({ topic: 'a', messages: [{ value: `${i}`, partition: 0, timestamp: 1000 * (i + 1) }] });
    expect(await admin.fetchTopicOffsets('a')).toEqual([
      { partition: 0, offset: '4', high: '4', low: '0' },
      { partition: 1, offset: '0', high: '0', low: '0' },
      { partition: 2, offset: '0', high: '0', low: '0' },
    ]);
    const byTime = await admin.fetchTopicOffsetsByTimestamp('a', 2500);
    expect(byTime.find((x) => x.partition === 0)).toEqual({ partition: 0, offset: '2' });
    await admin.deleteTopicRecords({ topic: 'a', partitions: [{ partition: 0, offset: '3' }] });
    expect(broker.topic('a').partition(0).logStartOffset).toBe(3);
    const md = await admin.fetchTopicMetadata({ topics: ['a'] });
    expect(md.topics[0]!.partitions).toHaveLength(3);
    await admin.deleteTopics({ topics: ['a'] });
    expect(broker.listTopics()).toEqual([]);
    await admin.disconnect();
  });

  it('group offsets: a manual commit through KafkaJS is what broker.group(id).committed reads; admin.fetchOffsets reads in-process commits; admin.setOffsets joins and commits; groups are listed, described and deleted', { timeout: 60_000 }, async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const k = kafka(listener.address);
    const cluster = await kafkajsCluster(k);
    const coordinator = await cluster.findGroupCoordinator({ groupId: 'billing' });
    const r = await coordinator.offsetCommit({ groupId: 'billing', groupGenerationId: -1, memberId: '', topics: [{ topic: 't', partitions: [{ partition: 1, offset: '7' }] }] });
    expect(r.responses[0]!.partitions[0]!.errorCode).toBe(0);
    await cluster.disconnect();
    expect(await broker.group('billing').committed({ topic: 't', partition: 1 })).toBe(7);
    const consumer = broker.consumer({ groupId: 'audit', autoCommit: false });
    await consumer.assign([{ topic: 't', partition: 0 }]);
    await consumer.commit([{ topic: 't', partition: 0, offset: 3 }]);
    await consumer.close();
    const admin = k.admin();
    await admin.connect();
    const fetched = await admin.fetchOffsets({ groupId: 'audit', topics: ['t'] });
    expect(fetched.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.offset])])).toEqual([
      [
        't',
        [
          [0, '3'],
          [1, '-1'],
        ],
      ],
    ]);
    // setOffsets (and resetOffsets, which calls it) joins the group (JoinGroup/SyncGroup) before
    // it commits, then waits out one paused fetch (KafkaJS' maxWaitTime, 5 s) before it leaves.
    await admin.setOffsets({ groupId: 'audit', topic: 't', partitions: [{ partition: 1, offset: '2' }] });
    expect(await broker.group('audit').committed({ topic: 't', partition: 1 })).toBe(2);
    expect(await broker.group('audit').committed({ topic: 't', partition: 0 })).toBe(3);
    expect(broker.group('audit').members()).toEqual([]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId).sort()).toEqual(['audit', 'billing']);
    const { groups } = await admin.describeGroups(['billing', 'nobody']);
    expect(groups.map((g) => [g.groupId, g.state])).toEqual([
      ['billing', 'Empty'],
      ['nobody', 'Dead'],
    ]);
    await admin.deleteGroups(['billing']);
    expect(broker.listGroups()).toEqual(['audit']);
    await admin.disconnect();
  });
});
