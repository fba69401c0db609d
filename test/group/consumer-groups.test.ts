import { beforeEach, describe, expect, it } from 'vitest';
import { Broker, ManualClock, MemoryStorage, type Consumer, type ConsumerOptions, type TopicPartition } from 'kafkalite';
import { expectError, text } from '../helpers.js';

const tick = () => new Promise((r) => setImmediate(r));
const sorted = (tps: TopicPartition[]) => tps.map((tp) => `${tp.topic}-${tp.partition}`).sort();

/** Every test runs on both of Kafka's group protocols (the consumer option `groupProtocol`). */
let groupProtocol: 'consumer' | 'classic' = 'consumer';

async function setup(partitions = 4, clock?: ManualClock, storage?: MemoryStorage) {
  const broker = await Broker.open({ ...(clock ? { clock } : {}), ...(storage ? { storage } : {}) });
  if (!broker.listTopics().includes('t')) await broker.createTopic('t', { partitions });
  const producer = broker.producer();
  const produce = (n: number, prefix = 'v') =>
    producer.send({ topic: 't', messages: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${prefix}${i}` })) });
  const member = (options: ConsumerOptions = {}) => broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest', groupProtocol, ...options });
  return { broker, producer, produce, member };
}

/** Lets the group's members finish their rebalance (they are idle, so it takes a few turns). */
async function stable(broker: Broker, group = 'g'): Promise<void> {
  for (let i = 0; i < 100 && broker.group(group).state !== 'Stable'; i++) await tick();
  expect(broker.group(group).state).toBe('Stable');
}

/** Polls every consumer until `n` records arrived in all, returning values per consumer. */
async function drain(consumers: Consumer[], n: number): Promise<string[][]> {
  const got: string[][] = consumers.map(() => []);
  for (let round = 0; round < 1000 && got.flat().length < n; round++) {
    for (let i = 0; i < consumers.length; i++) for (const r of await consumers[i]!.poll()) got[i]!.push(text(r.value)!);
  }
  return got;
}

describe.each(['consumer', 'classic'] as const)('Consumer groups (%s protocol)', (protocol) => {
  beforeEach(() => {
    groupProtocol = protocol;
  });

  it('splits partitions into a disjoint cover and leaves extra members idle', async () => {
    const { broker, member } = await setup(3);
    const consumers = [member(), member(), member(), member()];
    for (const c of consumers) await c.subscribe('t');
    await stable(broker);
    const all = consumers.flatMap((c) => sorted(c.assignment()));
    expect(all.sort()).toEqual(['t-0', 't-1', 't-2']);
    expect(consumers.filter((c) => c.assignment().length === 0)).toHaveLength(1);
    const group = broker.group('g');
    expect(group.state).toBe('Stable');
    expect(group.members()).toHaveLength(4);
    expect(group.members().flatMap((m) => sorted(m.assignment)).sort()).toEqual(['t-0', 't-1', 't-2']);
    await broker.close();
  });

  it('uses Kafka range assignment by default', async () => {
    const { broker, member } = await setup(5);
    const a = member({ clientId: 'a' });
    const b = member({ clientId: 'b' });
    await a.subscribe('t');
    await b.subscribe('t');
    expect(sorted(a.assignment())).toEqual(['t-0', 't-1', 't-2']);
    expect(sorted(b.assignment())).toEqual(['t-3', 't-4']);
    await broker.close();
  });

  it('delivers every record produced after subscribe resolves (latest)', async () => {
    const { broker, produce } = await setup(2);
    await produce(5, 'old');
    const c = broker.consumer({ groupId: 'fresh' });
    await c.subscribe(['t']);
    await produce(6, 'new');
    const [got] = await drain([c], 6);
    expect(got!.sort()).toEqual(['new0', 'new1', 'new2', 'new3', 'new4', 'new5']);
    await broker.close();
  });

  it('hands partitions over on close with nothing lost', async () => {
    const { broker, produce, member } = await setup(4);
    const a = member();
    const b = member();
    await a.subscribe('t');
    await b.subscribe('t');
    await produce(40, 'x');
    const first = await drain([a, b], 40);
    expect(first[0]!.length).toBeGreaterThan(0);
    expect(first[1]!.length).toBeGreaterThan(0);
    await produce(40, 'y');
    // a takes some of the y records, then closes (committing); b must get the rest exactly.
    const partial = await a.poll();
    await a.close();
    const rest = await drain([b], 40 - partial.filter((r) => text(r.value)!.startsWith('y')).length);
    const ys = [...partial.map((r) => text(r.value)!), ...rest[0]!].filter((v) => v.startsWith('y'));
    expect(ys.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `y${i}`).sort());
    expect(sorted(b.assignment())).toEqual(['t-0', 't-1', 't-2', 't-3']);
    expect(broker.group('g').state).toBe('Stable');
    await broker.close();
  });

  it('gives every record to each of two groups', async () => {
    const { broker, produce } = await setup(3);
    const g1 = broker.consumer({ groupId: 'one', autoOffsetReset: 'earliest' });
    const g2 = broker.consumer({ groupId: 'two', autoOffsetReset: 'earliest' });
    await g1.subscribe('t');
    await g2.subscribe('t');
    await produce(30);
    const [a] = await drain([g1], 30);
    const [b] = await drain([g2], 30);
    expect(a!.sort()).toEqual(b!.sort());
    expect(a).toHaveLength(30);
    await g1.commit();
    expect(await broker.group('two').committed({ topic: 't', partition: 0 })).toBeUndefined();
    await broker.close();
  });

  it('resumes at the committed offset, also after the broker reopens its storage', async () => {
    const storage = new MemoryStorage();
    const first = await setup(1, undefined, storage);
    await first.produce(10);
    const c = first.member({ autoCommit: false });
    await c.subscribe('t');
    const got = await c.poll();
    expect(got).toHaveLength(10);
    await c.commit([{ topic: 't', partition: 0, offset: 4 }]);
    expect(await c.committed({ topic: 't', partition: 0 })).toBe(4);
    await c.close();
    const again = first.member();
    await again.subscribe('t');
    expect(again.position({ topic: 't', partition: 0 })).toBe(4);
    await first.broker.close();

    const second = await setup(1, undefined, storage);
    expect(await second.broker.group('g').committed({ topic: 't', partition: 0 })).toBe(4);
    const c2 = second.member();
    await c2.subscribe('t');
    expect((await c2.poll()).map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(second.broker.listTopics()).toEqual(['t']);
    await second.broker.close();
  });

  it('commits positions on close when autoCommit is on, and on the clock', async () => {
    const clock = new ManualClock();
    const { broker, produce, member } = await setup(1, clock);
    await produce(3);
    const c = member({ autoCommitIntervalMs: 1000 });
    await c.subscribe('t');
    expect(await c.poll()).toHaveLength(3);
    expect(await broker.group('g').committed({ topic: 't', partition: 0 })).toBeUndefined();
    await clock.advance(1000);
    expect(await broker.group('g').committed({ topic: 't', partition: 0 })).toBe(3);
    await produce(2);
    await c.poll();
    await c.close();
    expect(await broker.group('g').committed({ topic: 't', partition: 0 })).toBe(5);
    await broker.close();
  });

  it('lists groups that have members or committed offsets', async () => {
    const { broker, member } = await setup(1);
    expect(broker.listGroups()).toEqual([]);
    await broker.group('offsets-only').resetOffsets({ topic: 't', to: 0 });
    const c = member({ autoCommit: false });
    await c.subscribe('t');
    expect(broker.listGroups()).toEqual(['g', 'offsets-only']);
    await c.close(); // left without committing: nothing keeps 'g' listed
    expect(broker.listGroups()).toEqual(['offsets-only']);
    await broker.close();
  });

  it('reports lag and resets offsets only while Empty', async () => {
    const { broker, produce, member } = await setup(2);
    await produce(10);
    const group = broker.group('g');
    expect(group.state).toBe('Empty');
    await group.resetOffsets({ topic: 't', to: 'earliest' });
    const lag0 = await group.lag();
    expect(lag0.map((l) => l.committed)).toEqual([0, 0]);
    expect(lag0.reduce((n, l) => n + l.lag, 0)).toBe(10);
    const c = member();
    await c.subscribe('t');
    await expectError(() => group.resetOffsets({ topic: 't', to: 'latest' }), 'GROUP_NOT_EMPTY', /"g" is Stable/);
    await drain([c], 10);
    await c.commit();
    expect((await group.lag()).every((l) => l.lag === 0)).toBe(true);
    await c.close();
    expect(group.state).toBe('Empty');
    await group.resetOffsets({ topic: 't', to: 3 });
    expect(await group.committed({ topic: 't', partition: 1 })).toBe(3);
    await group.resetOffsets({ topic: 't', to: 'latest' });
    expect((await group.lag()).every((l) => l.lag === 0)).toBe(true);
    await expectError(() => group.resetOffsets({ topic: 't', to: -1 }), 'INVALID_ARGUMENT');
    await expectError(() => group.resetOffsets({ topic: 'nope', to: 0 }), 'UNKNOWN_TOPIC');
    await broker.close();
  });

  it('emits partitionsRevoked then partitionsAssigned, revoking everything with an eager assignor', async () => {
    const { broker, member } = await setup(4);
    const a = member();
    const events: string[] = [];
    a.on('partitionsAssigned', (tps) => events.push(`+${sorted(tps).join(',')}`));
    a.on('partitionsRevoked', (tps) => events.push(`-${sorted(tps).join(',')}`));
    await a.subscribe('t');
    await member().subscribe('t');
    // Range goes by member id: the first two partitions or the last two (classic member ids are random, as Kafka's).
    expect(events.slice(0, 2)).toEqual(['+t-0,t-1,t-2,t-3', '-t-0,t-1,t-2,t-3']);
    expect(events.slice(2)).toEqual([protocol === 'consumer' ? '+t-0,t-1' : expect.stringMatching(/^\+(t-0,t-1|t-2,t-3)$/)]);
    await broker.close();
  });

  it('revokes only partitions that move with cooperative-sticky', async () => {
    const { broker, member } = await setup(6);
    const a = member({ assignor: 'cooperative-sticky' });
    const revoked: string[] = [];
    a.on('partitionsRevoked', (tps) => revoked.push(...sorted(tps)));
    await a.subscribe('t');
    const before = sorted(a.assignment());
    const b = member({ assignor: 'cooperative-sticky' });
    await b.subscribe('t');
    const after = sorted(a.assignment());
    expect(after).toHaveLength(3);
    expect(after.every((tp) => before.includes(tp))).toBe(true);
    expect(revoked.sort()).toEqual(before.filter((tp) => !after.includes(tp)));
    expect([...after, ...sorted(b.assignment())].sort()).toEqual(before);
    await broker.close();
  });

  it('takes a custom assignor function', async () => {
    const { broker, member } = await setup(3);
    const everythingToFirst = ({ members, partitionCounts }: { members: { memberId: string }[]; partitionCounts: ReadonlyMap<string, number> }) => {
      const ids = members.map((m) => m.memberId).sort();
      const out = new Map<string, TopicPartition[]>(ids.map((id) => [id, []]));
      for (const [topic, n] of partitionCounts) for (let p = 0; p < n; p++) out.get(ids[0]!)!.push({ topic, partition: p });
      return out;
    };
    const a = member({ assignor: everythingToFirst });
    const b = member({ assignor: everythingToFirst });
    await a.subscribe('t');
    await b.subscribe('t');
    expect(a.assignment().length + b.assignment().length).toBe(3);
    expect([a.assignment().length, b.assignment().length].sort()).toEqual([0, 3]);
    await broker.close();
  });

  it('never runs two handlers on one partition: the in-flight handler finishes before it moves', async () => {
    const { broker, produce, member } = await setup(1);
    const a = member();
    let active = 0;
    let overlap = false;
    const seen: number[] = [];
    const handler = async ({ message }: { message: { offset: number } }) => {
      if (++active > 1) overlap = true;
      await tick();
      await tick();
      seen.push(message.offset);
      active--;
    };
    await a.subscribe('t');
    await a.run({ eachMessage: handler });
    await produce(20);
    await tick();
    const b = member();
    await b.run({ eachMessage: handler });
    await b.subscribe('t');
    await a.close();
    await b.caughtUp();
    expect(overlap).toBe(false);
    expect([...new Set(seen)].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await broker.close();
  });

  it('removes a member that stops polling past maxPollIntervalMs, and the rest take over', async () => {
    const clock = new ManualClock();
    const { broker, produce, member } = await setup(2, clock);
    const stalled = member({ maxPollIntervalMs: 60_000 });
    const live = member({ maxPollIntervalMs: 60_000 });
    await stalled.subscribe('t');
    await live.subscribe('t');
    await produce(10);
    expect(live.assignment()).toHaveLength(1);
    for (let s = 0; s < 61; s++) {
      await live.poll();
      await clock.advance(1000);
    }
    expect(broker.group('g').members()).toHaveLength(1);
    expect(sorted(live.assignment())).toEqual(['t-0', 't-1']);
    await broker.close();
  });

  it('rebalances when a subscribed topic gains partitions', async () => {
    const { broker, member } = await setup(1);
    const a = member();
    const b = member();
    await a.subscribe('t');
    await b.subscribe('t');
    expect(a.assignment().length + b.assignment().length).toBe(1);
    await broker.topic('t').addPartitions(4);
    for (let i = 0; i < 20 && broker.group('g').state !== 'Stable'; i++) await tick();
    await Promise.all([a.poll(), b.poll()]);
    for (let i = 0; i < 20 && a.assignment().length + b.assignment().length < 4; i++) await tick();
    expect([...sorted(a.assignment()), ...sorted(b.assignment())].sort()).toEqual(['t-0', 't-1', 't-2', 't-3']);
    await broker.close();
  });

  it('follows a subscription change, and creates subscribed topics', async () => {
    const { broker, member } = await setup(1);
    const c = member();
    await c.subscribe('t');
    await c.subscribe(['t', 'auto']);
    expect(broker.listTopics()).toEqual(['auto', 't']);
    expect(sorted(c.assignment())).toEqual(['auto-0', 't-0']);
    await c.subscribe('auto');
    expect(sorted(c.assignment())).toEqual(['auto-0']);
    await broker.close();
  });

  it('refuses what a group member cannot do', async () => {
    const { broker, member } = await setup(1);
    const c = member();
    await c.subscribe('t');
    await expectError(() => c.assign([{ topic: 't', partition: 0 }]), 'INVALID_ARGUMENT', /subscribed/);
    await expectError(() => c.subscribe([]), 'INVALID_ARGUMENT', /non-empty/);
    await expectError(() => c.subscribe('bad name'), 'INVALID_TOPIC');
    await expectError(() => c.commit([{ topic: 't', partition: 0, offset: -1 }]), 'INVALID_ARGUMENT', /-1/);
    await expectError(() => c.commit([{ topic: 't', partition: 9, offset: 1 }]), 'UNKNOWN_PARTITION');
    const manual = broker.consumer({ groupId: 'm' });
    await manual.assign([{ topic: 't', partition: 0 }]);
    await expectError(() => manual.subscribe('t'), 'INVALID_ARGUMENT', /manual assignment/);
    await expectError(() => broker.group(''), 'INVALID_ARGUMENT');
    await broker.close();
  });

  it("starts a manual assignment with a groupId at the group's committed offset", async () => {
    const { broker, produce } = await setup(1);
    await produce(5);
    await broker.group('m').resetOffsets({ topic: 't', to: 2 });
    const c = broker.consumer({ groupId: 'm' });
    await c.assign([{ topic: 't', partition: 0 }]);
    expect(c.position({ topic: 't', partition: 0 })).toBe(2);
    const none = broker.consumer({ groupId: 'other', autoOffsetReset: 'none' });
    await expectError(() => none.assign([{ topic: 't', partition: 0 }]), 'OFFSET_OUT_OF_RANGE', /no committed offset for t-0/);
    await broker.close();
  });

  it('fences commits from a member that no longer holds the partition', async () => {
    const clock = new ManualClock();
    const { broker, produce, member } = await setup(1, clock);
    const old = member({ maxPollIntervalMs: 10_000, autoCommit: false });
    await old.subscribe('t');
    await produce(3);
    const fresh = member({ maxPollIntervalMs: 10_000 });
    await old.poll(); // holds records: the group waits for it
    const joining = fresh.subscribe('t');
    for (let s = 0; s < 11; s++) {
      await fresh.poll();
      await clock.advance(1000);
    }
    await joining;
    expect(sorted(fresh.assignment())).toEqual(['t-0']);
    await expectError(() => old.commit([{ topic: 't', partition: 0, offset: 3 }]), 'NOT_IN_GROUP', /no longer holds t-0/);
    await broker.close();
  });

  it("exposes the member id the coordinator gave, the same across rebalances, as the group's view shows it", async () => {
    const { broker, member } = await setup(2);
    const a = member({ clientId: 'app' });
    expect(a.memberId).toBeUndefined(); // not joined yet
    const joining = a.subscribe('t'); // not awaited: the id comes with the join
    await joining;
    const id = a.memberId;
    expect(broker.group('g').members().map((m) => m.memberId)).toEqual([id]);
    if (protocol === 'classic') expect(id).toMatch(/^app-[0-9a-f-]{36}$/); // Kafka's <clientId>-<uuid>
    const b = member();
    await b.subscribe('t');
    await stable(broker);
    expect(a.memberId).toBe(id); // a rebalance keeps it
    expect(broker.group('g').members().map((m) => m.memberId).sort()).toEqual([id, b.memberId].sort());
    await a.close();
    expect(a.memberId).toBeUndefined();
    await broker.close();
  });
});

describe('caughtUp in a group (consumer protocol)', () => {
  // On the classic protocol a JoinGroup goes out once the assignors' metadata is ready (they may be
  // async), so a join issued just before may reach the coordinator after the probe, as on Kafka.
  it('caughtUp() of a settled member asks the coordinator first: a member joining meanwhile (not awaited) is not missed', async () => {
    groupProtocol = 'consumer';
    const { broker, produce, member } = await setup(2);
    const a = member();
    const seen: string[] = [];
    await a.subscribe('t');
    await a.run({ eachMessage: ({ message }) => void seen.push(text(message.value)!) });
    await produce(10);
    const b = member();
    const joining = b.subscribe('t');
    await a.caughtUp();
    // caughtUp waited for the rebalance b's join started: a holds its share only, and has read it.
    expect(a.assignment()).toHaveLength(1);
    const mine = a.assignment()[0]!.partition;
    expect(await broker.topic('t').partition(mine).logEndOffset).toBeGreaterThan(0);
    await joining;
    await Promise.all([a.close(), b.close()]);
    await broker.close();
  });
});
