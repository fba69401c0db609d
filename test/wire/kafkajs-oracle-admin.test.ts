import { describe, expect, it } from 'vitest';
import {
  type ApiMessageTypes,
  ApiKey,
  Writer,
  decodeRequestFrame,
  encodeResponseFrame,
} from '../../src/wire/protocol/index.js';
import type { EncodeInput } from '../../src/wire/protocol/encode-input.js';
import { kafkajsDecodeResponse, kafkajsRequestFrame } from './kafkajs-protocol.js';

/**
 * The KafkaJS oracle for the group-admin, SASL, topic-admin and transaction APIs (the versions
 * KafkaJS 2.2 implements); see kafkajs-oracle.test.ts for the data-path APIs.
 */

const w = new Writer();

async function requestOf<K extends ApiKey>(apiKey: K, api: string, version: number, args: unknown): Promise<ApiMessageTypes[K]['request']> {
  const frame = await kafkajsRequestFrame(api, version, args as object, 5, 'admin');
  const decoded = decodeRequestFrame(frame.subarray(4));
  expect([decoded.apiKey, decoded.apiVersion, decoded.correlationId, decoded.clientId]).toEqual([apiKey, version, 5, 'admin']);
  return decoded.request as ApiMessageTypes[K]['request'];
}

async function kafkajsDecodes<K extends ApiKey>(
  api: string,
  apiKey: K,
  version: number,
  response: EncodeInput<ApiMessageTypes[K]['response']>,
  args: unknown = {},
): Promise<Record<string, unknown>> {
  const frame = Buffer.concat(encodeResponseFrame(w, apiKey, version, 6, response));
  expect(frame.readInt32BE(4)).toBe(6);
  return (await kafkajsDecodeResponse(api, version, frame.subarray(8), args as object)) as Record<string, unknown>;
}

const throttle = (v: number, res: Record<string, unknown>, firstClientSide: number): unknown =>
  v >= firstClientSide ? res.clientSideThrottleTime : res.throttleTime;

describe('KafkaJS oracle: DescribeGroups', () => {
  it.each([0, 1, 2])('v%i', async (v) => {
    const req = await requestOf(ApiKey.DescribeGroups, 'describeGroups', v, { groupIds: ['g1', 'g2'] });
    expect(req.groups).toEqual(['g1', 'g2']);
    const res = await kafkajsDecodes('describeGroups', ApiKey.DescribeGroups, v, {
      throttleTimeMs: 1,
      groups: [
        {
          errorCode: 0,
          groupId: 'g1',
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'RoundRobinAssigner',
          members: [
            { memberId: 'm', clientId: 'c', clientHost: '/127.0.0.1', memberMetadata: Buffer.from('md'), memberAssignment: Buffer.from('as') },
          ],
        },
      ],
    });
    const group = (res.groups as Record<string, unknown>[])[0]!;
    expect(group).toMatchObject({ errorCode: 0, groupId: 'g1', state: 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner' });
    const member = (group.members as Record<string, unknown>[])[0]!;
    expect(member).toMatchObject({ memberId: 'm', clientId: 'c', clientHost: '/127.0.0.1' });
    expect(String(member.memberMetadata)).toBe('md');
    expect(String(member.memberAssignment)).toBe('as');
  });
});

describe('KafkaJS oracle: ListGroups', () => {
  it.each([0, 1, 2])('v%i', async (v) => {
    await requestOf(ApiKey.ListGroups, 'listGroups', v, {});
    const res = await kafkajsDecodes('listGroups', ApiKey.ListGroups, v, {
      throttleTimeMs: 2,
      errorCode: 0,
      groups: [{ groupId: 'g1', protocolType: 'consumer' }],
    });
    expect(res.errorCode).toBe(0);
    expect(res.groups).toEqual([{ groupId: 'g1', protocolType: 'consumer' }]);
    if (v >= 1) expect(throttle(v, res, 2)).toBe(2);
  });
});

describe('KafkaJS oracle: DeleteGroups', () => {
  it.each([0, 1])('v%i', async (v) => {
    const req = await requestOf(ApiKey.DeleteGroups, 'deleteGroups', v, ['g1', 'g2']);
    expect(req.groupsNames).toEqual(['g1', 'g2']);
    const res = await kafkajsDecodes(
      'deleteGroups',
      ApiKey.DeleteGroups,
      v,
      { throttleTimeMs: 3, results: [{ groupId: 'g1', errorCode: 0 }] },
      ['g1'],
    );
    expect(res.results).toEqual([{ groupId: 'g1', errorCode: 0 }]);
  });
});

describe('KafkaJS oracle: InitProducerId', () => {
  it.each([0, 1])('v%i', async (v) => {
    const req = await requestOf(ApiKey.InitProducerId, 'initProducerId', v, { transactionalId: 'tx', transactionTimeout: 60000 });
    expect([req.transactionalId, req.transactionTimeoutMs]).toEqual(['tx', 60000]);
    const res = await kafkajsDecodes('initProducerId', ApiKey.InitProducerId, v, {
      throttleTimeMs: 4,
      errorCode: 0,
      producerId: 4_000_000_000_123,
      producerEpoch: 2,
    });
    expect(res).toMatchObject({ errorCode: 0, producerId: '4000000000123', producerEpoch: 2 });
    expect(throttle(v, res, 1)).toBe(4);
  });
});

describe('KafkaJS oracle: SaslHandshake and SaslAuthenticate', () => {
  it.each([0, 1])('SaslHandshake v%i', async (v) => {
    const req = await requestOf(ApiKey.SaslHandshake, 'saslHandshake', v, { mechanism: 'PLAIN' });
    expect(req.mechanism).toBe('PLAIN');
    const res = await kafkajsDecodes('saslHandshake', ApiKey.SaslHandshake, v, { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
    expect(res).toEqual({ errorCode: 0, enabledMechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
  });

  it.each([0, 1])('SaslAuthenticate v%i', async (v) => {
    const auth = Buffer.from('\u0000user\u0000secret');
    // KafkaJS' mechanisms hand over bytes that already carry their int32 length.
    const sized = Buffer.concat([Buffer.from([0, 0, 0, auth.length]), auth]);
    const req = await requestOf(ApiKey.SaslAuthenticate, 'saslAuthenticate', v, { authBytes: sized });
    expect(Buffer.from(req.authBytes).equals(auth)).toBe(true);
    const res = await kafkajsDecodes('saslAuthenticate', ApiKey.SaslAuthenticate, v, {
      errorCode: 0,
      errorMessage: null,
      authBytes: Buffer.from('ok'),
      sessionLifetimeMs: 3_600_000,
    });
    expect(res.errorCode).toBe(0);
    // KafkaJS hands the mechanism the bytes with their int32 length in front.
    expect([...(res.authBytes as Buffer)]).toEqual([0, 0, 0, 2, 0x6f, 0x6b]);
    if (v >= 1) expect(res.sessionLifetimeMs).toBe('3600000');
  });
});

describe('KafkaJS oracle: CreatePartitions', () => {
  it.each([0, 1])('v%i', async (v) => {
    const req = await requestOf(ApiKey.CreatePartitions, 'createPartitions', v, {
      topicPartitions: [{ topic: 't', count: 6, assignments: [[1], [2]] }],
      validateOnly: true,
      timeout: 3000,
    });
    expect(req.topics).toMatchObject([{ name: 't', count: 6, assignments: [{ brokerIds: [1] }, { brokerIds: [2] }] }]);
    expect([req.timeoutMs, req.validateOnly]).toEqual([3000, true]);
    const res = await kafkajsDecodes('createPartitions', ApiKey.CreatePartitions, v, {
      throttleTimeMs: 5,
      results: [{ name: 't', errorCode: 37, errorMessage: 'invalid' }],
    });
    expect(res.topicErrors).toEqual([{ topic: 't', errorCode: 37, errorMessage: 'invalid' }]);
    expect(throttle(v, res, 1)).toBe(5);
  });
});

describe('KafkaJS oracle: DeleteRecords', () => {
  it.each([0, 1])('v%i', async (v) => {
    const args = { topics: [{ topic: 't', partitions: [{ partition: 0, offset: '77' }] }], timeout: 2000 };
    const req = await requestOf(ApiKey.DeleteRecords, 'deleteRecords', v, args);
    expect(req.topics).toMatchObject([{ name: 't', partitions: [{ partitionIndex: 0, offset: 77 }] }]);
    expect(req.timeoutMs).toBe(2000);
    const res = await kafkajsDecodes(
      'deleteRecords',
      ApiKey.DeleteRecords,
      v,
      { throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, lowWatermark: 77, errorCode: 0 }] }] },
      args,
    );
    const topics = res.topics as { topic: string; partitions: { partition: number; lowWatermark: { toString(): string }; errorCode: number }[] }[];
    expect(topics[0]!.topic).toBe('t');
    expect(topics[0]!.partitions.map((p) => [p.partition, p.lowWatermark.toString(), p.errorCode])).toEqual([[0, '77', 0]]);
  });
});

describe('KafkaJS oracle: AlterConfigs', () => {
  it.each([0, 1])('v%i', async (v) => {
    const req = await requestOf(ApiKey.AlterConfigs, 'alterConfigs', v, {
      resources: [{ type: 2, name: 't', configEntries: [{ name: 'retention.ms', value: '1000' }] }],
      validateOnly: false,
    });
    expect(req.resources).toMatchObject([{ resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', value: '1000' }] }]);
    const res = await kafkajsDecodes('alterConfigs', ApiKey.AlterConfigs, v, {
      throttleTimeMs: 0,
      responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't' }],
    });
    expect(res.resources).toEqual([{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't' }]);
  });
});

describe('KafkaJS oracle: transactions', () => {
  it.each([0, 1])('AddPartitionsToTxn v%i', async (v) => {
    const req = await requestOf(ApiKey.AddPartitionsToTxn, 'addPartitionsToTxn', v, {
      transactionalId: 'tx',
      producerId: '1000',
      producerEpoch: 3,
      topics: [{ topic: 't', partitions: [0, 1] }],
    });
    expect([req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch]).toEqual(['tx', 1000, 3]);
    expect(req.v3AndBelowTopics).toMatchObject([{ name: 't', partitions: [0, 1] }]);
    const res = await kafkajsDecodes('addPartitionsToTxn', ApiKey.AddPartitionsToTxn, v, {
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: [{ name: 't', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }] }],
    });
    expect(res.errors).toEqual([{ topic: 't', partitionErrors: [{ partition: 0, errorCode: 0 }] }]);
  });

  it.each([0, 1])('AddOffsetsToTxn v%i', async (v) => {
    const req = await requestOf(ApiKey.AddOffsetsToTxn, 'addOffsetsToTxn', v, {
      transactionalId: 'tx',
      producerId: '1000',
      producerEpoch: 3,
      groupId: 'g',
    });
    expect(req).toMatchObject({ transactionalId: 'tx', producerId: 1000, producerEpoch: 3, groupId: 'g' });
    const res = await kafkajsDecodes('addOffsetsToTxn', ApiKey.AddOffsetsToTxn, v, { throttleTimeMs: 0, errorCode: 0 });
    expect(res.errorCode).toBe(0);
  });

  it.each([0, 1])('EndTxn v%i', async (v) => {
    const req = await requestOf(ApiKey.EndTxn, 'endTxn', v, { transactionalId: 'tx', producerId: '1000', producerEpoch: 3, transactionResult: true });
    expect(req).toMatchObject({ transactionalId: 'tx', producerId: 1000, producerEpoch: 3, committed: true });
    const res = await kafkajsDecodes('endTxn', ApiKey.EndTxn, v, { throttleTimeMs: 7, errorCode: 0 });
    expect(throttle(v, res, 1)).toBe(7);
  });

  it.each([0, 1])('TxnOffsetCommit v%i', async (v) => {
    const req = await requestOf(ApiKey.TxnOffsetCommit, 'txnOffsetCommit', v, {
      transactionalId: 'tx',
      groupId: 'g',
      producerId: '1000',
      producerEpoch: 3,
      topics: [{ topic: 't', partitions: [{ partition: 0, offset: '12', metadata: null }] }],
    });
    expect(req).toMatchObject({ transactionalId: 'tx', groupId: 'g', producerId: 1000, producerEpoch: 3 });
    expect(req.topics).toMatchObject([{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 12, committedMetadata: null }] }]);
    const res = await kafkajsDecodes('txnOffsetCommit', ApiKey.TxnOffsetCommit, v, {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    });
    expect(res.topics).toEqual([{ topic: 't', partitions: [{ partition: 0, errorCode: 0 }] }]);
  });
});
