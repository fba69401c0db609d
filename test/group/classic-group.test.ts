/**
 * The classic group protocol as the coordinator runs it (what wire clients see): JoinGroup with
 * MEMBER_ID_REQUIRED, protocol votes, a leader that gets everyone's metadata, SyncGroup handing
 * out the leader's bytes, heartbeats answering REBALANCE_IN_PROGRESS / ILLEGAL_GENERATION /
 * UNKNOWN_MEMBER_ID, rebalance and session timeouts on the clock, and offset-commit fencing.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from 'kafkalite';
import type { JoinGroupRequest, JoinGroupResponse } from '../../src/seam/kafka-api.js';
import { ClassicGroup } from '../../src/group/classic-group.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function request(over: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: bytes('m') }],
    requireKnownMemberId: true,
    ...over,
  };
}

/** Joins as a new member (v4+: first MEMBER_ID_REQUIRED, then again with the id). */
async function joinNew(g: ClassicGroup, over: Partial<JoinGroupRequest> = {}): Promise<{ memberId: string; joined: Promise<JoinGroupResponse> }> {
  const first = await g.join(request(over));
  expect(first.error).toBe('MEMBER_ID_REQUIRED');
  expect(first.memberId).toMatch(/^client-/);
  return { memberId: first.memberId, joined: g.join(request({ ...over, memberId: first.memberId })) };
}

describe('ClassicGroup', () => {
  it('runs a join: MEMBER_ID_REQUIRED, then one generation with a leader that sees every member', async () => {
    const g = new ClassicGroup('g', new ManualClock());
    const a = await joinNew(g, { protocols: [{ name: 'range', metadata: bytes('a') }] });
    const ra = await a.joined; // alone: the join completes at once
    expect(ra).toMatchObject({ generationId: 1, protocolName: 'range', leader: a.memberId, memberId: a.memberId });
    expect(ra.members.map((m) => text(m.metadata))).toEqual(['a']);
    expect(g.state).toBe('CompletingRebalance');
    const sa = await g.sync({ groupId: 'g', generationId: 1, memberId: a.memberId, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: a.memberId, assignment: bytes('all') }] });
    expect(text(sa.assignment)).toBe('all');
    expect(g.state).toBe('Stable');

    // A second member: the first is told to rejoin by its heartbeat.
    const b = await joinNew(g, { protocols: [{ name: 'range', metadata: bytes('b') }] });
    expect(g.state).toBe('PreparingRebalance');
    expect(await g.heartbeat({ groupId: 'g', generationId: 1, memberId: a.memberId, maxWaitMs: 0 })).toEqual({ error: 'REBALANCE_IN_PROGRESS' });
    const again = g.join(request({ memberId: a.memberId, protocols: [{ name: 'range', metadata: bytes('a2') }] }));
    const [ra2, rb] = await Promise.all([again, b.joined]);
    expect(ra2.generationId).toBe(2);
    expect(ra2.leader).toBe(a.memberId); // the leader stays the leader
    expect(ra2.members.map((m) => text(m.metadata)).sort()).toEqual(['a2', 'b']);
    expect(rb.members).toEqual([]); // followers get no member list

    // The follower's SyncGroup waits for the leader's.
    const followerSync = g.sync({ groupId: 'g', generationId: 2, memberId: b.memberId, protocolType: null, protocolName: null, assignments: [] });
    await g.sync({
      groupId: 'g',
      generationId: 2,
      memberId: a.memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [
        { memberId: a.memberId, assignment: bytes('first half') },
        { memberId: b.memberId, assignment: bytes('second half') },
      ],
    });
    expect(text((await followerSync).assignment)).toBe('second half');
    expect(await g.heartbeat({ groupId: 'g', generationId: 1, memberId: b.memberId, maxWaitMs: 0 })).toEqual({ error: 'ILLEGAL_GENERATION' });
    expect(await g.heartbeat({ groupId: 'g', generationId: 2, memberId: 'nobody', maxWaitMs: 0 })).toEqual({ error: 'UNKNOWN_MEMBER_ID' });
    expect(await g.heartbeat({ groupId: 'g', generationId: 2, memberId: b.memberId, maxWaitMs: 0 })).toEqual({});
  });

  it('picks the protocol by the members’ votes and refuses a member with none in common', async () => {
    const g = new ClassicGroup('g', new ManualClock());
    const rr = { name: 'roundrobin', metadata: bytes('') };
    const range = { name: 'range', metadata: bytes('') };
    const a = await joinNew(g, { protocols: [rr, range] });
    const b = await joinNew(g, { protocols: [range, rr] });
    const c = await joinNew(g, { protocols: [range] });
    // a is in a join of its own that completed; the others' joins start a rebalance a must rejoin.
    await a.joined;
    const a2 = g.join(request({ memberId: a.memberId, protocols: [rr, range] }));
    const [ra] = await Promise.all([a2, b.joined, c.joined]);
    expect(ra.protocolName).toBe('range'); // only range is common to all three
    const refused = await g.join(request({ protocols: [{ name: 'sticky', metadata: bytes('') }] }));
    expect(refused.error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    const wrongType = await g.join(request({ protocolType: 'connect' }));
    expect(wrongType.error).toBe('INCONSISTENT_GROUP_PROTOCOL');
  });

  it('drops members that do not rejoin within the rebalance timeout, and those whose session expires', async () => {
    const clock = new ManualClock();
    const g = new ClassicGroup('g', clock);
    const a = await joinNew(g, { rebalanceTimeoutMs: 5000 });
    await a.joined;
    await g.sync({ groupId: 'g', generationId: 1, memberId: a.memberId, protocolType: null, protocolName: null, assignments: [] });
    const b = await joinNew(g, { rebalanceTimeoutMs: 5000 });
    let done = false;
    void b.joined.then(() => (done = true));
    await clock.advance(4999);
    expect(done).toBe(false); // still waiting for a to rejoin
    await clock.advance(1);
    const rb = await b.joined;
    expect(rb.generationId).toBe(2);
    expect(g.members().map((m) => m.memberId)).toEqual([b.memberId]); // a did not rejoin: out
    expect(rb.leader).toBe(b.memberId);
    await g.sync({ groupId: 'g', generationId: 2, memberId: b.memberId, protocolType: null, protocolName: null, assignments: [] });
    // b stops heartbeating: removed after its session timeout, the group is empty.
    await clock.advance(10_000);
    expect(g.state).toBe('Empty');
    expect(g.members()).toEqual([]);
  });

  it('fences offset commits by member and generation, and lets anyone commit to an empty group', async () => {
    const g = new ClassicGroup('g', new ManualClock());
    expect(g.commitError(undefined, undefined)).toBeUndefined();
    const a = await joinNew(g);
    await a.joined;
    expect(g.commitError(a.memberId, 1)).toBe('REBALANCE_IN_PROGRESS'); // waiting for the leader's SyncGroup
    await g.sync({ groupId: 'g', generationId: 1, memberId: a.memberId, protocolType: null, protocolName: null, assignments: [] });
    expect(g.commitError(a.memberId, 1)).toBeUndefined();
    expect(g.commitError(a.memberId, 0)).toBe('ILLEGAL_GENERATION');
    expect(g.commitError('ghost', 1)).toBe('UNKNOWN_MEMBER_ID');
    expect(g.commitError(undefined, -1)).toBe('UNKNOWN_MEMBER_ID'); // not a member, group not empty
    expect(g.leave(a.memberId)).toBe(true);
    expect(g.state).toBe('Empty');
    expect(g.commitError(undefined, -1)).toBeUndefined();
  });

  it('answers an in-process heartbeat at once when a rebalance starts (long-poll)', async () => {
    const clock = new ManualClock();
    const g = new ClassicGroup('g', clock);
    const a = await joinNew(g);
    await a.joined;
    await g.sync({ groupId: 'g', generationId: 1, memberId: a.memberId, protocolType: null, protocolName: null, assignments: [] });
    const waiting = g.heartbeat({ groupId: 'g', generationId: 1, memberId: a.memberId, maxWaitMs: 3000 });
    await joinNew(g);
    expect(await waiting).toEqual({ error: 'REBALANCE_IN_PROGRESS' });
  });
});
