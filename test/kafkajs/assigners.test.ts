/**
 * KafkaJS' partition assigner interface, in full: `partitionAssigners: [({ cluster, groupId,
 * logger }) => ({ name, version, protocol, assign })]`, async, with userData, several in order of
 * preference — run by the group's leader on Kafka's classic protocol — and `AssignerProtocol`,
 * byte for byte KafkaJS'.
 */
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokers, signal, watcher } from './helpers.js';
import {
  AssignerProtocol,
  Kafka,
  KafkaJSNonRetriableError,
  PartitionAssigners,
  closeAllClusters,
  resetCluster,
  type Assigner,
  type Consumer,
  type PartitionAssigner,
} from 'kafkalite/kafkajs';

const require = createRequire(import.meta.url);
const KafkaJS = require('kafkajs') as typeof import('kafkajs');

let kafka: Kafka;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(() => {
  kafka = new Kafka({ clientId: 'assigning', brokers: brokers() });
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await resetCluster(kafka);
});

afterAll(() => closeAllClusters());

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
}

type Assignment = Record<string, number[]>;

/** A consumer that keeps the assignment of its last GROUP_JOIN, and signals each one. */
function member(groupId: string, partitionAssigners: PartitionAssigner[] | undefined, joins = watcher()) {
  const consumer = kafka.consumer({ groupId, ...(partitionAssigners ? { partitionAssigners } : {}) });
  cleanup.push(() => consumer.disconnect());
  const state = { consumer, assignment: {} as Assignment, memberId: '', protocol: '', leader: false, joins: 0 };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    Object.assign(state, { assignment: payload.memberAssignment, memberId: payload.memberId, protocol: payload.groupProtocol, leader: payload.isLeader });
    state.joins++;
    joins.changed();
  });
  return state;
}

async function start(c: Consumer, topic: string): Promise<void> {
  await c.subscribe({ topic });
  await c.run({ eachMessage: async () => {} });
}

/**
 * A sticky assigner in KafkaJS' interface, as NestJS' reply-partition assigner is written: a class
 * whose methods use `this`, `protocol()` puts the member's previous assignment (kept from
 * GROUP_JOIN) in userData, and an async `assign()` decodes everyone's and keeps each member on what
 * it held, up to a fair share, before spreading the rest.
 */
class StickyAssigner implements Assigner {
  readonly name = 'StickyTest';
  readonly version = 1;
  previous: Assignment = {};
  calls = 0;
  readonly #cluster: { findTopicPartitionMetadata(topic: string): { partitionId: number }[] };

  constructor(config: { cluster: { findTopicPartitionMetadata(topic: string): { partitionId: number }[] } }) {
    this.#cluster = config.cluster;
  }

  protocol({ topics }: { topics: string[] }) {
    return {
      name: this.name,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: this.version, topics, userData: Buffer.from(JSON.stringify(this.previous)) }),
    };
  }

  async assign({ members, topics }: { members: { memberId: string; memberMetadata: Buffer }[]; topics: string[] }) {
    this.calls++;
    await new Promise((resolve) => setImmediate(resolve)); // really async
    const ids = members.map((m) => m.memberId).sort();
    const held = new Map(members.map((m) => [m.memberId, JSON.parse(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)!.userData.toString()) as Assignment]));
    const out = new Map<string, Assignment>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      const partitions = this.#cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      const fair = Math.ceil(partitions.length / ids.length);
      const free = new Set(partitions);
      for (const id of ids) {
        const keep = (held.get(id)?.[topic] ?? []).filter((p) => free.has(p)).slice(0, fair);
        keep.forEach((p) => free.delete(p));
        out.get(id)![topic] = keep;
      }
      for (const p of free) {
        const id = ids.reduce((a, b) => (out.get(b)![topic]!.length < out.get(a)![topic]!.length ? b : a));
        out.get(id)![topic]!.push(p);
      }
    }
    return [...out].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: this.version, assignment, userData: Buffer.alloc(0) }),
    }));
  }
}

/** A consumer with its own sticky assigner, which remembers what GROUP_JOIN gave it. */
function stickyMember(groupId: string, joins: ReturnType<typeof watcher>) {
  let assigner!: StickyAssigner;
  const m = member(groupId, [(config) => (assigner = new StickyAssigner(config))], joins);
  m.consumer.on(m.consumer.events.GROUP_JOIN, ({ payload }) => (assigner.previous = payload.memberAssignment));
  return Object.assign(m, { assigner: () => assigner });
}

const sorted = (a: Assignment, topic: string): number[] => [...(a[topic] ?? [])].sort((x, y) => x - y);

describe('custom partition assigners', () => {
  it('keeps each member on what it held across joins, with an async assigner reading the previous assignment from userData', async () => {
    await createTopic('work', 6);
    const joins = watcher();
    const a = stickyMember('sticky', joins);
    await start(a.consumer, 'work');
    expect(sorted(a.assignment, 'work')).toEqual([0, 1, 2, 3, 4, 5]);

    const b = stickyMember('sticky', joins);
    await start(b.consumer, 'work');
    await joins.until(() => a.joins === 2 && b.joins === 1);
    const aAfterB = sorted(a.assignment, 'work');
    expect(aAfterB).toHaveLength(3);
    expect(aAfterB.every((p) => p <= 5)).toBe(true);
    expect([...aAfterB, ...sorted(b.assignment, 'work')].sort()).toEqual([0, 1, 2, 3, 4, 5]);

    // A third member joins: the first two keep what they held, up to a fair share of 2 each.
    const c = stickyMember('sticky', joins);
    await start(c.consumer, 'work');
    await joins.until(() => a.joins === 3 && b.joins === 2 && c.joins === 1);
    expect(sorted(a.assignment, 'work').every((p) => aAfterB.includes(p))).toBe(true);
    expect(sorted(a.assignment, 'work')).toHaveLength(2);
    expect([...sorted(a.assignment, 'work'), ...sorted(b.assignment, 'work'), ...sorted(c.assignment, 'work')].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.protocol).toBe('StickyTest');
    // Only the leader (the first member, for as long as it stays) assigned: once per round at least.
    expect([a.leader, b.leader, c.leader]).toEqual([true, false, false]);
    expect(a.assigner().calls).toBeGreaterThanOrEqual(3);
    expect([b.assigner().calls, c.assigner().calls]).toEqual([0, 0]);
  });

  it('offers several assigners in order of preference; the group takes the first every member supports', async () => {
    await createTopic('choice', 2);
    const named = (name: string): PartitionAssigner => (config) => ({ ...PartitionAssigners.roundRobin(config), name });
    const joins = watcher();
    const both = member('choosy', [named('First'), named('Second')], joins);
    await start(both.consumer, 'choice');
    expect(both.protocol).toBe('First');
    const secondOnly = member('choosy', [named('Second')], joins);
    await start(secondOnly.consumer, 'choice');
    await joins.until(() => both.joins === 2);
    expect([both.protocol, secondOnly.protocol]).toEqual(['Second', 'Second']);
    const { groups } = await kafka.admin().describeGroups(['choosy']);
    expect(groups[0]!.protocol).toBe('Second');
  });

  it("runs KafkaJS' own round robin assigner, from the kafkajs package, unchanged", async () => {
    await createTopic('oracle', 4);
    const joins = watcher();
    const a = member('oracle-group', [KafkaJS.PartitionAssigners.roundRobin as unknown as PartitionAssigner], joins);
    const b = member('oracle-group', [KafkaJS.PartitionAssigners.roundRobin as unknown as PartitionAssigner], joins);
    await start(a.consumer, 'oracle');
    await start(b.consumer, 'oracle');
    await joins.until(() => a.joins === 2 && b.joins === 1);
    expect(a.protocol).toBe('RoundRobinAssigner');
    // KafkaJS' algorithm: partitions dealt in turn to the member ids in sorted order.
    const [first, second] = [a, b].sort((x, y) => (x.memberId < y.memberId ? -1 : 1));
    expect(first!.assignment).toEqual({ oracle: [0, 2] });
    expect(second!.assignment).toEqual({ oracle: [1, 3] });
  });

  it('gives the assigner a cluster to read partitions from, and its group id and logger', async () => {
    await createTopic('seen', 3);
    let config: Parameters<PartitionAssigner>[0] | undefined;
    const c = member('seen-group', [(given) => ((config = given), PartitionAssigners.roundRobin(given))]);
    expect(config!.groupId).toBe('seen-group');
    expect(typeof config!.logger.info).toBe('function');
    await start(c.consumer, 'seen');
    expect(config!.cluster.findTopicPartitionMetadata('seen').map((p) => p.partitionId)).toEqual([0, 1, 2]);
    expect(config!.cluster.findTopicPartitionMetadata('no-such-topic')).toEqual([]);
  });

  it("leaves out partitions of topics a member did not subscribe to, and partitions that do not exist (KafkaJS' member drops them)", async () => {
    await createTopic('mine', 2);
    await createTopic('other', 2);
    const greedy: PartitionAssigner = () => ({
      name: 'Greedy',
      version: 0,
      protocol: ({ topics }) => ({ name: 'Greedy', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) }),
      async assign({ members }) {
        return members.map(({ memberId }) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: { mine: [0, 1, 7], other: [0, 1] }, userData: Buffer.alloc(0) }),
        }));
      },
    });
    const c = member('greedy-group', [greedy]);
    await start(c.consumer, 'mine');
    expect(c.assignment).toEqual({ mine: [0, 1] });
  });

  it('reports GROUP_JOIN with KafkaJS\' payload, and keeps a member id for the member\'s life', async () => {
    await createTopic('ids', 2);
    const joins = watcher();
    const a = member('ids-group', undefined, joins);
    const payloads: Record<string, unknown>[] = [];
    a.consumer.on(a.consumer.events.GROUP_JOIN, ({ payload }) => void payloads.push(payload as never));
    await start(a.consumer, 'ids');
    expect(Object.keys(payloads[0]!).sort()).toEqual(['duration', 'groupId', 'groupProtocol', 'isLeader', 'leaderId', 'memberAssignment', 'memberId']);
    expect(payloads[0]).toMatchObject({ groupId: 'ids-group', isLeader: true, groupProtocol: 'RoundRobinAssigner', memberAssignment: { ids: [0, 1] } });
    expect(payloads[0]!.leaderId).toBe(payloads[0]!.memberId);
    expect(a.memberId).toMatch(/^assigning-[0-9a-f-]{36}$/); // KafkaJS' (Kafka's) <clientId>-<uuid>
    const first = a.memberId;
    const b = member('ids-group', undefined, joins);
    await start(b.consumer, 'ids');
    await joins.until(() => a.joins === 2);
    expect(a.memberId).toBe(first);
    expect(payloads[1]).toMatchObject({ memberId: first, leaderId: first, isLeader: true });
    expect(b.leader).toBe(false);
    const { groups } = await kafka.admin().describeGroups(['ids-group']);
    expect(groups[0]!.members.map((m) => m.memberId).sort()).toEqual([first, b.memberId].sort());
    // describeGroups hands out each member's metadata as its assigner encoded it.
    const described = groups[0]!.members.find((m) => m.memberId === first)!;
    expect(AssignerProtocol.MemberMetadata.decode(described.memberMetadata)).toEqual({ version: 0, topics: ['ids'], userData: Buffer.alloc(0) });
  });

  it('refuses what is not an assigner, naming what is missing', () => {
    const bad = (partitionAssigners: unknown) => () => kafka.consumer({ groupId: 'bad', partitionAssigners: partitionAssigners as PartitionAssigner[] });
    expect(bad([() => ({ name: 'Half', version: 0, assign: async () => [] })])).toThrow(/partitionAssigners\[0\] "Half" has no protocol\(\) method/);
    expect(bad([() => null])).toThrow(/partitionAssigners\[0\] returned null/);
    expect(bad(['roundRobin'])).toThrow(/partitionAssigners\[0\] must be a function/);
    expect(bad([])).toThrow(KafkaJSNonRetriableError);
  });
});

describe('AssignerProtocol', () => {
  const oracle = KafkaJS.AssignerProtocol;
  const metadata = [
    { version: 0, topics: ['a', 'bb'] },
    { version: 1, topics: [], userData: Buffer.from('{"previousAssignment":{"a":1}}') },
    { version: 3, topics: ['ü-topic'], userData: null },
    { version: 0, topics: ['a'], userData: 'text' },
  ];
  const assignments = [
    { version: 0, assignment: { a: [0, 2], b: [] } },
    { version: 1, assignment: {}, userData: Buffer.from([1, 2, 3]) },
    { version: 0, assignment: { t: [5] }, userData: null },
  ];

  it("encodes byte for byte as KafkaJS' does", () => {
    for (const m of metadata) expect(AssignerProtocol.MemberMetadata.encode(m as never)).toEqual(oracle.MemberMetadata.encode(m as never));
    for (const a of assignments) expect(AssignerProtocol.MemberAssignment.encode(a as never)).toEqual(oracle.MemberAssignment.encode(a as never));
  });

  it("decodes what KafkaJS encodes as KafkaJS decodes it (null userData stays null)", () => {
    for (const m of metadata) {
      const bytes = oracle.MemberMetadata.encode(m as never);
      expect(AssignerProtocol.MemberMetadata.decode(bytes)).toEqual(oracle.MemberMetadata.decode(bytes));
    }
    for (const a of assignments) {
      const bytes = oracle.MemberAssignment.encode(a as never);
      expect(AssignerProtocol.MemberAssignment.decode(bytes)).toEqual(oracle.MemberAssignment.decode(bytes));
    }
    expect(AssignerProtocol.MemberAssignment.decode(Buffer.alloc(0))).toBeNull();
  });

  it('reads the v0 part of later versions of the consumer protocol, as KafkaJS does', () => {
    // Subscription v1: v0 then owned partitions [{ topic, [partition] }].
    const v1 = Buffer.concat([
      oracle.MemberMetadata.encode({ version: 1, topics: ['t'], userData: Buffer.from('u') }),
      Buffer.from([0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 1, 0, 0, 0, 3]),
    ]);
    expect(AssignerProtocol.MemberMetadata.decode(v1)).toEqual({ version: 1, topics: ['t'], userData: Buffer.from('u') });
    expect(AssignerProtocol.MemberMetadata.decode(v1)).toEqual(oracle.MemberMetadata.decode(v1));
  });
});

describe('GROUP_JOIN timing', () => {
  it('fires before run() resolves, so an application can read its assignment at once (as NestJS does)', async () => {
    await createTopic('early', 1);
    const c = kafka.consumer({ groupId: 'early-group' });
    cleanup.push(() => c.disconnect());
    const joined = signal<Assignment>();
    c.on(c.events.GROUP_JOIN, ({ payload }) => joined.resolve(payload.memberAssignment));
    await c.subscribe({ topic: 'early' });
    let resolved = false;
    const running = c.run({ eachMessage: async () => {} }).then(() => (resolved = true));
    expect(await joined.promise).toEqual({ early: [0] });
    expect(resolved).toBe(false);
    await running;
  });
});
