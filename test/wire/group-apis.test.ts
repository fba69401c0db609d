/**
 * Group membership over the wire with a bare client: JoinGroup (MEMBER_ID_REQUIRED from v4, the
 * leader gets every member's metadata), SyncGroup, Heartbeat and LeaveGroup, Kafka's error codes,
 * and a wire member sharing one classic group with an in-process consumer.
 */
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/wire/protocol/index.js';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../../src/group/consumer-protocol.js';
import { serve } from './listener-helpers.js';
import type { WireClient } from './wire-client.js';

const E = { NONE: 0, ILLEGAL_GENERATION: 22, INCONSISTENT_GROUP_PROTOCOL: 23, INVALID_GROUP_ID: 24, UNKNOWN_MEMBER_ID: 25, REBALANCE_IN_PROGRESS: 27, MEMBER_ID_REQUIRED: 79 };

const join = (c: WireClient, groupId: string, memberId: string, topics: string[], version = 9, clientId = 'wire-test') =>
  c.request(
    ApiKey.JoinGroup,
    version,
    { groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 5_000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: encodeSubscription({ topics }) }], reason: null },
    clientId,
  );

/** JoinGroup v9 as clients do it: '' first, then again with the id MEMBER_ID_REQUIRED handed out. */
async function joinNew(c: WireClient, groupId: string, topics: string[], clientId = 'wire-test') {
  const first = await join(c, groupId, '', topics, 9, clientId);
  expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
  return join(c, groupId, first.memberId, topics, 9, clientId);
}

describe('JoinGroup, SyncGroup, Heartbeat, LeaveGroup', () => {
  it('one member: id handed out first (v4+), leader of generation 1, its assignment back from SyncGroup, heartbeats, then leaves', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const c = await client();
    const first = await join(c, 'g', '', ['t'], 9, 'my-app');
    expect(first).toMatchObject({ errorCode: E.MEMBER_ID_REQUIRED, generationId: -1 });
    expect(first.memberId).toMatch(/^my-app-[0-9a-f-]{36}$/);
    const joined = await join(c, 'g', first.memberId, ['t'], 9, 'my-app');
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: first.memberId, memberId: first.memberId });
    expect(joined.members.map((m) => [m.memberId, decodeSubscription(m.metadata).topics])).toEqual([[first.memberId, ['t']]]);

    const assignment = encodeAssignment({ partitions: [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }], userData: null });
    const synced = await c.request(ApiKey.SyncGroup, 5, { groupId: 'g', generationId: 1, memberId: joined.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: joined.memberId, assignment }] });
    expect(synced.errorCode).toBe(0);
    expect(decodeAssignment(synced.assignment).partitions).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    // The in-process view sees the member, its client id and what the leader gave it.
    expect(broker.group('g').state).toBe('Stable');
    expect(broker.group('g').members()).toEqual([{ memberId: joined.memberId, clientId: 'my-app', assignment: [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }] }]);

    expect((await c.request(ApiKey.Heartbeat, 4, { groupId: 'g', generationId: 1, memberId: joined.memberId, groupInstanceId: null })).errorCode).toBe(0);
    expect((await c.request(ApiKey.Heartbeat, 4, { groupId: 'g', generationId: 7, memberId: joined.memberId, groupInstanceId: null })).errorCode).toBe(E.ILLEGAL_GENERATION);
    expect((await c.request(ApiKey.Heartbeat, 4, { groupId: 'g', generationId: 1, memberId: 'nobody', groupInstanceId: null })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);

    const left = await c.request(ApiKey.LeaveGroup, 5, { groupId: 'g', members: [{ memberId: joined.memberId, groupInstanceId: null, reason: 'done' }, { memberId: 'nobody', groupInstanceId: null, reason: null }] });
    expect(left.errorCode).toBe(0);
    expect(left.members.map((m) => [m.memberId, m.errorCode])).toEqual([
      [joined.memberId, 0],
      ['nobody', E.UNKNOWN_MEMBER_ID],
    ]);
    expect(broker.group('g').state).toBe('Empty');
    expect((await c.request(ApiKey.LeaveGroup, 0, { groupId: 'g', memberId: joined.memberId })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  it('v0 hands out the member id at once; an empty group id is INVALID_GROUP_ID; an unknown member id is UNKNOWN_MEMBER_ID', async () => {
    const { client } = await serve();
    const c = await client();
    const v0 = await join(c, 'old', '', ['t'], 0);
    expect(v0).toMatchObject({ errorCode: 0, generationId: 1 });
    expect(v0.leader).toBe(v0.memberId);
    expect((await join(c, '', '', ['t'])).errorCode).toBe(E.INVALID_GROUP_ID);
    expect((await join(c, 'old', 'made-up', ['t'])).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    const sync = await c.request(ApiKey.SyncGroup, 3, { groupId: 'old', generationId: 2, memberId: v0.memberId, groupInstanceId: null, assignments: [] });
    expect(sync.errorCode).toBe(E.ILLEGAL_GENERATION);
  });

  it('a second member: the first rejoins (REBALANCE_IN_PROGRESS on its heartbeat), both get the leader’s view, followers wait for the leader’s SyncGroup', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const [a, b] = [await client(), await client()];
    const ja = await joinNew(a, 'g', ['t']);
    await a.request(ApiKey.SyncGroup, 5, { groupId: 'g', generationId: 1, memberId: ja.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
    const bFirst = await join(b, 'g', '', ['t']);
    const bJoining = join(b, 'g', bFirst.memberId, ['t']);
    // b's JoinGroup waits for a to rejoin; a learns of the rebalance from its heartbeat.
    await expect.poll(async () => (await a.request(ApiKey.Heartbeat, 4, { groupId: 'g', generationId: 1, memberId: ja.memberId, groupInstanceId: null })).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    const [ja2, jb] = await Promise.all([join(a, 'g', ja.memberId, ['t']), bJoining]);
    expect(ja2.generationId).toBe(2);
    expect(jb.generationId).toBe(2);
    expect(ja2.leader).toBe(ja.memberId);
    expect(ja2.members.map((m) => m.memberId).sort()).toEqual([ja.memberId, bFirst.memberId].sort());
    expect(jb.members).toEqual([]);
    // The follower's SyncGroup is answered once the leader's arrives.
    const bSync = b.request(ApiKey.SyncGroup, 5, { groupId: 'g', generationId: 2, memberId: jb.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
    const share = (p: number) => encodeAssignment({ partitions: [{ topic: 't', partition: p }], userData: null });
    const aSync = await a.request(ApiKey.SyncGroup, 5, {
      groupId: 'g',
      generationId: 2,
      memberId: ja.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [
        { memberId: ja.memberId, assignment: share(0) },
        { memberId: jb.memberId, assignment: share(1) },
      ],
    });
    expect(decodeAssignment(aSync.assignment).partitions).toEqual([{ topic: 't', partition: 0 }]);
    expect(decodeAssignment((await bSync).assignment).partitions).toEqual([{ topic: 't', partition: 1 }]);
  });

  it('a wire member and an in-process classic consumer share one group; a group held by consumer-protocol consumers refuses wire members (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const { broker, client } = await serve();
    await broker.createTopic('t', { partitions: 2 });
    const inProcess = broker.consumer({ groupId: 'mixed', groupProtocol: 'classic', clientId: 'local' });
    await inProcess.subscribe(['t']);
    await expect.poll(() => inProcess.assignment().length).toBe(2);
    const c = await client();
    const joined = await joinNew(c, 'mixed', ['t']);
    // The in-process consumer was the leader and stays it; it ran the assignor over both members.
    expect(joined.generationId).toBe(2);
    expect(joined.leader).not.toBe(joined.memberId);
    const synced = await c.request(ApiKey.SyncGroup, 5, { groupId: 'mixed', generationId: 2, memberId: joined.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
    expect(synced.errorCode).toBe(0);
    const mine = decodeAssignment(synced.assignment).partitions;
    expect(mine).toHaveLength(1);
    await expect.poll(() => inProcess.assignment().length).toBe(1);
    expect([...inProcess.assignment(), ...mine].map((tp) => tp.partition).sort()).toEqual([0, 1]);
    await inProcess.close();

    const managed = broker.consumer({ groupId: 'modern' });
    await managed.subscribe(['t']);
    await expect.poll(() => managed.assignment().length).toBe(2);
    expect((await join(c, 'modern', '', ['t'])).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    await managed.close();
  });
});
