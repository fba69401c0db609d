import { describe, expect, it } from 'vitest';
import { decodeRecordBatch } from '../../src/codec/record-batch.js';
import {
  type ApiMessageTypes,
  ApiKey,
  Writer,
  decodeRequestFrame,
  encodeResponseFrame,
  readFrameSize,
} from '../../src/wire/protocol/index.js';
import type { EncodeInput } from '../../src/wire/protocol/encode-input.js';
import { kafkajsEncodeBatch } from '../codec/kafkajs-oracle.js';
import { kafkajsDecodeResponse, kafkajsRequestFrame } from './kafkajs-protocol.js';

/**
 * Oracle checks against KafkaJS 2.2's protocol code, for the non-flexible versions it implements:
 * requests KafkaJS encodes (header v1 included) decode with kafkalite's codecs to the fields
 * KafkaJS was given; responses kafkalite encodes (size prefix and header included) decode with
 * KafkaJS to the fields kafkalite was given.
 */

const w = new Writer();
const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

async function decodeKafkaJsRequest(api: string, version: number, args: object) {
  const frame = await kafkajsRequestFrame(api, version, args, 1234, 'oracle-client');
  expect(readFrameSize(frame, 0)).toBe(frame.length - 4);
  const decoded = decodeRequestFrame(frame.subarray(4));
  expect(decoded.apiVersion).toBe(version);
  expect(decoded.correlationId).toBe(1234);
  expect(decoded.clientId).toBe('oracle-client');
  return decoded;
}

/** Encodes a response frame with kafkalite and decodes its body with KafkaJS. */
async function kafkajsDecodes<K extends ApiKey>(
  api: string,
  apiKey: K,
  version: number,
  response: EncodeInput<ApiMessageTypes[K]['response']>,
  args: object = {},
): Promise<Record<string, unknown>> {
  const frame = Buffer.concat(encodeResponseFrame(w, apiKey, version, 777, response));
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  expect(frame.readInt32BE(4)).toBe(777);
  return (await kafkajsDecodeResponse(api, version, frame.subarray(8), args)) as Record<string, unknown>;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('KafkaJS oracle: ApiVersions', () => {
  it.each(range(0, 2))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('apiVersions', v, {});
    expect(req.apiKey).toBe(ApiKey.ApiVersions);
    const res = await kafkajsDecodes('apiVersions', ApiKey.ApiVersions, v, {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 9 },
        { apiKey: 18, minVersion: 0, maxVersion: 3 },
      ],
      throttleTimeMs: 5,
    });
    expect(res.errorCode).toBe(0);
    expect(res.apiVersions).toEqual([
      { apiKey: 0, minVersion: 3, maxVersion: 9 },
      { apiKey: 18, minVersion: 0, maxVersion: 3 },
    ]);
    if (v >= 1) expect(v === 1 ? res.throttleTime : res.clientSideThrottleTime).toBe(5);
  });
});

describe('KafkaJS oracle: Metadata', () => {
  it.each(range(0, 6))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('metadata', v, { topics: ['a', 'b'], allowAutoTopicCreation: false });
    if (req.apiKey !== ApiKey.Metadata) throw new Error('wrong api');
    expect(req.request.topics?.map((t) => t.name)).toEqual(['a', 'b']);
    if (v >= 4) expect(req.request.allowAutoTopicCreation).toBe(false);

    const res = await kafkajsDecodes('metadata', ApiKey.Metadata, v, {
      throttleTimeMs: 3,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: 'r1' }],
      clusterId: 'cluster-x',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'a',
          isInternal: false,
          partitions: [
            { errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 7, replicaNodes: [1], isrNodes: [1], offlineReplicas: [2] },
          ],
        },
      ],
    });
    expect(res.brokers).toEqual([{ nodeId: 1, host: 'localhost', port: 9092, ...(v >= 1 ? { rack: 'r1' } : {}) }]);
    if (v >= 2) expect(res.clusterId).toBe('cluster-x');
    if (v >= 1) expect(res.controllerId).toBe(1);
    const topics = res.topicMetadata as Record<string, unknown>[];
    expect(topics[0]).toMatchObject({ topicErrorCode: 0, topic: 'a' });
    expect(topics[0]!.partitionMetadata).toEqual([
      {
        partitionErrorCode: 0,
        partitionId: 0,
        leader: 1,
        replicas: [1],
        isr: [1],
        ...(v >= 5 ? { offlineReplicas: [2] } : {}),
      },
    ]);
  });
});

describe('KafkaJS oracle: Produce', () => {
  it.each(range(3, 7))('v%i', async (v) => {
    const messages = [
      { key: 'k1', value: 'v1', timestamp: 1_700_000_000_000 },
      { key: null, value: 'v2', timestamp: 1_700_000_000_005 },
    ];
    const req = await decodeKafkaJsRequest('produce', v, {
      acks: -1,
      timeout: 30000,
      transactionalId: v >= 3 ? 'tx-1' : undefined,
      topicData: [{ topic: 'orders', partitions: [{ partition: 2, messages }] }],
    });
    if (req.apiKey !== ApiKey.Produce) throw new Error('wrong api');
    expect(req.request.acks).toBe(-1);
    expect(req.request.timeoutMs).toBe(30000);
    expect(req.request.transactionalId).toBe('tx-1');
    const part = req.request.topicData[0]!.partitionData[0]!;
    expect(req.request.topicData[0]!.name).toBe('orders');
    expect(part.index).toBe(2);
    // Zero-copy: the records are a view into the frame, and a valid RecordBatch v2.
    const { records } = decodeRecordBatch(part.records!);
    expect(records.map((r) => [r.key?.toString() ?? null, r.value?.toString()])).toEqual([
      ['k1', 'v1'],
      [null, 'v2'],
    ]);

    const res = await kafkajsDecodes('produce', ApiKey.Produce, v, {
      responses: [
        {
          name: 'orders',
          partitionResponses: [{ index: 2, errorCode: 0, baseOffset: 12345678901, logAppendTimeMs: -1, logStartOffset: 17 }],
        },
      ],
      throttleTimeMs: 9,
    });
    expect(res.topics).toEqual([
      {
        topicName: 'orders',
        partitions: [
          {
            partition: 2,
            errorCode: 0,
            baseOffset: '12345678901',
            logAppendTime: '-1',
            ...(v >= 5 ? { logStartOffset: '17' } : {}),
          },
        ],
      },
    ]);
    expect(v >= 6 ? res.clientSideThrottleTime : res.throttleTime).toBe(9);
  });
});

describe('KafkaJS oracle: Fetch', () => {
  it.each(range(4, 11))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('fetch', v, {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 10_485_760,
      isolationLevel: 1,
      sessionId: 3,
      sessionEpoch: 4,
      rackId: 'rack-a',
      topics: [
        {
          topic: 'orders',
          partitions: [{ partition: 0, currentLeaderEpoch: 5, fetchOffset: 9_007_199_254_740_000, logStartOffset: 2, maxBytes: 1_048_576 }],
        },
      ],
      forgottenTopics: [{ topic: 'old', partitions: [1, 2] }],
    });
    if (req.apiKey !== ApiKey.Fetch) throw new Error('wrong api');
    const r = req.request;
    expect([r.replicaId, r.maxWaitMs, r.minBytes, r.maxBytes, r.isolationLevel]).toEqual([-1, 500, 1, 10_485_760, 1]);
    const p = r.topics[0]!.partitions[0]!;
    expect(r.topics[0]!.topic).toBe('orders');
    expect([p.partition, p.fetchOffset, p.partitionMaxBytes]).toEqual([0, 9_007_199_254_740_000, 1_048_576]);
    if (v >= 5) expect(p.logStartOffset).toBe(2);
    if (v >= 7) {
      expect([r.sessionId, r.sessionEpoch]).toEqual([3, 4]);
      expect(r.forgottenTopicsData).toEqual([{ topic: 'old', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [1, 2] }]);
    }
    if (v >= 9) expect(p.currentLeaderEpoch).toBe(5);
    if (v >= 11) expect(r.rackId).toBe('rack-a');

    // Two stored batches, handed over as a chunk list.
    const batch1 = await kafkajsEncodeBatch([{ key: 'a', value: 'x'.repeat(1500), timestamp: 1000 }], 40);
    const batch2 = await kafkajsEncodeBatch([{ key: 'b', value: 'y', timestamp: 1001 }], 41);
    const res = await kafkajsDecodes('fetch', ApiKey.Fetch, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 3,
      responses: [
        {
          topic: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 42,
              lastStableOffset: 42,
              logStartOffset: 0,
              abortedTransactions: [{ producerId: 7, firstOffset: 40 }],
              preferredReadReplica: -1,
              records: [batch1, batch2],
            },
          ],
        },
      ],
    });
    if (v >= 7) expect(res.sessionId).toBe(3);
    const topic = (res.responses as Record<string, unknown>[])[0]!;
    expect(topic.topicName).toBe('orders');
    const part = (topic.partitions as Record<string, unknown>[])[0]!;
    expect(part).toMatchObject({
      partition: 0,
      errorCode: 0,
      highWatermark: '42',
      lastStableOffset: '42',
      abortedTransactions: [{ producerId: '7', firstOffset: '40' }],
    });
    if (v >= 11) expect(part.preferredReadReplica).toBe(-1);
    const msgs = part.messages as { offset: string; key: Buffer; value: Buffer }[];
    expect(msgs.map((m) => [m.offset, m.key.toString(), m.value.toString().length])).toEqual([
      ['40', 'a', 1500],
      ['41', 'b', 1],
    ]);
  });
});

describe('KafkaJS oracle: ListOffsets', () => {
  it.each(range(1, 3))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('listOffsets', v, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 't', partitions: [{ partition: 3, timestamp: -2 }] }],
    });
    if (req.apiKey !== ApiKey.ListOffsets) throw new Error('wrong api');
    expect(req.request.replicaId).toBe(-1);
    if (v >= 2) expect(req.request.isolationLevel).toBe(1);
    expect(req.request.topics).toMatchObject([{ name: 't', partitions: [{ partitionIndex: 3, timestamp: -2 }] }]);

    const res = await kafkajsDecodes('listOffsets', ApiKey.ListOffsets, v, {
      throttleTimeMs: 1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 3, errorCode: 0, timestamp: -1, offset: 99 }] }],
    });
    expect(res.responses).toEqual([{ topic: 't', partitions: [{ partition: 3, errorCode: 0, timestamp: '-1', offset: '99' }] }]);
  });
});

describe('KafkaJS oracle: FindCoordinator', () => {
  it.each(range(0, 2))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('findCoordinator', v, { groupId: 'g1', coordinatorKey: 'g1', coordinatorType: 1 });
    if (req.apiKey !== ApiKey.FindCoordinator) throw new Error('wrong api');
    expect(req.request.key).toBe('g1');
    if (v >= 1) expect(req.request.keyType).toBe(1);

    const res = await kafkajsDecodes('findCoordinator', ApiKey.FindCoordinator, v, {
      throttleTimeMs: 2,
      errorCode: 0,
      errorMessage: null,
      nodeId: 1,
      host: 'localhost',
      port: 9092,
    });
    expect(res.coordinator).toEqual({ nodeId: 1, host: 'localhost', port: 9092 });
    expect(res.errorCode).toBe(0);
    if (v >= 1) expect(res.errorMessage).toBeNull();
  });
});

describe('KafkaJS oracle: JoinGroup', () => {
  it.each(range(0, 5))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('joinGroup', v, {
      groupId: 'g1',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: bytes('meta') }],
    });
    if (req.apiKey !== ApiKey.JoinGroup) throw new Error('wrong api');
    const r = req.request;
    expect([r.groupId, r.sessionTimeoutMs, r.memberId, r.protocolType]).toEqual(['g1', 30000, '', 'consumer']);
    expect(r.rebalanceTimeoutMs).toBe(v >= 1 ? 60000 : -1);
    expect(r.groupInstanceId).toBeNull();
    expect(r.protocols.map((p) => [p.name, Buffer.from(p.metadata).toString()])).toEqual([['RoundRobinAssigner', 'meta']]);

    const res = await kafkajsDecodes('joinGroup', ApiKey.JoinGroup, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 3,
      protocolName: 'RoundRobinAssigner',
      leader: 'm-1',
      memberId: 'm-1',
      members: [{ memberId: 'm-1', groupInstanceId: null, metadata: bytes('meta') }],
    });
    expect(res).toMatchObject({ errorCode: 0, generationId: 3, groupProtocol: 'RoundRobinAssigner', leaderId: 'm-1', memberId: 'm-1' });
    const members = res.members as { memberId: string; memberMetadata: Buffer }[];
    expect(members.map((m) => [m.memberId, m.memberMetadata.toString()])).toEqual([['m-1', 'meta']]);
  });
});

describe('KafkaJS oracle: SyncGroup', () => {
  it.each(range(0, 3))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('syncGroup', v, {
      groupId: 'g1',
      generationId: 3,
      memberId: 'm-1',
      groupInstanceId: null,
      groupAssignment: [{ memberId: 'm-1', memberAssignment: bytes('assign') }],
    });
    if (req.apiKey !== ApiKey.SyncGroup) throw new Error('wrong api');
    expect([req.request.groupId, req.request.generationId, req.request.memberId]).toEqual(['g1', 3, 'm-1']);
    expect(req.request.assignments.map((a) => [a.memberId, Buffer.from(a.assignment).toString()])).toEqual([['m-1', 'assign']]);

    const res = await kafkajsDecodes('syncGroup', ApiKey.SyncGroup, v, { throttleTimeMs: 4, errorCode: 0, assignment: bytes('assign') });
    expect(res.errorCode).toBe(0);
    expect((res.memberAssignment as Buffer).toString()).toBe('assign');
    if (v >= 1) expect(v >= 2 ? res.clientSideThrottleTime : res.throttleTime).toBe(4);
  });
});

describe('KafkaJS oracle: Heartbeat', () => {
  it.each(range(0, 3))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('heartbeat', v, {
      groupId: 'g1',
      groupGenerationId: 3,
      memberId: 'm-1',
      groupInstanceId: 'static-1',
    });
    if (req.apiKey !== ApiKey.Heartbeat) throw new Error('wrong api');
    expect([req.request.groupId, req.request.generationId, req.request.memberId]).toEqual(['g1', 3, 'm-1']);
    expect(req.request.groupInstanceId).toBe(v >= 3 ? 'static-1' : null);
    const res = await kafkajsDecodes('heartbeat', ApiKey.Heartbeat, v, { throttleTimeMs: 0, errorCode: 27 }).catch((e: unknown) => e);
    // KafkaJS' decode throws only for UNSUPPORTED_VERSION; 27 (REBALANCE_IN_PROGRESS) comes back as data.
    expect(res).toMatchObject({ errorCode: 27 });
  });
});

describe('KafkaJS oracle: LeaveGroup', () => {
  it.each(range(0, 3))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('leaveGroup', v, {
      groupId: 'g1',
      memberId: 'm-1',
      members: [{ memberId: 'm-1', groupInstanceId: null }],
    });
    if (req.apiKey !== ApiKey.LeaveGroup) throw new Error('wrong api');
    expect(req.request.groupId).toBe('g1');
    if (v <= 2) expect(req.request.memberId).toBe('m-1');
    else expect(req.request.members.map((m) => [m.memberId, m.groupInstanceId])).toEqual([['m-1', null]]);

    const res = await kafkajsDecodes('leaveGroup', ApiKey.LeaveGroup, v, {
      throttleTimeMs: 0,
      errorCode: 0,
      members: [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }],
    });
    expect(res.errorCode).toBe(0);
    if (v >= 3) expect(res.members).toEqual([{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }]);
  });
});

describe('KafkaJS oracle: OffsetCommit', () => {
  it.each(range(0, 5))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('offsetCommit', v, {
      groupId: 'g1',
      groupGenerationId: 3,
      memberId: 'm-1',
      retentionTime: -1,
      topics: [{ topic: 't', partitions: [{ partition: 1, offset: '123', timestamp: 1_700_000_000_000, metadata: 'md' }] }],
    });
    if (req.apiKey !== ApiKey.OffsetCommit) throw new Error('wrong api');
    const r = req.request;
    expect(r.groupId).toBe('g1');
    if (v >= 1) expect([r.generationIdOrMemberEpoch, r.memberId]).toEqual([3, 'm-1']);
    if (v >= 2 && v <= 4) expect(r.retentionTimeMs).toBe(-1);
    const p = r.topics[0]!.partitions[0]!;
    expect([r.topics[0]!.name, p.partitionIndex, p.committedOffset, p.committedMetadata]).toEqual(['t', 1, 123, 'md']);
    if (v === 1) expect(p.commitTimestamp).toBe(1_700_000_000_000);

    const res = await kafkajsDecodes('offsetCommit', ApiKey.OffsetCommit, v, {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 1, errorCode: 0 }] }],
    });
    expect(res.responses).toEqual([{ topic: 't', partitions: [{ partition: 1, errorCode: 0 }] }]);
  });
});

describe('KafkaJS oracle: OffsetFetch', () => {
  it.each(range(1, 4))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('offsetFetch', v, { groupId: 'g1', topics: [{ topic: 't', partitions: [{ partition: 0 }, { partition: 1 }] }] });
    if (req.apiKey !== ApiKey.OffsetFetch) throw new Error('wrong api');
    expect(req.request.groupId).toBe('g1');
    expect(req.request.topics).toMatchObject([{ name: 't', partitionIndexes: [0, 1] }]);

    const res = await kafkajsDecodes('offsetFetch', ApiKey.OffsetFetch, v, {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5, metadata: '', errorCode: 0 }] }],
      errorCode: 0,
    });
    expect(res.responses).toEqual([{ topic: 't', partitions: [{ partition: 0, offset: '5', metadata: '', errorCode: 0 }] }]);
    if (v >= 2) expect(res.errorCode).toBe(0);
  });
});

describe('KafkaJS oracle: CreateTopics', () => {
  it.each(range(0, 3))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('createTopics', v, {
      topics: [
        {
          topic: 'new-topic',
          numPartitions: 3,
          replicationFactor: 1,
          replicaAssignment: [{ partition: 0, replicas: [1] }],
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      timeout: 5000,
      validateOnly: true,
    });
    if (req.apiKey !== ApiKey.CreateTopics) throw new Error('wrong api');
    const t = req.request.topics[0]!;
    expect([t.name, t.numPartitions, t.replicationFactor]).toEqual(['new-topic', 3, 1]);
    expect(t.assignments).toMatchObject([{ partitionIndex: 0, brokerIds: [1] }]);
    expect(t.configs).toMatchObject([{ name: 'cleanup.policy', value: 'compact' }]);
    expect(req.request.timeoutMs).toBe(5000);
    expect(req.request.validateOnly).toBe(v >= 1);

    const res = await kafkajsDecodes('createTopics', ApiKey.CreateTopics, v, {
      throttleTimeMs: 0,
      topics: [
        { name: 'b', errorCode: 36, errorMessage: 'exists' },
        { name: 'a', errorCode: 0, errorMessage: null },
      ],
    });
    expect(res.topicErrors).toEqual([
      { topic: 'a', errorCode: 0, ...(v >= 1 ? { errorMessage: null } : {}) },
      { topic: 'b', errorCode: 36, ...(v >= 1 ? { errorMessage: 'exists' } : {}) },
    ]);
  });
});

describe('KafkaJS oracle: DeleteTopics', () => {
  it.each(range(0, 1))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('deleteTopics', v, { topics: ['a', 'b'], timeout: 1000 });
    if (req.apiKey !== ApiKey.DeleteTopics) throw new Error('wrong api');
    expect(req.request.topicNames).toEqual(['a', 'b']);
    expect(req.request.timeoutMs).toBe(1000);
    const res = await kafkajsDecodes('deleteTopics', ApiKey.DeleteTopics, v, {
      throttleTimeMs: 0,
      responses: [{ name: 'a', errorCode: 0 }, { name: 'b', errorCode: 3 }],
    });
    expect(res.topicErrors).toEqual([
      { topic: 'a', errorCode: 0 },
      { topic: 'b', errorCode: 3 },
    ]);
  });
});

describe('KafkaJS oracle: DescribeConfigs', () => {
  it.each(range(0, 2))('v%i', async (v) => {
    const req = await decodeKafkaJsRequest('describeConfigs', v, {
      resources: [{ type: 2, name: 't', configNames: ['retention.ms'] }],
      includeSynonyms: true,
    });
    if (req.apiKey !== ApiKey.DescribeConfigs) throw new Error('wrong api');
    expect(req.request.resources).toMatchObject([{ resourceType: 2, resourceName: 't', configurationKeys: ['retention.ms'] }]);
    if (v >= 1) expect(req.request.includeSynonyms).toBe(true);

    const res = await kafkajsDecodes('describeConfigs', ApiKey.DescribeConfigs, v, {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 't',
          configs: [
            {
              name: 'retention.ms',
              value: '1000',
              readOnly: false,
              isDefault: false,
              configSource: 1,
              isSensitive: false,
              synonyms: [{ name: 'retention.ms', value: '1000', source: 1 }],
            },
          ],
        },
      ],
    });
    const resources = res.resources as Record<string, unknown>[];
    expect(resources[0]).toMatchObject({ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't' });
    expect(resources[0]!.configEntries).toMatchObject([
      {
        configName: 'retention.ms',
        configValue: '1000',
        readOnly: false,
        isSensitive: false,
        ...(v >= 1 ? { configSource: 1, configSynonyms: [{ configName: 'retention.ms', configValue: '1000', configSource: 1 }] } : {}),
      },
    ]);
  });
});
