/**
 * Client-side assignment on the classic protocol: custom `PartitionAssignor`s (async, with
 * `userData`), several in order of preference, the `groupJoin` event, and one protocol per group.
 */
import { describe, expect, it } from 'vitest';
import { Broker, type ConsumerOptions, type PartitionAssignor, type TopicPartition } from 'kafkalite';
import { expectError } from '../helpers.js';

const sorted = (tps: TopicPartition[]) => tps.map((tp) => `${tp.topic}-${tp.partition}`).sort();
const classic = (over: ConsumerOptions = {}): ConsumerOptions => ({ groupId: 'g', groupProtocol: 'classic', autoOffsetReset: 'earliest', ...over });

/**
 * A sticky assigner in the style of NestJS's reply-partition assigner: each member sends the
 * partitions it held (in userData, JSON); the leader gives every member back what it held, and
 * deals out the rest to the members with the fewest. Async on purpose.
 */
function previousAssignmentKeeper(log: string[]): PartitionAssignor & { held: TopicPartition[] } {
  const self = {
    name: 'keeper',
    held: [] as TopicPartition[],
    async userData({ owned }: { owned: TopicPartition[] }) {
      await new Promise((r) => setImmediate(r));
      return new TextEncoder().encode(JSON.stringify(self.held.length > 0 ? self.held : owned));
    },
    async assign({ members, partitionCounts }: Parameters<PartitionAssignor['assign']>[0]) {
      await new Promise((r) => setImmediate(r));
      const shares = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]));
      const taken = new Set<string>();
      for (const m of members) {
        const previous = m.userData === null ? [] : (JSON.parse(new TextDecoder().decode(m.userData)) as TopicPartition[]);
        for (const tp of previous) {
          if (taken.has(`${tp.topic}-${tp.partition}`)) continue;
          taken.add(`${tp.topic}-${tp.partition}`);
          shares.get(m.memberId)!.push(tp);
        }
      }
      for (const [topic, n] of partitionCounts) {
        for (let partition = 0; partition < n; partition++) {
          if (taken.has(`${topic}-${partition}`)) continue;
          const fewest = [...shares.entries()].sort((a, b) => a[1].length - b[1].length || (a[0] < b[0] ? -1 : 1))[0]!;
          fewest[1].push({ topic, partition });
        }
      }
      log.push(`assign ${members.length}`);
      return shares;
    },
  };
  return self;
}

describe('PartitionAssignor (classic protocol)', () => {
  it('an async assigner that reads the previous assignment from userData keeps it across a join', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t', { partitions: 4 });
    const log: string[] = [];
    const keepers = [previousAssignmentKeeper(log), previousAssignmentKeeper(log), previousAssignmentKeeper(log)];
    const consumers = keepers.map((k) => broker.consumer(classic({ assignor: k })));
    consumers.forEach((c, i) => c.on('groupJoin', (join) => (keepers[i]!.held = join.assignment)));
    await consumers[0]!.subscribe('t');
    await consumers[1]!.subscribe('t');
    const before = consumers.slice(0, 2).map((c) => sorted(c.assignment()));
    expect(before.flat().sort()).toEqual(['t-0', 't-1', 't-2', 't-3']);
    // A third member joins: the first two keep what they had (the keeper gives it back), and the
    // newcomer gets nothing, since nothing is free.
    await consumers[2]!.subscribe('t');
    expect(consumers.slice(0, 2).map((c) => sorted(c.assignment()))).toEqual(before);
    expect(consumers[2]!.assignment()).toEqual([]);
    expect(log.length).toBeGreaterThanOrEqual(3);
    await broker.close();
  });

  it('takes the first assigner every member supports, and tells the join through groupJoin', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t', { partitions: 2 });
    const a = broker.consumer(classic({ assignor: ['roundrobin', 'range'] }));
    const b = broker.consumer(classic({ assignor: ['range'] }));
    const joins: { protocol: string; isLeader: boolean }[] = [];
    a.on('groupJoin', (j) => joins.push({ protocol: j.protocol, isLeader: j.leaderId === j.memberId }));
    await a.subscribe('t');
    await b.subscribe('t');
    expect(joins[0]).toEqual({ protocol: 'roundrobin', isLeader: true });
    expect(joins.at(-1)).toEqual({ protocol: 'range', isLeader: true });
    expect(sorted([...a.assignment(), ...b.assignment()])).toEqual(['t-0', 't-1']);
    await broker.close();
  });

  it('a group runs one protocol at a time: the other kind of member is refused while it has members', async () => {
    const broker = await Broker.open({ logger: 'silent' });
    await broker.createTopic('t');
    const old = broker.consumer({ groupId: 'g' });
    await old.subscribe('t');
    const wire = broker.consumer(classic());
    await expectError(() => wire.subscribe('t'), 'INVALID_ARGUMENT', /INCONSISTENT_GROUP_PROTOCOL/);
    await wire.close();
    await old.close();
    const c = broker.consumer(classic());
    await c.subscribe('t'); // empty now: takes the classic protocol
    await expectError(() => broker.consumer({ groupId: 'g' }).subscribe('t'), 'INVALID_ARGUMENT', /groupProtocol: 'classic'/);
    expect(broker.group('g').members().map((m) => sorted(m.assignment))).toEqual([['t-0']]);
    await broker.close();
  });

  it('refuses assignors the consumer protocol cannot run', async () => {
    const broker = await Broker.open();
    const assignor = previousAssignmentKeeper([]);
    await expectError(() => broker.consumer({ groupId: 'g', assignor }), 'INVALID_ARGUMENT', /groupProtocol: 'classic'/);
    await expectError(() => broker.consumer(classic({ assignor: [] as never })), 'INVALID_ARGUMENT', /at least one/);
    await expectError(() => broker.consumer(classic({ assignor: 'sticky' as never })), 'INVALID_ARGUMENT', /"sticky"/);
    await expectError(() => broker.consumer({ groupId: 'g', groupProtocol: 'next' as never }), 'INVALID_ARGUMENT', /"next"/);
    await broker.close();
  });
});
