/**
 * KafkaJS' admin client (kafka.js.org/docs/admin), used as its docs use it; only the import differs.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokers, countdown } from './helpers.js';
import {
  ConfigResourceTypes,
  Kafka,
  KafkaJSAggregateError,
  KafkaJSDeleteGroupsError,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  closeAllClusters,
  resetCluster,
  type Admin,
  type Consumer,
  type Producer,
} from 'kafkalite/kafkajs';

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const consumers: Consumer[] = [];

beforeEach(async () => {
  kafka = new Kafka({ clientId: 'admin-app', brokers: brokers() });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
});

afterEach(async () => {
  for (const c of consumers.splice(0)) await c.disconnect();
  await producer.disconnect();
  await admin.disconnect();
  await resetCluster(kafka);
});

afterAll(() => closeAllClusters());

/** A group that consumed `topic` to its end and left, as a KafkaJS consumer would. */
async function consumeAll(groupId: string, topic: string, count: number): Promise<void> {
  const consumer = kafka.consumer({ groupId });
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = countdown(count);
  await consumer.run({ eachMessage: async () => done.tick() });
  await done.done;
  await consumer.disconnect();
}

describe('topics', () => {
  it('creates, lists, describes and deletes topics', async () => {
    expect(
      await admin.createTopics({
        topics: [
          { topic: 'orders', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] },
          { topic: 'payments' },
        ],
      }),
    ).toBe(true);
    expect(await admin.listTopics()).toEqual(['orders', 'payments']);
    expect(await admin.createTopics({ topics: [{ topic: 'orders' }] })).toBe(false); // exists already

    const { topics } = await admin.fetchTopicMetadata({ topics: ['orders'] });
    expect(topics).toEqual([
      {
        name: 'orders',
        partitions: [0, 1, 2].map((partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] })),
      },
    ]);
    expect((await admin.fetchTopicMetadata()).topics.map((t) => t.name)).toEqual(['orders', 'payments']);

    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'orders', configNames: ['retention.ms', 'cleanup.policy'] }],
    });
    expect(resources[0]!.configEntries.map(({ configName, configValue, isDefault }) => ({ configName, configValue, isDefault }))).toEqual([
      { configName: 'cleanup.policy', configValue: 'delete', isDefault: true },
      { configName: 'retention.ms', configValue: '3600000', isDefault: false },
    ]);

    await admin.deleteTopics({ topics: ['payments'] });
    expect(await admin.listTopics()).toEqual(['orders']);
  });

  it('answers bad requests with KafkaJS errors', async () => {
    await expect(admin.createTopics({ topics: [{ topic: 'dup' }, { topic: 'dup' }] })).rejects.toThrow(
      'Invalid topics array, it cannot have multiple entries for the same topic',
    );
    const invalid = await admin.createTopics({ topics: [{ topic: 'bad name!' }] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(KafkaJSAggregateError);
    expect((invalid as KafkaJSAggregateError).errors[0]).toMatchObject({ name: 'KafkaJSCreateTopicError', type: 'INVALID_TOPIC_EXCEPTION', topic: 'bad name!' });

    const unknown = await admin.fetchTopicMetadata({ topics: ['nope'] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(KafkaJSProtocolError);
    expect(unknown).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, message: 'This server does not host this topic-partition' });
    await expect(admin.deleteTopics({ topics: ['nope'] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(admin.fetchTopicOffsets('')).rejects.toBeInstanceOf(KafkaJSNonRetriableError);
  });

  it('adds partitions with createPartitions', async () => {
    await admin.createTopics({ topics: [{ topic: 'grow', numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 4 }] });
    expect((await admin.fetchTopicMetadata({ topics: ['grow'] })).topics[0]!.partitions).toHaveLength(4);
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 2 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
  });
});

describe('offsets', () => {
  it('fetches topic offsets as strings', async () => {
    await admin.createTopics({ topics: [{ topic: 'offsets', numPartitions: 2 }] });
    await producer.send({ topic: 'offsets', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }] });
    expect(await admin.fetchTopicOffsets('offsets')).toEqual([
      { partition: 0, offset: '2', high: '2', low: '0' },
      { partition: 1, offset: '1', high: '1', low: '0' },
    ]);
  });

  it('finds offsets by timestamp', async () => {
    await producer.send({
      topic: 'timeline',
      messages: [
        { value: 'a', timestamp: '1000' },
        { value: 'b', timestamp: '2000' },
        { value: 'c', timestamp: '3000' },
      ],
    });
    expect(await admin.fetchTopicOffsetsByTimestamp('timeline', 1500)).toEqual([{ partition: 0, offset: '1' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('timeline', 1000)).toEqual([{ partition: 0, offset: '0' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('timeline', 9000)).toEqual([{ partition: 0, offset: '3' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('timeline')).toEqual([{ partition: 0, offset: '3' }]);
  });

  it("fetches, sets and resets a group's offsets", async () => {
    await admin.createTopics({ topics: [{ topic: 'ledger', numPartitions: 2 }] });
    await producer.send({ topic: 'ledger', messages: ['a', 'b', 'c'].map((value) => ({ value, partition: 0 })) });
    await consumeAll('auditors', 'ledger', 3);

    expect(await admin.fetchOffsets({ groupId: 'auditors', topics: ['ledger'] })).toEqual([
      {
        topic: 'ledger',
        partitions: [
          { partition: 0, offset: '3', metadata: null },
          { partition: 1, offset: '-1', metadata: null },
        ],
      },
    ]);
    // Without topics: every topic the group has offsets for, partitions with offsets only.
    expect(await admin.fetchOffsets({ groupId: 'auditors' })).toEqual([{ topic: 'ledger', partitions: [{ partition: 0, offset: '3', metadata: null }] }]);

    await admin.setOffsets({ groupId: 'auditors', topic: 'ledger', partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '0' }] });
    expect((await admin.fetchOffsets({ groupId: 'auditors', topics: ['ledger'] }))[0]!.partitions.map((p) => p.offset)).toEqual(['1', '0']);

    await admin.resetOffsets({ groupId: 'auditors', topic: 'ledger', earliest: false });
    expect((await admin.fetchOffsets({ groupId: 'auditors', topics: ['ledger'] }))[0]!.partitions.map((p) => p.offset)).toEqual(['3', '0']);
    await admin.resetOffsets({ groupId: 'auditors', topic: 'ledger', earliest: true });
    expect((await admin.fetchOffsets({ groupId: 'auditors', topics: ['ledger'] }))[0]!.partitions.map((p) => p.offset)).toEqual(['0', '0']);

    // A consumer of the group now starts over.
    const replay = kafka.admin();
    const again = countdown(3);
    const consumer = kafka.consumer({ groupId: 'auditors' });
    consumers.push(consumer);
    await consumer.subscribe({ topic: 'ledger' });
    await consumer.run({ eachMessage: async () => again.tick() });
    await again.done;
    await expect(replay.setOffsets({ groupId: 'auditors', topic: 'ledger', partitions: [{ partition: 0, offset: '0' }] })).rejects.toThrow(
      'The consumer group must have no running instances, current state: Stable',
    );
  });

  it('resolves -1 to the high watermark with resolveOffsets', async () => {
    await producer.send({ topic: 'fresh', messages: [{ value: 'a' }, { value: 'b' }] });
    expect(await admin.fetchOffsets({ groupId: 'newcomers', topics: ['fresh'], resolveOffsets: true })).toEqual([
      { topic: 'fresh', partitions: [{ partition: 0, offset: '2', metadata: null }] },
    ]);
    expect(await admin.fetchOffsets({ groupId: 'newcomers', topics: ['fresh'] })).toEqual([
      { topic: 'fresh', partitions: [{ partition: 0, offset: '2', metadata: null }] },
    ]);
  });

  it('deletes records before an offset with deleteTopicRecords (-1: the high watermark), as Kafka does', async () => {
    await admin.createTopics({ topics: [{ topic: 'records', numPartitions: 2 }] });
    await producer.send({ topic: 'records', messages: ['a', 'b', 'c', 'd'].map((value) => ({ value, partition: 0 })) });
    await producer.send({ topic: 'records', messages: ['x', 'y'].map((value) => ({ value, partition: 1 })) });
    await admin.deleteTopicRecords({ topic: 'records', partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '-1' }] });
    expect(await admin.fetchTopicOffsets('records')).toEqual([
      { partition: 0, offset: '4', high: '4', low: '2' },
      { partition: 1, offset: '2', high: '2', low: '2' },
    ]);
    // Records below the new log start are gone for every reader: a group starting from the beginning reads c, d.
    const read: string[] = [];
    const done = countdown(2);
    const consumer = kafka.consumer({ groupId: 'after-delete' });
    consumers.push(consumer);
    await consumer.subscribe({ topic: 'records', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void (read.push(message.value!.toString()), done.tick()) });
    await done.done;
    expect(read).toEqual(['c', 'd']);
    // Below the log start: nothing to delete, nothing fails.
    await admin.deleteTopicRecords({ topic: 'records', partitions: [{ partition: 0, offset: '1' }] });
    expect((await admin.fetchTopicOffsets('records'))[0]!.low).toBe('2');
  });

  it('refuses, per partition, offsets past the high watermark and partitions that do not exist; deletes the rest', async () => {
    await admin.createTopics({ topics: [{ topic: 'bounds', numPartitions: 2 }] });
    await producer.send({ topic: 'bounds', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] });
    const error = await admin
      .deleteTopicRecords({ topic: 'bounds', partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '1' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'KafkaJSDeleteTopicRecordsError' });
    expect((error as { partitions: { partition: number; error: { type: string } }[] }).partitions.map((p) => [p.partition, p.error.type])).toEqual([[0, 'OFFSET_OUT_OF_RANGE']]);
    expect((await admin.fetchTopicOffsets('bounds')).map((o) => o.low)).toEqual(['0', '1']); // partition 1 was deleted
    await expect(admin.deleteTopicRecords({ topic: 'bounds', partitions: [{ partition: 7, offset: '1' }] })).rejects.toMatchObject({
      name: 'KafkaJSDeleteTopicRecordsError',
      partitions: [{ partition: 7, error: { name: 'KafkaJSBrokerNotFound' } }],
    });
    await expect(admin.deleteTopicRecords({ topic: 'nope', partitions: [{ partition: 0, offset: '1' }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('finds offsets by timestamp after the log start moved, and takes Kafka\'s -1 / -2', async () => {
    await producer.send({ topic: 'moved', messages: [1000, 2000, 3000].map((t) => ({ value: String(t), timestamp: String(t) })) });
    await admin.deleteTopicRecords({ topic: 'moved', partitions: [{ partition: 0, offset: '2' }] });
    expect(await admin.fetchTopicOffsetsByTimestamp('moved', 500)).toEqual([{ partition: 0, offset: '2' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('moved', -1)).toEqual([{ partition: 0, offset: '3' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('moved', -2)).toEqual([{ partition: 0, offset: '2' }]);
  });
});

describe('topic configs', () => {
  const entries = (resources: { configEntries: { configName: string; configValue: string; isDefault: boolean }[] }[]) =>
    Object.fromEntries(resources[0]!.configEntries.map(({ configName, configValue, isDefault }) => [configName, `${configValue}${isDefault ? ' (default)' : ''}`]));
  const configsOf = async (name: string) =>
    entries((await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name }] })).resources);

  it("describes a topic's configs by Kafka's names", async () => {
    await admin.createTopics({ topics: [{ topic: 'configured', configEntries: [{ name: 'retention.ms', value: '60000' }, { name: 'cleanup.policy', value: 'compact' }] }] });
    expect(await configsOf('configured')).toEqual({
      'cleanup.policy': 'compact',
      'delete.retention.ms': '86400000 (default)',
      'max.message.bytes': '1048576 (default)',
      'min.cleanable.dirty.ratio': '0.5 (default)',
      'retention.bytes': '-1 (default)',
      'retention.ms': '60000',
      'segment.bytes': '1073741824 (default)',
    });
    await admin.createTopics({ topics: [{ topic: 'both', configEntries: [{ name: 'cleanup.policy', value: 'delete,compact' }, { name: 'min.cleanable.dirty.ratio', value: '0.2' }, { name: 'delete.retention.ms', value: '10' }] }] });
    expect(await configsOf('both')).toMatchObject({ 'cleanup.policy': 'compact,delete', 'min.cleanable.dirty.ratio': '0.2', 'delete.retention.ms': '10' });
  });

  it('alters configs as Kafka\'s AlterConfigs does: the entries given replace the rest, which go back to their defaults', async () => {
    await admin.createTopics({ topics: [{ topic: 'altered', configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
    const result = await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'altered', configEntries: [{ name: 'max.message.bytes', value: '100' }, { name: 'min.insync.replicas', value: '2' }] }],
    });
    expect(result).toEqual({ resources: [{ errorCode: 0, errorMessage: null, resourceType: ConfigResourceTypes.TOPIC, resourceName: 'altered' }] });
    expect(await configsOf('altered')).toMatchObject({ 'max.message.bytes': '100', 'retention.ms': '604800000 (default)' });
    // In effect at once: a message larger than the topic's max.message.bytes is refused.
    await expect(producer.send({ topic: 'altered', messages: [{ value: 'x'.repeat(200) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
  });

  it('checks without changing anything with validateOnly, and refuses bad configs, unknown topics and broker configs', async () => {
    await admin.createTopics({ topics: [{ topic: 'checked', configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
    const alter = (name: string, configEntries: { name: string; value: string }[], validateOnly = false) =>
      admin.alterConfigs({ validateOnly, resources: [{ type: ConfigResourceTypes.TOPIC, name, configEntries }] });
    await alter('checked', [{ name: 'retention.ms', value: '1' }], true);
    expect(await configsOf('checked')).toMatchObject({ 'retention.ms': '60000' });
    await expect(alter('checked', [{ name: 'retention.ms', value: 'soon' }])).rejects.toMatchObject({ name: 'KafkaJSProtocolError', type: 'INVALID_CONFIG' });
    await expect(alter('checked', [{ name: 'no.such.config', value: '1' }])).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(alter('checked', [{ name: 'segment.bytes', value: '1' }])).rejects.toMatchObject({ type: 'INVALID_CONFIG' }); // below Kafka's minimum
    expect(await configsOf('checked')).toMatchObject({ 'retention.ms': '60000' }); // a refused alter changes nothing
    await expect(alter('nope', [])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '0', configEntries: [] }] })).rejects.toThrow(
      /admin.alterConfigs of a resource of type 4 \("0"\) is not supported by kafkalite\/kafkajs yet: the in-process cluster has topic configs only/,
    );
    await expect(admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'checked', configEntries: [{ name: 'retention.ms', value: 1 as never }] }] })).rejects.toThrow(
      'Invalid resource config value',
    );
  });
});

describe('groups and cluster', () => {
  it('lists and describes groups', async () => {
    await producer.send({ topic: 'audit', messages: [{ value: 'a' }] });
    await consumeAll('done-group', 'audit', 1);
    const running = kafka.consumer({ groupId: 'live-group' });
    consumers.push(running);
    await running.subscribe({ topic: 'audit', fromBeginning: true });
    await running.run({ eachMessage: async () => {} });

    expect(await admin.listGroups()).toEqual({
      groups: [
        { groupId: 'done-group', protocolType: 'consumer' },
        { groupId: 'live-group', protocolType: 'consumer' },
      ],
    });
    const { groups } = await admin.describeGroups(['live-group', 'done-group', 'never-seen']);
    expect(groups.map(({ groupId, state, protocol, protocolType, members }) => ({ groupId, state, protocol, protocolType, members: members.length }))).toEqual([
      { groupId: 'live-group', state: 'Stable', protocol: 'RoundRobinAssigner', protocolType: 'consumer', members: 1 },
      { groupId: 'done-group', state: 'Empty', protocol: '', protocolType: 'consumer', members: 0 },
      { groupId: 'never-seen', state: 'Dead', protocol: '', protocolType: '', members: 0 },
    ]);
    const member = groups[0]!.members[0]!;
    expect(member.clientId).toBe('admin-app');
    expect(member.memberId).toMatch(/^admin-app-/);
    // The member's assignment, in Kafka's consumer protocol encoding.
    const { AssignerProtocol } = await import('kafkalite/kafkajs');
    expect(AssignerProtocol.MemberAssignment.decode(member.memberAssignment)).toEqual({ version: 0, assignment: { audit: [0] }, userData: Buffer.alloc(0) });
    expect(AssignerProtocol.MemberMetadata.decode(member.memberMetadata)).toMatchObject({ topics: ['audit'] });
    expect(await running.describeGroup()).toMatchObject({ groupId: 'live-group', state: 'Stable' });
  });

  it('deletes an empty group and its committed offsets with deleteGroups', async () => {
    await producer.send({ topic: 'done', messages: [{ value: 'a' }] });
    await consumeAll('finished', 'done', 1);
    expect(await admin.fetchOffsets({ groupId: 'finished' })).toEqual([{ topic: 'done', partitions: [{ partition: 0, offset: '1', metadata: null }] }]);
    expect(await admin.deleteGroups(['finished'])).toEqual([{ groupId: 'finished', errorCode: 0 }]);
    expect(await admin.fetchOffsets({ groupId: 'finished' })).toEqual([]);
    expect((await admin.describeGroups(['finished'])).groups[0]!.state).toBe('Dead');
    expect((await admin.listGroups()).groups).toEqual([]);
  });

  it("answers deleteGroups as Kafka does for groups it would not delete, deleting the others", async () => {
    await producer.send({ topic: 'g', messages: [{ value: 'a' }] });
    await consumeAll('idle', 'g', 1);
    const running = kafka.consumer({ groupId: 'busy' });
    consumers.push(running);
    await running.subscribe({ topic: 'g' });
    await running.run({ eachMessage: async () => {} });
    const error = await admin.deleteGroups(['busy', 'ghost', 'idle']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaJSDeleteGroupsError);
    expect((error as KafkaJSDeleteGroupsError).groups.map(({ groupId, errorCode }) => ({ groupId, errorCode }))).toEqual([
      { groupId: 'busy', errorCode: 68 },
      { groupId: 'ghost', errorCode: 69 },
    ]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toEqual(['busy']); // 'idle' was deleted
  });

  it('describes the cluster from the brokers list', async () => {
    const described = await kafka.admin().describeCluster();
    expect(described.brokers).toHaveLength(2);
    expect(described.brokers[0]).toMatchObject({ nodeId: 0, port: 9092 });
    expect(described.controller).toBe(0);
    expect(described.clusterId).toMatch(/^kafkalite-/);
  });

  it('emits CONNECT and DISCONNECT', async () => {
    const other = kafka.admin();
    const types: string[] = [];
    other.on(other.events.CONNECT, (e) => types.push(e.type));
    other.on(other.events.DISCONNECT, (e) => types.push(e.type));
    await other.connect();
    await other.disconnect();
    expect(types).toEqual(['admin.connect', 'admin.disconnect']);
  });
});

describe('not supported yet (docs/kafkajs.md)', () => {
  it('refuses each remaining call with a KafkaJSNonRetriableError that says why', async () => {
    const refusals = [
      admin.createAcls({ acl: [{ resourceType: 2, resourceName: 't', resourcePatternType: 3, principal: 'User:a', host: '*', operation: 3, permissionType: 3 }] as never }),
      admin.alterPartitionReassignments({ topics: [{ topic: 't', partitionAssignment: [{ partition: 0, replicas: [0] }] }] }),
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '0', configEntries: [] }] }),
    ];
    const reasons: string[] = [];
    for (const refusal of refusals) {
      const error = await refusal.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KafkaJSNonRetriableError);
      reasons.push((error as Error).message);
    }
    for (const reason of reasons) expect(reason).toMatch(/ is not supported by kafkalite\/kafkajs yet: \S.{10,}/);
  });
});
