/** The admin and group APIs over the wire, with a bare client; each checked against the in-process view. */
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/wire/protocol/index.js';
import { clientBatch, produceRequest, serve } from './listener-helpers.js';

const topic = (name: string, numPartitions = 1, extra: { replicationFactor?: number; configs?: { name: string; value: string | null }[]; assignments?: { partitionIndex: number; brokerIds: number[] }[] } = {}) => ({
  name,
  numPartitions,
  replicationFactor: extra.replicationFactor ?? 1,
  assignments: extra.assignments ?? [],
  configs: extra.configs ?? [],
});

describe('CreateTopics', () => {
  it('creates topics with Kafka config names, answering per topic as Kafka does', async () => {
    const { broker, client } = await serve({ defaultPartitions: 3 });
    await broker.createTopic('exists');
    const c = await client();
    const r = await c.request(ApiKey.CreateTopics, 7, {
      timeoutMs: 1000,
      validateOnly: false,
      topics: [
        topic('a', 2, { configs: [{ name: 'retention.ms', value: '1000' }, { name: 'cleanup.policy', value: 'compact' }, { name: 'compression.type', value: 'producer' }] }),
        topic('b', -1, { replicationFactor: -1 }),
        topic('exists'),
        topic('bad name'),
        topic('zero', 0),
        topic('rf', 1, { replicationFactor: 3 }),
        topic('conf', 1, { configs: [{ name: 'segment.bytes', value: 'lots' }] }),
        topic('range', 1, { configs: [{ name: 'retention.ms', value: '-7' }] }),
        topic('unknown-conf', 1, { configs: [{ name: 'flush.ms', value: '1' }] }),
        topic('fixed', 1, { configs: [{ name: 'min.insync.replicas', value: '2' }] }),
        topic('dup'),
        topic('dup'),
        { ...topic('assigned', -1, { replicationFactor: -1 }), assignments: [{ partitionIndex: 1, brokerIds: [0] }, { partitionIndex: 0, brokerIds: [0] }] },
        { ...topic('assigned-bad', -1, { replicationFactor: -1 }), assignments: [{ partitionIndex: 0, brokerIds: [1] }] },
      ],
    });
    expect(r.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['a', 0],
      ['b', 0],
      ['exists', 36],
      ['bad name', 17],
      ['zero', 37],
      ['rf', 38],
      ['conf', 40],
      ['range', 40],
      ['unknown-conf', 40],
      ['fixed', 40],
      ['dup', 42],
      ['dup', 42],
      ['assigned', 0],
      ['assigned-bad', 39],
    ]);
    expect(r.topics[7]!.errorMessage).toContain('retention.ms');
    expect(r.topics[0]).toMatchObject({ numPartitions: 2, replicationFactor: 1, topicId: broker.topic('a').id });
    expect(r.topics[0]!.configs!.find((x) => x.name === 'retention.ms')).toMatchObject({ value: '1000', readOnly: false });
    expect(broker.topic('a').config).toMatchObject({ partitions: 2, retentionMs: 1000, cleanupPolicy: 'compact' });
    expect(broker.topic('b').config.partitions).toBe(3);
    expect(broker.topic('assigned').partitions).toHaveLength(2);
    expect(broker.listTopics()).toEqual(['a', 'assigned', 'b', 'exists']);
  });

  it('validateOnly checks everything and creates nothing', async () => {
    const { broker, client } = await serve();
    const r = await (await client()).request(ApiKey.CreateTopics, 5, { timeoutMs: 1000, validateOnly: true, topics: [topic('v', 4), topic('w', 1, { replicationFactor: 2 })] });
    expect(r.topics.map((t) => [t.errorCode, t.numPartitions])).toEqual([
      [0, 4],
      [38, -1],
    ]);
    expect(broker.listTopics()).toEqual([]);
  });
});

describe('DeleteTopics and CreatePartitions', () => {
  it('deletes by name (v0-5) and by id (v6); refuses unknown ones and the internal offsets topic', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('a');
    const b = await broker.createTopic('b');
    const c = await client();
    const byName = await c.request(ApiKey.DeleteTopics, 4, { topicNames: ['a', 'nope'], timeoutMs: 1000 });
    expect(byName.responses.map((x) => [x.name, x.errorCode])).toEqual([
      ['a', 0],
      ['nope', 3],
    ]);
    const byId = await c.request(ApiKey.DeleteTopics, 6, {
      timeoutMs: 1000,
      topics: [
        { name: null, topicId: b.id },
        { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAw' },
        { name: '__consumer_offsets', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' },
        { name: 'x', topicId: b.id },
      ],
    });
    expect(byId.responses.map((x) => [x.name, x.errorCode])).toEqual([
      ['b', 0],
      [null, 100],
      ['__consumer_offsets', 42],
      ['x', 42],
    ]);
    expect(broker.listTopics()).toEqual([]);
  });

  it('grows a topic; refuses a count not above the current one, foreign replicas and unknown topics', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const c = await client();
    const r = await c.request(ApiKey.CreatePartitions, 3, {
      timeoutMs: 1000,
      validateOnly: false,
      topics: [
        { name: 't', count: 4, assignments: [{ brokerIds: [0] }, { brokerIds: [0] }] },
        { name: 'nope', count: 4, assignments: null },
      ],
    });
    expect(r.results.map((x) => x.errorCode)).toEqual([0, 3]);
    expect(broker.topic('t').partitions).toHaveLength(4);
    const again = await c.request(ApiKey.CreatePartitions, 1, {
      timeoutMs: 1000,
      validateOnly: false,
      topics: [
        { name: 't', count: 4, assignments: null },
      ],
    });
    expect(again.results[0]).toMatchObject({ errorCode: 37, errorMessage: 'Topic already has 4 partitions.' });
    const bad = await c.request(ApiKey.CreatePartitions, 1, { timeoutMs: 1000, validateOnly: false, topics: [{ name: 't', count: 5, assignments: [{ brokerIds: [2] }] }] });
    expect(bad.results[0]!.errorCode).toBe(39);
    const check = await c.request(ApiKey.CreatePartitions, 1, { timeoutMs: 1000, validateOnly: true, topics: [{ name: 't', count: 9, assignments: null }] });
    expect(check.results[0]!.errorCode).toBe(0);
    expect(broker.topic('t').partitions).toHaveLength(4);
  });
});

describe('configs', () => {
  it('DescribeConfigs: a topic under Kafka names, defaults marked; the broker read-only; a narrowed list', async () => {
    const { broker, client } = await serve({ defaultPartitions: 3 });
    await broker.createTopic('t', { retentionMs: 5000 });
    const c = await client();
    const r = await c.request(ApiKey.DescribeConfigs, 4, {
      includeSynonyms: false,
      includeDocumentation: false,
      resources: [
        { resourceType: 2, resourceName: 't', configurationKeys: null },
        { resourceType: 4, resourceName: '0', configurationKeys: ['num.partitions', 'message.max.bytes'] },
        { resourceType: 2, resourceName: 'nope', configurationKeys: null },
        { resourceType: 4, resourceName: '3', configurationKeys: null },
      ],
    });
    const [t, b, nope, other] = r.results;
    const byName = Object.fromEntries(t!.configs.map((x) => [x.name, x]));
    expect(byName['retention.ms']).toMatchObject({ value: '5000', readOnly: false, configSource: 1 });
    expect(byName['retention.bytes']).toMatchObject({ value: '-1', configSource: 5 });
    expect(byName['segment.bytes']!.value).toBe('1073741824');
    expect(byName['cleanup.policy']!.value).toBe('delete');
    expect(byName['max.message.bytes']!.value).toBe('1048576');
    expect(byName['min.insync.replicas']).toMatchObject({ value: '1', readOnly: true });
    expect(b!.configs.map((x) => [x.name, x.value, x.readOnly])).toEqual([
      ['num.partitions', '3', true],
      ['message.max.bytes', '1048576', true],
    ]);
    expect(nope!.errorCode).toBe(3);
    expect(other!.errorCode).toBe(42);
  });

  it('AlterConfigs puts every config not given back to its default; validateOnly changes nothing', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { retentionMs: 5000, maxMessageBytes: 2000 });
    const c = await client();
    const check = await c.request(ApiKey.AlterConfigs, 1, { validateOnly: true, resources: [{ resourceType: 2, resourceName: 't', configs: [{ name: 'retention.bytes', value: '100' }] }] });
    expect(check.responses[0]!.errorCode).toBe(0);
    expect(broker.topic('t').config).toMatchObject({ retentionMs: 5000, retentionBytes: -1 });
    const r = await c.request(ApiKey.AlterConfigs, 2, {
      validateOnly: false,
      resources: [
        { resourceType: 2, resourceName: 't', configs: [{ name: 'retention.bytes', value: '100' }] },
        { resourceType: 2, resourceName: 'nope', configs: [] },
        { resourceType: 4, resourceName: '0', configs: [{ name: 'num.partitions', value: '3' }] },
      ],
    });
    expect(r.responses.map((x) => x.errorCode)).toEqual([0, 3, 42]);
    expect(broker.topic('t').config).toMatchObject({ retentionMs: 604_800_000, maxMessageBytes: 1_048_576, retentionBytes: 100 });
    const bad = await c.request(ApiKey.AlterConfigs, 0, { validateOnly: false, resources: [{ resourceType: 2, resourceName: 't', configs: [{ name: 'segment.bytes', value: '3' }] }] });
    expect(bad.responses[0]).toMatchObject({ errorCode: 40 });
    expect(bad.responses[0]!.errorMessage).toContain('segment.bytes');
    expect(broker.topic('t').config.retentionBytes).toBe(100);
  });

  it('IncrementalAlterConfigs: SET and DELETE; APPEND/SUBTRACT only on cleanup.policy, never to none', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { retentionMs: 5000 });
    const c = await client();
    const alter = async (configs: { name: string; configOperation: number; value: string | null }[]) =>
      (await c.request(ApiKey.IncrementalAlterConfigs, 1, { validateOnly: false, resources: [{ resourceType: 2, resourceName: 't', configs }] })).responses[0]!.errorCode;
    expect(await alter([{ name: 'retention.bytes', configOperation: 0, value: '500' }, { name: 'retention.ms', configOperation: 1, value: null }])).toBe(0);
    expect(broker.topic('t').config).toMatchObject({ retentionBytes: 500, retentionMs: 604_800_000 });
    expect(await alter([{ name: 'retention.ms', configOperation: 2, value: '1' }])).toBe(40);
    expect(await alter([{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }])).toBe(0); // delete,compact
    expect(broker.topic('t').config.cleanupPolicy).toBe('compact,delete');
    expect(await alter([{ name: 'cleanup.policy', configOperation: 3, value: 'compact' }])).toBe(0);
    expect(await alter([{ name: 'cleanup.policy', configOperation: 3, value: 'delete' }])).toBe(40); // none left
    expect(await alter([{ name: 'cleanup.policy', configOperation: 3, value: 'delete' }, { name: 'cleanup.policy', configOperation: 2, value: 'compact' }])).toBe(42); // named twice
    expect(await alter([{ name: 'cleanup.policy', configOperation: 0, value: 'compact' }])).toBe(0);
    expect(await alter([{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }])).toBe(0); // already there
    expect(broker.topic('t').config.cleanupPolicy).toBe('compact');
    expect(await alter([{ name: 'nope.config', configOperation: 0, value: '1' }])).toBe(40);
    expect(broker.topic('t').config).toMatchObject({ retentionBytes: 500, cleanupPolicy: 'compact' });
  });
});

describe('DeleteRecords and InitProducerId', () => {
  it('DeleteRecords moves the log start (-1: to the high watermark) and answers the low watermark', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const p = broker.producer();
    for (let i = 0; i < 5; i++) await p.send({ topic: 't', messages: [{ value: `${i}`, partition: 0 }, { value: `${i}`, partition: 1 }] });
    const r = await (await client()).request(ApiKey.DeleteRecords, 2, {
      timeoutMs: 1000,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, offset: 3 }, { partitionIndex: 1, offset: -1 }, { partitionIndex: 2, offset: 0 }] },
        { name: 'u', partitions: [{ partitionIndex: 0, offset: 0 }] },
      ],
    });
    expect(r.topics.map((t) => t.partitions.map((x) => [x.errorCode, x.lowWatermark]))).toEqual([
      [
        [0, 3],
        [0, 5],
        [3, -1],
      ],
      [[3, -1]],
    ]);
    const past = await (await client()).request(ApiKey.DeleteRecords, 1, { timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 99 }] }] });
    expect(past.topics[0]!.partitions[0]!.errorCode).toBe(1);
    expect(broker.topic('t').partition(0).logStartOffset).toBe(3);
    // The group offsets' topic is the broker's: deleting its records is refused (as Kafka refuses it).
    const consumer = broker.consumer({ groupId: 'g', autoCommit: false });
    await consumer.assign([{ topic: 't', partition: 0 }]);
    await consumer.commit([{ topic: 't', partition: 0, offset: 4 }]);
    await consumer.close();
    const internal = await (await client()).request(ApiKey.DeleteRecords, 2, { timeoutMs: 1000, topics: [{ name: '__consumer_offsets', partitions: [{ partitionIndex: 0, offset: -1 }] }] });
    expect(internal.topics[0]!.partitions[0]!.errorCode).toBe(17);
    expect(broker.topic('__consumer_offsets').partition(0).logStartOffset).toBe(0);
    expect(await broker.group('g').committed({ topic: 't', partition: 0 })).toBe(4);
  });

  it('InitProducerId hands out new ids with epoch 0, bumps the epoch of a known one; a transactional id keeps its producer id with the next epoch', async () => {
    const { client } = await serve();
    const c = await client();
    const a = await c.request(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    const b = await c.request(ApiKey.InitProducerId, 0, { transactionalId: null, transactionTimeoutMs: 60000 });
    expect([a.errorCode, a.producerEpoch, b.errorCode, b.producerEpoch]).toEqual([0, 0, 0, 0]);
    expect(b.producerId).not.toBe(a.producerId);
    const bump = await c.request(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: a.producerId, producerEpoch: 0 });
    expect([bump.producerId, bump.producerEpoch]).toEqual([a.producerId, 1]);
    const t1 = await c.request(ApiKey.InitProducerId, 4, { transactionalId: 'tx', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    const t2 = await c.request(ApiKey.InitProducerId, 1, { transactionalId: 'tx', transactionTimeoutMs: 60000 });
    expect([t1.errorCode, t1.producerEpoch, t2.errorCode, t2.producerId, t2.producerEpoch]).toEqual([0, 0, 0, t1.producerId, 1]);
    expect([a.producerId, b.producerId]).not.toContain(t1.producerId);
  });
});

describe('group APIs (without membership)', () => {
  it('FindCoordinator: this broker for groups and transactional ids (v0-3 and batched v4); INVALID_REQUEST for another key type', async () => {
    const { client, listener } = await serve();
    const c = await client();
    const port = Number(listener.address.split(':')[1]);
    expect(await c.request(ApiKey.FindCoordinator, 0, { key: 'g' })).toMatchObject({ errorCode: 0, nodeId: 0, host: '127.0.0.1', port });
    const v4 = await c.request(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(v4.coordinators.map((x) => [x.key, x.nodeId, x.port, x.errorCode])).toEqual([
      ['a', 0, port, 0],
      ['b', 0, port, 0],
    ]);
    expect(await c.request(ApiKey.FindCoordinator, 3, { key: 'tx', keyType: 1 })).toMatchObject({ errorCode: 0, nodeId: 0, host: '127.0.0.1', port });
    expect((await c.request(ApiKey.FindCoordinator, 4, { keyType: 1, coordinatorKeys: ['tx'] })).coordinators[0]).toMatchObject({ key: 'tx', errorCode: 0, nodeId: 0, port });
    expect((await c.request(ApiKey.FindCoordinator, 3, { key: 'x', keyType: 2 })).errorCode).toBe(42);
  });

  it('OffsetCommit from outside the group (generation -1, no member) commits while the group is empty, visible in-process; OffsetFetch reads it back', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const c = await client();
    for (const version of [0, 2, 7, 9]) {
      const r = await c.request(ApiKey.OffsetCommit, version, {
        groupId: `g${version}`,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          { name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5, committedMetadata: 'm' }, { partitionIndex: 7, committedOffset: 1, committedMetadata: null }] },
          { name: 'nope', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
        ],
      });
      expect(r.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([[0, 3], [3]]);
      expect(await broker.group(`g${version}`).committed({ topic: 't', partition: 0 })).toBe(5);
    }
    const old = await c.request(ApiKey.OffsetFetch, 1, { groupId: 'g2', topics: [{ name: 't', partitionIndexes: [0, 1] }] });
    expect(old.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode])).toEqual([
      [0, 5, 0],
      [1, -1, 0],
    ]);
    const all = await c.request(ApiKey.OffsetFetch, 7, { groupId: 'g7', topics: null, requireStable: false });
    expect(all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])])).toEqual([['t', [[0, 5]]]]);
    const batched = await c.request(ApiKey.OffsetFetch, 8, {
      requireStable: false,
      groups: [
        { groupId: 'g0', topics: [{ name: 't', partitionIndexes: [0] }] },
        { groupId: 'g9', topics: null },
        { groupId: 'unknown', topics: null },
      ],
    });
    expect(batched.groups.map((g) => [g.groupId, g.errorCode, g.topics.flatMap((t) => t.partitions.map((p) => p.committedOffset))])).toEqual([
      ['g0', 0, [5]],
      ['g9', 0, [5]],
      ['unknown', 0, []],
    ]);
  });

  it('OffsetCommit from outside a group that has members is UNKNOWN_MEMBER_ID; naming a member that does not hold the partition likewise', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t');
    const consumer = broker.consumer({ groupId: 'busy', autoCommit: false });
    await consumer.subscribe(['t']);
    const c = await client();
    const commit = (memberId: string, generation: number) =>
      c.request(ApiKey.OffsetCommit, 8, { groupId: 'busy', generationIdOrMemberEpoch: generation, memberId, groupInstanceId: null, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] }] });
    expect((await commit('', -1)).topics[0]!.partitions[0]!.errorCode).toBe(25);
    expect((await commit('someone-else', 1)).topics[0]!.partitions[0]!.errorCode).toBe(25);
    const [member] = broker.group('busy').members();
    expect((await commit(member!.memberId, broker.group('busy').generation)).topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect(await broker.group('busy').committed({ topic: 't', partition: 0 })).toBe(1);
    await consumer.close();
  });

  it('DescribeGroups, ListGroups and DeleteGroups see in-process groups and offsets', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const consumer = broker.consumer({ groupId: 'live', clientId: 'app', autoCommit: false });
    await consumer.subscribe(['t']);
    await broker.group('idle').resetOffsets({ topic: 't', to: 'earliest' });
    const c = await client();
    const listed = await c.request(ApiKey.ListGroups, 4, { statesFilter: [] });
    expect(listed.groups.map((g) => [g.groupId, g.protocolType, g.groupState])).toEqual([
      ['idle', 'consumer', 'Empty'],
      ['live', 'consumer', 'Stable'],
    ]);
    expect((await c.request(ApiKey.ListGroups, 4, { statesFilter: ['stable'] })).groups.map((g) => g.groupId)).toEqual(['live']);
    const described = await c.request(ApiKey.DescribeGroups, 5, { groups: ['live', 'idle', 'ghost'], includeAuthorizedOperations: false });
    expect(described.groups.map((g) => [g.groupId, g.groupState, g.members.length])).toEqual([
      ['live', 'Stable', 1],
      ['idle', 'Empty', 0],
      ['ghost', 'Dead', 0],
    ]);
    const member = described.groups[0]!.members[0]!;
    expect(member.clientId).toBe('app');
    // ConsumerProtocolAssignment v0: version, [topic, [partitions]], null user data.
    const a = Buffer.from(member.memberAssignment);
    expect([a.readInt16BE(0), a.readInt32BE(2), a.toString('utf8', 8, 9), a.readInt32BE(9), a.readInt32BE(13), a.readInt32BE(17)]).toEqual([0, 1, 't', 2, 0, 1]);
    const deleted = await c.request(ApiKey.DeleteGroups, 2, { groupsNames: ['idle', 'live', 'ghost'] });
    expect(deleted.results.map((r) => [r.groupId, r.errorCode])).toEqual([
      ['idle', 0],
      ['live', 68],
      ['ghost', 69],
    ]);
    expect(broker.listGroups()).toEqual(['live']);
    await consumer.close();
  });
});

describe('compaction configs and keys', () => {
  it('maps cleanup.policy (a list), delete.retention.ms and min.cleanable.dirty.ratio in CreateTopics, DescribeConfigs and AlterConfigs', async () => {
    const { broker, client } = await serve();
    const c = await client();
    const created = await c.request(ApiKey.CreateTopics, 7, {
      timeoutMs: 1000,
      validateOnly: false,
      topics: [
        topic('both', 1, { configs: [{ name: 'cleanup.policy', value: 'delete, compact' }, { name: 'delete.retention.ms', value: '5000' }, { name: 'min.cleanable.dirty.ratio', value: '0.25' }] }),
        topic('bad-ratio', 1, { configs: [{ name: 'min.cleanable.dirty.ratio', value: 'half' }] }),
        topic('bad-policy', 1, { configs: [{ name: 'cleanup.policy', value: 'compact,shred' }] }),
      ],
    });
    expect(created.topics.map((t) => t.errorCode)).toEqual([0, 40, 40]);
    expect(broker.topic('both').config).toMatchObject({ cleanupPolicy: 'compact,delete', deleteRetentionMs: 5000, minCleanableDirtyRatio: 0.25 });
    const described = await c.request(ApiKey.DescribeConfigs, 4, {
      includeSynonyms: false,
      includeDocumentation: false,
      resources: [{ resourceType: 2, resourceName: 'both', configurationKeys: ['cleanup.policy', 'delete.retention.ms', 'min.cleanable.dirty.ratio'] }],
    });
    expect(described.results[0]!.configs.map((x) => [x.name, x.value, x.configSource, x.configType])).toEqual([
      ['cleanup.policy', 'compact,delete', 1, 7],
      ['delete.retention.ms', '5000', 1, 5],
      ['min.cleanable.dirty.ratio', '0.25', 1, 6],
    ]);
    const altered = await c.request(ApiKey.AlterConfigs, 2, {
      validateOnly: false,
      resources: [{ resourceType: 2, resourceName: 'both', configs: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'min.cleanable.dirty.ratio', value: '0.75' }] }],
    });
    expect(altered.responses[0]!.errorCode).toBe(0);
    expect(broker.topic('both').config).toMatchObject({ cleanupPolicy: 'compact', deleteRetentionMs: 86_400_000, minCleanableDirtyRatio: 0.75 });
    const out = await c.request(ApiKey.AlterConfigs, 2, {
      validateOnly: false,
      resources: [{ resourceType: 2, resourceName: 'both', configs: [{ name: 'min.cleanable.dirty.ratio', value: '2' }] }],
    });
    expect(out.responses[0]).toMatchObject({ errorCode: 40 });
    expect(out.responses[0]!.errorMessage).toContain('min.cleanable.dirty.ratio');
  });

  it('Produce: a record without a key in a compacted topic is INVALID_RECORD (as Kafka), and nothing is appended', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact' });
    const c = await client();
    const refused = await c.request(ApiKey.Produce, 9, produceRequest('c', 0, clientBatch(['no key'])));
    expect(refused.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 87 });
    expect(refused.responses[0]!.partitionResponses[0]!.errorMessage).toContain('without a key');
    const ok = await c.request(ApiKey.Produce, 9, produceRequest('c', 0, clientBatch(['v'], { key: 'k' })));
    expect(ok.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(broker.topic('c').partition(0).logEndOffset).toBe(1);
  });
});
